package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
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
