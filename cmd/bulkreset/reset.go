package main

import (
	"context"
	"errors"
	"fmt"
	"github.com/bulkreset/bulkreset/pkg/progress"
	"log/slog"
	"runtime"
	"time"

	"github.com/bulkreset/bulkreset/internal/plural"
	"github.com/bulkreset/bulkreset/pkg/csvin"
	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/pipeline"
	"github.com/bulkreset/bulkreset/pkg/report"
	"github.com/bulkreset/bulkreset/pkg/worker"
)

// runReset is `bulkreset reset` and `bulkreset plan`: it checks the flags,
// opens the input, signs in, asks, opens the outputs, and runs the
// pipeline (package pipeline, docs/architecture.md).
func runReset(ctx context.Context, e *env, o *resetOptions) (err error) {
	if err := o.validate(e, time.Now()); err != nil {
		return err
	}
	if err := o.readPassword(e); err != nil {
		return err
	}
	lg, err := newLogger(e, logOptions{format: o.logFormat, file: o.logFile, quiet: o.quiet, verbose: o.verbose})
	if err != nil {
		return usagef("%w", err)
	}
	defer lg.close()
	defer func() {
		if err != nil && !errors.As(err, new(exitError)) {
			lg.logFileOnly("bulkreset stopped", err) // run prints it on standard error
		}
	}()

	in, err := openSource(e, o)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := o.copyColumns(in); err != nil {
		return err
	}
	if err := o.checkInput(e, in.Info(), lg.Logger); err != nil {
		return err
	}
	if err := o.beforeSignIn(ctx, lg.Logger); err != nil {
		return err
	}
	target, err := openTarget(ctx, e, o, lg)
	if err != nil {
		return err
	}
	defer target.Close() // also closed before the summary; Close is idempotent
	if !o.yes && !o.plan {
		if err := confirm(ctx, e, o, target, lg); err != nil {
			return err
		}
	}

	// The run starts after the confirmation: elapsed time and writes per
	// second leave out the sign-in and the person reading the prompt.
	summary := &report.Summary{Started: time.Now(), ResultsPath: o.output, SecretsPath: o.secrets}
	out, err := openOutputs(e, o, summary)
	if err != nil {
		return err
	}
	defer out.Release()
	if out.Prior != nil {
		lg.Info("resuming: rows the earlier run finished are not sent again",
			"finished_before", out.Prior.Finished())
	}
	return execute(ctx, e, o, lg, in, target, out, summary)
}

// checkInput checks the flags against what the input holds, and prepares a
// run for an input with a TenantId column.
func (o *resetOptions) checkInput(e *env, info csvin.Info, logger *slog.Logger) error {
	if worker.SyncedPolicy(o.synced) == worker.SyncedResetPassword && (!o.forceChange || o.requireMFA) {
		logger.Warn("--synced resetpassword: Graph's resetPassword action always makes the user change the password at next sign-in and cannot require MFA first, " +
			"so --force-change=false and --require-mfa (and the input's force-change columns) apply to cloud users only, not to synced users")
	}
	if info.HasPassword && o.passwordMode == "random" {
		logger.Warn("the input has a Password column; it is ignored in --password-mode random (use --password-mode column to set those passwords)")
	}
	if o.passwordMode == "column" && !info.HasPassword {
		return usagef("--password-mode column needs a Password column in %s", o.input)
	}
	if info.HasTenant {
		return o.useTenantColumn(e)
	}
	return nil
}

// openTarget connects to the tenant (or tenants) and signs in.
func openTarget(ctx context.Context, e *env, o *resetOptions, lg *runLog) (*target, error) {
	httpClient, err := newHTTPClient(e, o.concurrency)
	if err != nil {
		return nil, fatalError{err}
	}
	t, err := connect(e, o, httpClient, lg)
	if err != nil {
		return nil, err
	}
	if err := t.signIn(ctx); err != nil {
		t.Close()
		if ctx.Err() != nil {
			return nil, exitError{exitInterrupted}
		}
		return nil, fatalError{explainSignIn(err, o.signInContext(o.tenant), lg.Logger)}
	}
	return t, nil
}

