//go:build windows

package report

import (
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

// checkOwner accepts any owner on Windows: a file an elevated administrator
// creates is owned by the Administrators group, not by the account, so the
// owner says little. The secrets file is made the account's own by
// makePrivate instead.
func checkOwner(string, fs.FileInfo) error { return nil }

// makePrivate gives the secrets file at path, whose FileInfo is fi, the
// account running bulkreset as its owner and the owner-only ACL it is
// created with (see createPrivate): on --resume the file may have been
// created by another account, or its ACL widened since. The ACL is set on a
// handle of its own (the one bulkreset reads and writes with may not change
// the ACL), opened without following a link and checked to be the file fi
// describes. maxPerm, the unix mode bits, means nothing here.
func makePrivate(path string, fi fs.FileInfo, _ fs.FileMode) error {
	sid, err := currentUserSID()
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	sddl, err := ownerOnlySDDL(sid)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	sd, err := windows.SecurityDescriptorFromString(sddl)
	if err != nil {
		return fmt.Errorf("%s: owner-only ACL: %w", path, err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return fmt.Errorf("%s: owner-only ACL: %w", path, err)
	}
	owner, err := windows.StringToSid(sid)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	name, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	h, err := windows.CreateFile(name, windows.READ_CONTROL|windows.WRITE_DAC|windows.WRITE_OWNER|windows.FILE_READ_ATTRIBUTES,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
		windows.OPEN_EXISTING, windows.FILE_FLAG_OPEN_REPARSE_POINT, 0)
	if err != nil {
		return fmt.Errorf("%s: open to make it private: %w", path, err)
	}
	f := os.NewFile(uintptr(h), path)
	defer f.Close()
	if hi, err := f.Stat(); err != nil || !os.SameFile(hi, fi) {
		return fmt.Errorf("%s %w", path, errReplaced)
	}
	err = windows.SetSecurityInfo(h, windows.SE_FILE_OBJECT,
		windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION,
		owner, nil, dacl, nil)
	if err != nil {
		return fmt.Errorf("%s: give it an owner-only ACL: %w", path, err)
	}
	return nil
}
