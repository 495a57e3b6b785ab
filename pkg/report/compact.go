package report

import (
	"fmt"
	"os"
	"path/filepath"
)

// CompactSecrets rewrites the secrets file at path keeping only the rows for
// which keep returns true, and returns how many it kept. The secrets file is
// a write-ahead record: every password is on disk before the request that
// sets it is sent, so a finished run's file also holds passwords that Graph
// refused (a user not found, an admin the app may not reset). Once every
// row's outcome is known, those are dropped, so that the file lists exactly
// the passwords in force. The rewrite is atomic: a new 0600 file is written
// and synced beside the old one, then renamed over it; a crash leaves either
// the old file or the new one, never a mix. The Secrets writer of path must
// be closed first.
func CompactSecrets(path string, keep func(SecretRow) bool) (kept int, err error) {
	in, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("compact secrets file: %w", err)
	}
	defer in.Close()

	rd := NewSecretsReader(in)
	cols, err := rd.Columns() // the new file keeps the old one's columns
	if err != nil {
		return 0, fmt.Errorf("compact secrets file: %w", err)
	}
	tmp := path + ".compact"
	os.Remove(tmp) // a leftover of a crash during an earlier compaction
	out, err := CreateSecretsColumns(tmp, cols)
	if err != nil {
		return 0, fmt.Errorf("compact secrets file: %w", err)
	}
	defer func() {
		if err != nil {
			out.Close()
			os.Remove(tmp)
		}
	}()
	// Each group of rows is written and synced by out.write.
	kept, err = copyRows(writerFunc(func(p []byte) (int, error) { return len(p), out.write(p) }), rd, cols, keep)
	if err != nil {
		return 0, fmt.Errorf("compact secrets file: %w", err)
	}
	if err := out.Close(); err != nil { // every write above was synced
		return 0, fmt.Errorf("compact secrets file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return 0, fmt.Errorf("compact secrets file: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return kept, fmt.Errorf("compact secrets file: sync its directory: %w", err)
	}
	return kept, nil
}

// mustEncode encodes rows read back from a secrets file, which encode.
func mustEncode(rows []SecretRow, c Columns) []byte {
	b, err := encodeSecrets(rows, c)
	if err != nil {
		panic(err) // rows read from a secrets file always encode
	}
	return b
}

// writerFunc is an io.Writer that is a function.
type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
