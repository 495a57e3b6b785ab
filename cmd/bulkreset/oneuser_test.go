package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// chosenPassword is the password the --password-stdin tests choose.
const chosenPassword = "Kx7 harbour-Lantern!"

// oneUserTenant is a tenant of n members.
func oneUserTenant(t *testing.T, n int) (*tenant, []graphsim.User) {
	t.Helper()
	users := graphsim.GenerateUsers(n, testDomain)
	return startTenant(t, graphsim.Options{}, users), users
}

// TestUserPasswordStdinPipe is acceptance 2 in-process: reset --user with
// --password-stdin from a pipe sets exactly the first line of standard
// input (a password manager prints more lines), with the force-change
// flag; only that user is changed; the password is in no output, the log
// file or the results file.
func TestUserPasswordStdinPipe(t *testing.T) {
	tn, users := oneUserTenant(t, 3)
	dir := t.TempDir()
	results, logFile := filepath.Join(dir, "results.csv"), filepath.Join(dir, "run.log")
	args := append([]string{"reset", "--user", users[1].UPN, "--password-stdin", "--yes", "-o", results, "--log-file", logFile}, tn.authArgs()...)
	res := runCLIStdin(t, t.Context(), chosenPassword+"\r\nURL: https://login.example\n", tn.getenv(nil), args...)
	if res.code != exitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", res.code, res.stderr)
	}
	u, _ := tn.sim.User(users[1].UPN)
	if u.Password != chosenPassword || u.PasswordSets != 1 || !u.ForceChangePasswordNextSignIn {
		t.Errorf("%s: password set %d times, the chosen one: %v, force change %v; want once, true, true",
			u.UPN, u.PasswordSets, u.Password == chosenPassword, u.ForceChangePasswordNextSignIn)
	}
	for _, other := range []graphsim.User{users[0], users[2]} {
		if o, _ := tn.sim.User(other.UPN); o.PasswordSets != 0 {
			t.Errorf("%s was not named but its password was set", other.UPN)
		}
	}
	rs := readResults(t, results)
	if r := rs[1]; len(rs) != 1 || r.User != users[1].UPN || r.Outcome != report.Succeeded {
		t.Errorf("results %+v, want one row, line 1, %s succeeded", rs, users[1].UPN)
	}
	if res.stdout != "" {
		t.Errorf("standard output has %q, want nothing: the results went to -o", res.stdout)
	}
	if _, err := os.Stat(report.RunSettingsPath(results)); err == nil {
		t.Error("a --user run recorded a settings file: it is not resumed")
	}
	checkNoSecrets(t, tn, "", map[string]string{"stdout": res.stdout, "stderr": res.stderr,
		"log file": readFile(t, logFile), "results": readFile(t, results)})
}

