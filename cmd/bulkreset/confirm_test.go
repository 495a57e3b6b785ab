//go:build linux || darwin

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
)

// TestConfirmationSaysWhatWillHappen: the prompt names the tenant (display
// name and id, or the id alone when the app may not read the
// organization), the number of users, and each action, with a warning
// when the passwords are discarded. Answering anything but yes changes
// nothing (exit 2); yes runs.
func TestConfirmationSaysWhatWillHappen(t *testing.T) {
	bin, tn, in := termSetup(t, 3, graphsim.Options{OrganizationName: "Fabrikam Ltd"})
	env := childEnv(tn, "TERM=xterm-256color")
	dir := t.TempDir()

	args := append([]string{"reset", "-i", in, "-o", filepath.Join(dir, "r1.csv"), "--discard-passwords", "--revoke-sessions"}, tn.authArgs()...)
	res := runInPtyTyping(t, bin, env, false, "no\n", args...)
	term := strings.ReplaceAll(res.terminal, "\r\n", "\n")
	for _, want := range []string{
		"This will change 3 users of " + in + " in tenant Fabrikam Ltd (" + testTenant + "):",
		"  - set a new random password for each user, to change at next sign-in",
		"  - revoke the sign-in sessions of every user found, whatever happens to its reset",
		"Passwords are discarded: nobody will know them (users must use self-service password reset).",
		"Type yes to continue: ",
		"Nothing was changed.",
	} {
		if !strings.Contains(term, want) {
			t.Errorf("the prompt does not say %q:\n%s", want, term)
		}
	}
	if res.code != exitUsage {
		t.Errorf("answering no: exit %d, want %d", res.code, exitUsage)
	}
	if st := tn.sim.Stats(); st.WritesApplied != 0 {
		t.Errorf("answering no: %d writes applied, want 0", st.WritesApplied)
	}

	// The secrets file, a lockdown run, block: and yes runs it.
	secrets := filepath.Join(dir, "s.csv")
	args = append([]string{"reset", "-i", in, "-o", filepath.Join(dir, "r2.csv"), "--secrets", secrets, "--password-mode", "none"}, tn.authArgs()...)
	res = runInPtyTyping(t, bin, env, false, "yes\n", args...)
	term = strings.ReplaceAll(res.terminal, "\r\n", "\n")
	if want := "  - require a password change at next sign-in (no new password is set)"; !strings.Contains(term, want) {
		t.Errorf("the prompt does not say %q:\n%s", want, term)
	}
	if strings.Contains(term, "discarded") || res.code != exitOK {
		t.Errorf("--password-mode none: exit %d, want 0, and no discarded warning:\n%s", res.code, term)
	}

	// An app that may not read the organization: the id alone.
	bin, tn, in = termSetup(t, 1, graphsim.Options{OrganizationDenied: true})
	args = append([]string{"reset", "-i", in, "-o", filepath.Join(dir, "r3.csv"),
		"--password-mode", "keep", "--revoke-sessions", "--block-sign-in"}, tn.authArgs()...)
	res = runInPtyTyping(t, bin, childEnv(tn, "TERM=xterm-256color"), false, "\n", args...)
	term = strings.ReplaceAll(res.terminal, "\r\n", "\n")
	for _, want := range []string{
		"This will change 1 user of " + in + " in tenant " + testTenant + " (its name is not shown: the app may not read the organization):",
		"  - change no password",
		"  - revoke the sign-in sessions of every user found",
		"  - block sign-in (accountEnabled false) for every user found",
	} {
		if !strings.Contains(term, want) {
			t.Errorf("the prompt does not say %q:\n%s", want, term)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "r3.csv")); err == nil || res.code != exitUsage {
		t.Errorf("an empty answer: exit %d, results file made: %v; want 2 and no file", res.code, err == nil)
	}
}
