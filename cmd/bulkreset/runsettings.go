package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/bulkreset/bulkreset/internal/plural"
	"github.com/bulkreset/bulkreset/pkg/progress"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// runSettings are the settings of this run, to record beside its outputs
// (package report, docs/files.md#resume), from the validated flags.
func (o *resetOptions) runSettings(input report.InputIdentity) report.RunSettings {
	return report.RunSettings{
		Version:           buildVersion(),
		PasswordMode:      o.passwordMode,
		PasswordLength:    o.passwordLength,
		ForceChange:       o.forceChange,
		RequireMFA:        o.requireMFA,
		RevokeSessions:    o.revokeSessions,
		RevokeOnlyIfReset: o.revokeOnlyIfReset,
		BlockSignIn:       o.blockSignIn,
		Synced:            o.synced,
		SkipDisabled:      o.skipDisabled,
		SkipGuests:        o.skipGuests,
		IncludeGuests:     o.includeGuests,
		Preflight:         o.preflight,
		DiscardPasswords:  o.discardPasswords,
		Tenant:            o.tenant,
		Cloud:             strings.ToLower(o.cloud),
		GraphURL:          o.graphURL,
		AuthorityHost:     o.authorityHost,
		Sandbox:           absPath(o.sandbox, sandboxBuiltin),
		Secrets:           absPath(o.secrets, ""),
		Input:             input,
		UserColumn:        o.userColumn,
		IDColumn:          o.idColumn,
		SecretsRecipients: o.handOver.recipientList(),
		SecretsColumns:    trimAll(o.handOver.columns),
	}
}

// absPath is path made absolute, except for "", "-" and keep, which name no
// file. A path that cannot be made absolute stays as given.
func absPath(path, keep string) string {
	if path == "" || path == "-" || path == keep {
		return path
	}
	if abs, err := filepath.Abs(path); err == nil {
		return abs
	}
	return path
}

// settingsEnv are the environment variables that give a setting when its
// flag is not on the command line: they count as given on a resume.
// AZURE_AUTHORITY_HOST is not one: a resume signs in where the run did.
var settingsEnv = map[string]string{"tenant": "AZURE_TENANT_ID"}

// useRecordedSettings makes a --resume continue the run it resumes: the
// settings recorded in <results>.run.json fill every setting the command
// line does not give, and a setting it gives with another value is a usage
// error that lists each difference, before anything is read or sent. The
// input must still hold what it held when the run began. Without a
// settings file (a results file of an older version) the resume goes on
// with the flags given, and o.legacyResume says so for a warning.
func (o *resetOptions) useRecordedSettings(e *env) error {
	if !o.resume || o.plan || o.output == "" || o.output == "-" || o.flags == nil {
		return nil
	}
	path := report.RunSettingsPath(o.output)
	rec, err := report.ReadRunSettings(path)
	if errors.Is(err, fs.ErrNotExist) {
		o.legacyResume = true
		return nil
	}
	if err != nil {
		return usagef("--resume: %w", err)
	}
	if err := o.useSandboxTenant(); err != nil {
		return err
	}
	given := func(flag string) bool {
		return o.flags.Changed(flag) || settingsEnv[flag] != "" && e.getenv(settingsEnv[flag]) != "" ||
			flag == "sandbox" && o.flags.Changed("sandbox-tenant") ||
			flag == "secrets-recipient" && o.flags.Changed("secrets-recipients-file")
	}
	// Parsed before they are compared: a difference shows the value, and
	// a private key given by mistake must not be repeated.
	if err := o.handOver.checkRecipients(); err != nil {
		return err
	}
	mine := o.runSettings(report.InputIdentity{Path: absPath(o.input, "")})
	if mine.Tenant == "" {
		mine.Tenant = e.getenv("AZURE_TENANT_ID")
	}
	if diffs := rec.Diff(mine, given); len(diffs) > 0 {
		return usagef("--resume: %s", describeDiffs(o.flags, path, diffs))
	}
	for _, s := range rec.Settings() {
		if given(s.Flag) {
			continue
		}
		values := []string{s.Value}
		switch {
		case s.Flag == "secrets-recipient" && s.Value == "", s.Flag == "secrets-columns" && s.Value == "":
			continue // none recorded: nothing to set
		case s.Flag == "secrets-recipient":
			values = rec.SecretsRecipients // one key a value: a key may hold spaces and commas
		}
		for _, v := range values {
			if err := o.flags.Set(s.Flag, v); err != nil {
				return usagef("--resume: %s: --%s %q: %w", path, s.Flag, v, err)
			}
		}
	}
	o.recorded = &rec
	now, err := report.IdentifyInput(rec.Input.Path, rec.Input.Sheet)
	if err != nil {
		return usagef("--resume: %w", err)
	}
	if rec.Input.SHA256 != "" && now.SHA256 == "" {
		return usagef("--resume: the input file %s the run began with is gone or is no longer a regular file", rec.Input.Path)
	}
	if !rec.Input.SameContent(now) {
		return usagef("--resume: the input file changed since the run began (%s: %d bytes then, %d now, or other content): "+
			"resume with the file the run began with, or start a new run with another -o", rec.Input.Path, rec.Input.Size, now.Size)
	}
	return nil
}

