package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/spf13/cobra"

	"github.com/bulkreset/bulkreset/pkg/report"
)

// TestResumeRestoresSecretsColumnsExactly: a run whose --secrets-columns
// named a column with a comma in its header (given CSV-quoted, as pflag's
// string slice reads it) records that name; a resume that does not give
// the flag must copy the same column, not two columns made by splitting
// the recorded name at its comma.
func TestResumeRestoresSecretsColumnsExactly(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(in, []byte("UserPrincipalName,\"Last, First\",Manager\na@contoso.example,\"A, B\",m@contoso.example\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	id, err := report.IdentifyInput(in, "")
	if err != nil {
		t.Fatal(err)
	}
	results := filepath.Join(dir, "results.csv")
	rec := report.RunSettings{PasswordMode: "random", PasswordLength: 16, ForceChange: true, Synced: "skip", Preflight: true,
		Cloud: "global", Tenant: "contoso.example", Secrets: filepath.Join(dir, "s.csv"), Input: id,
		SecretsColumns: []string{"Last, First", "Manager"}}
	if err := report.WriteRunSettings(report.RunSettingsPath(results), rec); err != nil {
		t.Fatal(err)
	}
	o := &resetOptions{}
	cmd := &cobra.Command{Use: "reset"}
	addResetFlags(cmd, o)
	o.flags = cmd.Flags()
	if err := o.flags.Parse([]string{"--resume", "-o", results}); err != nil {
		t.Fatal(err)
	}
	e := &env{getenv: func(string) string { return "" }}
	if err := o.useRecordedSettings(e); err != nil {
		t.Fatalf("useRecordedSettings: %v", err)
	}
	if got := trimAll(o.handOver.columns); !slices.Equal(got, rec.SecretsColumns) {
		t.Errorf("the resume copies the columns %q, the run copied %q", got, rec.SecretsColumns)
	}
}
