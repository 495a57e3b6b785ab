package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
)

// utf8BOM is the byte-order mark a spreadsheet may put in front of a file it
// saves again.
const utf8BOM = "\uFEFF"

// openAppend opens an existing file written by this package so that rows can
// be appended to it: a regular file (not a symbolic link, a device or a
// pipe) owned by the user running bulkreset, whose first line is header.
// When maxPerm is not zero the file holds secrets: on unix, permission bits
// beyond maxPerm are refused; on Windows, which has no such bits, the file
// is given the owner-only ACL it was created with. A torn last row is cut
// off and an empty file, or one holding a torn header, gets the header. The
// file is returned positioned at its end.
func openAppend(path string, header []string, maxPerm fs.FileMode) (_ *os.File, err error) {
	f, fi, err := openRegular(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	if maxPerm != 0 {
		if err := makePrivate(path, fi, maxPerm); err != nil {
			return nil, err
		}
	}
	if err := repair(f, fi.Size(), headerLine(header)); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if _, err := f.Seek(0, io.SeekEnd); err != nil {
		return nil, err
	}
	return f, nil
}

// errReplaced is the error of openRegular when the file at the path
// changed between the checks and the opening: another process removed it
// or put another in its place. Lock tries again on it.
var errReplaced = errors.New("was replaced while it was being opened")

// OpenLog opens the log file at path to append records to it, creating it
// (mode 0600) when it does not exist. Like every file bulkreset writes, it
// must be a regular file owned by the user running bulkreset, never reached
// through a symbolic link: a root run must not append records, which quote
// input cells, to a file another user chose. A pipe or a device (such as
// /dev/stdout, a link) is refused too: the log records go to standard error
// already.
func OpenLog(path string) (*os.File, error) {
	f, _, err := openRegular(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	return f, err
}

// openRegular opens path with flag (and perm, when flag has os.O_CREATE),
// refusing anything but a regular file owned by the user running bulkreset
// (on unix; see checkOwner). A symbolic link is never followed: another
// local user who can write to the directory could plant one to make this
// run create, lock or change a file elsewhere. A pipe or a device is
// refused before it is opened, so that opening cannot block (a named pipe
// waits for a writer, deaf to a context or a signal). Windows has no
// O_NOFOLLOW: there the path is checked with Lstat before and after opening.
// It returns the open file and its FileInfo; errReplaced when the file at
// path changed while it was being opened.
func openRegular(path string, flag int, perm fs.FileMode) (_ *os.File, _ fs.FileInfo, err error) {
	li, err := os.Lstat(path)
	switch {
	case err == nil:
		if !li.Mode().IsRegular() {
			return nil, nil, notRegular(path, li.Mode())
		}
	case errors.Is(err, fs.ErrNotExist) && flag&os.O_CREATE != 0:
	default:
		return nil, nil, err
	}
	f, err := os.OpenFile(path, flag|noFollow, perm)
	if err != nil {
		// O_NOFOLLOW fails on a link planted since the Lstat: say so.
		if li, lerr := os.Lstat(path); lerr == nil && !li.Mode().IsRegular() {
			return nil, nil, notRegular(path, li.Mode())
		}
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, notRegular(path, fi.Mode())
	}
	if li, err = os.Lstat(path); err != nil || !os.SameFile(li, fi) {
		return nil, nil, fmt.Errorf("%s %w", path, errReplaced)
	}
	if err := checkOwner(path, fi); err != nil {
		return nil, nil, err
	}
	return f, fi, nil
}

// notRegular is the error for a path that is not a regular file.
func notRegular(path string, m fs.FileMode) error {
	return fmt.Errorf("%s is not a regular file (%v); bulkreset reads and writes only regular files, and never follows a symbolic link", path, m.Type())
}

// repair checks the header of f, whose size is size, writes it when the file
// holds no complete header, and cuts off a torn last row.
func repair(f *os.File, size int64, header []byte) error {
	first := make([]byte, len(utf8BOM)+len(header)+1) // room for a BOM and a CR
	n, err := f.ReadAt(first, 0)
	if err != nil && err != io.EOF {
		return err
	}
	first = first[:n]
	got := bytes.TrimPrefix(first, []byte(utf8BOM))
	rest, complete := bytes.CutPrefix(got, bytes.TrimSuffix(header, []byte("\n")))
	switch {
	case complete && (bytes.HasPrefix(rest, []byte("\n")) || bytes.HasPrefix(rest, []byte("\r\n"))):
	case int64(n) == size && bytes.HasPrefix(header, got):
		// Empty, or cut short while its header was being written: nothing
		// else can be in it.
		if err := f.Truncate(0); err != nil {
			return err
		}
		if _, err := f.WriteAt(header, 0); err != nil {
			return err
		}
		return nil
	default:
		return fmt.Errorf("%w %q", ErrHeader, bytes.TrimSuffix(header, []byte("\n")))
	}
	end, err := lastNewline(f, size)
	if err != nil {
		return err
	}
	if end != size {
		return f.Truncate(end)
	}
	return nil
}

// lastNewline returns the offset just past the last newline of f, whose size
// is size (size itself when the file ends with a newline).
func lastNewline(f io.ReaderAt, size int64) (int64, error) {
	buf := make([]byte, 4096)
	for end := size; end > 0; {
		start := max(end-int64(len(buf)), 0)
		chunk := buf[:end-start]
		if _, err := f.ReadAt(chunk, start); err != nil {
			return 0, err
		}
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			return start + int64(i) + 1, nil
		}
		end = start
	}
	return 0, nil
}

// syncDir makes the creation of a file in dir durable: on unix a new
// directory entry survives power loss only once the directory is synced.
// Windows cannot open a directory for that, and needs no such step on NTFS.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(filepath.Clean(dir))
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	// Some file systems cannot sync a directory; the file itself is synced.
	if errors.Is(err, errors.ErrUnsupported) || errors.Is(err, syscall.EINVAL) {
		return nil
	}
	return err
}
