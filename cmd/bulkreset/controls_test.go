package main

import (
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// rawControl returns the first control character (C0 other than LF, DEL,
// C1) or invalid UTF-8 byte in s, and whether there is one.
func rawControl(s string) (rune, bool) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return rune(s[i]), true
		case r == '\n':
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			return r, true
		}
		i += size
	}
	return 0, false
}

// TestControlCharactersEscaped: control characters in input cells (an OSC
// title sequence, a clear-screen, a C1 CSI, a bell) reach neither the
// results CSV, nor -o -, nor the log, raw: they are written visibly (\x1b),
// and --resume still recognises the rows.
func TestControlCharactersEscaped(t *testing.T) {
	users := graphsim.GenerateUsers(2, testDomain)
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	evil := []string{
		"\x1b]0;pwned\x07evil@" + testDomain,
		"\x1b[2J\x1b[31mred@" + testDomain,
		"\u009b2Jc1@" + testDomain,
		"tab\there@" + testDomain + "\x7f",
	}
	csv := "UserPrincipalName\n" + users[0].UPN + "\n"
	for _, u := range evil {
		csv += `"` + u + `"` + "\n"
	}
	csv += users[1].UPN + "\n"
	in := writeFile(t, dir, "users.csv", csv)
	results, secrets, logFile := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv"), filepath.Join(dir, "run.log")

	for _, format := range []string{"text", "json"} {
		t.Run("stdout "+format, func(t *testing.T) {
			res := runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", "-", "--secrets", filepath.Join(t.TempDir(), "s.csv"),
				"--yes", "--verbose", "--log-format", format, "--password-mode", "none"}, tn.authArgs()...)...)
			if res.code != exitRowsFailed {
				t.Fatalf("exit code %d, want %d; stderr:\n%q", res.code, exitRowsFailed, res.stderr)
			}
			for name, out := range map[string]string{"stdout": res.stdout, "stderr": res.stderr} {
				if r, ok := rawControl(out); ok {
					t.Errorf("%s holds the raw control character %U:\n%q", name, r, out)
				}
			}
			if !strings.Contains(res.stdout, `\x1b]0;pwned\x07evil@`) {
				t.Errorf("stdout does not show the escape sequence visibly:\n%s", res.stdout)
			}
		})
	}

	args := append([]string{"reset", "-i", in, "-o", results, "--secrets", secrets, "--yes", "--log-file", logFile}, tn.authArgs()...)
	res := runCLI(t, t.Context(), tn.getenv(nil), args...)
	if res.code != exitRowsFailed {
		t.Fatalf("exit code %d, want %d; stderr:\n%q", res.code, exitRowsFailed, res.stderr)
	}
	for name, out := range map[string]string{"results file": readFile(t, results), "log file": readFile(t, logFile), "stderr": res.stderr} {
		if r, ok := rawControl(out); ok {
			t.Errorf("%s holds the raw control character %U:\n%q", name, r, out)
		}
	}
	got := readResults(t, results)
	want := map[int]string{
		3: `\x1b]0;pwned\x07evil@` + testDomain,
		4: `\x1b[2J\x1b[31mred@` + testDomain,
		5: `\u009b2Jc1@` + testDomain,
		6: `tab\x09here@` + testDomain + `\x7f`,
	}
	for line, user := range want {
		if r := got[line]; r.User != user || r.Outcome != report.Invalid {
			t.Errorf("line %d: user %q %s, want %q invalid", line, r.User, r.Outcome, user)
		}
	}
	// --resume matches every row by its line and user: nothing is left to
	// send, and no row is said to belong to another user.
	before := tn.sim.Stats().WritesApplied
	res = runCLI(t, t.Context(), tn.getenv(nil), append(args[:len(args):len(args)], "--resume")...)
	if res.code != exitRowsFailed {
		t.Fatalf("--resume: exit code %d, want %d; stderr:\n%q", res.code, exitRowsFailed, res.stderr)
	}
	if n := tn.sim.Stats().WritesApplied; n != before {
		t.Errorf("--resume of a finished run sent %d writes", n-before)
	}
	if n := len(readResults(t, results)); n != 6 {
		t.Errorf("results file has %d rows after --resume, want 6", n)
	}
}
