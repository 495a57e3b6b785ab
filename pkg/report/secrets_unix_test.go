//go:build unix

package report

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestCreateSecretsMode0600UnderUmask0(t *testing.T) {
	// The umask is process-wide: this test must not run in parallel.
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "secrets.csv")
	s, err := CreateSecrets(path)
	if err != nil {
		t.Fatalf("CreateSecrets: %v", err)
	}
	defer s.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("got mode %v, want -rw-------", got)
	}
}

func TestOpenSecretsAppendRefusesWideMode(t *testing.T) {
	tests := []struct {
		name    string
		mode    os.FileMode
		wantErr bool
	}{
		{name: "0600", mode: 0o600},
		{name: "0400", mode: 0o400},
		{name: "0644", mode: 0o644, wantErr: true},
		{name: "0640", mode: 0o640, wantErr: true},
		{name: "0700", mode: 0o700, wantErr: true},
		{name: "0606", mode: 0o606, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "secrets.csv")
			if err := os.WriteFile(path, []byte(secretsHeaderLine), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil {
				t.Fatal(err)
			}
			s, err := OpenSecretsAppend(path)
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "wider than") {
					t.Errorf("OpenSecretsAppend(mode %v): got %v, want a refusal", tt.mode, err)
				}
				return
			}
			if err != nil {
				// Root may open a 0400 file for writing; anyone else may not,
				// and that refusal is a permission error, not ours.
				if tt.mode&0o200 == 0 && errors.Is(err, os.ErrPermission) {
					return
				}
				t.Fatalf("OpenSecretsAppend(mode %v): %v", tt.mode, err)
			}
			s.Close()
		})
	}
}

func TestOpenAppendRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.csv")
	if err := os.WriteFile(target, []byte(secretsHeaderLine), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.csv")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.csv")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{link, fifo} {
		if s, err := OpenSecretsAppend(path); err == nil {
			s.Close()
			t.Errorf("OpenSecretsAppend(%s): got nil error, want a refusal", filepath.Base(path))
		}
		if f, err := OpenResultsAppend(path); err == nil {
			f.Close()
			t.Errorf("OpenResultsAppend(%s): got nil error, want a refusal", filepath.Base(path))
		}
	}
}
