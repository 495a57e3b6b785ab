//go:build unix

package report

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkOwner refuses the file at path, whose FileInfo is fi, when another
// user owns it: its owner can read it (a secrets file's passwords) and
// change it whatever its mode, or hold it (a lock file, to block every run).
func checkOwner(path string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: cannot tell who owns it", path)
	}
	if uid := os.Geteuid(); int64(st.Uid) != int64(uid) {
		return fmt.Errorf("%s is owned by uid %d, not by the user running bulkreset (uid %d): its owner may have read or changed it; check it, then remove it or chown it", path, st.Uid, uid)
	}
	return nil
}

// makePrivate refuses the secrets file at path, whose FileInfo is fi, when
// its permission bits go beyond maxPerm: others may have read it.
func makePrivate(path string, fi fs.FileInfo, maxPerm fs.FileMode) error {
	if fi.Mode().Perm()&^maxPerm != 0 {
		return fmt.Errorf("%s has mode %v, wider than %v: others may have read it; check, then chmod %o %s", path, fi.Mode().Perm(), maxPerm, maxPerm, path)
	}
	return nil
}
