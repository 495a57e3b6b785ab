package report

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// The errors of OpenOutputs say which the person can fix with other
// arguments (ErrConflict: the command maps them to a usage error), and a
// failed open leaves no file and no lock behind.
func TestOpenOutputsConflicts(t *testing.T) {
	dir := t.TempDir()
	results, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	opts := OutputOptions{Results: results, Secrets: secrets}

	out, err := OpenOutputs(opts, &Summary{})
	if err != nil {
		t.Fatalf("first open: %v", err)
	}
	// Another run on the same files while this one holds them: locked, not
	// a conflict of arguments.
	if _, err := OpenOutputs(OutputOptions{Results: results, Secrets: secrets, Resume: true}, &Summary{}); !errors.Is(err, ErrLocked) || errors.Is(err, ErrConflict) {
		t.Errorf("open while locked: %v, want ErrLocked only", err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	out.Release()

	// The files exist now: a new run must not overwrite them.
	_, err = OpenOutputs(opts, &Summary{})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("open over existing files: %v, want ErrConflict", err)
	}
	// The locks were released: a resume of the same files opens them.
	out, err = OpenOutputs(OutputOptions{Results: results, Secrets: secrets, Resume: true}, &Summary{})
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	if out.Prior == nil || out.Secrets == nil || out.Results == nil {
		t.Errorf("resume opened prior %v, secrets %v, results %v; want all three", out.Prior != nil, out.Secrets != nil, out.Results != nil)
	}
	out.Release()

	// Only the secrets file is new: a results file that exists is refused
	// before the secrets file is created.
	other := filepath.Join(dir, "other-secrets.csv")
	if _, err := OpenOutputs(OutputOptions{Results: results, Secrets: other}, &Summary{}); !errors.Is(err, ErrConflict) {
		t.Errorf("open with an existing results file: %v, want ErrConflict", err)
	}
	if _, err := os.Lstat(other); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the secrets file was left behind: %v", err)
	}
}
