//go:build linux || darwin

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
)

// The terminal tests run the real binary in a pseudo-terminal (creack/pty),
// the only way to see what a person sees: progress is drawn only when
// standard error is a terminal.

// ptyRun is a finished run of bulkreset in a pseudo-terminal.
type ptyRun struct {
	code     int
	terminal string // everything the terminal received
	stderr   string // standard error, when it was redirected to a file
}

// runInPty runs bin with args, standard input and output on a new
// pseudo-terminal, and standard error on the terminal too, or in a file
// when redirect is set.
func runInPty(t *testing.T, bin string, env []string, redirect bool, args ...string) ptyRun {
	t.Helper()
	return runInPtyTyping(t, bin, env, redirect, "", args...)
}

// runInPtyTyping is runInPty with typed typed at the terminal once the
// process has started (the terminal keeps it until the process reads).
func runInPtyTyping(t *testing.T, bin string, env []string, redirect bool, typed string, args ...string) ptyRun {
	t.Helper()
	return runInPtyDialog(t, bin, env, redirect, []ptyAnswer{{typed: typed}}, args...)
}

// ptyAnswer is what a person types at the terminal: typed, once the
// terminal shows after (at once when after is ""), and with noEcho once
// the process has turned echo off (a password prompt).
type ptyAnswer struct {
	after, typed string
	noEcho       bool
}

// ptyWait is how long a dialog waits for a prompt before it gives up.
const ptyWait = 2 * time.Minute

// runInPtyDialog is runInPty with answers typed at the terminal in turn,
// each when its prompt has appeared.
func runInPtyDialog(t *testing.T, bin string, env []string, redirect bool, answers []ptyAnswer, args ...string) ptyRun {
	t.Helper()
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("opening a pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 150}); err != nil {
		t.Fatalf("sizing the pseudo-terminal: %v", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	var errFile *os.File
	if redirect {
		errFile, err = os.Create(filepath.Join(t.TempDir(), "stderr.txt"))
		if err != nil {
			t.Fatal(err)
		}
		defer errFile.Close()
		cmd.Stderr = errFile
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting bulkreset: %v", err)
	}
	tty.Close() // the child has its own; the master then reads EOF (EIO) when it exits
	term := &screen{changed: make(chan struct{}, 1)}
	copied := make(chan error, 1)
	go func() {
		_, err := io.Copy(term, ptmx)
		copied <- err
	}()
	for _, a := range answers {
		if a.after != "" && !term.await(a.after, ptyWait) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("the terminal never showed %q:\n%s", a.after, term.String())
		}
		if a.noEcho {
			awaitNoEcho(t, ptmx, ptyWait)
		}
		if a.typed == "" {
			continue
		}
		if _, err := ptmx.Write([]byte(a.typed)); err != nil {
			t.Fatalf("typing at the terminal: %v", err)
		}
	}
	werr := cmd.Wait()
	if err := <-copied; err != nil && !errors.Is(err, os.ErrClosed) && !isEIO(err) {
		t.Fatalf("reading the terminal: %v", err)
	}
	res := ptyRun{terminal: term.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(werr, &ee):
		res.code = ee.ExitCode()
	case werr != nil:
		t.Fatalf("bulkreset: %v", werr)
	}
	if redirect {
		b, err := os.ReadFile(errFile.Name())
		if err != nil {
			t.Fatal(err)
		}
		res.stderr = string(b)
	}
	return res
}

// screen is what a terminal received, safe to read while it is written,
// with a signal on every write.
type screen struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	seen    int // what await has matched already
	changed chan struct{}
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	n, err := s.buf.Write(p)
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
	return n, err
}

func (s *screen) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// await waits until text appears after what earlier awaits matched, or
// for at most d.
func (s *screen) await(text string, d time.Duration) bool {
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		i := strings.Index(s.buf.String()[s.seen:], text)
		if i >= 0 {
			s.seen += i + len(text)
		}
		s.mu.Unlock()
		if i >= 0 {
			return true
		}
		select {
		case <-s.changed:
		case <-deadline.C:
			return false
		}
	}
}

// awaitNoEcho waits until the terminal of ptmx no longer echoes what is
// typed (the settings of a pseudo-terminal are its pair's), checking at
// each tick: echo is turned off by the process, which tells no one.
func awaitNoEcho(t *testing.T, ptmx *os.File, d time.Duration) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	deadline := time.After(d)
	for {
		tio, err := unix.IoctlGetTermios(int(ptmx.Fd()), ioctlGetTermios)
		if err != nil {
			t.Fatalf("reading the terminal's settings: %v", err)
		}
		if tio.Lflag&unix.ECHO == 0 {
			return
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatal("the terminal still echoes: the password prompt did not turn echo off")
		}
	}
}

// isEIO reports the error Linux gives for reading a pseudo-terminal's
// master once every process has closed its side.
func isEIO(err error) bool {
	var pe *os.PathError
	return errors.As(err, &pe) && strings.Contains(pe.Err.Error(), "input/output error")
}

// termSetup is a tenant, an input of n users, and a built binary.
func termSetup(t *testing.T, n int, opts graphsim.Options) (bin string, tn *tenant, in string) {
	t.Helper()
	bin = buildBinary(t)
	users := graphsim.GenerateUsers(n, testDomain)
	tn = startTenant(t, opts, users)
	var b strings.Builder
	b.WriteString("UserPrincipalName\n")
	for _, u := range users {
		b.WriteString(u.UPN + "\n")
	}
	return bin, tn, writeFile(t, t.TempDir(), "users.csv", b.String())
}

func outputArgs(t *testing.T) (args []string, results, secrets string) {
	dir := t.TempDir()
	results, secrets = filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	return []string{"-o", results, "--secrets", secrets, "--yes"}, results, secrets
}

