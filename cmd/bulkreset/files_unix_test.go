//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// TestPlantedLockSymlink: another local user who can write to the output
// directory plants FILE.lock as a symbolic link to a file elsewhere. The run
// must refuse it (exit 1) without creating or changing the link's target,
// and send nothing.
func TestPlantedLockSymlink(t *testing.T) {
	users := graphsim.GenerateUsers(2, testDomain)
	tn := startTenant(t, graphsim.Options{}, users)
	dir, elsewhere := t.TempDir(), t.TempDir()
	in := writeFile(t, dir, "users.csv", "UserPrincipalName\n"+users[0].UPN+"\n")
	existingTarget := writeFile(t, elsewhere, "victim.conf", "keep me\n")
	for _, tc := range []struct {
		name, lockOf, target string
	}{
		{"results lock to a new file", "results.csv", filepath.Join(elsewhere, "created-by-root")},
		{"secrets lock to an existing file", "secrets.csv", existingTarget},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			results, secrets := filepath.Join(out, "results.csv"), filepath.Join(out, "secrets.csv")
			lock := filepath.Join(out, tc.lockOf) + ".lock"
			if err := os.Symlink(tc.target, lock); err != nil {
				t.Fatal(err)
			}
			res := runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", results, "--secrets", secrets, "--yes"}, tn.authArgs()...)...)
			if res.code != exitFatal {
				t.Errorf("exit code %d, want %d; stderr:\n%s", res.code, exitFatal, res.stderr)
			}
			if !strings.Contains(res.stderr, "not a regular file") {
				t.Errorf("stderr does not say the lock file is not a regular file:\n%s", res.stderr)
			}
			if tc.target == existingTarget {
				if got := readFile(t, existingTarget); got != "keep me\n" {
					t.Errorf("the link's target was changed: %q", got)
				}
			} else if _, err := os.Lstat(tc.target); err == nil {
				t.Errorf("the run created %s through the planted link", tc.target)
			}
			if li, err := os.Lstat(lock); err != nil || li.Mode()&os.ModeSymlink == 0 {
				t.Errorf("the planted link was removed or replaced: %v", err)
			}
			if n := tn.sim.Stats().WritesApplied; n != 0 {
				t.Errorf("%d writes sent", n)
			}
		})
	}
}

// TestResumeRefusesPipes: --resume with a named pipe as the secrets or the
// results file ends at once with an error (it used to block opening the
// pipe, deaf to SIGTERM), and sends nothing.
func TestResumeRefusesPipes(t *testing.T) {
	users := graphsim.GenerateUsers(2, testDomain)
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", "UserPrincipalName\n"+users[0].UPN+"\n")
	for _, which := range []string{"secrets", "results"} {
		t.Run(which, func(t *testing.T) {
			out := t.TempDir()
			results := writeFile(t, out, "results.csv", strings.Join(report.ResultsHeader, ",")+"\n")
			secrets := writeFile(t, out, "secrets.csv", strings.Join(report.SecretsHeader, ",")+"\n")
			fifo := secrets
			if which == "results" {
				fifo = results
			}
			if err := os.Remove(fifo); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			done := make(chan runResult, 1)
			go func() {
				done <- runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", results, "--secrets", secrets, "--yes", "--resume"}, tn.authArgs()...)...)
			}()
			var res runResult
			select {
			case res = <-done:
			case <-time.After(30 * time.Second): // a guard against a hang, not synchronisation
				// Unblock the run stuck opening the pipe, so that the test ends.
				if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
					f.Close()
				}
				t.Fatalf("--resume with a named pipe as the %s file hangs", which)
			}
			if res.code != exitUsage && res.code != exitFatal {
				t.Errorf("exit code %d, want an error; stderr:\n%s", res.code, res.stderr)
			}
			if !strings.Contains(res.stderr, "not a regular file") {
				t.Errorf("stderr does not say the %s file is not a regular file:\n%s", which, res.stderr)
			}
			if n := tn.sim.Stats().WritesApplied; n != 0 {
				t.Errorf("%d writes sent", n)
			}
		})
	}
}

