//go:build unix

package main

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// waitApplied blocks until the tenant has applied at least n password sets,
// or the process ends (done is closed), or a minute passes.
func waitApplied(t *testing.T, tn *tenant, n int, done <-chan struct{}) bool {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(time.Minute)
	for tn.sim.Stats().WritesApplied < n {
		select {
		case <-done:
			return false
		case <-deadline:
			t.Fatalf("the tenant never reached %d password sets", n)
		case <-tick.C:
		}
	}
	return true
}

// checkKnownPasswords is the promise that holds at every instant, even
// after a SIGKILL: every user whose password was changed has, in the
// secrets file, exactly the password now in force.
func checkKnownPasswords(t *testing.T, tn *tenant, secretsPath string) {
	t.Helper()
	f, err := os.Open(secretsPath)
	if os.IsNotExist(err) {
		// Killed before the file was made: nobody may have been changed.
		for _, u := range tn.sim.Users() {
			if u.PasswordSets != 0 {
				t.Fatalf("%s was changed but there is no secrets file", u.UPN)
			}
		}
		return
	}
	if err != nil {
		t.Fatalf("secrets file: %v", err)
	}
	defer f.Close()
	rows, err := report.ReadSecrets(f)
	if err != nil && !errors.Is(err, report.ErrTruncated) {
		t.Fatalf("ReadSecrets: %v", err)
	}
	known := map[string]string{}
	for _, r := range rows {
		known[strings.ToLower(r.User)] = r.Password.Reveal()
	}
	for _, u := range tn.sim.Users() {
		if u.PasswordSets == 0 {
			continue
		}
		if pw, ok := known[strings.ToLower(u.UPN)]; !ok || pw != u.Password {
			t.Fatalf("%s has a password that is not the one in the secrets file (recorded: %v)", u.UPN, ok)
		}
	}
}

// unknownOutcomes returns the lines with a recorded password and no
// result, and every line with a recorded password.
func unknownOutcomes(t *testing.T, resultsPath, secretsPath string) (unknown, recorded map[int]bool) {
	t.Helper()
	unknown, recorded = map[int]bool{}, map[int]bool{}
	done := map[int]bool{}
	if f, err := os.Open(resultsPath); err == nil {
		rs, err := report.ReadResults(f)
		f.Close()
		if err != nil && !errors.Is(err, report.ErrTruncated) {
			t.Fatalf("ReadResults after a kill: %v", err)
		}
		for _, r := range rs {
			done[r.Line] = true
		}
	}
	f, err := os.Open(secretsPath)
	if err != nil {
		return unknown, recorded
	}
	defer f.Close()
	rows, err := report.ReadSecrets(f)
	if err != nil && !errors.Is(err, report.ErrTruncated) {
		t.Fatalf("ReadSecrets after a kill: %v", err)
	}
	for _, r := range rows {
		recorded[r.Line] = true
		if !done[r.Line] {
			unknown[r.Line] = true
		}
	}
	return unknown, recorded
}

