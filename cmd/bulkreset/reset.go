package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/spf13/cobra"

	"github.com/bulkreset/bulkreset/pkg/csvin"
	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/password"
	"github.com/bulkreset/bulkreset/pkg/report"
	"github.com/bulkreset/bulkreset/pkg/worker"
)

// resetOptions are the flags of reset and plan: the same command line can
// be tried with plan first.
type resetOptions struct {
	plan             bool // bulkreset plan: reads only, no password made or sent
	input            string
	sheet            string
	output           string
	secrets          string
	discardPasswords bool
	passwordMode     string
	passwordLength   int
	forceChange      bool
	requireMFA       bool
	revokeSessions   bool
	preflight        bool
	synced           string
	skipDisabled     bool
	skipGuests       bool
	concurrency      int
	batchSize        int
	maxRate          float64
	priority         string
	maxAttempts      int
	yes              bool
	tenant           string
	clientID         string
	auth             string
	certificate      string
	cloud            string
	graphURL         string
	authorityHost    string
	sandbox          string
	logFormat        string
	logFile          string
	quiet            bool
	resume           bool
	requestTimeout   time.Duration
	verbose          bool
	cloudSet         bool // --cloud was given: it beats $AZURE_AUTHORITY_HOST
	// columns are the optional columns of the results, plan and secrets
	// files: the tenant column for an input with a TenantId column.
	columns report.Columns
}

// sandboxBuiltin is the value of a bare --sandbox: the built-in tenant.
const sandboxBuiltin = "builtin"

func newResetCmd(e *env) *cobra.Command {
	o := &resetOptions{}
	cmd := &cobra.Command{
		Use:   "reset -i users.csv [-o results.csv] [--secrets secrets.csv] [flags]",
		Short: "Reset the passwords of the users in a CSV or Excel file",
		Long: `Reset the passwords of the users listed in a CSV or Excel file.

Every input row gets one row in the results CSV (outcome, reason, Graph's
answer and request-id). Random passwords are written to --secrets (mode 0600)
before they are sent. Progress is shown on standard error when it is a
terminal; at the end a summary gives the counts per outcome and reason.

Sign-in (--auth auto tries them in this order): AZURE_CLIENT_SECRET or
AZURE_CLIENT_CERTIFICATE_PATH (+ _PASSWORD) with AZURE_TENANT_ID and
AZURE_CLIENT_ID; workload identity (AZURE_FEDERATED_TOKEN_FILE); managed
identity; Azure CLI. A flag beats its environment variable, which beats the
default. Secrets are never flag values.

Exit codes: 0 every row succeeded (or was skipped or a duplicate), 1 fatal
error, 2 usage error, 3 some rows failed or were invalid, 130 interrupted.`,
		Example: `  # Try it on the built-in sandbox tenant (no credentials needed):
  bulkreset reset --sandbox -i testdata/demo.csv --secrets secrets.csv --yes

  # Give every user a random password, written to a 0600 secrets file:
  export AZURE_TENANT_ID=contoso.onmicrosoft.com AZURE_CLIENT_ID=<app id> AZURE_CLIENT_SECRET=<secret>
  bulkreset reset -i phished.csv --secrets secrets.csv -o results.csv

  # Incident: lock users out at once, keeping no passwords (users then use self-service reset):
  bulkreset reset -i phished.csv --discard-passwords --yes

  # Only require a new password at next sign-in (no new password set):
  bulkreset reset -i users.csv --password-mode none --yes

  # Scheduled task: certificate auth, no prompt, JSON logs appended to a file:
  bulkreset reset -i users.csv --auth certificate --certificate app.pem --secrets s.csv --yes \
    --log-format json --log-file bulkreset.log

  # Azure VM or Arc-enabled server with a managed identity (no secret anywhere):
  bulkreset reset -i users.csv --auth managed-identity --secrets s.csv --yes

  # Users synced from on-premises AD, with password writeback: an administrator
  # signs in (resetPassword supports delegated permissions only):
  bulkreset reset -i synced.csv --synced resetpassword --auth device-code --secrets s.csv

  # US Government (GCC High) tenant:
  bulkreset reset -i users.csv --cloud usgov --secrets s.csv`,
		Args: cobra.NoArgs,
		RunE: runResetE(e, o),
	}
	addResetFlags(cmd, o)
	return cmd
}

// runResetE is the RunE of reset and plan, which differ only in o.plan.
func runResetE(e *env, o *resetOptions) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		o.cloudSet = cmd.Flags().Changed("cloud")
		return typed(runReset(cmd.Context(), e, o))
	}
}

// newPlanCmd is `bulkreset plan`: reset's pipeline with reads only.
func newPlanCmd(e *env) *cobra.Command {
	o := &resetOptions{plan: true}
	cmd := &cobra.Command{
		Use:   "plan -i users.csv [-o plan.csv] [flags]",
		Short: "Show what reset would do to each user, changing nothing",
		Long: `Show what reset would do, without changing anything: the input is
validated and every user is looked up (preflight), exactly as reset does,
and a plan CSV gets one row per input row, with the columns of the results
file. No password is generated, no secrets file is written, and no write
is sent to Graph: only GETs, which spend Graph's read quota.

plan accepts the same flags as reset, so the same command line can be run
with plan first, then with reset. In the plan, a row reset would send is
outcome succeeded with reason would_reset; every other row has the outcome
and reason reset would give it (failed/not_found, skipped/synced_user,
skipped/disabled, skipped/guest, duplicate, invalid/...). What only the
write itself can tell (a 403 for an administrator the app may not reset,
a password refused by the banned-password list) shows only in reset.

Exit codes: 0 nothing would fail, 1 fatal error, 2 usage error, 3 some rows
would fail or are invalid, 130 interrupted.`,
		Example: `  # What would happen to these users, on the built-in sandbox tenant:
  bulkreset plan --sandbox -i testdata/demo.csv -o plan.csv

  # Try the incident command line first, then run it for real:
  bulkreset plan  -i phished.csv --revoke-sessions --discard-passwords -o plan.csv
  bulkreset reset -i phished.csv --revoke-sessions --discard-passwords -o results.csv`,
		Args: cobra.NoArgs,
		RunE: runResetE(e, o),
	}
	addResetFlags(cmd, o)
	return cmd
}

