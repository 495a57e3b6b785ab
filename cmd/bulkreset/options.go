package main

import (
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/password"
	"github.com/bulkreset/bulkreset/pkg/report"
	"github.com/bulkreset/bulkreset/pkg/secret"
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
	// revokeOnlyIfReset limits --revoke-sessions to users whose password
	// was reset in this run; by default every user found is revoked.
	revokeOnlyIfReset bool
	// blockSignIn sets accountEnabled to false for every user found.
	blockSignIn bool
	// includeGuests resets external guests (#EXT# users) too.
	includeGuests bool
	// userColumn and idColumn name the input's user and object id
	// columns (--user-column, --id-column), for headers csvin does not
	// know; "" lets csvin find them.
	userColumn, idColumn string
	// maxUsers refuses an input with more users than this; 0 is no limit.
	maxUsers       int
	preflight      bool
	synced         string
	skipDisabled   bool
	skipGuests     bool
	concurrency    int
	batchSize      int
	maxRate        float64
	priority       string
	maxAttempts    int
	yes            bool
	tenant         string
	clientID       string
	auth           string
	certificate    string
	cloud          string
	graphURL       string
	authorityHost  string
	sandbox        string
	sandboxTenant  string // --sandbox-tenant FILE: --sandbox with a tenant file
	logFormat      string
	logFile        string
	quiet          bool
	resume         bool
	requestTimeout time.Duration
	verbose        bool
	cloudSet       bool // --cloud was given: it beats $AZURE_AUTHORITY_HOST
	// columns are the optional columns of the results, plan and secrets
	// files: the tenant column for an input with a TenantId column.
	columns report.Columns
	// flags are the command's flags: which were given, for --resume.
	flags *pflag.FlagSet
	// recorded are the settings of the run a --resume continues; nil for a
	// new run, and for a resume of a run without a settings file.
	recorded *report.RunSettings
	// legacyResume is a --resume of a results file without a settings
	// file (an older version made it): it goes on with the flags given.
	legacyResume bool
	// toRecord are the settings a new run records before its first write.
	toRecord *report.RunSettings
	// inputRows is the number of data rows in the input, once counted
	// (inputCounted): for --max-users, the confirmation, a stopped run's
	// summary.
	inputRows    int64
	inputCounted bool
	// users are the --user values: a run without an input file
	// (oneuser.go).
	users []string
	// passwordStdin is --password-stdin; password is what it read.
	passwordStdin bool
	password      secret.Value
	// shown, when not nil, shows each random password once on the
	// terminal (a --user run without --secrets).
	shown *shownPasswords

	handOver // --secrets-recipient, --secrets-columns...: secrets_age.go
}

// sandboxBuiltin is the value of a bare --sandbox: the built-in tenant.
const sandboxBuiltin = "builtin"

