package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/bulkreset/bulkreset/pkg/report"
	"github.com/bulkreset/bulkreset/pkg/verify"
	"github.com/bulkreset/bulkreset/pkg/worker"
)

// verifyOptions are the flags of verify: its own, and reset's sign-in,
// connection and logging flags (in o).
type verifyOptions struct {
	o            resetOptions
	input        string
	output       string
	wait         time.Duration
	skew         time.Duration
	pollInterval time.Duration
	// tenantSet says --tenant was given: it beats the tenant the results
	// file names (see fileTenant).
	tenantSet bool
}

// verifySharedFlags are the flags verify takes from reset, defined once
// there (addResetFlags) and meaning the same.
var verifySharedFlags = []string{"tenant", "client-id", "auth", "certificate", "cloud", "graph-url", "authority-host", "sandbox",
	"log-format", "log-file", "quiet", "verbose", "concurrency", "batch-size", "max-attempts", "request-timeout", "priority"}

// newVerifyCmd is `bulkreset verify`.
func newVerifyCmd(e *env) *cobra.Command {
	v := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify -i RESULTS.csv [-o VERIFY.csv] [--wait DURATION] [flags]",
		Short: "Ask the tenant whether a run's resets, revokes and blocks took effect, and find the resets in the audit log",
		Long: `verify reads a results file and asks the tenant about every row it says
was reset (outcome succeeded), revoked (revoked=true) or blocked
(blocked=true): it reads each user back (lastPasswordChangeDateTime,
signInSessionsValidFromDateTime, accountEnabled) and checks each action took
effect at or after the row's finished_at, less --clock-skew; then it finds
each password reset in the directory audit log, by the user's object id and,
when the record carries it, the row's client_request_id.

It writes one row per checked row (confirmed, not_confirmed with what
differed, or not_in_audit_log) to a new CSV; rows not checked (failed,
skipped, invalid, duplicate) are left out. Audit records arrive minutes
after the change: --wait keeps polling the audit log until every reset is
found or the time is up.

Permissions: User.Read.All and AuditLog.Read.All with Directory.Read.All
(signed in as an administrator: the Reports Reader, Security Reader or
Security Administrator role).

Exit codes: 0 every checked row confirmed, 1 fatal error (a permission
missing), 2 usage error, 3 some row not confirmed or not in the audit log.`,
		Example: `  # Right after a run, waiting up to 10 minutes for the audit log:
  bulkreset verify -i results.csv --wait 10m

  # Later, with a name for the verify file:
  bulkreset verify -i results.csv -o verify.csv`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v.o.cloudSet = cmd.Flags().Changed("cloud")
			v.tenantSet = cmd.Flags().Changed("tenant")
			return typed(runVerify(cmd.Context(), e, v))
		},
	}
	f := cmd.Flags()
	f.StringVarP(&v.input, "input", "i", "", "results file of a reset run (- is standard input)")
	f.StringVarP(&v.output, "output", "o", "", "verify CSV to write; never overwritten (default bulkreset-verify-YYYYMMDD-HHMMSS.csv)")
	f.DurationVar(&v.wait, "wait", 0, "keep polling the audit log this long for resets not in it yet, e.g. 10m (0: look once)")
	f.DurationVar(&v.skew, "clock-skew", verify.DefaultSkew, "allowance between this machine's clock and the tenant's: a change counts from finished_at minus this")
	f.DurationVar(&v.pollInterval, "poll-interval", verify.DefaultPollInterval, "time between polls of the audit log with --wait")
	_ = f.MarkHidden("poll-interval")
	// Reset's sign-in, connection and logging flags, shared rather than
	// defined twice.
	shared := &cobra.Command{}
	addResetFlags(shared, &v.o)
	for _, name := range verifySharedFlags {
		f.AddFlag(shared.Flags().Lookup(name))
	}
	return cmd
}

// runVerify is `bulkreset verify`.
func runVerify(ctx context.Context, e *env, v *verifyOptions) (err error) {
	if err := v.validate(e, time.Now()); err != nil {
		return err
	}
	o := &v.o
	lg, err := openLog(e, o)
	if err != nil {
		return err
	}
	defer lg.finish(&err, "bulkreset verify stopped")
	rd, in, withCRID, err := openVerifyInput(e, v.input)
	if err != nil {
		return err
	}
	defer in.Close()
	tenant, rows := verifyRows(rd, v.input)
	if tenant != "" && !v.tenantSet {
		// A results file with a tenant column names the tenant its users
		// are in: that one is asked, not $AZURE_TENANT_ID (for a partner's
		// multi-tenant app, its home tenant).
		o.tenant = tenant
	}
	out, err := createVerifyFile(v.output)
	if err != nil {
		return err
	}
	defer out.Close()
	t, err := openTarget(ctx, e, o, lg)
	if err != nil {
		os.Remove(v.output) // nothing written yet
		return err
	}
	defer t.Close()
	started := time.Now()
	lg.Info("verify started", "input", v.input, "tenant", t.tenant, "graph", t.graphURL, "output", v.output, "wait", v.wait.String())
	w, err := report.NewVerifyWriter(out)
	if err != nil {
		return fatalError{fmt.Errorf("verify file %s: %w", v.output, err)}
	}
	var writeErr error
	st, err := verify.Run(ctx, t.client, rows, withCRID, verify.Options{
		Skew: v.skew, Wait: v.wait, PollInterval: v.pollInterval, Logger: lg.Logger,
		Lookups: worker.PreflightOptions{BatchSize: o.batchSize, Concurrency: o.concurrency, MaxAttempts: o.maxAttempts, Logger: lg.Logger},
	}, func(r report.VerifyRow) error {
		writeErr = w.Write(r)
		return writeErr
	})
	if err == nil {
		err = w.Flush()
		writeErr = err
	}
	if err == nil {
		err = out.Close()
		writeErr = err
	}
	switch {
	case err == nil:
	case writeErr != nil:
		return fatalError{fmt.Errorf("verify file %s: %w", v.output, err)}
	default:
		out.Close()
		os.Remove(v.output) // nothing verified: a file that says nothing
		if ctx.Err() != nil {
			return exitError{exitInterrupted}
		}
		if errors.As(err, new(usageError)) {
			return err
		}
		return fatalError{err}
	}
	elapsed := time.Since(started)
	lg.Info("verify finished", "rows", st.Rows, "checked", st.Checked, "confirmed", st.Confirmed, "not_confirmed", st.NotConfirmed,
		"not_in_audit_log", st.NotInAuditLog, "not_checked", st.Rows-st.Checked, "audit_records", st.AuditRecords, "polls", st.Polls,
		"throttled", st.Throttled, "elapsed", elapsed.Round(time.Millisecond).String(), "output", v.output)
	if !lg.json {
		fmt.Fprintf(e.stderr, "Verified %d of %d rows: %d confirmed, %d not confirmed, %d not in the audit log (%d not checked: nothing reset, revoked or blocked). Verify file: %s\n",
			st.Checked, st.Rows, st.Confirmed, st.NotConfirmed, st.NotInAuditLog, st.Rows-st.Checked, v.output)
	}
	if st.Confirmed != st.Checked {
		return exitError{exitRowsFailed}
	}
	return nil
}