// openOutputs opens the results and secrets files (package report), and
// turns its errors into usage or fatal errors. A plan has no secrets file:
// it sets no password.
func openOutputs(e *env, o *resetOptions, summary *report.Summary) (*report.Outputs, error) {
	if o.toRecord != nil {
		o.toRecord.Started = summary.Started.UTC()
	}
	cols := o.columns
	cols.Blocked = o.blockSignIn // the blocked column, only in a run that blocks
	// Every reset run records the client-request-id (bulkreset verify).
	cols.ClientRequestID = !o.plan
	opts := report.OutputOptions{Results: o.output, Secrets: o.secrets, Stdout: e.stdout, Resume: o.resume, Columns: cols, Settings: o.toRecord, Keys: o.handOver.keys}
	if o.plan {
		opts.Secrets, summary.SecretsPath = "", ""
	}
	out, err := report.OpenOutputs(opts, summary)
	switch {
	case err == nil:
		return out, nil
	case errors.Is(err, report.ErrConflict):
		return nil, usagef("%w", err)
	default:
		return nil, fatalError{err}
	}
}

// execute wires the stages and the outputs into the pipeline, runs it,
// and ends the run.
func execute(ctx context.Context, e *env, o *resetOptions, lg *runLog, in pipeline.Source, t *target, out *report.Outputs, summary *report.Summary) error {
	logger := lg.Logger
	st := newStages(o, t, out, logger)
	what := "reset started"
	if o.plan {
		what = "plan started: nothing will be changed"
	}
	logger.Info(what, "input", o.inputName(), "tenant", t.tenant, "graph", t.graphURL,
		"password_mode", o.passwordMode, "results", o.output, "secrets", summary.SecretsPath, "resume", o.resume,
		"preflight", o.preflight, "revoke_sessions", o.revokeSessions, "block_sign_in", o.blockSignIn, "version", buildVersion())
	finishedBefore := 0 // rows an interrupted run finished: --resume skips them
	if out.Prior != nil {
		finishedBefore = out.Prior.Finished()
	}
	prog := startProgress(ctx, e, o, lg, finishedBefore, st.throttled)
	res := pipeline.Run(ctx, pipeline.Config{
		Source:    in,
		Prepare:   newPreparer(o),
		Prior:     out.Prior,
		Preflight: st.preflight,
		Send:      st.send,
		Results:   o.shown.results(out.Results),
		Observe: func(r report.Result) {
			summary.Add(r)
			prog.Add(r)
			logRow(logger, r)
		},
		Logger: logger,
	})
	prog.Finish(res.Complete())
	summary.Finished = time.Now()
	summary.Writes = int(st.writes())
	summary.Throttled = int(st.throttled())
	st.logNotes(logger, o)
	if err := out.Close(); err != nil && res.Fatal == nil {
		res.Fatal = err
	}
	// Every outcome is known: drop the passwords Graph refused. After an
	// interrupt or a fatal error the file stays whole for the rerun. The
	// locks are still held until Release.
	// An encrypted secrets file is written from its journal here too.
	if out.Secrets != nil && res.Complete() {
		if hook, ok := ctx.Value(beforeCompactKey{}).(func(string)); ok {
			hook(o.secrets)
		}
		if err := out.DropRefused(res.Refused); err != nil {
			if o.handOver.keys == nil {
				logger.Warn("the secrets file still lists the passwords of users whose reset was refused", "error", err)
			} else {
				// FILE was not written: every password set is in the
				// journal alone, which only a --resume with the private
				// key reads and turns into FILE. Not a success.
				res.Fatal = fmt.Errorf("the encrypted secrets file was not written from its journal %s, which holds the passwords: %w",
					report.JournalPath(o.secrets), err)
			}
		}
	}
	if res.Complete() { // an interrupted run's file is appended to by its resume
		orderResults(ctx, o, out, logger)
	}
	out.Release()
	t.Close() // its last log record comes before the summary
	return finish(e, o, lg, summary, res)
}

