//go:build unix

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
)

// pipeRows is enough rows that the input does not fit in a pipe's buffer:
// a second reader of the same pipe would take some of them.
const pipeRows = 5000

// TestResetFromStdinPath reads the input through /dev/stdin, a pipe, as in
// `cat users.csv | bulkreset reset -i /dev/stdin`: the pipe is read once,
// by the run; every user is reset and every row has one result. (The
// progress total used to reopen the path and take part of the stream.)
func TestResetFromStdinPath(t *testing.T) {
	users, csv, rows := planRows(t, pipeRows)
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	results, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	// No --quiet, standard error not a terminal: the status display, which
	// counts the input's rows when it can.
	cmd, stderr := tn.command(t, dir, "reset", "-i", "/dev/stdin", "-o", results, "--secrets", secrets, "--yes")
	cmd.Stdin = strings.NewReader(csv) // os/exec gives the child a pipe
	if code := exitCode(t, cmd.Run()); code != exitRowsFailed {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitRowsFailed, stderr.String())
	}
	checkRun(t, tn, rows, results, secrets)
}

// writeFIFO makes a named pipe in dir and writes content to it once, from
// a goroutine, for whichever reader opens it first.
func writeFIFO(t *testing.T, dir, content string) string {
	t.Helper()
	path := filepath.Join(dir, "users.fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			done <- err
			return
		}
		_, err = f.WriteString(content)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		done <- err
	}()
	t.Cleanup(func() {
		// Unblock a writer still waiting for a reader, then collect it.
		if f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			defer f.Close()
		}
		if err := <-done; err != nil {
			t.Logf("writing the FIFO: %v", err)
		}
	})
	return path
}

// TestResetFromNamedPipe reads the input from a named pipe (mkfifo), with
// progress status records on: every user is reset, every row has one result.
func TestResetFromNamedPipe(t *testing.T) {
	users, csv, rows := planRows(t, pipeRows)
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	in := writeFIFO(t, dir, csv)
	results, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	res := runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", results, "--secrets", secrets, "--yes"}, tn.authArgs()...)...)
	if res.code != exitRowsFailed {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitRowsFailed, res.stderr)
	}
	checkRun(t, tn, rows, results, secrets)
}

// TestCheckNamedPipe checks an input read from a named pipe: every row is
// counted.
func TestCheckNamedPipe(t *testing.T) {
	_, csv, _ := planRows(t, pipeRows)
	in := writeFIFO(t, t.TempDir(), csv)
	res := runCheckCLI(t, "", "-i", in)
	if res.code != exitRowsFailed { // the plan has one invalid row
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitRowsFailed, res.stderr)
	}
	if want := fmt.Sprintf("\nRows: %d\n", pipeRows); !strings.Contains(res.stdout, want) {
		t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
	}
}