// validate checks verify's flags and fills defaults.
func (v *verifyOptions) validate(e *env, now time.Time) error {
	switch {
	case v.input == "":
		return usagef("--input is required: the results file of a reset run")
	case v.wait < 0:
		return usagef("--wait must not be negative")
	case v.skew <= 0 || v.skew > 24*time.Hour:
		return usagef("--clock-skew must be above 0 and at most 24h")
	case v.pollInterval < time.Second:
		return usagef("--poll-interval must be at least 1s")
	case v.o.concurrency < 1 || v.o.concurrency > 64:
		return usagef("--concurrency must be 1-64")
	case v.o.batchSize < 1 || v.o.batchSize > worker.MaxBatchSize:
		return usagef("--batch-size must be 1-%d", worker.MaxBatchSize)
	case v.o.maxAttempts < 1 || v.o.maxAttempts > 100:
		return usagef("--max-attempts must be 1-100")
	}
	if v.output == "" {
		v.output = "bulkreset-verify-" + now.Format("20060102-150405") + ".csv"
	}
	if v.output == "-" || v.output == v.input {
		return usagef("--output must name a new file, not %q", v.output)
	}
	v.o.fromEnv(e)
	return nil
}

// errManyTenants reports a results file of several tenants: verify signs
// in to one.
var errManyTenants = errors.New("it holds rows of more than one tenant: verify signs in to one tenant; split the file by its tenant column " +
	"(rows of one tenant named both by domain and by id, as cells left to the default tenant are recorded: make those cells the same)")

// openVerifyInput opens the results file and reads its header: whether it
// has the client_request_id column. Its rows are read as verify goes (see
// verifyRows).
func openVerifyInput(e *env, path string) (*report.ResultsReader, io.Closer, bool, error) {
	var rd *report.ResultsReader
	closer := io.NopCloser(nil)
	if path == "-" {
		rd = report.NewResultsReader(e.stdin)
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, false, usagef("--input: %w", err)
		}
		rd, closer = report.NewResultsReader(f), f
	}
	cols, err := rd.Columns()
	if err != nil {
		closer.Close()
		return nil, nil, false, usagef("--input %s is not a results file: %w", path, err)
	}
	return rd, closer, cols.ClientRequestID, nil
}

// verifyRows reads the first row of rd now and returns its tenant cell
// ("" without one: a file of one tenant), and the rows, that one first. An
// unreadable row, or a row of another tenant, ends them with a usage error.
func verifyRows(rd *report.ResultsReader, path string) (string, iter.Seq2[report.Result, error]) {
	first, firstErr := rd.Read()
	rows := func(yield func(report.Result, error) bool) {
		seen := "" // the tenant of the rows so far (an invalid row may have none)
		for r, err := first, firstErr; err != io.EOF; r, err = rd.Read() {
			if err == nil && r.Tenant != "" {
				if seen != "" && !strings.EqualFold(r.Tenant, seen) {
					err = errManyTenants
				}
				seen = r.Tenant
			}
			if err != nil {
				yield(report.Result{}, usagef("--input %s: %w", path, err))
				return
			}
			if !yield(r, nil) {
				return
			}
		}
	}
	if firstErr != nil {
		return "", rows
	}
	return first.Tenant, rows
}

// createVerifyFile creates the verify file, refusing to overwrite one.
func createVerifyFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return nil, usagef("verify file %s already exists, and is not overwritten", path)
	}
	if err != nil {
		return nil, fatalError{fmt.Errorf("create verify file: %w", err)}
	}
	return f, nil
}

// openLog opens the logging o's flags ask for; a bad flag is a usage
// error.
func openLog(e *env, o *resetOptions) (*runLog, error) {
	lg, err := newLogger(e, logOptions{format: o.logFormat, file: o.logFile, quiet: o.quiet, verbose: o.verbose})
	if err != nil {
		return nil, usagef("%w", err)
	}
	return lg, nil
}

// finish closes the logging of a command that ends with *err: an error
// (other than an exit code already explained) goes to the log file too;
// run prints it on standard error.
func (l *runLog) finish(err *error, msg string) {
	if *err != nil && !errors.As(*err, new(exitError)) {
		l.logFileOnly(msg, *err)
	}
	l.close()
}
