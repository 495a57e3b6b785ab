//go:build linux || darwin

package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
)

// TestScheduledRunScript runs scripts/unix/bulkreset-run.sh, the wrapper
// the cron and systemd examples of docs/scheduling.md use, with the built
// binary on PATH against the emulator: files in the inbox are reset one
// after the other, moved to done/ or failed/ by exit code, and their
// results, secrets (0600) and JSON log land in the run directory.
func TestScheduledRunScript(t *testing.T) {
	sh, script := wrapperScript(t)
	bin := buildBinary(t)
	users := graphsim.GenerateUsers(20, testDomain)
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	for _, d := range []string{"inbox"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	b.WriteString("UserPrincipalName,Department\n")
	for _, u := range users[:19] {
		b.WriteString(u.UPN + ",Sales\n")
	}
	b.WriteString("gone.already@" + testDomain + ",Sales\n") // not_found: exit 3
	writeFile(t, filepath.Join(dir, "inbox"), "HR offboarding Jan.csv", b.String())
	writeFile(t, filepath.Join(dir, "inbox"), "broken.csv", "Name,Department\nAdele,Retail\n") // no user column: exit 2
	writeFile(t, filepath.Join(dir, "inbox"), "notes.md", "not an input\n")

	env := append(childEnv(tn), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	runScript := func() (int, string) {
		cmd := exec.Command(sh, append([]string{script, dir}, tn.authArgs()...)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee):
			return ee.ExitCode(), string(out)
		case err != nil:
			t.Fatalf("running the script: %v", err)
		}
		return 0, string(out)
	}

	code, out := runScript()
	if code != exitRowsFailed {
		t.Fatalf("exit code %d, want %d (the highest of 3 and 2); output:\n%s", code, exitRowsFailed, out)
	}
	names := func(sub string) []string {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		var ns []string
		for _, e := range entries {
			ns = append(ns, e.Name())
		}
		return ns
	}
	if got := names("inbox"); len(got) != 1 || got[0] != "notes.md" {
		t.Errorf("inbox after the run: %q, want only notes.md", got)
	}
	if got := names("done"); len(got) != 1 || !strings.HasSuffix(got[0], "-HR offboarding Jan.csv") {
		t.Errorf("done/: %q, want the offboarding file", got)
	}
	if got := names("failed"); len(got) != 1 || !strings.HasSuffix(got[0], "-broken.csv") {
		t.Errorf("failed/: %q, want broken.csv", got)
	}
	var results, secrets string
	for _, n := range names("out") {
		p := filepath.Join(dir, "out", n)
		switch {
		case strings.HasPrefix(n, "HR offboarding Jan-") && strings.HasSuffix(n, "-results.csv"):
			results = p
		case strings.HasPrefix(n, "HR offboarding Jan-") && strings.HasSuffix(n, "-secrets.csv"):
			secrets = p
		case strings.HasPrefix(n, "HR offboarding Jan-") && strings.HasSuffix(n, "-results.csv.run.json"):
			// the run's settings, for a resume
		default:
			t.Errorf("unexpected file out/%s", n)
		}
		checkSecretMode(t, p) // umask 077: results and secrets alike
	}
	if results == "" || secrets == "" {
		t.Fatalf("out/ has %q, want the results and secrets of the offboarding file", names("out"))
	}
	rs, pw := readResults(t, results), readSecrets(t, secrets)
	if len(rs) != 20 || len(pw) != 19 {
		t.Errorf("%d results and %d passwords, want 20 and 19", len(rs), len(pw))
	}
	for _, u := range users[:19] {
		got, _ := tn.sim.User(u.UPN)
		if got.Password == "" || got.Password != pw[strings.ToLower(u.UPN)] {
			t.Errorf("%s: the password in force is not the one in the secrets file", u.UPN)
		}
	}
	logFile := filepath.Join(dir, "bulkreset.log")
	checkSecretMode(t, logFile)
	recs := jsonLines(t, "bulkreset.log", readFile(t, logFile))
	var summaries, stopped int
	for _, r := range recs {
		switch r["msg"] {
		case "summary":
			summaries++
		case "bulkreset stopped":
			stopped++
		}
	}
	if summaries != 1 || stopped != 1 {
		t.Errorf("bulkreset.log: %d summaries and %d stop records, want 1 of each (the good file, the broken one)", summaries, stopped)
	}
	if !strings.Contains(out, "HR offboarding Jan.csv: exit 3") || !strings.Contains(out, "broken.csv: exit 2") {
		t.Errorf("the script's output does not report each file's exit code:\n%s", out)
	}
	checkNoSecrets(t, tn, secrets, map[string]string{"script output": out, "log file": readFile(t, logFile)})

	// Nothing waiting: nothing done, exit 0.
	if code, out := runScript(); code != exitOK || len(names("out")) != 3 {
		t.Errorf("second run with an empty inbox: exit %d, out/ %q; output:\n%s", code, names("out"), out)
	}

	// A run still going holds the lock; one that died does not.
	writeFile(t, filepath.Join(dir, "inbox"), "late.csv", "UserPrincipalName\n"+users[19].UPN+"\n")
	lock := filepath.Join(dir, ".bulkreset-run.pid")
	if err := os.WriteFile(lock, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := runScript(); code != exitFatal || !strings.Contains(out, "still going") || len(names("inbox")) != 2 {
		t.Errorf("with the lock of a live process: exit %d, want 1, late.csv untouched; output:\n%s", code, out)
	}
	dead := exec.Command(sh, "-c", "exit 0")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lock, []byte(strconv.Itoa(dead.Process.Pid)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out := runScript(); code != exitOK || len(names("inbox")) != 1 {
		t.Errorf("with the lock of a dead process: exit %d, want 0 and late.csv done; output:\n%s", code, out)
	}
	if _, err := os.Stat(lock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lock is left behind after the run: %v", err)
	}
	var last map[string]any
	lines := strings.Split(strings.TrimSpace(readFile(t, logFile)), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last["msg"] != "summary" || last["rows"] != 1.0 {
		t.Errorf("the log's last record is not late.csv's summary: %s", lines[len(lines)-1])
	}
}

// wrapperScript returns sh and the absolute path of the scheduled wrapper,
// scripts/unix/bulkreset-run.sh.
func wrapperScript(t *testing.T) (sh, script string) {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatal("no sh: the wrapper is a POSIX shell script")
	}
	script, err = filepath.Abs(filepath.Join("..", "..", "scripts", "unix", "bulkreset-run.sh"))
	if err != nil {
		t.Fatal(err)
	}
	return sh, script
}
