//go:build unix

package main

import (
	"errors"
	"github.com/bulkreset/bulkreset/internal/syncbuf"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// command returns the binary run with args against tn, its environment a
// scheduled task's: the client secret and the emulator's CA from the
// environment, nothing from the test's own environment that could matter.
func (tn *tenant) command(t *testing.T, dir string, args ...string) (*exec.Cmd, *syncbuf.Buffer) {
	t.Helper()
	cmd := exec.Command(buildBinary(t), append(args, tn.authArgs()...)...)
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"AZURE_CLIENT_SECRET=" + testSecret,
		"AZURE_TENANT_ID=" + testTenant,
		"AZURE_CLIENT_ID=" + testClient,
		"SSL_CERT_FILE=" + tn.caFile,
	}
	var stderr syncbuf.Buffer
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

// resumeWords are the words of the resume command a run printed in its
// summary on stderr ("To finish the run: ..."); the test fails without one.
func resumeWords(t *testing.T, stderr string) []string {
	t.Helper()
	var line string
	for _, l := range strings.Split(stderr, "\n") {
		if after, ok := strings.CutPrefix(l, "To finish the run: "); ok {
			line = after
		}
	}
	if line == "" {
		t.Fatalf("no resume command printed:\n%s", stderr)
	}
	words := splitCommand(t, line)
	if words[0] != "bulkreset" || !slices.Contains(words, "--resume") {
		t.Fatalf("resume command %q: want bulkreset ... --resume", line)
	}
	return words
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
