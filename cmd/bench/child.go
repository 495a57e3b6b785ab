package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"
)

// launcherEnv makes the bench binary a launcher: it runs its arguments as a
// child and reports the child's wall time, CPU time and peak RSS from
// rusage on file descriptor 3.
//
// Why a launcher: Go starts children with vfork semantics, and Linux keeps
// the parent's peak RSS as the child's starting maxrss when it execs
// (setmax_mm_hiwater_rss in exec_mmap). The bench holds a million-user
// tenant, so rusage of its direct child would report the bench's memory,
// not bulkreset's. The launcher is a small fresh process, and its child's
// maxrss is bulkreset's own.
const launcherEnv = "BULKRESET_BENCH_LAUNCHER"

// launch is the launcher's main: it runs args, writes "wall-ns maxrss-KB
// cpu-ns" to fd 3, and returns the child's exit code.
func launch(args []string) int {
	if len(args) == 0 {
		return 2
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = withoutEnv(os.Environ(), launcherEnv)
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if cmd.ProcessState == nil {
		fmt.Fprintf(os.Stderr, "launcher: %v\n", err)
		return 1
	}
	out := os.NewFile(3, "rusage")
	ps := cmd.ProcessState
	fmt.Fprintf(out, "%d %d %d\n", wall.Nanoseconds(), maxRSSKB(ps), (ps.UserTime() + ps.SystemTime()).Nanoseconds())
	out.Close()
	return cmd.ProcessState.ExitCode()
}

func withoutEnv(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// runResult is what one bulkreset run produced.
type runResult struct {
	wall    time.Duration
	cpu     time.Duration // user + system
	exit    int
	rssKB   int64
	stderr  string
	results string // path of the results file
}

// runBulkreset runs `bulkreset reset` against t with extra flags, as an
// administrator would from a scheduled task: client-secret auth, --yes,
// --quiet, a secrets file.
func (b *bench) runBulkreset(t *tenant, name string, extra ...string) (runResult, error) {
	results := filepath.Join(t.dir, name+"-results.csv")
	args := append([]string{b.bin, "reset", "-i", t.input, "-o", results,
		"--secrets", filepath.Join(t.dir, name+"-secrets.csv"), "--yes", "--quiet",
		"--auth", "client-secret", "--tenant", benchTenant, "--client-id", benchClient,
		"--graph-url", t.srv.URL, "--authority-host", t.srv.URL}, extra...)
	self, err := os.Executable()
	if err != nil {
		return runResult{}, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return runResult{}, err
	}
	defer r.Close()
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), launcherEnv+"=1", "AZURE_CLIENT_SECRET="+benchSecret, "SSL_CERT_FILE="+t.ca)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		w.Close()
		return runResult{}, err
	}
	w.Close()
	report, _ := io.ReadAll(r)
	err = cmd.Wait()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return runResult{}, err
	}
	res := runResult{exit: cmd.ProcessState.ExitCode(), stderr: stderr.String(), results: results}
	var wall, cpu int64
	if _, err := fmt.Sscan(string(report), &wall, &res.rssKB, &cpu); err != nil {
		return res, fmt.Errorf("launcher report %q: %w; stderr:\n%s", report, err, stderr.String())
	}
	res.wall, res.cpu = time.Duration(wall), time.Duration(cpu)
	return res, nil
}

// startCPUProfile profiles the bench process until the returned function is
// called.
func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