// describeDiffs says which settings of a resume differ from the run's.
func describeDiffs(flags *pflag.FlagSet, path string, diffs []report.SettingDiff) string {
	var b strings.Builder
	fmt.Fprintf(&b, "the run it resumes was made with other settings (recorded in %s); "+
		"give only -o (and --secrets), or the run's own values, or start a new run with another -o:", path)
	for _, d := range diffs {
		name := "--" + d.Flag
		if env := settingsEnv[d.Flag]; env != "" && !flags.Changed(d.Flag) {
			name = env + " (give --" + d.Flag + " " + quoteArg(orNone(d.Run), false) + " to resume the run)"
		}
		fmt.Fprintf(&b, "\n  %s: this run used %s, the resume says %s", name, orNone(d.Run), orNone(d.Resume))
	}
	return b.String()
}

// orNone shows an empty setting.
func orNone(v string) string {
	if v == "" {
		return "(none)"
	}
	return v
}

// shortResumeArgs is the command line that finishes a run whose settings
// are recorded: the results file and --resume, plus the sign-in flags this
// command line gave (they are not settings), and --yes when it was given.
func (o *resetOptions) shortResumeArgs() []string {
	args := []string{"reset", "--resume", "-o", o.output}
	for _, name := range []string{"auth", "client-id", "certificate"} {
		if f := o.flags.Lookup(name); f != nil && f.Changed {
			args = append(args, "--"+name, f.Value.String())
		}
	}
	if o.yes {
		args = append(args, "--yes")
	}
	return args
}

// beforeSignIn does what a run does with its input before it signs in:
// it warns about a resume without recorded settings, counts the input's
// users when --max-users or the confirmation needs the number (refusing
// more than --max-users), and makes the settings a new run records.
func (o *resetOptions) beforeSignIn(ctx context.Context, logger *slog.Logger) error {
	if o.legacyResume {
		logger.Warn("--resume: the results file has no settings beside it (" + report.RunSettingsPath(o.output) +
			": an older version made it), so the run goes on with the flags given: give the same flags as the run it resumes")
	}
	if o.maxUsers > 0 || !o.yes && !o.plan {
		if err := o.countInput(ctx); err != nil {
			return err
		}
	}
	if o.maxUsers > 0 && !o.inputCounted {
		return usagef("--max-users needs an input file that can be read twice to count its users, not standard input or a pipe")
	}
	if o.maxUsers > 0 && o.inputRows > int64(o.maxUsers) {
		return usagef("%s has %s, more than --max-users %d: nothing was sent (is it the right file?)",
			o.input, plural.N(o.inputRows, "user"), o.maxUsers)
	}
	if o.resume || o.plan || o.output == "-" || len(o.users) > 0 { // a --user run is run again, not resumed
		return nil
	}
	id, err := report.IdentifyInput(o.input, o.sheet)
	if err != nil {
		return fatalError{err}
	}
	s := o.runSettings(id)
	o.toRecord = &s
	return nil
}

// countInput counts the input's data rows (invalid and duplicate rows
// included: each is a row of the results) into o.inputRows, once. Only a
// regular file can be read twice: standard input or a pipe stays uncounted.
func (o *resetOptions) countInput(ctx context.Context) error {
	if o.inputCounted || o.input == "-" {
		return nil
	}
	if fi, err := os.Stat(o.input); err != nil || !fi.Mode().IsRegular() {
		return nil // a pipe read twice would lose the run's rows
	}
	n, err := progress.CountRows(ctx, o.input, o.csvOptions(o.input))
	if err != nil {
		return inputError(o.input, err)
	}
	o.inputRows, o.inputCounted = n, true
	return nil
}

// countedRows is the number of the input's rows for the summary of a run
// that stopped: counted now when not yet (the run's context is done), 0
// when the input cannot be counted.
func (o *resetOptions) countedRows() int {
	if o.countInput(context.Background()) != nil || !o.inputCounted {
		return 0
	}
	return int(o.inputRows)
}
