//go:build linux || darwin

package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bulkreset/bulkreset/internal/syncbuf"
	"github.com/bulkreset/bulkreset/pkg/graphsim"
)

// TestScheduledRunResumes: a scheduled run stopped mid-file (SIGINT to the
// wrapper and bulkreset, as at a shutdown) leaves the file in the inbox;
// the next scheduled run resumes it instead of starting over, so every
// user ends with one password, the one in the run's secrets file, and the
// out directory holds that one run's files. A file with more users than
// BULKRESET_MAX_USERS is refused and goes to failed/ with nothing sent.
func TestScheduledRunResumes(t *testing.T) {
	sh, script := wrapperScript(t)
	bin := buildBinary(t)
	users := graphsim.GenerateUsers(1500, testDomain)
	tn := startTenant(t, graphsim.Options{Latency: 30 * time.Millisecond}, users)
	dir := t.TempDir()
	csv := upnCSV(users)
	if err := os.MkdirAll(filepath.Join(dir, "inbox"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "inbox"), "leavers.csv", csv)
	env := append(childEnv(tn), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"), "BULKRESET_MAX_USERS=2000")
	script1 := func() (*exec.Cmd, *syncbuf.Buffer) {
		cmd := exec.Command(sh, append([]string{script, dir}, tn.authArgs()...)...)
		cmd.Env = env
		var out syncbuf.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // a shutdown signals the whole group
		return cmd, &out
	}

	first, out := script1()
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = first.Wait(); close(exited) }()
	if !waitApplied(t, tn, 300, exited) {
		t.Fatalf("the scheduled run ended before it could be stopped:\n%s", out.String())
	}
	syscall.Kill(-first.Process.Pid, syscall.SIGINT)
	<-exited
	if code := exitCode(t, waitErr); code != exitInterrupted {
		t.Fatalf("stopped scheduled run: exit %d, want %d:\n%s", code, exitInterrupted, out.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "inbox", "leavers.csv")); err != nil {
		t.Fatalf("the stopped file is not left in the inbox: %v", err)
	}
	stoppedAt := tn.sim.Stats().WritesApplied

	second, out2 := script1()
	if code := exitCode(t, second.Run()); code != exitOK {
		t.Fatalf("the next scheduled run: exit %d, want 0:\n%s", code, out2.String())
	}
	if !strings.Contains(out2.String(), "resuming the unfinished run") {
		t.Errorf("the next run did not say it resumes:\n%s", out2.String())
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "out"))
	var results, secrets string
	for _, e := range entries {
		switch n := filepath.Join(dir, "out", e.Name()); {
		case strings.HasSuffix(n, "-results.csv"):
			results = n
		case strings.HasSuffix(n, "-secrets.csv"):
			secrets = n
		}
	}
	if len(entries) != 3 || results == "" || secrets == "" {
		t.Fatalf("out/ holds %d files, want one run's results, secrets and settings", len(entries))
	}
	rows, pws := readResults(t, results), readSecrets(t, secrets)
	if len(rows) != len(users) {
		t.Errorf("%d result rows, want %d", len(rows), len(users))
	}
	passwords := passwordsPerUser(tn)
	for _, u := range users {
		got, _ := tn.sim.User(u.UPN)
		if len(passwords[u.UPN]) != 1 || got.Password != pws[strings.ToLower(u.UPN)] {
			t.Fatalf("%s: %d passwords set; the one in force is the recorded one: %v", u.UPN, len(passwords[u.UPN]), got.Password == pws[strings.ToLower(u.UPN)])
		}
	}
	if n := tn.sim.Stats().WritesApplied; n-stoppedAt > len(users)-300+100 {
		t.Errorf("the resume applied %d writes after %d before the stop: it started over", n-stoppedAt, stoppedAt)
	}
	inbox, _ := os.ReadDir(filepath.Join(dir, "inbox"))
	if len(inbox) != 0 {
		t.Errorf("inbox/ after the resumed run holds %d entries (the pending marker?), want none", len(inbox))
	}

	// The guard: more users than BULKRESET_MAX_USERS.
	writeFile(t, filepath.Join(dir, "inbox"), "whole company.csv", csv)
	before := tn.sim.Stats().Batches
	env = append(env, "BULKRESET_MAX_USERS=1000")
	third, out3 := script1()
	if code := exitCode(t, third.Run()); code != exitUsage || !strings.Contains(out3.String(), "more than --max-users 1000") {
		t.Errorf("a file over --max-users: exit %d, want %d saying so:\n%s", code, exitUsage, out3.String())
	}
	if after := tn.sim.Stats().Batches; after != before {
		t.Errorf("the refused file sent %d batches", after-before)
	}
	failed, _ := os.ReadDir(filepath.Join(dir, "failed"))
	if len(failed) != 1 || !strings.HasSuffix(failed[0].Name(), "-whole company.csv") {
		t.Errorf("failed/ holds %v, want the refused file", failed)
	}
	if _, err := os.Stat(filepath.Join(dir, "inbox", ".whole company.csv.resume")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the refused file's marker is left: %v", err)
	}
}