// finish logs how the run ended, prints the summary and returns the exit
// code as an error (nil for 0).
func finish(e *env, o *resetOptions, lg *runLog, summary *report.Summary, res pipeline.Outcome) error {
	logger := lg.Logger
	summary.Interrupted = res.Interrupted
	summary.Unfinished = int(res.Unfinished)
	if res.Interrupted {
		logger.Warn("interrupted: no new batch was sent; the rows without a result were not finished", "unfinished", res.Unfinished)
	}
	// A plan, and a --user run, are run again, not resumed.
	if (res.Interrupted || res.Fatal != nil) && o.output != "-" && !o.plan && len(o.users) == 0 {
		args := resumeArgs(e.args, o.output) // a run without recorded settings is resumed with its flags
		if o.toRecord != nil || o.recorded != nil {
			args = o.shortResumeArgs()
		}
		summary.ResumeCommand = "bulkreset " + quoteArgs(args, runtime.GOOS == "windows")
	}
	if res.Interrupted || res.Fatal != nil {
		summary.InputRows = o.countedRows()
	}
	o.warnEncryptedResume(logger, summary)
	code := summary.ExitCode()
	if ice := (*pipeline.InputChangedError)(nil); errors.As(res.Fatal, &ice) {
		res.Fatal = fmt.Errorf("--resume: %w", res.Fatal)
	}
	if errors.Is(res.Fatal, graph.ErrAuthentication) { // a token could not be renewed mid-run
		res.Fatal = explainSignIn(res.Fatal, o.signInContext(o.tenant), logger)
	}
	res.Fatal = explainPermission(res.Fatal, o) // a missing permission: what to grant (denied.go)
	if res.Fatal != nil {
		logger.Error("run stopped", "error", flagError(res.Fatal))
		if summary.ResumeCommand != "" {
			logger.Warn("once the cause is fixed, finish the run with the resume command", "command", summary.ResumeCommand)
		}
		code = exitFatal
	}
	if err := lg.writeSummary(summary, code, time.Now()); err != nil && lg.file != nil {
		lg.file.Error("writing the summary", "error", err)
	}
	if code != exitOK {
		return exitError{code}
	}
	return nil
}

// beforeCompactKey is the context key of a func(string) called with the
// secrets file's path just before it is compacted: a seam for the test that
// another run cannot take the locks then. A value of the run's context, not
// a package variable, so that it is seen by that run alone.
type beforeCompactKey struct{}

// newPreparer is the prepare stage, from the flags.
func newPreparer(o *resetOptions) *worker.Preparer {
	return worker.NewPreparer(worker.PrepareOptions{
		Mode:        worker.Mode(o.passwordMode),
		Length:      o.passwordLength,
		ForceChange: o.forceChange,
		RequireMFA:  o.requireMFA,
		Plan:        o.plan,
	})
}

// stages are the stage values of a run: the preflight (nil for none) and
// the sender, which is the worker pool for reset, pipeline.Plan for plan,
// and a Router of one lane per tenant for an input with a TenantId column.
type stages struct {
	preflight pipeline.Filter
	send      pipeline.Sender
	pool      *worker.Pool      // nil for plan and many tenants
	pre       *worker.Preflight // nil without --preflight and for many tenants
	router    *worker.Router    // nil for one tenant
}

// newStages makes the stages of a run from the flags and its target.
func newStages(o *resetOptions, t *target, out *report.Outputs, logger *slog.Logger) *stages {
	var rec worker.Recorder // a nil *report.Secrets is not a nil Recorder
	if out.Secrets != nil {
		rec = out.Secrets
	} else if o.shown != nil {
		rec = o.shown // kept in memory, to be shown once
	}
	st := &stages{}
	if t.tenants != nil {
		st.router = t.tenants.router(o, rec, logger)
		st.send = st.router.Run
		return st
	}
	if o.preflight {
		st.pre = worker.NewPreflight(t.client, preflightOptions(o, logger))
		st.preflight = st.pre.Run
	}
	if o.plan {
		st.send = pipeline.Plan(poolOptions(o, logger))
		return st
	}
	st.pool = worker.New(t.client, rec, poolOptions(o, logger))
	st.send = st.pool.Run
	return st
}

// throttled counts the requests Graph throttled so far.
func (st *stages) throttled() int64 {
	if st.router != nil {
		return st.router.Throttled()
	}
	var n int64
	if st.pool != nil {
		n += st.pool.Stats().Throttled.Load()
	}
	if st.pre != nil {
		n += st.pre.Stats().Throttled.Load()
	}
	return n
}

// writes counts the write requests sent.
func (st *stages) writes() int64 {
	switch {
	case st.router != nil:
		return st.router.Writes()
	case st.pool != nil:
		return st.pool.Stats().Writes.Load()
	}
	return 0
}

// logNotes says, after the run, what the stages found that the rows do not
// make obvious.
func (st *stages) logNotes(logger *slog.Logger, o *resetOptions) {
	if st.router != nil {
		logTenantNotes(logger, o, st.router)
		return
	}
	logNotes(logger, o, st.pre, st.pool)
}

// openInput opens the input file or standard input.
func openInput(e *env, o *resetOptions) (*csvin.Reader, error) {
	var (
		in  *csvin.Reader
		err error
	)
	if o.input == "-" {
		in, err = csvin.NewReader(e.stdin, o.csvOptions("stdin.csv"))
	} else {
		in, err = csvin.Open(o.input, o.csvOptions(o.input))
	}
	if err != nil {
		return nil, inputError(o.input, err)
	}
	return in, nil
}

