package report

import (
	"errors"
	"fmt"
	"os"
)

// ErrLocked is returned by Lock when another process holds the lock.
var ErrLocked = errors.New("in use by another bulkreset run")

// Lock takes an exclusive lock on the outputs of a run, so that a
// scheduled run overlapping a manual one (or two --resume runs) cannot
// write the same results and secrets files. The lock is a file beside
// path, path+".lock", locked with the operating system's advisory lock
// (flock on unix, LockFileEx on Windows): it is released when the process
// ends, however it ends, so a crash never leaves a lock behind that would
// block the resume. Unlock releases it and removes the file. The lock file
// must be a regular file owned by the user running bulkreset: a symbolic
// link or anything else found at its path is refused, not followed, and a
// lock file of another user's (who could hold it to block every run) too.
func Lock(path string) (unlock func(), err error) {
	name := path + ".lock"
	for range 3 {
		// Never truncated, never through a symbolic link: a lock file
		// planted by someone else changes nothing outside it.
		f, fi, err := openRegular(name, os.O_RDWR|os.O_CREATE, 0o600)
		if errors.Is(err, errReplaced) {
			continue // the holder removed it as we opened it
		}
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if err := lockFile(f); err != nil {
			f.Close()
			if errors.Is(err, ErrLocked) {
				return nil, fmt.Errorf("%s is %w (its lock file is %s)", path, ErrLocked, name)
			}
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		// The holder before us may have removed the file after we opened
		// it: then our lock is on a file nobody else will open. Lock the
		// file that is at the path now.
		if pi, err := os.Lstat(name); err == nil && os.SameFile(fi, pi) {
			return func() {
				os.Remove(name)
				unlockFile(f)
				f.Close()
			}, nil
		}
		unlockFile(f)
		f.Close()
	}
	// Runs keep taking and releasing it: it is in use.
	return nil, fmt.Errorf("%s is %w (its lock file %s keeps changing)", path, ErrLocked, name)
}