// addResetFlags defines the flags reset and plan share.
func addResetFlags(cmd *cobra.Command, o *resetOptions) {
	f := cmd.Flags()
	f.StringVarP(&o.input, "input", "i", "", "input file: .csv, .txt, .tsv or .xlsx; - is standard input (CSV)")
	f.StringVar(&o.sheet, "sheet", "", "worksheet of an .xlsx input (default: the first sheet)")
	f.StringVarP(&o.output, "output", "o", "", "results CSV; - is standard output (default bulkreset-results-YYYYMMDD-HHMMSS.csv)")
	f.StringVar(&o.secrets, "secrets", "", "file the passwords set are written to (mode 0600, owner-only on Windows; must not exist)")
	f.BoolVar(&o.discardPasswords, "discard-passwords", false, "allow random passwords without --secrets (nobody will know them: users must use self-service reset)")
	f.StringVar(&o.passwordMode, "password-mode", "random", "random: a unique generated password per user; column: the input's Password column; none: only the force-change flag (best effort: Graph may ignore a flag-only update)")
	f.IntVar(&o.passwordLength, "password-length", password.DefaultLength, "length of random passwords, 8-256")
	f.BoolVar(&o.forceChange, "force-change", true, "require a password change at next sign-in (passwordProfile.forceChangePasswordNextSignIn)")
	f.BoolVar(&o.requireMFA, "require-mfa", false, "require MFA before the password change (forceChangePasswordNextSignInWithMfa)")
	f.BoolVar(&o.revokeSessions, "revoke-sessions", false, "after a successful reset, revoke the user's sign-in sessions (revokeSignInSessions); the revoked column says whether it worked")
	f.BoolVar(&o.preflight, "preflight", true, "look every user up first (batched GETs): missing users cost no write, synced users are skipped, and writes address the object id")
	f.StringVar(&o.synced, "synced", string(worker.SyncedSkip), "users synced from on-premises AD: skip (skipped/synced_user); attempt the reset anyway; or resetpassword: reset them with the resetPassword action, which password writeback carries on-premises (needs an administrator signed in: --auth device-code, browser or azure-cli)")
	f.BoolVar(&o.skipDisabled, "skip-disabled", false, "skip disabled accounts (skipped/disabled) instead of resetting them (needs --preflight)")
	f.BoolVar(&o.skipGuests, "skip-guests", false, "skip guest users (skipped/guest) instead of resetting them (needs --preflight)")
	f.IntVar(&o.concurrency, "concurrency", 4, "batches in flight, 1-64")
	f.IntVar(&o.batchSize, "batch-size", worker.MaxBatchSize, "requests per $batch, 1-20")
	f.Float64Var(&o.maxRate, "max-rate", 0, "cap on writes per second, 0.01-10000; 0 lets the pacer find Graph's limit")
	f.StringVar(&o.priority, "priority", "normal", "x-ms-throttle-priority of the requests: low, normal or high (when Graph throttles, low goes first)")
	f.IntVar(&o.maxAttempts, "max-attempts", 8, "attempts per row across throttling and transient errors, 1-100")
	f.BoolVarP(&o.yes, "yes", "y", false, "do not ask for confirmation (required when standard input is not a terminal)")
	f.StringVar(&o.tenant, "tenant", "", "tenant id or domain (default $AZURE_TENANT_ID); with a TenantId column in the input, the tenant of its empty cells")
	f.StringVar(&o.clientID, "client-id", "", "application (client) id (default $AZURE_CLIENT_ID)")
	f.StringVar(&o.auth, "auth", "auto", "auto, client-secret, certificate, managed-identity, workload-identity, azure-cli, device-code, browser")
	f.StringVar(&o.certificate, "certificate", "", "certificate file, PEM or PKCS#12 (default $AZURE_CLIENT_CERTIFICATE_PATH; password from $AZURE_CLIENT_CERTIFICATE_PASSWORD)")
	f.StringVar(&o.cloud, "cloud", "global", "global, usgov, usgov-dod, china: sets the Graph and sign-in hosts")
	f.StringVar(&o.graphURL, "graph-url", "", "Graph root, e.g. https://graph.microsoft.com (default: from --cloud)")
	f.StringVar(&o.authorityHost, "authority-host", "", "Entra sign-in host (default: from --cloud, or $AZURE_AUTHORITY_HOST)")
	f.StringVar(&o.sandbox, "sandbox", "", "run against the built-in Graph emulator instead of a real tenant; optionally a TENANT.json")
	f.Lookup("sandbox").NoOptDefVal = sandboxBuiltin
	f.StringVar(&o.logFormat, "log-format", "text", "text or json; logs go to standard error")
	f.StringVar(&o.logFile, "log-file", "", "write logs to this file as well")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress, only warnings, errors and the summary")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "log each retry and throttled request on standard error too (--log-file always has them)")
	f.BoolVar(&o.resume, "resume", false, "continue an interrupted run from its results (-o) and secrets files: finished rows are not sent again, and a row whose outcome is unknown is sent again with the password already recorded")
	f.DurationVar(&o.requestTimeout, "request-timeout", 100*time.Second, "how long one $batch request may take before it is abandoned and retried, 1s-1h")
	registerResetCompletions(cmd)
}

