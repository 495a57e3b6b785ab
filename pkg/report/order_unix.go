//go:build unix

package report

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// copyAccess gives dst, the new results file being written at dstPath, the
// permissions of the file it replaces, src, whose FileInfo is fi: its
// owner and group (a file in a setgid directory, or one chgrp'ed to share
// it), its mode (the umask may have narrowed the file, or someone widened
// it since) and, on Linux, its POSIX ACL.
func copyAccess(dst *os.File, _ string, src *os.File, fi fs.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		di, err := dst.Stat()
		if err != nil {
			return err
		}
		if dt, ok := di.Sys().(*syscall.Stat_t); !ok || dt.Uid != st.Uid || dt.Gid != st.Gid {
			if err := dst.Chown(int(st.Uid), int(st.Gid)); err != nil {
				return fmt.Errorf("owner %d, group %d: %w", st.Uid, st.Gid, err)
			}
		}
	}
	if err := dst.Chmod(fi.Mode().Perm()); err != nil {
		return err
	}
	return copyACL(dst, src)
}
