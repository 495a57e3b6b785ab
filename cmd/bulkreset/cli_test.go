package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
)

func TestUsageErrors(t *testing.T) {
	users := graphsim.GenerateUsers(3, testDomain)
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", "UserPrincipalName\n"+users[0].UPN+"\n")
	noUserColumn := writeFile(t, dir, "hr.csv", "Name,Department\nAdele,Retail\n")
	existing := writeFile(t, dir, "existing.csv", "keep me\n")
	out := func(name string) string { return filepath.Join(t.TempDir(), name) }

	tests := []struct {
		name     string
		args     []string
		wantText string // in stderr
	}{
		{"no command flags", []string{"reset"}, "--input is required"},
		{"unknown flag", []string{"reset", "--no-such-flag"}, "unknown flag"},
		{"unknown command", []string{"rest"}, "unknown command"},
		{"stray argument", []string{"reset", "-i", in, "extra"}, "unknown command"},
		{"random passwords need a secrets file", []string{"reset", "-i", in, "--yes"}, "--secrets"},
		{"batch size above Graph's limit", []string{"reset", "-i", in, "--secrets", out("s.csv"), "--batch-size", "21", "--yes"}, "--batch-size"},
		{"password too short", []string{"reset", "-i", in, "--secrets", out("s.csv"), "--password-length", "7", "--yes"}, "--password-length"},
		{"bad password mode", []string{"reset", "-i", in, "--password-mode", "guess", "--yes"}, "--password-mode"},
		{"secrets to stdout", []string{"reset", "-i", in, "--secrets", "-", "--yes"}, "standard output"},
		{"no confirmation without a terminal", []string{"reset", "-i", in, "--secrets", out("s.csv"), "-o", out("r.csv")}, "--yes"},
		{"secrets file exists", []string{"reset", "-i", in, "--secrets", existing, "-o", out("r.csv"), "--yes"}, "already exists"},
		{"results file exists", []string{"reset", "-i", in, "--secrets", out("s.csv"), "-o", existing, "--yes"}, "already exists"},
		{"input missing", []string{"reset", "-i", filepath.Join(dir, "nope.csv"), "--secrets", out("s.csv"), "--yes"}, "nope.csv"},
		{"no user column", []string{"reset", "-i", noUserColumn, "--secrets", out("s.csv"), "-o", out("r.csv"), "--yes"}, "UserPrincipalName"},
		{"column mode without a Password column", []string{"reset", "-i", in, "--password-mode", "column", "-o", out("r.csv"), "--yes"}, "Password column"},
		{"graph url over http", []string{"reset", "-i", in, "--secrets", out("s.csv"), "-o", out("r.csv"), "--yes", "--auth", "client-secret", "--graph-url", "http://graph.example.com"}, "https"},
		{"unknown cloud", []string{"reset", "-i", in, "--secrets", out("s.csv"), "-o", out("r.csv"), "--yes", "--cloud", "mars"}, "mars"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if len(args) > 0 && args[0] == "reset" && !strings.Contains(tc.name, "url") && !strings.Contains(tc.name, "cloud") {
				args = append(args, tn.authArgs()...)
			}
			res := runCLI(t, t.Context(), tn.getenv(nil), args...)
			if res.code != exitUsage {
				t.Errorf("exit code %d, want %d (usage); stderr:\n%s", res.code, exitUsage, res.stderr)
			}
			if !strings.Contains(res.stderr, tc.wantText) {
				t.Errorf("stderr does not mention %q:\n%s", tc.wantText, res.stderr)
			}
		})
	}
	if got := readFile(t, existing); got != "keep me\n" {
		t.Errorf("an existing file was overwritten: %q", got)
	}
	for _, u := range tn.sim.Users() {
		if u.PasswordSets != 0 {
			t.Errorf("%s was changed by a run that should have stopped at its usage error", u.UPN)
		}
	}
}

func TestWrongClientSecretIsFatal(t *testing.T) {
	users := graphsim.GenerateUsers(3, testDomain)
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", "UserPrincipalName\n"+users[0].UPN+"\n"+users[1].UPN+"\n")
	wrong := "wrong-secret-value-7Hq~d"
	res := runCLI(t, t.Context(), tn.getenv(map[string]string{"AZURE_CLIENT_SECRET": wrong}),
		append([]string{"reset", "-i", in, "--secrets", filepath.Join(dir, "s.csv"), "-o", filepath.Join(dir, "r.csv"), "--yes"}, tn.authArgs()...)...)
	if res.code != exitFatal {
		t.Fatalf("exit code %d, want %d (fatal); stderr:\n%s", res.code, exitFatal, res.stderr)
	}
	if !strings.Contains(res.stderr, "authentication") && !strings.Contains(res.stderr, "AADSTS") {
		t.Errorf("stderr does not say that authentication failed:\n%s", res.stderr)
	}
	for _, s := range []string{wrong, testSecret} {
		if strings.Contains(res.stderr+res.stdout, s) {
			t.Errorf("the client secret appears in the output")
		}
	}
	for _, u := range tn.sim.Users() {
		if u.PasswordSets != 0 {
			t.Errorf("%s was changed although authentication failed", u.UPN)
		}
	}
}

