//go:build unix

package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
)

// TestKilledRunLeavesNoPasswordCopy SIGKILLs a run of --password-mode
// column on a workbook large enough that excelize used to unpack it to a
// temporary file: nothing under the run's TMPDIR holds a password.
// (SIGKILL runs no clean-up; a second Ctrl-C exits without it either.)
func TestKilledRunLeavesNoPasswordCopy(t *testing.T) {
	users := graphsim.GenerateUsers(30_000, testDomain)
	tn := startTenant(t, graphsim.Options{Latency: 20 * time.Millisecond}, users)
	dir, tmp := t.TempDir(), t.TempDir()
	in, passwords := passwordWorkbook(t, dir, users)
	cmd, stderr := tn.command(t, dir, "reset", "-i", in, "-o", filepath.Join(dir, "results.csv"),
		"--secrets", filepath.Join(dir, "secrets.csv"), "--yes", "--quiet", "--password-mode", "column")
	cmd.Env = append(cmd.Env, "TMPDIR="+tmp)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	if !waitApplied(t, tn, 50, exited) {
		t.Fatalf("the run ended before it was killed; stderr:\n%s", stderr.String())
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-exited

	files := 0
	err := filepath.WalkDir(tmp, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, pw := range passwords {
			if bytes.Contains(data, []byte(pw)) {
				t.Errorf("%s (%d bytes) survived the run and holds passwords", path, len(data))
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d files under TMPDIR after the kill", files)
}