// TestPlantedOutputFiles: outputs planted before the run by someone else
// are refused, never followed or widened: a symbolic link at the results,
// secrets or log path (a new run or --resume), on --resume a secrets file
// others may read, and a file another user owns (the secrets, results, log
// or lock file: its owner could read it, or hold the lock to block every
// run). Nothing is sent, and the link's target is untouched.
func TestPlantedOutputFiles(t *testing.T) {
	users := graphsim.GenerateUsers(2, testDomain)
	tn := startTenant(t, graphsim.Options{}, users)
	dir, elsewhere := t.TempDir(), t.TempDir()
	in := writeFile(t, dir, "users.csv", "UserPrincipalName\n"+users[0].UPN+"\n")
	header := func(h []string) string { return strings.Join(h, ",") + "\n" }
	// put writes content at path (when not empty) and, when link is not
	// empty, a symbolic link at link to path.
	put := func(t *testing.T, path, content string, mode os.FileMode, link string) {
		t.Helper()
		if content != "" {
			if err := os.WriteFile(path, []byte(content), mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, mode); err != nil { // past the umask
				t.Fatal(err)
			}
		}
		if link != "" {
			if err := os.Symlink(path, link); err != nil {
				t.Fatal(err)
			}
		}
	}
	// nobody gives path to another user (uid and gid 65534).
	nobody := func(t *testing.T, path string) {
		t.Helper()
		if err := os.Chown(path, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	resumable := func(t *testing.T, results, secrets string) {
		put(t, results, header(report.ResultsHeader), 0o644, "")
		put(t, secrets, header(report.SecretsHeader), 0o600, "")
	}
	for _, tc := range []struct {
		name   string
		resume bool
		chown  bool // needs root
		plant  func(t *testing.T, results, secrets, log, target string)
		want   string
	}{
		{"secrets link, new run", false, false, func(t *testing.T, _, secrets, _, target string) {
			put(t, target, "", 0, secrets)
		}, "already exists"},
		{"secrets link, resume", true, false, func(t *testing.T, results, secrets, _, target string) {
			put(t, results, header(report.ResultsHeader), 0o644, "")
			put(t, target, header(report.SecretsHeader), 0o600, secrets)
		}, "not a regular file"},
		{"results link, resume", true, false, func(t *testing.T, results, _, _, target string) {
			put(t, target, header(report.ResultsHeader), 0o644, results)
		}, "not a regular file"},
		{"secrets readable by others, resume", true, false, func(t *testing.T, results, secrets, _, _ string) {
			put(t, results, header(report.ResultsHeader), 0o644, "")
			put(t, secrets, header(report.SecretsHeader), 0o644, "")
		}, "wider than"},
		{"log link to an existing file", false, false, func(t *testing.T, _, _, log, target string) {
			put(t, target, "keep me\n", 0o644, log)
		}, "not a regular file"},
		{"log link to a new file", false, false, func(t *testing.T, _, _, log, target string) {
			put(t, target, "", 0, log)
		}, "not a regular file"},
		{"log link, resume", true, false, func(t *testing.T, results, secrets, log, target string) {
			resumable(t, results, secrets)
			put(t, target, "keep me\n", 0o644, log)
		}, "not a regular file"},
		{"secrets owned by another user, resume", true, true, func(t *testing.T, results, secrets, _, _ string) {
			resumable(t, results, secrets)
			nobody(t, secrets)
		}, "owned by uid 65534"},
		{"results owned by another user, resume", true, true, func(t *testing.T, results, secrets, _, _ string) {
			resumable(t, results, secrets)
			nobody(t, results)
		}, "owned by uid 65534"},
		{"lock owned by another user", false, true, func(t *testing.T, results, _, _, _ string) {
			put(t, results+".lock", " ", 0o600, "")
			nobody(t, results+".lock")
		}, "owned by uid 65534"},
		{"log owned by another user", false, true, func(t *testing.T, _, _, log, _ string) {
			put(t, log, "earlier records\n", 0o600, "")
			nobody(t, log)
		}, "owned by uid 65534"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.chown && os.Geteuid() != 0 {
				t.Skip("giving a file to another user needs root (CI runs as root)")
			}
			out := t.TempDir()
			results, secrets, log := filepath.Join(out, "results.csv"), filepath.Join(out, "secrets.csv"), filepath.Join(out, "run.log")
			target := filepath.Join(elsewhere, strings.ReplaceAll(tc.name, " ", "_"))
			tc.plant(t, results, secrets, log, target)
			var before string
			if _, err := os.Stat(target); err == nil {
				before = readFile(t, target)
			}
			args := []string{"reset", "-i", in, "-o", results, "--secrets", secrets, "--log-file", log, "--yes"}
			if tc.resume {
				args = append(args, "--resume")
			}
			res := runCLI(t, t.Context(), tn.getenv(nil), append(args, tn.authArgs()...)...)
			if res.code != exitUsage && res.code != exitFatal {
				t.Errorf("exit code %d, want an error; stderr:\n%s", res.code, res.stderr)
			}
			if !strings.Contains(res.stderr, tc.want) {
				t.Errorf("stderr does not say %q:\n%s", tc.want, res.stderr)
			}
			if _, err := os.Stat(target); err == nil && readFile(t, target) != before {
				t.Errorf("the link's target was changed")
			}
			if n := tn.sim.Stats().WritesApplied; n != 0 {
				t.Errorf("%d writes sent", n)
			}
		})
	}
}