func newResetCmd(e *env) *cobra.Command {
	o := &resetOptions{}
	cmd := &cobra.Command{
		Use:   "reset (-i users.csv | --user UPN...) [-o results.csv] [--secrets secrets.csv] [flags]",
		Short: "Reset the passwords of the users in a CSV or Excel file",
		Long: `Reset the passwords of the users listed in a CSV or Excel file.

Every input row gets one row in the results CSV (outcome, reason, Graph's
answer and request-id). Random passwords are written to --secrets (mode 0600)
before they are sent.

--user UPN (repeatable; or an object id) names the users instead of -i: the
results go to standard output unless -o is given, and no settings file is
kept. Without --secrets, at a terminal, a random password is shown there once
(never logged); --password-stdin sets a chosen password read from standard
input (typed without echo at a terminal).

Besides the reset, a run may block sign-in (--block-sign-in) and revoke the
sign-in sessions (--revoke-sessions) of every user found in the tenant,
whatever happened to its reset (skipped, refused, failed): block first, then
reset, then revoke. --password-mode keep changes no password (a lockdown).
The revoked and blocked columns say whether each action worked. Progress is shown on standard error when it is a
terminal; at the end a summary gives the counts per outcome and reason.

Sign-in (--auth auto tries them in this order): AZURE_CLIENT_SECRET or
AZURE_CLIENT_CERTIFICATE_PATH (+ _PASSWORD) with AZURE_TENANT_ID and
AZURE_CLIENT_ID; workload identity (AZURE_FEDERATED_TOKEN_FILE); managed
identity; Azure CLI. A flag beats its environment variable, which beats the
default. Secrets are never flag values.

Exit codes: 0 every row succeeded (or was skipped or a duplicate), 1 fatal
error, 2 usage error, 3 some rows failed or were invalid or a requested
action failed (revoked=false or blocked=false), 130 interrupted.`,
		Example: `  # Try it on the built-in sandbox tenant (no credentials needed):
  bulkreset reset --sandbox -i testdata/demo.csv --secrets secrets.csv --yes

  # Give every user a random password, written to a 0600 secrets file:
  export AZURE_TENANT_ID=contoso.onmicrosoft.com AZURE_CLIENT_ID=<app id> AZURE_CLIENT_SECRET=<secret>
  bulkreset reset -i phished.csv --secrets secrets.csv -o results.csv

  # Incident: lock users out at once, keeping no passwords (users then use self-service reset):
  bulkreset reset -i phished.csv --discard-passwords --yes

  # Incident lockdown first, no password changed: block sign-in and revoke the
  # sessions of every user found (no --secrets: there are no passwords):
  bulkreset reset -i phished.csv --password-mode keep --revoke-sessions --block-sign-in -o lockdown.csv

  # Offboarding: a new password nobody knows, sessions revoked, sign-in blocked:
  bulkreset reset -i leavers.csv --discard-passwords --revoke-sessions --block-sign-in -o offboarding.csv

  # One user, no file: a random password shown once on this terminal, results on
  # standard output, nothing left on disk:
  bulkreset reset --user alice@contoso.com --revoke-sessions

  # One user, a chosen password from a password manager (never an argument, never
  # in shell history); or type it at the prompt, without echo, leaving out the pipe:
  pass show new/alice | bulkreset reset --user alice@contoso.com --password-stdin --yes

  # Only require a new password at next sign-in (no new password set):
  bulkreset reset -i users.csv --password-mode none --yes

  # Scheduled task: certificate auth, no prompt, JSON logs appended to a file,
  # and no more than 500 users (a guard against the wrong file):
  bulkreset reset -i users.csv --auth certificate --certificate app.pem --secrets s.csv --yes \
    --log-format json --log-file bulkreset.log --max-users 500

  # Finish an interrupted run, with the settings it recorded beside results.csv:
  bulkreset reset --resume -o results.csv

  # Azure VM or Arc-enabled server with a managed identity (no secret anywhere):
  bulkreset reset -i users.csv --auth managed-identity --secrets s.csv --yes

  # Users synced from on-premises AD, with password writeback: an administrator
  # signs in (resetPassword supports delegated permissions only) through an app
  # registration with the delegated UserAuthenticationMethod.ReadWrite.All:
  bulkreset reset -i synced.csv --synced resetpassword --auth device-code --client-id <app id> --secrets s.csv

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
		o.flags = cmd.Flags()
		return typed(runReset(cmd.Context(), e, o))
	}
}

// newPlanCmd is `bulkreset plan`: reset's pipeline with reads only.
func newPlanCmd(e *env) *cobra.Command {
	o := &resetOptions{plan: true}
	cmd := &cobra.Command{
		Use:   "plan (-i users.csv | --user UPN...) [-o plan.csv] [flags]",
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
skipped/disabled, skipped/guest, skipped/external_guest,
skipped/federated_user, duplicate, invalid/...). With
--password-mode keep, a row whose actions would be sent is succeeded with
reason would_apply. The revoked and blocked columns are true for each
action reset would send to the row's user ("would be sent"). What only the
write itself can tell (a 403 for an administrator the app may not reset,
a password refused by the banned-password list) shows only in reset.

Exit codes: 0 nothing would fail, 1 fatal error, 2 usage error, 3 some rows
would fail or are invalid, 130 interrupted.`,
		Example: `  # What would happen to these users, on the built-in sandbox tenant:
  bulkreset plan --sandbox -i testdata/demo.csv -o plan.csv

  # Try the incident command line first, then run it for real:
  bulkreset plan  -i phished.csv --revoke-sessions --discard-passwords -o plan.csv
  bulkreset reset -i phished.csv --revoke-sessions --discard-passwords -o results.csv

  # What a lockdown would block and revoke:
  bulkreset plan -i phished.csv --password-mode keep --revoke-sessions --block-sign-in -o plan.csv`,
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
	addColumnFlags(f, &o.userColumn, &o.idColumn)
	f.StringVarP(&o.output, "output", "o", "", "results CSV; - is standard output (default bulkreset-results-YYYYMMDD-HHMMSS.csv)")
	f.StringVar(&o.secrets, "secrets", "", "file the passwords set are written to (mode 0600, owner-only on Windows; must not exist)")
	f.BoolVar(&o.discardPasswords, "discard-passwords", false, "allow random passwords without --secrets (nobody will know them: users must use self-service reset)")
	f.StringVar(&o.passwordMode, "password-mode", "random", "random: a unique generated password per user; column: the input's Password column; none: only the force-change flag (best effort: Graph may ignore a flag-only update); keep: no password change at all (with --revoke-sessions and/or --block-sign-in: a lockdown run)")
	f.IntVar(&o.passwordLength, "password-length", password.DefaultLength, "length of random passwords, 8-256")
	f.BoolVar(&o.forceChange, "force-change", true, "require a password change at next sign-in (passwordProfile.forceChangePasswordNextSignIn)")
	f.BoolVar(&o.requireMFA, "require-mfa", false, "require MFA before the password change (forceChangePasswordNextSignInWithMfa)")
	f.BoolVar(&o.revokeSessions, "revoke-sessions", false, "revoke the sign-in sessions of every user found, whatever happened to its reset (revokeSignInSessions); the revoked column says whether it worked")
	f.BoolVar(&o.revokeOnlyIfReset, "revoke-only-if-reset", false, "with --revoke-sessions: revoke only the users whose password this run reset (or may have set)")
	f.BoolVar(&o.blockSignIn, "block-sign-in", false, "block sign-in (accountEnabled=false) of every user found, before its reset; the blocked column says whether it worked")
	f.BoolVar(&o.includeGuests, "include-guests", false, "reset external guests (#EXT# users) too: by default they are skipped, since they sign in at their home organisation (revoke and block still apply)")
	f.IntVar(&o.maxUsers, "max-users", 0, "refuse an input with more users than this (nothing is sent); 0 is no limit")
	f.BoolVar(&o.preflight, "preflight", true, "look every user up first (batched GETs): missing users cost no write, synced users, external guests and users of federated domains are skipped, and writes address the object id")
	f.StringVar(&o.synced, "synced", string(worker.SyncedSkip), "users synced from on-premises AD: skip (skipped/synced_user); attempt the reset anyway; or resetpassword: reset them with the resetPassword action, which password writeback carries on-premises (needs an administrator signed in: --auth device-code or browser, with --client-id of an app registration with the delegated UserAuthenticationMethod.ReadWrite.All)")
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
	f.StringVar(&o.sandboxTenant, "sandbox-tenant", "", "run against the Graph emulator with the tenant in this JSON file (the README describes it); --sandbox FILE is the same")
	f.StringVar(&o.logFormat, "log-format", "text", "text or json; logs go to standard error")
	f.StringVar(&o.logFile, "log-file", "", "write logs to this file as well")
	f.BoolVarP(&o.quiet, "quiet", "q", false, "no progress, only warnings, errors and the summary")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "log each retry and throttled request on standard error too (--log-file always has them)")
	f.BoolVar(&o.resume, "resume", false, "continue an interrupted run from its results file (-o) with the settings it recorded (input, secrets file, password mode, actions, tenant): finished rows are not sent again, and a row whose outcome is unknown is sent again with the password already recorded; a setting given with another value is refused")
	f.DurationVar(&o.requestTimeout, "request-timeout", 100*time.Second, "how long one $batch request may take before it is abandoned and retried, 1s-1h")
	addUserFlags(f, o)
	o.addHandOverFlags(f)
	registerResetCompletions(cmd)
}

