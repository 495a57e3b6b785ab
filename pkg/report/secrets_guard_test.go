package report

import (
	"errors"
	"path/filepath"
	"testing"
)

// TestNewPlainRunBesideJournal: an interrupted encrypted run leaves its
// passwords in FILE.journal alone (FILE does not exist yet), and only its
// --resume can read them. A new plain run given the same --secrets FILE
// (another -o) must be refused as a new encrypted run is: else it creates
// a plain FILE beside the journal, and the encrypted run's resume is then
// refused ("a plain secrets file"), leaving the passwords in force of the
// users it changed in a journal nothing can read.
func TestNewPlainRunBesideJournal(t *testing.T) {
	r := newAgeRun(t)
	r.interrupted(t, []int{2, 3})
	other := filepath.Join(t.TempDir(), "other-results.csv")
	out, err := OpenOutputs(OutputOptions{Results: other, Secrets: r.secrets, Columns: r.cols}, nil)
	if err == nil {
		out.Release()
		t.Errorf("a new plain run with the secrets file of an interrupted encrypted run is not refused")
	} else if !errors.Is(err, ErrConflict) {
		t.Errorf("a new plain run beside the journal: %v, want an ErrConflict", err)
	}
	resumed, err := r.open(true, r.id)
	if err != nil {
		t.Fatalf("the encrypted run can no longer be resumed: %v", err)
	}
	resumed.Release()
}