// The range of --max-rate other than 0 (no cap): one write every 100 seconds
// is the slowest rate that still means something, and no tenant takes more
// than ten thousand writes a second.
const (
	minMaxRate = 0.01
	maxMaxRate = 10000.0
)

// validate checks the flags and fills defaults from the environment.
func (o *resetOptions) validate(e *env, now time.Time) error {
	if o.input == "" {
		return usagef("--input is required")
	}
	switch o.passwordMode {
	case "random", "column", "none":
	default:
		return usagef("--password-mode must be random, column or none, not %q", o.passwordMode)
	}
	if o.passwordLength < password.MinLength || o.passwordLength > password.MaxLength {
		return usagef("--password-length must be %d to %d", password.MinLength, password.MaxLength)
	}
	if o.batchSize < 1 || o.batchSize > worker.MaxBatchSize {
		return usagef("--batch-size must be 1 to %d (Graph's limit per $batch)", worker.MaxBatchSize)
	}
	if o.concurrency < 1 || o.concurrency > 64 {
		return usagef("--concurrency must be 1 to 64")
	}
	if o.maxAttempts < 1 || o.maxAttempts > 100 {
		return usagef("--max-attempts must be 1 to 100")
	}
	// NaN compares false with everything, and a rate of 1e-300 writes per
	// second is no rate: both used to remove the cap without a word.
	if o.maxRate != 0 && !(o.maxRate >= minMaxRate && o.maxRate <= maxMaxRate) {
		return usagef("--max-rate must be 0 (no cap) or %g to %g writes per second, not %v", minMaxRate, maxMaxRate, o.maxRate)
	}
	switch strings.ToLower(o.priority) {
	case "":
		o.priority = "normal"
	case "low", "normal", "high":
		o.priority = strings.ToLower(o.priority)
	default:
		return usagef("--priority must be low, normal or high, not %q", o.priority)
	}
	if o.passwordMode == "random" && o.secrets == "" && !o.discardPasswords {
		return usagef("random passwords need --secrets FILE to record them (or --discard-passwords to set passwords nobody will know)")
	}
	if o.logFormat != "text" && o.logFormat != "json" {
		return usagef("--log-format must be text or json")
	}
	if o.synced == "" {
		o.synced = string(worker.SyncedSkip)
	}
	switch worker.SyncedPolicy(o.synced) {
	case worker.SyncedSkip, worker.SyncedAttempt:
	case worker.SyncedResetPassword:
		if err := o.validateResetPassword(); err != nil {
			return err
		}
	default:
		return usagef("--synced must be skip, attempt or resetpassword, not %q", o.synced)
	}
	if !o.preflight && (o.skipDisabled || o.skipGuests) {
		return usagef("--skip-disabled and --skip-guests need --preflight (the lookup is what tells a disabled account or a guest)")
	}
	if o.plan && o.resume {
		return usagef("plan changes nothing, so there is nothing to resume: run it again")
	}
	if o.quiet && o.verbose {
		return usagef("--quiet and --verbose cannot be used together")
	}
	if o.requestTimeout < time.Second || o.requestTimeout > time.Hour {
		return usagef("--request-timeout must be 1s to 1h, not %v", o.requestTimeout)
	}
	if o.resume && (o.output == "" || o.output == "-") {
		return usagef("--resume needs -o: the results file of the run to continue")
	}
	if o.output == "" {
		if o.plan {
			o.output = now.Format("bulkreset-plan-20060102-150405.csv")
		} else {
			o.output = now.Format("bulkreset-results-20060102-150405.csv")
		}
	}
	if o.secrets != "" && o.secrets == o.output {
		return usagef("--secrets and --output must be different files")
	}
	if o.secrets == "-" {
		return usagef("--secrets cannot be standard output: passwords belong in a file only you can read")
	}
	if !o.resume {
		if err := checkNew(o.secrets, o.output); err != nil {
			return err
		}
	}
	if o.input == "-" && !o.yes {
		return usagef("reading users from standard input needs --yes (there is no terminal to confirm on)")
	}
	if o.tenant == "" {
		o.tenant = e.getenv("AZURE_TENANT_ID")
	}
	if o.clientID == "" {
		o.clientID = e.getenv("AZURE_CLIENT_ID")
	}
	if o.certificate == "" {
		o.certificate = e.getenv("AZURE_CLIENT_CERTIFICATE_PATH")
	}
	if o.authorityHost == "" && o.sandbox == "" && !o.cloudSet {
		o.authorityHost = e.getenv("AZURE_AUTHORITY_HOST")
	}
	return nil
}

// validateResetPassword checks --synced resetpassword. Graph's resetPassword
// action supports delegated permissions only
// (https://learn.microsoft.com/graph/api/authenticationmethod-resetpassword),
// so an application identity cannot use it; it needs the lookup to know who
// is synced, and a password to send (hybrid users must be given one).
func (o *resetOptions) validateResetPassword() error {
	switch {
	case !o.preflight:
		return usagef("--synced resetpassword needs --preflight: the lookup is what tells a synced user")
	case o.passwordMode == "none":
		return usagef("--synced resetpassword sets a password, so it cannot be used with --password-mode none")
	case o.sandbox != "":
		return usagef("--synced resetpassword needs an administrator signed in, and the sandbox signs in as an application")
	}
	switch strings.ToLower(o.auth) {
	case graph.AuthDeviceCode, graph.AuthBrowser, graph.AuthAzureCLI:
		return nil
	}
	return usagef("--synced resetpassword needs an administrator signed in (--auth device-code, browser or azure-cli, with the Authentication Administrator or Privileged Authentication Administrator role): "+
		"Graph's resetPassword action supports delegated permissions only, so --auth %s (an application identity) cannot use it", o.auth)
}