// addColumnFlags defines --user-column and --id-column, which reset, plan
// and check share.
func addColumnFlags(f *pflag.FlagSet, userColumn, idColumn *string) {
	f.StringVar(userColumn, "user-column", "", "header of the input's user (UPN) column, when it is not a name bulkreset knows (e.g. \"Employee Email\"); matched exactly, else without regard to case or surrounding spaces")
	f.StringVar(idColumn, "id-column", "", "header of the input's object id column, when it is not a name bulkreset knows (e.g. \"Objekt-ID\"); matched as --user-column is")
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
	if err := o.useRecordedSettings(e); err != nil {
		return err
	}
	if err := o.validateUsers(e); err != nil {
		return err
	}
	if o.input == "" && len(o.users) == 0 {
		return usagef("--input is required (or --user, for users named on the command line)")
	}
	switch o.passwordMode {
	case "random", "column", "none":
	case "keep":
		if !o.revokeSessions && !o.blockSignIn {
			return usagef("--password-mode keep changes no password: it needs --revoke-sessions and/or --block-sign-in (a lockdown run), or there is nothing to do")
		}
		if o.secrets != "" {
			return usagef("--password-mode keep sets no password, so there is no secrets file to write: leave out --secrets")
		}
	default:
		return usagef("--password-mode must be random, column, none or keep, not %q", o.passwordMode)
	}
	if o.revokeOnlyIfReset && !o.revokeSessions {
		return usagef("--revoke-only-if-reset needs --revoke-sessions")
	}
	if o.revokeOnlyIfReset && o.passwordMode == "keep" {
		return usagef("--revoke-only-if-reset with --password-mode keep would revoke nobody: no password is reset")
	}
	if o.maxUsers < 0 {
		return usagef("--max-users must be 0 (no limit) or more, not %d", o.maxUsers)
	}
	if o.maxUsers > 0 && o.input == "-" {
		return usagef("--max-users needs an input file that can be read twice to count its users, not standard input")
	}
	// Checked with --sandbox too, which ignores it: a typo is a typo.
	if _, err := graph.LookupCloud(o.cloud); err != nil {
		return usagef("--cloud: %w", err)
	}
	if err := o.useSandboxTenant(); err != nil {
		return err
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
	// A plan makes no password, so it needs no file to record them in.
	if o.passwordMode == "random" && o.secrets == "" && !o.discardPasswords && !o.plan && o.shown == nil {
		return usagef("random passwords need --secrets FILE to record them (or --discard-passwords to set passwords nobody will know)%s", o.randomNeedsSecretsHint())
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
		if err := o.validateResetPassword(e); err != nil {
			return err
		}
	default:
		return usagef("--synced must be skip, attempt or resetpassword, not %q", o.synced)
	}
	if !o.preflight && (o.skipDisabled || o.skipGuests) {
		return usagef("--skip-disabled and --skip-guests need --preflight (the lookup is what tells a disabled account or a guest)")
	}
	if o.includeGuests && !o.preflight {
		return usagef("--include-guests needs --preflight: the lookup is what tells an external guest (without it every user is reset, guests included)")
	}
	if o.includeGuests && o.skipGuests {
		return usagef("--include-guests resets external guests and --skip-guests skips every guest: choose one")
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
	if err := o.validateFiles(now); err != nil {
		return err
	}
	if err := o.validateHandOver(); err != nil {
		return err
	}
	o.fromEnv(e)
	return nil
}

// validateFiles checks the input and output paths, and names the results
// file when -o is not given.
func (o *resetOptions) validateFiles(now time.Time) error {
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
		settings := "" // a plan and -o - record no settings: neither is resumed
		if !o.plan && o.output != "-" {
			settings = report.RunSettingsPath(o.output)
		}
		if err := report.CheckNew(o.secrets, o.output, settings); err != nil {
			return usagef("%w", err)
		}
		if err := report.CheckNoJournal(o.secrets); err != nil {
			return usagef("%w", err)
		}
	}
	if o.input == "-" && !o.yes {
		return usagef("reading users from standard input needs --yes (there is no terminal to confirm on)")
	}
	return nil
}

// fromEnv fills what the flags left empty from the environment: a flag
// beats its environment variable.
func (o *resetOptions) fromEnv(e *env) {
	if o.tenant == "" {
		o.tenant = e.getenv("AZURE_TENANT_ID")
	}
	if o.clientID == "" {
		o.clientID = e.getenv("AZURE_CLIENT_ID")
	}
	if o.certificate == "" {
		o.certificate = e.getenv("AZURE_CLIENT_CERTIFICATE_PATH")
	}
	// A resume signs in where the run it resumes did.
	if o.authorityHost == "" && o.sandbox == "" && !o.cloudSet && o.recorded == nil {
		o.authorityHost = e.getenv("AZURE_AUTHORITY_HOST")
	}
}

// validateResetPassword checks --synced resetpassword. Graph's resetPassword
// action supports delegated permissions only
// (https://learn.microsoft.com/graph/api/authenticationmethod-resetpassword),
// so an application identity cannot use it; it needs the lookup to know who
// is synced, and a password to send (hybrid users must be given one). The
// administrator's token must carry UserAuthenticationMethod.ReadWrite.All,
// which neither the Azure CLI's own app nor azidentity's default public
// client (the same app) gets: an app registration of the admin's with that
// delegated permission is required, and the Azure CLI cannot sign in as
// another app (https://github.com/Azure/azure-cli/issues/22775).
func (o *resetOptions) validateResetPassword(e *env) error {
	switch {
	case !o.preflight:
		return usagef("--synced resetpassword needs --preflight: the lookup is what tells a synced user")
	case o.passwordMode == "none" || o.passwordMode == "keep":
		return usagef("--synced resetpassword sets a password, so it cannot be used with --password-mode %s", o.passwordMode)
	case o.sandbox != "":
		return usagef("--synced resetpassword needs an administrator signed in, and the sandbox signs in as an application")
	}
	const app = "an app registration with the delegated permission UserAuthenticationMethod.ReadWrite.All (admin consent granted)"
	switch strings.ToLower(o.auth) {
	case graph.AuthDeviceCode, graph.AuthBrowser:
		if o.clientID == "" && e.getenv("AZURE_CLIENT_ID") == "" {
			return usagef("--synced resetpassword needs --client-id (or AZURE_CLIENT_ID) of %s: the default sign-in app's tokens do not carry that permission", app)
		}
		return nil
	case graph.AuthAzureCLI:
		return usagef("--synced resetpassword cannot use --auth azure-cli: the Azure CLI signs in as its own app, whose tokens do not carry UserAuthenticationMethod.ReadWrite.All; "+
			"use --auth device-code or browser with --client-id of %s", app)
	}
	return usagef("--synced resetpassword needs an administrator signed in (--auth device-code or browser, with --client-id of %s, and the Authentication Administrator or Privileged Authentication Administrator role): "+
		"Graph's resetPassword action supports delegated permissions only, so --auth %s (an application identity) cannot use it", app, o.auth)
}