// TestProgressBarInTerminal is acceptance 1: in a terminal the run draws a
// live bar with rows done / total, rate, ETA and throttled count, then the
// summary below it.
func TestProgressBarInTerminal(t *testing.T) {
	// Latency makes the run last about a second, so the bar is redrawn as
	// rows finish; 300 rows in batches of 20, one at a time.
	bin, tn, in := termSetup(t, 300, graphsim.Options{Latency: 70 * time.Millisecond})
	out, results, secrets := outputArgs(t)
	args := append(append([]string{"reset", "-i", in, "--concurrency", "1"}, out...), tn.authArgs()...)
	res := runInPty(t, bin, childEnv(tn, "TERM=xterm-256color"), false, args...)
	if res.code != exitOK {
		t.Fatalf("exit code %d, want 0; terminal:\n%s", res.code, res.terminal)
	}
	term := res.terminal
	if !strings.Contains(term, "\x1b[") {
		t.Errorf("no cursor movement: the bar is not redrawn in place:\n%q", term)
	}
	frames := regexp.MustCompile(`Resetting (\d+)(?:/(\d+))? rows \[[= >]*\] (?:[\d.]+|-)/s  ETA (?:\S+)  throttled (\d+)`).FindAllStringSubmatch(term, -1)
	if len(frames) == 0 {
		t.Fatalf("no progress bar in the terminal:\n%q", term)
	}
	last := frames[len(frames)-1]
	if last[1] != "300" || last[2] != "300" || last[3] != "0" {
		t.Errorf("last frame %q, want 300/300 rows and throttled 0", last[0])
	}
	prev := -1
	for _, f := range frames {
		n, _ := strconv.Atoi(f[1])
		if n < prev {
			t.Errorf("rows done went back from %d to %d", prev, n)
		}
		prev = n
	}
	if i, j := strings.LastIndex(term, "Resetting "), strings.Index(term, "Summary: 300 rows"); j < 0 || j < i {
		t.Errorf("the summary is missing or not after the bar:\n%q", term)
	}
	checkRunFiles(t, tn, results, secrets, 300)
	checkNoSecrets(t, tn, secrets, map[string]string{"terminal": term})
}

// TestNoControlSequencesWhenRedirected: standard error to a file (input and
// output still on a terminal) gets plain lines, no terminal control.
func TestNoControlSequencesWhenRedirected(t *testing.T) {
	bin, tn, in := termSetup(t, 120, graphsim.Options{})
	out, results, secrets := outputArgs(t)
	args := append(append([]string{"reset", "-i", in}, out...), tn.authArgs()...)
	res := runInPty(t, bin, childEnv(tn, "TERM=xterm-256color"), true, args...)
	if res.code != exitOK {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", res.code, res.stderr)
	}
	if strings.ContainsAny(res.stderr, "\x1b\r") {
		t.Errorf("standard error redirected to a file has terminal control characters:\n%q", res.stderr)
	}
	if strings.Contains(res.stderr, "Resetting") || !strings.Contains(res.stderr, "Summary: 120 rows") {
		t.Errorf("want no bar and the summary in the file:\n%s", res.stderr)
	}
	checkRunFiles(t, tn, results, secrets, 120)
}

// TestTerminalQuietAndJSON: on a terminal, --quiet shows no progress, and
// --log-format json keeps every line a JSON object (no bar).
func TestTerminalQuietAndJSON(t *testing.T) {
	bin, tn, in := termSetup(t, 60, graphsim.Options{})
	env := childEnv(tn, "TERM=xterm-256color")

	out, _, _ := outputArgs(t)
	res := runInPty(t, bin, env, false, append(append([]string{"reset", "-i", in, "--quiet"}, out...), tn.authArgs()...)...)
	if res.code != exitOK || strings.Contains(res.terminal, "Resetting") || strings.Contains(res.terminal, "\x1b[") ||
		!strings.Contains(res.terminal, "Summary: 60 rows") {
		t.Errorf("--quiet: exit %d, want 0, no bar, the summary:\n%q", res.code, res.terminal)
	}

	out, _, _ = outputArgs(t)
	res = runInPty(t, bin, env, false, append(append([]string{"reset", "-i", in, "--log-format", "json"}, out...), tn.authArgs()...)...)
	if res.code != exitOK {
		t.Fatalf("json: exit %d:\n%s", res.code, res.terminal)
	}
	lines := strings.Split(strings.TrimRight(res.terminal, "\r\n"), "\r\n") // the terminal turns \n into \r\n
	for i, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Errorf("json on a terminal: line %d is not JSON: %q", i+1, l)
		}
	}
	var last map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || last["msg"] != "summary" || last["rows"] != 60.0 {
		t.Errorf("json on a terminal: the last line is not the summary: %q", lines[len(lines)-1])
	}
}

// checkRunFiles checks that every one of n users was reset with the
// password recorded for them.
func checkRunFiles(t *testing.T, tn *tenant, results, secrets string, n int) {
	t.Helper()
	rs := readResults(t, results)
	pw := readSecrets(t, secrets)
	if len(rs) != n || len(pw) != n {
		t.Errorf("%d results and %d passwords, want %d of each", len(rs), len(pw), n)
	}
	for _, r := range rs {
		u, ok := tn.sim.User(r.User)
		if r.Outcome != "succeeded" || !ok || u.Password != pw[strings.ToLower(r.User)] {
			t.Errorf("line %d %s: %s, password in force is the recorded one: %v", r.Line, r.User, r.Outcome, ok && u.Password == pw[strings.ToLower(r.User)])
		}
	}
}