func TestVersion(t *testing.T) {
	old := version
	version = "v1.2.3-test"
	t.Cleanup(func() { version = old })
	res := runCLI(t, t.Context(), func(string) string { return "" }, "version")
	if res.code != exitOK || strings.TrimSpace(res.stdout) != "bulkreset v1.2.3-test" {
		t.Errorf("version: exit %d, stdout %q; want 0 and %q", res.code, res.stdout, "bulkreset v1.2.3-test")
	}
}

// TestSandboxDemo runs what `make demo` runs: the built-in sandbox tenant
// and testdata/demo.csv, which has every outcome.
func TestSandboxDemo(t *testing.T) {
	dir := t.TempDir()
	results, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	res := runCLI(t, t.Context(), func(string) string { return "" },
		"reset", "--sandbox", "-i", filepath.Join("..", "..", "testdata", "demo.csv"), "-o", results, "--secrets", secrets, "--yes")
	if res.code != exitRowsFailed {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitRowsFailed, res.stderr)
	}
	got := readResults(t, results)
	want := map[int]struct {
		outcome report.Outcome
		reason  report.Reason
	}{
		18: {report.Skipped, "external_guest"}, // guest with #EXT#: signs in at home
		19: {report.Succeeded, ""},             // UPN beginning with $
		20: {report.Succeeded, ""},             // apostrophe
		21: {report.Succeeded, ""},             // disabled account
		22: {report.Skipped, "synced_user"},    // the preflight skips it
		23: {report.Failed, "insufficient_privileges"},
		24: {report.Failed, "not_found"},
		25: {report.Duplicate, ""},
		26: {report.Invalid, "invalid_upn"},
		27: {report.Invalid, "missing_user"},
		28: {report.Invalid, "bad_value"},
	}
	for line := 2; line <= 17; line++ {
		want[line] = struct {
			outcome report.Outcome
			reason  report.Reason
		}{report.Succeeded, ""}
	}
	if len(got) != len(want) {
		t.Errorf("%d result rows, want %d", len(got), len(want))
	}
	for line, w := range want {
		if r := got[line]; r.Outcome != w.outcome || r.Reason != w.reason {
			t.Errorf("line %d (%s): got %s/%s, want %s/%s", line, r.User, r.Outcome, r.Reason, w.outcome, w.reason)
		}
	}
	pw := readSecrets(t, secrets)
	if len(pw) != 19 {
		t.Errorf("secrets file lists %d passwords, want the 19 set", len(pw))
	}
	checkSecretMode(t, secrets)
	for _, p := range pw {
		if strings.Contains(res.stderr+res.stdout+readFile(t, results), p) {
			t.Fatal("a password set appears in an output")
		}
	}
	if _, err := os.Stat(secrets + ".compact"); err == nil {
		t.Error("the compaction's temporary file was left behind")
	}
}

// TestAutoAuthObeysFlags: the default --auth auto signs in with the
// --tenant and --client-id given on the command line and the secret from
// the environment, not with whatever AZURE_TENANT_ID/AZURE_CLIENT_ID say.
func TestAutoAuthObeysFlags(t *testing.T) {
	users := graphsim.GenerateUsers(2, testDomain)
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", "UserPrincipalName\n"+users[0].UPN+"\n")
	getenv := tn.getenv(map[string]string{"AZURE_TENANT_ID": "", "AZURE_CLIENT_ID": ""})
	res := runCLI(t, t.Context(), getenv, "reset", "-i", in, "-o", filepath.Join(dir, "r.csv"), "--secrets", filepath.Join(dir, "s.csv"),
		"--yes", "--tenant", testTenant, "--client-id", testClient, "--graph-url", tn.srv.URL, "--authority-host", tn.srv.URL)
	if res.code != exitOK {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", res.code, res.stderr)
	}
	if u, _ := tn.sim.User(users[0].UPN); u.PasswordSets != 1 {
		t.Errorf("%s: %d password sets, want 1", users[0].UPN, u.PasswordSets)
	}
}
