package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// stampedVersion is the version the test binary is stamped with, the way
// the Makefile stamps releases.
const stampedVersion = "v9.8.7-stamp.test"

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// buildBinary builds bulkreset once per test run, with the version stamped
// through -ldflags -X as `make build` and `make release` do, for the tests
// that need a real process: a terminal, signals, the version.
func buildBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "bulkreset-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "bulkreset")
		if runtime.GOOS == "windows" {
			binPath += ".exe"
		}
		cmd := exec.Command("go", "build", "-ldflags", "-X main.version="+stampedVersion, "-o", binPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			binErr = &buildError{err: err, out: out.String()}
		}
	})
	if binErr != nil {
		t.Fatalf("building bulkreset: %v", binErr)
	}
	return binPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// TestVersionStamped runs a built binary: `bulkreset version` prints the
// version stamped at link time.
func TestVersionStamped(t *testing.T) {
	bin := buildBinary(t)
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("bulkreset version: %v\n%s", err, out)
	}
	if got, want := strings.TrimSpace(string(out)), "bulkreset "+stampedVersion; got != want {
		t.Errorf("bulkreset version printed %q, want %q", got, want)
	}
}

// childEnv is the environment of a bulkreset process in the tests: the
// tenant's (getenv's) variables, and none of the machine's AZURE_*.
func childEnv(tn *tenant, extra ...string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for _, k := range []string{"AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_CLIENT_ID", "SSL_CERT_FILE"} {
		env = append(env, k+"="+tn.getenv(nil)(k))
	}
	return append(env, extra...)
}
