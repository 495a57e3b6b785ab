package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// TestUserPasswordStdinBinary is acceptance 2 on the built binary: the
// password piped to reset --user --password-stdin is set, and is neither in
// the process's argument list nor its environment (read from /proc while
// it runs), nor in standard output (the results), standard error or the
// log file; and the run leaves nothing in its directory.
func TestUserPasswordStdinBinary(t *testing.T) {
	tn, users := oneUserTenant(t, 2)
	dir, logDir := t.TempDir(), t.TempDir()
	logFile := filepath.Join(logDir, "run.log")
	cmd, stderr := tn.command(t, dir, "reset", "--user", users[0].UPN, "--password-stdin", "--yes", "--log-file", logFile)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting bulkreset: %v", err)
	}
	// It waits for the password: what a process list shows of it now is
	// all it will ever show.
	proc := map[string]string{}
	for _, f := range []string{"cmdline", "environ"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", cmd.Process.Pid, f))
		if err != nil {
			t.Fatalf("reading /proc/%d/%s: %v", cmd.Process.Pid, f, err)
		}
		proc["/proc/PID/"+f] = string(b)
	}
	if !strings.Contains(proc["/proc/PID/cmdline"], "--password-stdin") {
		t.Errorf("/proc/PID/cmdline %q is not the run's", proc["/proc/PID/cmdline"])
	}
	if _, err := stdin.Write([]byte(chosenPassword + "\n")); err != nil {
		t.Fatalf("writing the password: %v", err)
	}
	stdin.Close()
	if code := exitCode(t, cmd.Wait()); code != exitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s", code, stderr.String())
	}
	if u, _ := tn.sim.User(users[0].UPN); u.Password != chosenPassword || u.PasswordSets != 1 {
		t.Errorf("%s: set %d times, the chosen password: %v; want once, true", u.UPN, u.PasswordSets, u.Password == chosenPassword)
	}
	rs := resultsFrom(t, bytes.NewReader(stdout.Bytes()))
	if r := rs[1]; len(rs) != 1 || r.User != users[0].UPN || r.Outcome != report.Succeeded {
		t.Errorf("results on standard output %+v, want line 1 %s succeeded", rs, users[0].UPN)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("the run left %v in its directory, want nothing", entries)
	}
	// The environment has the client secret, as a scheduled task's does:
	// the password alone is looked for there.
	if strings.Contains(proc["/proc/PID/environ"], chosenPassword) {
		t.Error("the process's environment holds the password")
	}
	delete(proc, "/proc/PID/environ")
	proc["stdout"], proc["stderr"], proc["log file"] = stdout.String(), stderr.String(), readFile(t, logFile)
	checkNoSecrets(t, tn, "", proc)
}

// shownPassword matches the line that shows a random password.
var shownPassword = regexp.MustCompile(`New password for (\S+) \(shown once, saved nowhere\): (\S+)\r?\n`)

// TestUserRandomShownOnce is acceptance 2 at a terminal: reset --user
// without --secrets shows the random password once on the terminal (it is
// the one in force), and it is in no log (standard error, --log-file) and
// not in the results; no settings file is recorded.
func TestUserRandomShownOnce(t *testing.T) {
	bin := buildBinary(t)
	tn, users := oneUserTenant(t, 2)
	dir := t.TempDir()
	results, logFile := filepath.Join(dir, "results.csv"), filepath.Join(dir, "run.log")
	args := append([]string{"reset", "--user", users[1].UPN, "--yes", "-o", results, "--log-file", logFile, "--revoke-sessions"}, tn.authArgs()...)
	res := runInPty(t, bin, childEnv(tn, "TERM=xterm-256color"), true, args...)
	if res.code != exitOK {
		t.Fatalf("exit %d, want 0; stderr:\n%s\nterminal:\n%s", res.code, res.stderr, res.terminal)
	}
	shown := shownPassword.FindAllStringSubmatch(res.terminal, -1)
	if len(shown) != 1 || shown[0][1] != users[1].UPN {
		t.Fatalf("the terminal shows %d passwords, want 1, of %s:\n%s", len(shown), users[1].UPN, res.terminal)
	}
	u, _ := tn.sim.User(users[1].UPN)
	if pw := shown[0][2]; u.Password != pw || u.PasswordSets != 1 || strings.Count(res.terminal, pw) != 1 {
		t.Errorf("the password shown is the one in force: %v (set %d times), shown %d times; want true, once, once",
			u.Password == pw, u.PasswordSets, strings.Count(res.terminal, pw))
	}
	if r := readResults(t, results)[1]; r.Outcome != report.Succeeded || r.Revoked == nil || !*r.Revoked {
		t.Errorf("result %+v, want succeeded and revoked", r)
	}
	checkNoSecrets(t, tn, "", map[string]string{"stderr": res.stderr, "log file": readFile(t, logFile), "results": readFile(t, results)})
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("the directory holds %v, want the results and the log file alone", entries)
	}
}