// poolOptions are the worker pool's options, from the flags.
func poolOptions(o *resetOptions, logger *slog.Logger) worker.Options {
	return worker.Options{
		BatchSize:         o.batchSize,
		Concurrency:       o.concurrency,
		MaxAttempts:       o.maxAttempts,
		MaxRate:           o.maxRate,
		RevokeSessions:    o.revokeSessions,
		RevokeOnlyIfReset: o.revokeOnlyIfReset,
		BlockSignIn:       o.blockSignIn,
		KeepPasswords:     o.passwordMode == "keep",
		Logger:            logger,
	}
}

// preflightOptions are the preflight's options, from the flags.
func preflightOptions(o *resetOptions, logger *slog.Logger) worker.PreflightOptions {
	return worker.PreflightOptions{
		BatchSize:     o.batchSize,
		Concurrency:   o.concurrency,
		MaxAttempts:   o.maxAttempts,
		Synced:        worker.SyncedPolicy(o.synced),
		SkipDisabled:  o.skipDisabled,
		SkipGuests:    o.skipGuests,
		IncludeGuests: o.includeGuests,
		KeepPasswords: o.passwordMode == "keep",
		Actions:       o.revokeSessions && !o.revokeOnlyIfReset || o.blockSignIn,
		Logger:        logger,
	}
}

// logNotes says, after the run, what the stages found that the rows do
// not make obvious, and how the actions went.
func logNotes(logger *slog.Logger, o *resetOptions, pre *worker.Preflight, pool *worker.Pool) {
	verb1, verb := "was reset", "were reset"
	if o.plan {
		verb1, verb = "would be reset", "would be reset"
	}
	if pre != nil {
		ps := pre.Stats()
		resets := o.passwordMode != "keep"
		if n := ps.Disabled.Load(); n > 0 && !o.skipDisabled && resets {
			logger.Info(fmt.Sprintf("%s %s too (--skip-disabled leaves them alone)", plural.N(n, "disabled account"), plural.Word(n, verb1, verb)), "disabled", n)
		}
		if n := ps.Guests.Load(); n > 0 && !o.skipGuests && resets {
			logger.Info(fmt.Sprintf("%s %s too (--skip-guests leaves them alone)", plural.N(n, "guest"), plural.Word(n, verb1, verb)), "guests", n)
		}
		if n := ps.Synced.Load(); n > 0 && o.synced == string(worker.SyncedSkip) {
			logger.Warn(syncedNote(n, o.plan), "synced", n)
		}
		logUnresettableNotes(logger, o, ps.ExternalGuests.Load(), ps.Federated.Load())
		logger.Info("preflight lookups", "reads", ps.Reads.Load(), "not_found", ps.NotFound.Load(), "throttled", ps.Throttled.Load())
	}
	if pool != nil {
		logActionNotes(logger, o, pool.Stats())
	}
}

// logActionNotes says how many users were blocked and revoked, and how
// many could not be, after a run that does either.
func logActionNotes(logger *slog.Logger, o *resetOptions, st *worker.Stats) {
	note := func(requested bool, done, failed int64, what, column string) {
		if !requested {
			return
		}
		msg := fmt.Sprintf("%s for %s", what, plural.N(done, "user"))
		if failed == 0 {
			logger.Info(msg, column, done, "not_"+column, failed)
			return
		}
		msg = fmt.Sprintf("%s; not for %s: see the rows with %s=false", msg, plural.N(failed, "user"), column)
		logger.Warn(msg, column, done, "not_"+column, failed)
	}
	note(o.blockSignIn, st.Blocked.Load(), st.NotBlocked.Load(), "sign-in blocked", "blocked")
	note(o.revokeSessions, st.Revoked.Load(), st.NotRevoked.Load(), "sign-in sessions revoked", "revoked")
}

// startProgress starts the progress display chosen for this run: throttled
// reads the pool's count of 429s; finishedBefore rows of the input are not
// read into the run (--resume skips them).
func startProgress(ctx context.Context, e *env, o *resetOptions, lg *runLog, finishedBefore int, throttled func() int64) *progress.Display {
	return progress.Start(ctx, progress.Config{
		// A --user run is over in a moment: no progress.
		Mode:   progress.Choose(o.quiet || len(o.users) > 0, o.logFormat, isTerminal(e.stderr), e.getenv("TERM")),
		Stderr: e.stderr, Switch: lg.stderr, Logger: lg.Logger,
		Input: o.input, Sheet: o.sheet, FinishedBefore: finishedBefore, Throttled: throttled,
		UserColumn: o.userColumn, IDColumn: o.idColumn,
	})
}
