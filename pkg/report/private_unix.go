//go:build unix

package report

import "os"

// createPrivate creates the file at path, which must not exist, for
// writing, readable and writable by its owner only (mode 0600 before the
// umask). A symbolic link at path is not followed (O_EXCL refuses it).
func createPrivate(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|noFollow, 0o600)
}