// TestUserRepeated: --user is repeatable, by UPN or object id, each user a
// row numbered in the order given; an invalid UPN is an invalid row (exit
// 3), a user named twice a duplicate; the results go to standard output;
// the secrets file has the passwords of the users reset. plan takes the
// same command line.
func TestUserRepeated(t *testing.T) {
	tn, users := oneUserTenant(t, 3)
	dir := t.TempDir()
	secrets := filepath.Join(dir, "secrets.csv")
	named := []string{users[0].UPN, "bad@@" + testDomain, strings.ToUpper(users[2].ID), strings.ToUpper(users[0].UPN)}
	var args []string
	for _, u := range named {
		args = append(args, "--user", u)
	}
	res := runCLI(t, t.Context(), tn.getenv(nil), append(append([]string{"plan"}, args...), tn.authArgs()...)...)
	plan := resultsFrom(t, strings.NewReader(res.stdout))
	if res.code != exitRowsFailed || len(plan) != 4 || plan[1].Reason != report.ReasonWouldReset || plan[3].Reason != report.ReasonWouldReset {
		t.Errorf("plan: exit %d (want 3), rows %+v", res.code, plan)
	}
	if st := tn.sim.Stats(); st.WritesApplied != 0 {
		t.Errorf("plan applied %d writes", st.WritesApplied)
	}

	res = runCLI(t, t.Context(), tn.getenv(nil), append(append([]string{"reset", "--secrets", secrets, "--yes"}, args...), tn.authArgs()...)...)
	if res.code != exitRowsFailed {
		t.Fatalf("exit %d, want 3 (an invalid row); stderr:\n%s", res.code, res.stderr)
	}
	rs := resultsFrom(t, strings.NewReader(res.stdout))
	want := []struct {
		user    string
		outcome report.Outcome
		reason  report.Reason
	}{
		{users[0].UPN, report.Succeeded, ""},
		{"bad@@" + testDomain, report.Invalid, report.ReasonInvalidUPN},
		{users[2].ID, report.Succeeded, ""},
		{strings.ToUpper(users[0].UPN), report.Duplicate, ""},
	}
	if len(rs) != len(want) {
		t.Errorf("%d result rows on standard output, want %d:\n%s", len(rs), len(want), res.stdout)
	}
	for i, w := range want {
		r := rs[i+1]
		if r.User != w.user || r.Outcome != w.outcome || r.Reason != w.reason {
			t.Errorf("line %d: %s %s/%s, want %s %s/%s", i+1, r.User, r.Outcome, r.Reason, w.user, w.outcome, w.reason)
		}
	}
	pw := readSecrets(t, secrets)
	// The secrets file names each user as the results do: the UPN, or the
	// object id given.
	for upn, key := range map[string]string{users[0].UPN: strings.ToLower(users[0].UPN), users[2].UPN: users[2].ID} {
		got, _ := tn.sim.User(upn)
		if rec, ok := pw[key]; !ok || got.PasswordSets != 1 || got.Password != rec {
			t.Errorf("%s: set %d times, recorded as %s: %v; want once, with the password in the secrets file", upn, got.PasswordSets, key, ok)
		}
	}
	if len(pw) != 2 {
		t.Errorf("the secrets file has %d passwords, want 2", len(pw))
	}
	if got, _ := tn.sim.User(users[1].UPN); got.PasswordSets != 0 {
		t.Errorf("%s was not named but was reset", users[1].UPN)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || entries[0].Name() != "secrets.csv" {
		t.Errorf("the directory holds %v, want the secrets file alone", entries)
	}
}

// TestUserUsageErrors: every misuse of --user and --password-stdin is a
// usage error (exit 2) that says what to do, before anything is sent, and
// a refused password is never repeated.
func TestUserUsageErrors(t *testing.T) {
	tn, users := oneUserTenant(t, 2)
	dir := t.TempDir()
	in := writeUsers(t, dir, users)
	a, b := users[0].UPN, users[1].UPN
	for _, c := range []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{"-i and --user", "", []string{"-i", in, "--user", a, "--discard-passwords", "--yes"}, "-i and --user cannot be used together"},
		{"--password-stdin with -i -", chosenPassword, []string{"-i", "-", "--password-stdin", "--yes"}, "--password-stdin and -i - both read standard input"},
		{"--password-stdin with -i - and --user", chosenPassword, []string{"-i", "-", "--user", a, "--password-stdin", "--yes"}, "--password-stdin and -i - both read standard input"},
		{"--password-stdin without --user", chosenPassword, []string{"-i", in, "--password-stdin", "--yes"}, "--password-stdin sets the password of the user named with --user"},
		{"--password-stdin for two users", chosenPassword, []string{"--user", a, "--user", b, "--password-stdin", "--yes"}, "it takes one --user, not 2"},
		{"--password-stdin with another mode", chosenPassword, []string{"--user", a, "--password-stdin", "--password-mode", "random", "--yes"}, "cannot be used with --password-mode random"},
		{"--password-stdin from a pipe without --yes", chosenPassword, []string{"--user", a, "--password-stdin"}, "standard input, which is not a terminal, so there is no prompt to confirm the reset at: pass --yes"},
		{"random without --secrets, not a terminal", "", []string{"--user", a, "--yes"}, "at a terminal, without --secrets, the password of a --user run is shown once instead"},
		{"column without --password-stdin", "", []string{"--user", a, "--password-mode", "column", "--yes"}, "with --user, give the password with --password-stdin"},
		{"--resume", "", []string{"--user", a, "--resume", "-o", filepath.Join(dir, "r.csv"), "--discard-passwords", "--yes"}, "a --user run records no settings and is not resumed"},
		{"--max-users", "", []string{"--user", a, "--user", b, "--max-users", "1", "--discard-passwords", "--yes"}, "more than --max-users 1"},
		{"an empty password", "\n" + chosenPassword + "\n", []string{"--user", a, "--password-stdin", "--yes"}, "the password is empty"},
		{"no password at all", "", []string{"--user", a, "--password-stdin", "--yes"}, "the password is empty"},
		{"a password Entra refuses", "short7!\n", []string{"--user", a, "--password-stdin", "--yes"}, "the password is refused: password policy: length"},
		{"a formula", "=Formula-Passw0rd\n", []string{"--user", a, "--password-stdin", "--yes"}, "which a spreadsheet runs as a formula"},
		{"a SecureString from PowerShell", "System.Security.SecureString\r\n", []string{"--user", a, "--password-stdin", "--yes"}, "PowerShell pipes a SecureString as its type name"},
		{"--sheet", "", []string{"--user", a, "--sheet", "Users", "--discard-passwords", "--yes"}, "--user has none"},
		{"--user-column", "", []string{"--user", a, "--user-column", "Employee Email", "--discard-passwords", "--yes"}, "--user has none"},
		{"--id-column", "", []string{"--user", a, "--id-column", "Objekt-ID", "--discard-passwords", "--yes"}, "--user has none"},
		{"-i missing", "", []string{"--discard-passwords", "--yes"}, "--input is required (or --user"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := runCLIStdin(t, t.Context(), c.stdin, tn.getenv(nil), append(append([]string{"reset"}, c.args...), tn.authArgs()...)...)
			if res.code != exitUsage || !strings.Contains(res.stderr, c.want) {
				t.Errorf("exit %d, want %d, saying %q:\n%s", res.code, exitUsage, c.want, res.stderr)
			}
			for _, pw := range []string{chosenPassword, "short7!", "=Formula-Passw0rd"} {
				if strings.Contains(res.stderr+res.stdout, pw) {
					t.Errorf("the output repeats the password given:\n%s", res.stderr)
				}
			}
		})
	}
	if st := tn.sim.Stats(); st.WritesApplied != 0 {
		t.Errorf("%d writes applied, want 0", st.WritesApplied)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("the directory holds %v, want the input alone", entries)
	}
}