// TestKillAndResume kills the real binary with SIGKILL again and again
// during a 2,000-user run, at random moments (start-up, sign-in, between
// recording passwords and writing results) and after given amounts of
// progress, and resumes it until it completes. After every kill, every
// changed user's password is the one recorded; at the end, every input
// row has exactly one result row and the tenant is right.
func TestKillAndResume(t *testing.T) {
	users, csv, rows := planRows(t, 2000)
	tn := startTenant(t, graphsim.Options{Latency: 40 * time.Millisecond}, users)
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", csv)
	results, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	base := []string{"reset", "-i", in, "-o", results, "--secrets", secrets, "--yes", "--quiet"}

	seed := uint64(time.Now().UnixNano())
	t.Logf("kill schedule seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0x6b696c6c))
	const wantKills = 24
	kills, inWindow := 0, 0
	for attempt := 0; ; attempt++ {
		if attempt > 200 {
			t.Fatalf("no complete run after %d attempts", attempt)
		}
		args := base
		if attempt > 0 {
			args = append(append([]string{}, base...), "--resume")
		}
		_, recordedBefore := unknownOutcomes(t, results, secrets)
		cmd, stderr := tn.command(t, dir, args...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		var waitErr error
		go func() { waitErr = cmd.Wait(); close(exited) }()
		if kills < wantKills {
			if attempt%2 == 0 {
				// A random moment: start-up, sign-in, reading, recording…
				select {
				case <-exited:
				case <-time.After(time.Duration(rng.IntN(100)) * time.Millisecond):
				}
			} else {
				// After a little more progress: batches are in flight.
				waitApplied(t, tn, tn.sim.Stats().WritesApplied+20+rng.IntN(40), exited)
			}
			cmd.Process.Signal(syscall.SIGKILL)
		}
		<-exited
		if st, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && st.Signaled() && st.Signal() == syscall.SIGKILL {
			kills++
			checkKnownPasswords(t, tn, secrets)
			// Did this kill land between a password being recorded by this
			// process and its result being written?
			unknown, _ := unknownOutcomes(t, results, secrets)
			for line := range unknown {
				if !recordedBefore[line] {
					inWindow++
					break
				}
			}
			continue
		}
		code := exitCode(t, waitErr)
		if code != exitRowsFailed {
			t.Fatalf("attempt %d: exit code %d, want %d; stderr:\n%s", attempt, code, exitRowsFailed, stderr.String())
		}
		break
	}
	t.Logf("%d kills, %d of them with passwords recorded and no result yet", kills, inWindow)
	if kills < wantKills {
		t.Errorf("only %d kills happened, want at least %d: the run finished too soon to test much", kills, wantKills)
	}
	if inWindow == 0 {
		t.Error("no kill landed between a password being recorded and its result being written")
	}
	checkRun(t, tn, rows, results, secrets)
}

// TestInterruptAndResumeCommand sends SIGINT mid-run: the run stops
// sending, finishes the batches in flight, leaves both files valid, exits
// 130 and prints the command that finishes the job, which does.
func TestInterruptAndResumeCommand(t *testing.T) {
	users, csv, rows := planRows(t, 2000)
	tn := startTenant(t, graphsim.Options{Latency: 30 * time.Millisecond}, users)
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", csv)
	// No -o: the resume command must name the results file chosen for us.
	stderr := interruptMidRun(t, tn, dir, 1, "reset", "-i", in, "--secrets", "secrets.csv", "--yes")
	matches, _ := filepath.Glob(filepath.Join(dir, "bulkreset-results-*.csv"))
	if len(matches) != 1 {
		t.Fatalf("results files: %v, want one", matches)
	}
	results, secrets := matches[0], filepath.Join(dir, "secrets.csv")
	checkValidFiles(t, results, secrets)
	checkKnownPasswords(t, tn, secrets)

	words := resumeWords(t, stderr)
	again, stderr2 := tn.command(t, dir, words[1:]...)
	code := exitCode(t, again.Run())
	if code != exitRowsFailed {
		t.Fatalf("the printed resume command exited %d, want %d; stderr:\n%s", code, exitRowsFailed, stderr2.String())
	}
	checkRun(t, tn, rows, results, secrets)
}

// TestSecondInterruptExitsAtOnce: a second SIGINT ends the run at once,
// both files still valid CSV, and --resume finishes the job.
func TestSecondInterruptExitsAtOnce(t *testing.T) {
	users, csv, rows := planRows(t, 2000)
	tn := startTenant(t, graphsim.Options{Latency: 30 * time.Millisecond}, users)
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", csv)
	results, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	args := []string{"reset", "-i", in, "-o", results, "--secrets", secrets, "--yes"}
	interruptMidRun(t, tn, dir, 2, args...)
	checkValidFiles(t, results, secrets)
	checkKnownPasswords(t, tn, secrets)
	again, stderr2 := tn.command(t, dir, append(args, "--resume")...)
	if code := exitCode(t, again.Run()); code != exitRowsFailed {
		t.Fatalf("--resume exited %d, want %d; stderr:\n%s", code, exitRowsFailed, stderr2.String())
	}
	checkRun(t, tn, rows, results, secrets)
}

// interruptMidRun runs the binary with args, sends it signals SIGINTs once
// 300 users are reset, checks that it exits 130, and returns its stderr.
func interruptMidRun(t *testing.T, tn *tenant, dir string, signals int, args ...string) string {
	t.Helper()
	cmd, stderr := tn.command(t, dir, args...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	if !waitApplied(t, tn, 300, exited) {
		t.Fatalf("the run ended before it could be interrupted:\n%s", stderr.String())
	}
	for range signals {
		cmd.Process.Signal(os.Interrupt)
	}
	<-exited
	if code := exitCode(t, waitErr); code != exitInterrupted {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitInterrupted, stderr.String())
	}
	return stderr.String()
}

// checkValidFiles asserts that both files parse as whole CSV files.
func checkValidFiles(t *testing.T, results, secrets string) {
	t.Helper()
	for _, p := range []string{results, secrets} {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if p == results {
			_, err = report.ReadResults(f)
		} else {
			_, err = report.ReadSecrets(f)
		}
		f.Close()
		if err != nil {
			t.Errorf("%s is not a valid file after the interrupt: %v", filepath.Base(p), err)
		}
	}
}

// TestConcurrentRunIsLockedOut: a second run on the same output files,
// while the first holds them, exits 1 with a clear message and changes
// nothing.
func TestConcurrentRunIsLockedOut(t *testing.T) {
	users, csv, _ := planRows(t, 400)
	tn := startTenant(t, graphsim.Options{Latency: 50 * time.Millisecond}, users)
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", csv)
	results, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	args := []string{"reset", "-i", in, "-o", results, "--secrets", secrets, "--yes", "--concurrency", "1"}
	first, stderr := tn.command(t, dir, args...)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { first.Wait(); close(exited) }()
	if !waitApplied(t, tn, 20, exited) {
		t.Fatalf("the first run ended too soon:\n%s", stderr.String())
	}
	second, stderr2 := tn.command(t, dir, append(args, "--resume")...)
	code := exitCode(t, second.Run())
	first.Process.Signal(syscall.SIGKILL)
	<-exited
	if code != exitFatal {
		t.Errorf("second run exited %d, want %d; stderr:\n%s", code, exitFatal, stderr2.String())
	}
	if !strings.Contains(stderr2.String(), "in use by another bulkreset run") {
		t.Errorf("second run does not say the files are in use:\n%s", stderr2.String())
	}
	if strings.Contains(stderr2.String(), "reset started") {
		t.Errorf("the second run started resetting before it found the files locked:\n%s", stderr2.String())
	}
}