// TestUserPasswordTyped: --password-stdin at a terminal asks for the
// password twice without echo, then the confirmation names the user and
// says where the password comes from; the password is set, and the
// terminal never shows it. Two different passwords change nothing.
func TestUserPasswordTyped(t *testing.T) {
	bin := buildBinary(t)
	tn, users := oneUserTenant(t, 1)
	dir := t.TempDir()
	results, logFile := filepath.Join(dir, "results.csv"), filepath.Join(dir, "run.log")
	upn := users[0].UPN
	args := append([]string{"reset", "--user", upn, "--password-stdin", "-o", results, "--log-file", logFile}, tn.authArgs()...)
	env := childEnv(tn, "TERM=xterm-256color")

	res := runInPtyDialog(t, bin, env, false, []ptyAnswer{
		{after: "New password for " + upn + " (not shown as you type): ", typed: "Kx7 other-Lantern!\n", noEcho: true},
		{after: "Type it again: ", typed: chosenPassword + "\n", noEcho: true},
	}, args...)
	if u, _ := tn.sim.User(upn); res.code != exitUsage || !strings.Contains(res.terminal, "the two passwords typed differ") || u.PasswordSets != 0 {
		t.Errorf("two passwords: exit %d (want 2), set %d times (want 0):\n%s", res.code, u.PasswordSets, res.terminal)
	}
	os.Remove(logFile)

	res = runInPtyDialog(t, bin, env, false, []ptyAnswer{
		{after: "New password for " + upn + " (not shown as you type): ", typed: chosenPassword + "\n", noEcho: true},
		{after: "Type it again: ", typed: chosenPassword + "\n", noEcho: true},
		{after: "Type yes to continue: ", typed: "yes\n"},
	}, args...)
	if res.code != exitOK {
		t.Fatalf("exit %d, want 0:\n%s", res.code, res.terminal)
	}
	term := strings.ReplaceAll(res.terminal, "\r\n", "\n")
	for _, want := range []string{
		"This will change " + upn + " in tenant Sandbox (graphsim) (" + testTenant + "):",
		"  - set the password read from standard input, to change at next sign-in",
	} {
		if !strings.Contains(term, want) {
			t.Errorf("the confirmation does not say %q:\n%s", want, term)
		}
	}
	if u, _ := tn.sim.User(upn); u.Password != chosenPassword || u.PasswordSets != 1 {
		t.Errorf("%s: set %d times, the typed password: %v; want once, true", upn, u.PasswordSets, u.Password == chosenPassword)
	}
	checkNoSecrets(t, tn, "", map[string]string{"terminal": res.terminal, "log file": readFile(t, logFile), "results": readFile(t, results)})
}

// mayBeInForce matches the line that shows a password whose reset's
// outcome is unknown.
var mayBeInForce = regexp.MustCompile(`The password of (\S+) may be in force \(its reset's outcome is unknown; shown once, saved nowhere\): (\S+)\r?\n`)

// TestUserRandomMaybeSetShown: when every answer to the reset is lost
// after Graph applied it, the row fails, but its password may be in force:
// it is shown too, saying so, and it is the one in force.
func TestUserRandomMaybeSetShown(t *testing.T) {
	bin := buildBinary(t)
	users := graphsim.GenerateUsers(1, testDomain)
	tn := startTenant(t, graphsim.Options{Faults: graphsim.Faults{DropAfterApply: 1}}, users)
	args := append([]string{"reset", "--user", users[0].UPN, "--yes", "--preflight=false", "--max-attempts", "2"}, tn.authArgs()...)
	res := runInPty(t, bin, childEnv(tn, "TERM=xterm-256color"), true, args...)
	if res.code != exitRowsFailed {
		t.Fatalf("exit %d, want 3; stderr:\n%s\nterminal:\n%s", res.code, res.stderr, res.terminal)
	}
	shown := mayBeInForce.FindAllStringSubmatch(res.terminal, -1)
	if len(shown) != 1 || shown[0][1] != users[0].UPN || shownPassword.MatchString(res.terminal) {
		t.Fatalf("want one password shown as maybe in force, of %s:\n%s", users[0].UPN, res.terminal)
	}
	if u, _ := tn.sim.User(users[0].UPN); u.Password != shown[0][2] {
		t.Error("the password shown is not the one in force")
	}
	checkNoSecrets(t, tn, "", map[string]string{"stderr": res.stderr})
}