// runReset is `bulkreset reset`.
func runReset(ctx context.Context, e *env, o *resetOptions) (err error) {
	started := time.Now()
	if err := o.validate(e, started); err != nil {
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
	logger := lg.Logger

	in, err := openInput(e, o)
	if err != nil {
		return err
	}
	defer in.Close()
	if worker.SyncedPolicy(o.synced) == worker.SyncedResetPassword && (!o.forceChange || o.requireMFA) {
		logger.Warn("--synced resetpassword: Graph's resetPassword action always makes the user change the password at next sign-in and cannot require MFA first, " +
			"so --force-change=false and --require-mfa (and the input's force-change columns) apply to cloud users only, not to synced users")
	}
	if in.Info().HasPassword && o.passwordMode == "random" {
		logger.Warn("the input has a Password column; it is ignored in --password-mode random (use --password-mode column to set those passwords)")
	}
	if o.passwordMode == "column" && !in.Info().HasPassword {
		return usagef("--password-mode column needs a Password column in %s", o.input)
	}
	if in.Info().HasTenant {
		if err := o.useTenantColumn(e); err != nil {
			return err
		}
	}

	httpClient, err := newHTTPClient(e, o.concurrency)
	if err != nil {
		return fatalError{err}
	}
	target, err := connect(e, o, httpClient, lg)
	if err != nil {
		return err
	}
	defer target.Close() // also closed before the summary; Close is idempotent
	if err := target.signIn(ctx); err != nil {
		if ctx.Err() != nil {
			return exitError{exitInterrupted}
		}
		return fatalError{err}
	}

	if !o.yes && !o.plan {
		if err := confirm(e, o, target, lg); err != nil {
			return err
		}
	}

	// The run starts after the confirmation: elapsed time and writes per
	// second leave out the sign-in and the person reading the prompt.
	summary := &report.Summary{Started: time.Now(), ResultsPath: o.output, SecretsPath: o.secrets}
	outOpts := *o
	if o.plan {
		// A plan sets no password: there is nothing to keep secret.
		outOpts.secrets, summary.SecretsPath = "", ""
	}
	out, err := openOutputs(e, &outOpts, summary)
	if err != nil {
		return err
	}
	defer out.release()
	if out.prior != nil {
		logger.Info("resuming: rows the earlier run finished are not sent again",
			"finished_before", out.prior.Finished())
	}

	var rec worker.Recorder
	if out.secrets != nil {
		rec = out.secrets
	}
	pool := worker.New(target.client, rec, poolOptions(o, logger))
	prep := worker.NewPreparer(worker.PrepareOptions{
		Mode:        worker.Mode(o.passwordMode),
		Length:      o.passwordLength,
		ForceChange: o.forceChange,
		RequireMFA:  o.requireMFA,
		Plan:        o.plan,
	})
	var pre *worker.Preflight
	if o.preflight {
		pre = worker.NewPreflight(target.client, preflightOptions(o, logger))
	}
	send := pool.Run
	if o.plan {
		send = planSink(o)
	}
	var router *worker.Router // a multi-tenant run: one lane per tenant
	if target.tenants != nil {
		router = target.tenants.router(o, rec, logger)
		send, pre = router.Run, nil
	}

	what := "reset started"
	if o.plan {
		what = "plan started: nothing will be changed"
	}
	logger.Info(what, "input", o.input, "tenant", target.tenant, "graph", target.graphURL,
		"password_mode", o.passwordMode, "results", o.output, "secrets", summary.SecretsPath, "resume", o.resume,
		"preflight", o.preflight, "revoke_sessions", o.revokeSessions, "version", buildVersion())
	throttled := func() int64 {
		if router != nil {
			return router.Throttled()
		}
		n := pool.Stats().Throttled.Load()
		if pre != nil {
			n += pre.Stats().Throttled.Load()
		}
		return n
	}
	finishedBefore := 0 // rows an interrupted run finished: --resume skips them
	if out.prior != nil {
		finishedBefore = out.prior.Finished()
	}
	prog := startProgress(ctx, e, o, lg, finishedBefore, throttled)
	res := runPipeline(ctx, in, prep, pre, send, out, summary, logger, prog.tracker)
	prog.finish(res.fatal == nil && !res.interrupted)
	summary.Finished = time.Now()
	st := pool.Stats()
	summary.Writes = int(st.Writes.Load())
	summary.Throttled = int(throttled())
	if router != nil {
		summary.Writes = int(router.Writes())
		logTenantNotes(logger, o, router)
	} else {
		logNotes(logger, o, pre, pool)
	}
	if err := out.close(); err != nil && res.fatal == nil {
		res.fatal = err
	}
	// Every outcome is known: drop the passwords Graph refused, so that the
	// file lists exactly the passwords in force. After an interrupt or a
	// fatal error the file stays whole for the rerun. The locks are still
	// held: a --resume started now must not append to the file being
	// rewritten, or the rename would drop its rows.
	if out.secrets != nil && res.fatal == nil && !res.interrupted && len(res.refused) > 0 {
		if hook, ok := ctx.Value(beforeCompactKey{}).(func(string)); ok {
			hook(o.secrets)
		}
		if _, err := report.CompactSecrets(o.secrets, func(r report.SecretRow) bool { return !res.refused[r.Line] }); err != nil {
			logger.Warn("the secrets file still lists the passwords of users whose reset was refused", "error", err)
		}
	}
	out.release()
	summary.Interrupted = res.interrupted
	summary.Unfinished = int(res.unfinished)
	if res.interrupted {
		logger.Warn("interrupted: no new batch was sent; the rows without a result were not finished", "unfinished", res.unfinished)
	}
	if (res.interrupted || res.fatal != nil) && o.output != "-" && !o.plan { // a plan is run again, not resumed
		summary.ResumeCommand = "bulkreset " + quoteArgs(resumeArgs(e.args, o.output), runtime.GOOS == "windows")
	}
	target.Close() // its last log record comes before the summary
	code := summary.ExitCode()
	if res.fatal != nil {
		logger.Error("run stopped", "error", flagError(res.fatal))
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

// poolOptions are the worker pool's options, from the flags.
func poolOptions(o *resetOptions, logger *slog.Logger) worker.Options {
	return worker.Options{
		BatchSize:      o.batchSize,
		Concurrency:    o.concurrency,
		MaxAttempts:    o.maxAttempts,
		MaxRate:        o.maxRate,
		RevokeSessions: o.revokeSessions,
		Logger:         logger,
	}
}

// preflightOptions are the preflight's options, from the flags.
func preflightOptions(o *resetOptions, logger *slog.Logger) worker.PreflightOptions {
	return worker.PreflightOptions{
		BatchSize:    o.batchSize,
		Concurrency:  o.concurrency,
		MaxAttempts:  o.maxAttempts,
		Synced:       worker.SyncedPolicy(o.synced),
		SkipDisabled: o.skipDisabled,
		SkipGuests:   o.skipGuests,
		Logger:       logger,
	}
}

// pipelineResult is how a run ended.
type pipelineResult struct {
	fatal       error
	interrupted bool
	unfinished  int64 // rows read that have no result
	// refused are the lines whose reset Graph refused for good: their
	// recorded password was never set.
	refused map[int]bool
}

// sender finishes the items it receives and emits their results: the
// worker pool for reset, planSink for plan.
type sender func(ctx context.Context, items <-chan worker.Item, emit func(report.Result)) error

// resultQueue is how many results may wait for the results file's writer.
// When that file fails (a full disk), the results still queued are logged
// instead ("result not written to the results file"), with the line, user,
// outcome and Graph's request-id.
const resultQueue = 1024

// resultsFlushRows bounds the rows the results writer holds in memory: at
// most these many results are lost to the file (and logged instead) when
// it fails, however busy the run.
const resultsFlushRows = 64

// planSink is the end of plan's pipeline: every item that reached it is a
// user reset would send, and its row says so. It sends nothing.
func planSink(o *resetOptions) sender {
	return func(ctx context.Context, items <-chan worker.Item, emit func(report.Result)) error {
		for {
			select {
			case it, ok := <-items:
				if !ok {
					return nil
				}
				emit(report.Result{Line: it.Line, User: it.User, ObjectID: it.ObjectID,
					Outcome: report.Succeeded, Reason: report.ReasonWouldReset, FinishedAt: time.Now()})
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// logNotes says, after the run, what the preflight found that the rows do
// not make obvious, and how many sessions could not be revoked.
func logNotes(logger *slog.Logger, o *resetOptions, pre *worker.Preflight, pool *worker.Pool) {
	verb := "were reset"
	if o.plan {
		verb = "would be reset"
	}
	if pre != nil {
		ps := pre.Stats()
		if n := ps.Disabled.Load(); n > 0 && !o.skipDisabled {
			logger.Info(fmt.Sprintf("%d disabled accounts %s too (--skip-disabled leaves them alone)", n, verb), "disabled", n)
		}
		if n := ps.Guests.Load(); n > 0 && !o.skipGuests {
			logger.Info(fmt.Sprintf("%d guests %s too (--skip-guests leaves them alone)", n, verb), "guests", n)
		}
		if n := ps.Synced.Load(); n > 0 && o.synced == string(worker.SyncedSkip) {
			logger.Warn(fmt.Sprintf("%d users synced from on-premises AD were skipped: reset them on-premises (see error_message)", n), "synced", n)
		}
		logger.Info("preflight lookups", "reads", ps.Reads.Load(), "not_found", ps.NotFound.Load(), "throttled", ps.Throttled.Load())
	}
	if o.revokeSessions && !o.plan {
		st := pool.Stats()
		if n := st.NotRevoked.Load(); n > 0 {
			logger.Warn(fmt.Sprintf("%d users were reset but their sessions could not be revoked: see the rows with revoked=false", n), "not_revoked", n)
		}
		logger.Info("sign-in sessions revoked", "revoked", st.Revoked.Load())
	}
}

// runPipeline streams rows from in through prep, the preflight (when pre
// is not nil) and send, and writes every result through one goroutine that
// owns the results file.
func runPipeline(ctx context.Context, in *csvin.Reader, prep *worker.Preparer, pre *worker.Preflight, send sender,
	out *outputs, summary *report.Summary, logger *slog.Logger, progress *progressTracker) pipelineResult {
	runCtx, stopRun := context.WithCancelCause(ctx)
	defer stopRun(nil)

	// The reporter: the only writer of the results file. It runs until
	// stopRep, then writes what is queued and flushes.
	resCh := make(chan report.Result, resultQueue)
	stopRep, repDone := make(chan struct{}), make(chan struct{})
	var (
		written  int64
		writeErr error
		refused  = map[int]bool{}
		// pending are the rows given to the results writer since its last
		// flush: they are in the file only once it flushes.
		pending []report.Result
	)
	notWritten := func(r report.Result) {
		// The run is stopping; say what could not be recorded, so that
		// the log holds every result the file lacks.
		logger.Error("result not written to the results file", "line", r.Line, "user", r.User,
			"outcome", r.Outcome, "reason", r.Reason, "request_id", r.RequestID)
	}
	settle := func(err error) {
		if err != nil {
			writeErr = err
			for _, p := range pending {
				notWritten(p)
			}
			stopRun(fmt.Errorf("writing the results file: %w", writeErr))
		} else {
			written += int64(len(pending))
		}
		pending = pending[:0]
	}
	handle := func(r report.Result) {
		summary.Add(r)
		progress.add(r)
		logRow(logger, r)
		if report.RefusedForGood(r) {
			refused[r.Line] = true
		}
		if writeErr != nil {
			notWritten(r)
			return
		}
		pending = append(pending, r)
		before := out.results.Flushes()
		switch err := out.results.Write(r); {
		case err != nil:
			settle(err)
		case out.results.Flushes() != before:
			settle(nil)
		case len(resCh) == 0 || len(pending) >= resultsFlushRows:
			settle(out.results.Flush())
		}
	}
	go func() {
		defer close(repDone)
		for {
			select {
			case r := <-resCh:
				handle(r)
			case <-stopRep:
				for {
					select {
					case r := <-resCh:
						handle(r)
					default:
						if writeErr == nil {
							settle(out.results.Flush())
						}
						return
					}
				}
			}
		}
	}()
	// The pool's results: the reporter runs until the pool has returned,
	// so this send never blocks for good.
	emit := func(r report.Result) { resCh <- r }

	// The reader: input rows to items, or straight to results when a row
	// cannot be sent. It stops with readCtx; it may be blocked reading a
	// pipe, so nothing waits for it once the run has stopped.
	items := make(chan worker.Item, 256)
	type readEnd struct {
		err error
		eof bool
	}
	readFinished := make(chan readEnd, 1)
	var read atomic.Int64
	readCtx, stopRead := context.WithCancel(runCtx)
	defer stopRead()
	go func() {
		end := readEnd{}
		defer func() {
			readFinished <- end // before close(items): the pool's return implies it is there
			close(items)
		}()
		for readCtx.Err() == nil {
			row, err := in.Read()
			if errors.Is(err, io.EOF) {
				end.eof = true
				return
			}
			if err != nil {
				end.err = fmt.Errorf("reading the input: %w", err)
				stopRun(end.err)
				return
			}
			it, r, err := prep.Prepare(row)
			if err == nil && out.prior != nil {
				var skip bool
				if skip, err = resumeRow(out.prior, row, &it, &r); skip {
					continue
				}
			}
			if err != nil {
				end.err = err
				stopRun(err)
				return
			}
			read.Add(1)
			if r != nil {
				select {
				case resCh <- *r:
				case <-readCtx.Done():
				}
				continue
			}
			select {
			case items <- it:
			case <-readCtx.Done():
			}
		}
	}()

	// The preflight, when on, sits between the reader and the sender; its
	// results go to the reporter like the others. It has returned (and
	// closed toSend) before send returns.
	toSend := items
	preDone := make(chan error, 1)
	if pre != nil {
		resolved := make(chan worker.Item, 256)
		toSend = resolved
		go func() {
			err := pre.Run(runCtx, items, resolved, emit)
			if err != nil {
				stopRun(err)
			}
			preDone <- err
		}()
	} else {
		preDone <- nil
	}
	poolErr := send(runCtx, toSend, emit)
	if pre != nil && poolErr != nil {
		stopRun(poolErr) // the preflight stops too
	}
	if err := <-preDone; err != nil && poolErr == nil {
		poolErr = err
	}
	stopRead()
	var end readEnd
	select {
	case end = <-readFinished:
	default: // still blocked in a read: it ends at its next step
	}
	close(stopRep)
	<-repDone

	if out.prior != nil {
		for line := range out.prior.RefusedLines() {
			refused[line] = true
		}
	}
	res := pipelineResult{unfinished: read.Load() - written, refused: refused}
	switch {
	case poolErr != nil:
		res.fatal = poolErr
	case end.err != nil:
		res.fatal = end.err
	case writeErr != nil:
		res.fatal = fmt.Errorf("writing the results file: %w", writeErr)
	case ctx.Err() != nil && (!end.eof || res.unfinished > 0):
		res.interrupted = true
	}
	if res.fatal == nil && !res.interrupted && (res.unfinished != 0 || !end.eof) {
		// Every row read must have a result when nothing stopped the run.
		res.fatal = fmt.Errorf("internal error: %d rows have no result (input read to the end: %v)", res.unfinished, end.eof)
	}
	return res
}

// openInput opens the input file or standard input.
func openInput(e *env, o *resetOptions) (*csvin.Reader, error) {
	var (
		in  *csvin.Reader
		err error
	)
	if o.input == "-" {
		in, err = csvin.NewReader(e.stdin, csvin.Options{Name: "stdin.csv", DefaultTenant: o.tenant})
	} else {
		in, err = csvin.Open(o.input, csvin.Options{Name: o.input, Sheet: o.sheet, DefaultTenant: o.tenant})
	}
	if err != nil {
		return nil, usagef("input %s: %w", o.input, err)
	}
	return in, nil
}

// checkNew refuses output paths that exist: bulkreset never overwrites a
// results or secrets file.
func checkNew(paths ...string) error {
	for _, p := range paths {
		if p == "" || p == "-" {
			continue
		}
		if _, err := os.Lstat(p); err == nil {
			return usagef("%s already exists; bulkreset never overwrites its outputs (choose another name)", p)
		}
	}
	return nil
}

// outputs are the files a run writes, locked against other runs.
type outputs struct {
	secrets     *report.Secrets // nil without --secrets
	results     *report.Results
	resultsFile *os.File      // nil when the results go to standard output
	prior       *report.Prior // what the interrupted run finished, with --resume
	unlock      []func()
	closed      bool
}

// release closes the outputs, if not closed yet, and releases the locks.
// It may be called more than once.
func (out *outputs) release() {
	out.close()
	for _, u := range out.unlock {
		u()
	}
	out.unlock = nil
}

// close flushes and syncs the results file and closes both files; the locks
// stay held until release. It may be called more than once.
func (out *outputs) close() error {
	if out.closed {
		return nil
	}
	out.closed = true
	var errs []error
	if out.results != nil {
		errs = append(errs, out.results.Flush())
	}
	if out.resultsFile != nil {
		errs = append(errs, out.resultsFile.Sync(), out.resultsFile.Close())
	}
	if out.secrets != nil {
		errs = append(errs, out.secrets.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("closing the outputs: %w", err)
	}
	return nil
}

// openOutputs locks the results and secrets paths, then creates them (or,
// with --resume, reads what the interrupted run finished, adds it to
// summary and opens both files for appending), before anything is sent.
// Neither file is ever overwritten.
func openOutputs(e *env, o *resetOptions, summary *report.Summary) (_ *outputs, err error) {
	out := &outputs{}
	defer func() {
		if err != nil {
			out.release()
		}
	}()
	for _, p := range []string{o.output, o.secrets} {
		if p == "" || p == "-" {
			continue
		}
		unlock, err := report.Lock(p)
		if errors.Is(err, report.ErrLocked) {
			return nil, fatalError{err}
		}
		if err != nil {
			return nil, fatalError{fmt.Errorf("output: %w", err)}
		}
		out.unlock = append(out.unlock, unlock)
	}
	if o.resume {
		return out, openForResume(out, o, summary)
	}
	if err := checkNew(o.secrets, o.output); err != nil {
		return nil, err
	}
	if o.secrets != "" {
		s, err := report.CreateSecretsColumns(o.secrets, o.columns)
		if errors.Is(err, os.ErrExist) {
			return nil, usagef("%w", err)
		}
		if err != nil {
			return nil, fatalError{fmt.Errorf("secrets file: %w", err)}
		}
		out.secrets = s
	}
	var w io.Writer = e.stdout
	if o.output != "-" {
		f, err := report.CreateResultsFile(o.output)
		if err != nil {
			if out.secrets != nil {
				out.secrets.Close()
				out.secrets = nil
				os.Remove(o.secrets) // it holds no password yet
			}
			if errors.Is(err, os.ErrExist) {
				return nil, usagef("results file: %w", err)
			}
			return nil, fatalError{fmt.Errorf("results file: %w", err)}
		}
		out.resultsFile, w = f, f
	}
	results, err := report.NewResultsColumns(w, o.columns)
	if err != nil {
		return nil, fatalError{fmt.Errorf("results file: %w", err)}
	}
	out.results = results
	return out, nil
}

// openForResume reads the interrupted run's files and opens them for
// appending. A file the interrupted run never got to create (it was killed
// at start-up) is created now.
func openForResume(out *outputs, o *resetOptions, summary *report.Summary) error {
	resultsPath, secretsPath := existing(o.output), existing(o.secrets)
	prior, err := report.LoadPrior(resultsPath, secretsPath, summary)
	if err != nil {
		return usagef("%w", err)
	}
	out.prior = prior
	if resultsPath == "" {
		f, err := report.CreateResultsFile(o.output)
		if err != nil {
			return fatalError{err}
		}
		out.resultsFile = f
		if out.results, err = report.NewResultsColumns(f, o.columns); err != nil {
			return fatalError{err}
		}
	} else {
		f, err := report.OpenResultsAppendColumns(o.output, o.columns)
		if err != nil {
			return fatalError{err}
		}
		out.resultsFile = f
		out.results = report.AppendResultsColumns(f, o.columns)
	}
	switch {
	case o.secrets == "":
	case secretsPath == "":
		if out.secrets, err = report.CreateSecretsColumns(o.secrets, o.columns); err != nil {
			return fatalError{err}
		}
	default:
		if out.secrets, err = report.OpenSecretsAppendColumns(o.secrets, o.columns); err != nil {
			return fatalError{err}
		}
	}
	return nil
}

// existing returns path when a file is there, else "".
func existing(path string) string {
	if path == "" {
		return ""
	}
	if _, err := os.Lstat(path); err != nil {
		return ""
	}
	return path
}

// resumeRow applies what the interrupted run finished to one row: a row
// with a result is skipped (it has its row in the results file already); a
// row whose password was recorded but whose outcome is unknown is sent
// again with that password, *r then nil.
func resumeRow(prior *report.Prior, row csvin.Row, it *worker.Item, r **report.Result) (skip bool, err error) {
	user := row.Display()
	done, err := prior.Done(row.Line, user)
	if err != nil || done {
		return done, err
	}
	pw, ok, err := prior.Password(row.Line, user)
	if err != nil || !ok {
		return false, err
	}
	switch {
	case *r == nil:
	case (*r).Reason == report.ReasonPasswordFormula:
		// An earlier run recorded it before such passwords were refused:
		// the file holds it already, and it may be in force.
		*r = nil
	default:
		return false, fmt.Errorf("--resume: line %d has a recorded password but cannot be sent now (%s): the input file changed", row.Line, (*r).Reason)
	}
	// The recorded password may be in force: it is the one to send, even if
	// the run is resumed with another --password-mode.
	it.Password, it.Recorded, it.Resumed = pw, true, true
	return false, nil
}

// confirm asks the person at the terminal before anything is changed.
func confirm(e *env, o *resetOptions, t *target, lg *runLog) error {
	if !isTerminal(e.stdin) {
		return usagef("standard input is not a terminal: pass --yes to confirm the reset without a prompt")
	}
	what := "set a new random password for"
	switch o.passwordMode {
	case "column":
		what = "set the passwords from the Password column for"
	case "none":
		what = "require a password change at next sign-in for"
	}
	question := fmt.Sprintf("This will %s every user in %s, in tenant %s (%s).", what, o.input, t.tenant, t.graphURL)
	if lg.json {
		// Every line of standard error stays a JSON object: the question is
		// a record, and the answer is typed on the next line.
		lg.Warn(question+" Type yes to continue.", "input", o.input, "tenant", t.tenant)
	} else {
		fmt.Fprintf(e.stderr, "%s\nType yes to continue: ", question)
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fatalError{fmt.Errorf("reading the confirmation: %w", err)}
	}
	if strings.ToLower(strings.TrimSpace(line)) != "yes" {
		if lg.json {
			lg.Warn("Nothing was changed.")
		} else {
			fmt.Fprintln(e.stderr, "Nothing was changed.")
		}
		return exitError{exitUsage}
	}
	return nil
}

// newHTTPClient is the client for Graph and the token endpoint. It trusts
// the system's certificate authorities, plus those in $SSL_CERT_FILE (read
// here so that it works on every OS, not only where Go's system pool does).
func newHTTPClient(e *env, concurrency int) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = max(concurrency*2, 8)
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if path := e.getenv("SSL_CERT_FILE"); path != "" {
		pem, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("SSL_CERT_FILE: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("SSL_CERT_FILE %s: no PEM certificate in it", path)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	tr.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return &http.Client{Transport: tr}, nil
}

// target is the tenant a run talks to.
type target struct {
	client   *graph.Client
	tenant   string
	graphURL string
	close    func()
	// tenants is set for a multi-tenant run (client is then nil): each
	// tenant is signed in to on its first row.
	tenants *tenantSet
}

// Close releases the target (stops an in-process sandbox). Calls after
// the first do nothing.
func (t *target) Close() {
	if t.close != nil {
		t.close()
		t.close = nil
	}
}

// connect builds the credential and the Graph client, for a real tenant or
// the sandbox.
func connect(e *env, o *resetOptions, hc *http.Client, lg *runLog) (*target, error) {
	if o.columns.Tenant {
		return connectTenants(e, o, hc, lg)
	}
	if o.sandbox != "" {
		return connectSandbox(o, lg.Logger)
	}
	cloud, graphURL, err := endpoints(o)
	if err != nil {
		return nil, err
	}
	ao := authOptions(e, o, o.tenant, cloud, hc)
	ao.DeviceCodeMessage = func(_ context.Context, msg string) error {
		if lg.json {
			lg.Warn(msg) // the sign-in instruction, as a JSON record
			return nil
		}
		_, err := fmt.Fprintln(lg.stderr, msg)
		return err
	}
	cred, err := graph.NewCredential(ao)
	if err != nil {
		return nil, usagef("authentication: %w", err)
	}
	client, err := graph.NewClient(clientOptions(o, graphURL, cred, hc))
	if err != nil {
		return nil, fatalError{err}
	}
	return &target{client: client, tenant: o.tenant, graphURL: graphURL}, nil
}

// endpoints resolves --cloud, --graph-url and --authority-host, and checks
// them.
func endpoints(o *resetOptions) (graph.Cloud, string, error) {
	cloud, err := graph.LookupCloud(o.cloud)
	if err != nil {
		return graph.Cloud{}, "", usagef("--cloud: %w", err)
	}
	graphURL := cloud.GraphURL
	if o.graphURL != "" {
		u, err := graph.CheckEndpoint(o.graphURL)
		if err != nil {
			return graph.Cloud{}, "", usagef("--graph-url: %w", err)
		}
		graphURL = u.String()
	}
	if o.authorityHost != "" {
		if _, err := graph.CheckEndpoint(o.authorityHost); err != nil {
			return graph.Cloud{}, "", usagef("--authority-host: %w", err)
		}
	}
	return cloud, graphURL, nil
}

// authOptions are the credential's options for tenant, from the flags and
// the environment.
func authOptions(e *env, o *resetOptions, tenant string, cloud graph.Cloud, hc *http.Client) graph.AuthOptions {
	return graph.AuthOptions{
		Kind:                o.auth,
		TenantID:            tenant,
		ClientID:            o.clientID,
		ClientSecret:        e.getenv("AZURE_CLIENT_SECRET"),
		CertificatePath:     o.certificate,
		CertificatePassword: e.getenv("AZURE_CLIENT_CERTIFICATE_PASSWORD"),
		FederatedTokenFile:  e.getenv("AZURE_FEDERATED_TOKEN_FILE"),
		AuthorityHost:       o.authorityHost,
		Cloud:               cloud,
		Transport:           hc,
	}
}

// clientOptions are the Graph client's options.
func clientOptions(o *resetOptions, graphURL string, cred azcore.TokenCredential, hc *http.Client) graph.ClientOptions {
	return graph.ClientOptions{
		GraphURL:   graphURL,
		Credential: cred,
		Scope:      strings.TrimSuffix(graphURL, "/") + "/.default",
		HTTPClient: hc,
		Timeout:    o.requestTimeout,
		UserAgent:  "bulkreset/" + buildVersion(),
		// Sent on every request (https://learn.microsoft.com/graph/throttling-limits#request-headers):
		// when Graph must throttle, low-priority requests go first.
		Priority: o.priority,
	}
}
