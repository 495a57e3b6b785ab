//go:build unix

package csvin

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestOpenPipe reads a named pipe, as bash's <(...) or /dev/stdin give
// one: Open must not need to seek.
func TestOpenPipe(t *testing.T) {
	for _, tt := range []struct {
		name, data  string
		unsupported bool
	}{
		{"csv", "UPN\r\nadele@contoso.com\r\n", false},
		{"workbook", "PK\x03\x04rest of a zip", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "users.csv")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatalf("Mkfifo: %v", err)
			}
			done := make(chan error, 1)
			go func() {
				w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
				if err == nil {
					_, err = w.WriteString(tt.data)
					w.Close()
				}
				done <- err
			}()
			r, err := Open(fifo, Options{})
			if tt.unsupported {
				if !errors.Is(err, ErrUnsupported) {
					t.Errorf("Open: got %v, want ErrUnsupported", err)
				}
			} else {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				checkRows(t, readAll(t, r), []Row{{Line: 2, UPN: "adele@contoso.com"}})
				r.Close()
			}
			if err := <-done; err != nil {
				t.Errorf("writing the pipe: %v", err)
			}
		})
	}
}
