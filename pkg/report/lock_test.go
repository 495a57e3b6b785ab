package report

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestLockIsExclusiveAndReleased(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.csv")
	unlock, err := Lock(path)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if _, err := Lock(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Lock: got %v, want ErrLocked", err)
	}
	unlock()
	if _, err := os.Stat(path + ".lock"); !os.IsNotExist(err) {
		t.Errorf("lock file left behind after unlock: %v", err)
	}
	unlock2, err := Lock(path)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	unlock2()
}

// TestLockHeldByAnotherProcess runs this test binary as a child that takes
// the lock and waits; the parent must then be refused, and must get the
// lock once the child is killed (a crash leaves no lock behind).
func TestLockHeldByAnotherProcess(t *testing.T) {
	if path := os.Getenv("BULKRESET_LOCK_CHILD"); path != "" {
		if _, err := Lock(path); err != nil {
			os.Exit(2)
		}
		os.Stdout.WriteString("locked\n")
		select {} // until killed
	}
	path := filepath.Join(t.TempDir(), "results.csv")
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockHeldByAnotherProcess$")
	cmd.Env = append(os.Environ(), "BULKRESET_LOCK_CHILD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 7)
	if _, err := io.ReadFull(out, buf); err != nil || string(buf) != "locked\n" {
		cmd.Process.Kill()
		t.Fatalf("child did not take the lock: %q %v", buf, err)
	}
	if _, err := Lock(path); !errors.Is(err, ErrLocked) {
		t.Errorf("Lock while another process holds it: got %v, want ErrLocked", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	unlock, err := Lock(path)
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	unlock()
}

// TestLockConcurrent: runs taking and releasing the lock of one path at the
// same time each either get it or are told it is in use (ErrLocked); the
// lock file a holder removes while another run opens it is not an error.
func TestLockConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.csv")
	const workers, rounds = 4, 2000
	errs := make(chan error, workers)
	for range workers {
		go func() {
			for range rounds {
				unlock, err := Lock(path)
				if errors.Is(err, ErrLocked) {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				unlock()
			}
			errs <- nil
		}()
	}
	for range workers {
		if err := <-errs; err != nil {
			t.Errorf("Lock while others lock and unlock: %v, want success or ErrLocked", err)
		}
	}
}
