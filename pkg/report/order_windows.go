//go:build windows

package report

import (
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

// copyAccess gives dst, the new results file being written at dstPath, the
// DACL of the file it replaces, src: its explicit entries and whether it
// inherits from the directory (the new file is made with an owner-only ACL
// first, see createPrivate). The owner is the account running bulkreset,
// as it is for a results file it creates; giving the file another owner
// would take a privilege it need not have.
func copyAccess(_ *os.File, dstPath string, src *os.File, _ fs.FileInfo) error {
	sd, err := windows.GetSecurityInfo(windows.Handle(src.Fd()), windows.SE_FILE_OBJECT, windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return fmt.Errorf("read its ACL: %w", err)
	}
	dacl, _, err := sd.DACL()
	if err != nil {
		return fmt.Errorf("read its ACL: %w", err)
	}
	control, _, err := sd.Control()
	if err != nil {
		return fmt.Errorf("read its ACL: %w", err)
	}
	info := windows.SECURITY_INFORMATION(windows.DACL_SECURITY_INFORMATION | windows.UNPROTECTED_DACL_SECURITY_INFORMATION)
	if control&windows.SE_DACL_PROTECTED != 0 {
		info = windows.DACL_SECURITY_INFORMATION | windows.PROTECTED_DACL_SECURITY_INFORMATION
	}
	if err := windows.SetNamedSecurityInfo(dstPath, windows.SE_FILE_OBJECT, info, nil, nil, dacl, nil); err != nil {
		return fmt.Errorf("set its ACL: %w", err)
	}
	return nil
}
