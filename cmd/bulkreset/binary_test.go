//go:build unix

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// The tests that kill, interrupt or starve a run need the real binary in
// its own process.
var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// bulkresetBinary builds this command once per test run.
func bulkresetBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "bulkreset-test-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "bulkreset")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("building bulkreset: %v", buildErr)
	}
	return binPath
}

// command returns the binary run with args against tn, its environment a
// scheduled task's: the client secret and the emulator's CA from the
// environment, nothing from the test's own environment that could matter.
func (tn *tenant) command(t *testing.T, dir string, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	cmd := exec.Command(bulkresetBinary(t), append(args, tn.authArgs()...)...)
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"AZURE_CLIENT_SECRET=" + testSecret,
		"AZURE_TENANT_ID=" + testTenant,
		"AZURE_CLIENT_ID=" + testClient,
		"SSL_CERT_FILE=" + tn.caFile,
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	return cmd, &stderr
}

// exitCode is the exit code of a finished command, -1 when a signal ended it.
func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatalf("running bulkreset: %v", err)
	return 0
}

// syncBuffer is a bytes.Buffer safe for a process's writes and a test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// splitCommand splits a command line printed by resumeCommand (POSIX
// quoting) into its words.
func splitCommand(t *testing.T, line string) []string {
	t.Helper()
	var (
		words  []string
		cur    strings.Builder
		inWord bool
		quoted bool
	)
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quoted && c == '\'':
			quoted = false
		case quoted:
			cur.WriteByte(c)
		case c == '\'':
			quoted, inWord = true, true
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		case c == ' ':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unterminated quote in %q", line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

func TestShellQuoteRoundTrip(t *testing.T) {
	for _, s := range []string{"plain", "with space", "it's", "$HOME", "a'b'c", "", "semi;colon", `back\slash`} {
		q := shellQuote(s)
		got := splitCommand(t, "x "+q)
		if len(got) != 2 || got[1] != s {
			t.Errorf("shellQuote(%q) = %s, splits to %q", s, q, got)
		}
	}
}
