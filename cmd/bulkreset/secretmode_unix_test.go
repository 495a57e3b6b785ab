//go:build unix

package main

import (
	"os"
	"testing"
)

func checkSecretMode(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("secrets file mode %o, want 600", m)
	}
}
