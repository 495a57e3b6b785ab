//go:build windows

package report

import (
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// createPrivate creates the file at path, which must not exist, for
// writing, with an owner-only ACL: Windows ignores mode 0600, and a file
// created with os.OpenFile inherits the ACL of its directory (often
// readable by every user of the machine). The descriptor is given to
// CreateFile itself, so that the file never exists with another ACL.
func createPrivate(path string) (*os.File, error) {
	sid, err := currentUserSID()
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	sddl, err := ownerOnlySDDL(sid)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return nil, fmt.Errorf("create %s: owner-only ACL: %w", path, err)
	}
	sa := &windows.SecurityAttributes{SecurityDescriptor: sd}
	sa.Length = uint32(unsafe.Sizeof(*sa))
	name, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	// CREATE_NEW is O_EXCL: an existing file (or link) is never opened.
	h, err := windows.CreateFile(name, windows.GENERIC_READ|windows.GENERIC_WRITE,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, sa,
		windows.CREATE_NEW, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}

// currentUserSID returns the SID of the account this process runs as.
func currentUserSID() (string, error) {
	tok, err := windows.OpenCurrentProcessToken()
	if err != nil {
		return "", fmt.Errorf("open the process token: %w", err)
	}
	defer tok.Close()
	u, err := tok.GetTokenUser()
	if err != nil {
		return "", fmt.Errorf("read the process token's user: %w", err)
	}
	return u.User.Sid.String(), nil
}
