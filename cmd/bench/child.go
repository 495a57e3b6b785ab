package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"
)

// measurement is how a measured child process ended.
type measurement struct {
	exit   int
	wall   time.Duration
	maxRSS int64         // bytes; 0 when the platform does not say
	cpu    time.Duration // user + system
}

// The peak memory of a child is read from the rusage of its exit
// (ru_maxrss). On Linux that figure also counts the memory of the process
// that started it: Go starts children with vfork, and at exec the kernel
// folds the parent's high-water mark into the child's maxrss
// (setmax_mm_hiwater_rss). The bench, having run a Graph emulator with a
// million users, is far larger than what it measures, so it does not start
// the measured process itself: it starts a fresh copy of itself
// (measureRunnerEnv set), small, which runs the command and reports its
// rusage on its standard output.
const measureRunnerEnv = "BULKRESET_BENCH_MEASURE"

func init() {
	if os.Getenv(measureRunnerEnv) == "" {
		return
	}
	// The runner: run the command given after "--", then print its exit
	// code, wall time, peak RSS and CPU time on a last line of standard
	// output.
	args := os.Args[1:]
	for len(args) > 0 && args[0] != "--" {
		args = args[1:]
	}
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "bench runner: no command")
		os.Exit(2)
	}
	cmd := exec.Command(args[1], args[2:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = withoutEnv(os.Environ(), measureRunnerEnv)
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		fmt.Fprintf(os.Stderr, "bench runner: %v\n", err)
		os.Exit(2)
	}
	ps := cmd.ProcessState
	fmt.Printf("\n%s %d %d %d %d\n", measureRunnerEnv, ps.ExitCode(), wall.Nanoseconds(), maxRSS(ps), (ps.UserTime() + ps.SystemTime()).Nanoseconds())
	os.Exit(0)
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

// runMeasured runs a command, with env added to the environment, through
// the runner and returns its standard output (without the runner's line),
// exit code, wall time, peak RSS and CPU time.
func runMeasured(stdout, stderr *bytes.Buffer, env []string, name string, args ...string) (measurement, error) {
	self, err := os.Executable()
	if err != nil {
		return measurement{}, err
	}
	cmd := exec.Command(self, append([]string{"--", name}, args...)...)
	cmd.Env = append(append(os.Environ(), env...), measureRunnerEnv+"=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, stderr
	if err := cmd.Run(); err != nil {
		return measurement{}, fmt.Errorf("bench runner: %w: %s", err, stderr.String())
	}
	text := out.String()
	i := strings.LastIndex(text, "\n"+measureRunnerEnv+" ")
	if i < 0 {
		return measurement{}, fmt.Errorf("bench runner: no measurement in its output")
	}
	var m measurement
	var wall, cpu int64
	if _, err := fmt.Sscanf(text[i+1:], measureRunnerEnv+" %d %d %d %d", &m.exit, &wall, &m.maxRSS, &cpu); err != nil {
		return measurement{}, fmt.Errorf("bench runner: %w", err)
	}
	m.wall, m.cpu = time.Duration(wall), time.Duration(cpu)
	stdout.WriteString(text[:i])
	return m, nil
}

// runResult is what one bulkreset run produced.
type runResult struct {
	measurement
	stderr  string
	results string // path of the results file
}

// runBulkreset runs `bulkreset reset` against t with extra flags, as an
// administrator would from a scheduled task: client-secret auth, --yes,
// --quiet, a secrets file.
func (b *bench) runBulkreset(t *tenant, name string, extra ...string) (runResult, error) {
	return b.runReset(t.srv.URL, t.ca, t.dir, t.input, name, append([]string{"--tenant", benchTenant}, extra...)...)
}

// runReset is runBulkreset for any emulator at url whose certificate is in
// ca, and any input, in dir; the tenant, when one, is in extra.
func (b *bench) runReset(url, ca, dir, input, name string, extra ...string) (runResult, error) {
	results := filepath.Join(dir, name+"-results.csv")
	args := append([]string{"reset", "-i", input, "-o", results,
		"--secrets", filepath.Join(dir, name+"-secrets.csv"), "--yes", "--quiet",
		"--auth", "client-secret", "--client-id", benchClient,
		"--graph-url", url, "--authority-host", url}, extra...)
	var stdout, stderr bytes.Buffer
	m, err := runMeasured(&stdout, &stderr, []string{"AZURE_CLIENT_SECRET=" + benchSecret, "SSL_CERT_FILE=" + ca}, b.bin, args...)
	if err != nil {
		return runResult{}, err
	}
	return runResult{measurement: m, stderr: stderr.String(), results: results}, nil
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
