//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// TestResumeBoundToItsRun is acceptance test 1 of issue 14: a run with
// --revoke-sessions --block-sign-in (and a password length and force-change of its own)
// is interrupted; a resume that names another value for any of its
// settings is exit 2 naming each difference, and sends nothing; the short
// resume command the run printed (-o and sign-in flags only) finishes it
// with the recorded settings: every user reset once with the password in
// the secrets file, revoked, blocked, and without force-change.
func TestResumeBoundToItsRun(t *testing.T) {
	users := graphsim.GenerateUsers(1500, testDomain)
	tn := startTenant(t, graphsim.Options{Latency: 30 * time.Millisecond}, users)
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", upnCSV(users))
	results, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	stderr := interruptMidRun(t, tn, dir, 1, "reset", "-i", in, "-o", results, "--secrets", secrets, "--yes",
		"--revoke-sessions", "--block-sign-in", "--force-change=false", "--password-length", "24")

	settingsPath := results + ".run.json"
	fi, err := os.Stat(settingsPath)
	if err != nil {
		t.Fatalf("the run recorded no settings: %v", err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", settingsPath, fi.Mode().Perm())
	}
	if s := readFile(t, settingsPath); strings.Contains(s, testSecret) || !strings.Contains(s, `"revoke_sessions": true`) {
		t.Errorf("settings file holds a secret or not the revoke setting:\n%s", s)
	}
	words := resumeWords(t, stderr)
	want := []string{"bulkreset", "reset", "--resume", "-o", results, "--auth", "client-secret", "--yes"}
	if strings.Join(words, "\x00") != strings.Join(want, "\x00") {
		t.Errorf("resume command %q, want %q", words, want)
	}

	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"--password-mode", "none"}, []string{"--password-mode: this run used random, the resume says none"}},
		{[]string{"--revoke-sessions=false"}, []string{"--revoke-sessions: this run used true, the resume says false"}},
		{[]string{"--force-change", "--password-length", "16"}, []string{
			"--force-change: this run used false, the resume says true",
			"--password-length: this run used 24, the resume says 16"}},
		{[]string{"--block-sign-in=false", "-i", in}, []string{"--block-sign-in: this run used true, the resume says false"}},
		{[]string{"--tenant", "contoso.example"}, []string{"--tenant: this run used " + testTenant + ", the resume says contoso.example"}},
	} {
		before := requestCounts(tn)
		cmd, out := tn.command(t, dir, append([]string{"reset", "--resume", "-o", results, "--yes"}, c.args...)...)
		if code := exitCode(t, cmd.Run()); code != exitUsage {
			t.Errorf("resume with %q: exit %d, want %d; stderr:\n%s", c.args, code, exitUsage, out.String())
		}
		for _, w := range c.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("resume with %q does not say %q:\n%s", c.args, w, out.String())
			}
		}
		if strings.Contains(out.String(), "input:") {
			t.Errorf("resume with %q names the input as a difference:\n%s", c.args, out.String())
		}
		if after := requestCounts(tn); after != before {
			t.Errorf("resume with %q sent requests: %v before, %v after", c.args, before, after)
		}
	}

	again, out := tn.command(t, dir, words[1:]...)
	if code := exitCode(t, again.Run()); code != exitOK {
		t.Fatalf("the printed resume command exited %d, want 0; stderr:\n%s", code, out.String())
	}
	if strings.Contains(out.String(), "no settings") {
		t.Errorf("the resume warned about missing settings:\n%s", out.String())
	}
	rows, pws := readResults(t, results), readSecrets(t, secrets)
	if len(rows) != len(users) {
		t.Errorf("%d result rows, want %d", len(rows), len(users))
	}
	passwords := passwordsPerUser(tn)
	for i, u := range users {
		got, _ := tn.sim.User(u.UPN)
		switch r := rows[i+2]; {
		case r.Outcome != report.Succeeded || r.Revoked == nil || !*r.Revoked || r.Blocked == nil || !*r.Blocked:
			t.Errorf("line %d: %s/%s revoked %q blocked %q, want succeeded, revoked and blocked", i+2, r.Outcome, r.Reason, cellOf(r.Revoked), cellOf(r.Blocked))
		case got.AccountEnabled():
			t.Errorf("%s: sign-in not blocked (accountEnabled true)", u.UPN)
		case len(passwords[u.UPN]) != 1 || pws[strings.ToLower(u.UPN)] != got.Password || len(got.Password) != 24:
			t.Errorf("%s: %d passwords set, the one in force is the recorded one: %v (24 characters: %v)",
				u.UPN, len(passwords[u.UPN]), pws[strings.ToLower(u.UPN)] == got.Password, len(got.Password) == 24)
		case got.SessionsRevoked == 0 || got.ForceChangePasswordNextSignIn:
			t.Errorf("%s: sessions revoked %d times, force-change %v; want revoked, no force-change", u.UPN, got.SessionsRevoked, got.ForceChangePasswordNextSignIn)
		}
	}
}
