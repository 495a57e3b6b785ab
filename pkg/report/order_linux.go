package report

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// posixACL is the extended attribute holding a file's POSIX access ACL
// (setfacl), beyond its mode bits.
const posixACL = "system.posix_acl_access"

// copyACL gives dst the POSIX ACL of src, if it has one.
func copyACL(dst, src *os.File) error {
	buf := make([]byte, 512)
	for {
		n, err := unix.Fgetxattr(int(src.Fd()), posixACL, buf)
		switch {
		case errors.Is(err, unix.ERANGE):
			buf = make([]byte, 2*len(buf))
			continue
		case errors.Is(err, unix.ENODATA), errors.Is(err, unix.ENOTSUP), errors.Is(err, unix.EOPNOTSUPP):
			return nil // no ACL, or a file system without them
		case err != nil:
			return fmt.Errorf("read its ACL: %w", err)
		}
		if err := unix.Fsetxattr(int(dst.Fd()), posixACL, buf[:n], 0); err != nil {
			return fmt.Errorf("set its ACL: %w", err)
		}
		return nil
	}
}
