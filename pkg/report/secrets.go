package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"github.com/bulkreset/bulkreset/pkg/secret"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// SecretsHeader is the header of the secrets CSV, fixed by docs/files.md.
var SecretsHeader = []string{"line", "user", "password"}

// ErrClosed is returned by Record after Close.
var ErrClosed = errors.New("the secrets file is closed")

// SecretRow is one row of the secrets CSV: the password set for the user of
// an input line. Its String, GoString and LogValue methods never show the
// password, so that a row printed or logged by mistake leaks nothing.
type SecretRow struct {
	Line     int
	User     string
	Password secret.Value
	// Tenant is the tenant of the user, for an input with a TenantId
	// column: a password is of no use without knowing whose it is. It is
	// written only to a file with Columns{Tenant: true}.
	Tenant string
	// Extra are the cells of the input columns Columns.SecretsExtra
	// names, in that order; written only to a file with those columns.
	Extra []string
}

// String returns the line and the user, never the password.
func (r SecretRow) String() string {
	return fmt.Sprintf("line %d user %s password [redacted]", r.Line, r.User)
}

// File is what Secrets needs of a file: *os.File, or a fake in tests (a
// full disk, a counter of syncs).
type File interface {
	io.Writer
	Sync() error
	Close() error
}

// Secrets appends rows to the secrets CSV, each made durable (written and
// synced to disk) before Record returns: a password must be on disk before
// the request that sets it is sent (docs/files.md, "The secrets file").
//
// Record is safe for concurrent use and commits in groups: one committer
// goroutine writes every row submitted while the previous sync was running,
// syncs once and then releases all those callers, so that durability does
// not cap throughput.
type Secrets struct {
	f    File
	cols Columns // the file's optional columns
	// seal, when set, turns the rows of one commit into what is written
	// (an encrypted journal frame, see secrets_age.go).
	seal func(plain []byte) ([]byte, error)
	reqs chan *commit  // Record -> committer; unbuffered
	quit chan struct{} // closed by Close
	done chan struct{} // closed when the committer has returned

	mu  sync.Mutex
	err error // the first write or sync error; sticky

	closeOnce sync.Once
	closeErr  error
}

// commit is the rows of one Record call, encoded, and where its outcome goes.
type commit struct {
	data []byte
	done chan error // buffered, so that the committer never waits for a caller
}

// NewSecrets returns a Secrets appending rows to f, which already holds the
// header (CreateSecrets and OpenSecretsAppend see to that). It starts the
// committer goroutine: call Close when done.
func NewSecrets(f File) *Secrets {
	return NewSecretsColumns(f, Columns{})
}

// NewSecretsColumns is NewSecrets for a file whose header has the optional
// columns c.
func NewSecretsColumns(f File, c Columns) *Secrets {
	s := &Secrets{
		f:    f,
		cols: c,
		reqs: make(chan *commit),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	go s.commitLoop()
	return s
}

// CreateSecrets creates the secrets file at path with mode 0600 (on Windows,
// an ACL granting its owner alone access, inheriting nothing from the
// directory), refusing an existing file or link, and writes and syncs its
// header before it returns.
func CreateSecrets(path string) (_ *Secrets, err error) {
	return CreateSecretsColumns(path, Columns{})
}

// CreateSecretsColumns is CreateSecrets for a file with the optional
// columns c.
func CreateSecretsColumns(path string, c Columns) (_ *Secrets, err error) {
	if path == "" || path == "-" {
		return nil, errors.New("the secrets must go to a file, not standard output")
	}
	f, err := createSecretsFile(path, headerLine(c.secretsHeader()))
	if err != nil {
		return nil, err
	}
	return NewSecretsColumns(f, c), nil
}

// createSecretsFile creates a secrets file (or journal) at path with mode
// 0600 (see CreateSecrets), refusing an existing file or link, and writes
// and syncs first, and the directory, before it returns.
func createSecretsFile(path string, first []byte) (_ *os.File, err error) {
	f, err := createPrivate(path)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("secrets file %s already exists; it is never overwritten (use another path, or resume the run that wrote it): %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("create secrets file: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(path) // we created it, and it holds no password yet
		}
	}()
	// The umask can only narrow 0600, but a default ACL on the directory
	// can grant others access; an explicit chmod also clears the ACL mask.
	if err := f.Chmod(0o600); err != nil {
		return nil, fmt.Errorf("create secrets file: %w", err)
	}
	if _, err := f.Write(first); err != nil {
		return nil, fmt.Errorf("create secrets file: %w", err)
	}
	if err := f.Sync(); err != nil {
		return nil, fmt.Errorf("create secrets file: %w", err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("create secrets file: sync its directory: %w", err)
	}
	return f, nil
}

// OpenSecretsAppend opens the secrets file of an interrupted run for
// --resume. It refuses a path that is not a regular file, and on unix a
// file whose mode is wider than 0600. A torn last row, left by a crash
// during a write, is cut off: Record had not returned for it, so its
// password was never sent. Read the file with ReadSecrets first to reuse the
// passwords already recorded.
func OpenSecretsAppend(path string) (*Secrets, error) {
	return OpenSecretsAppendColumns(path, Columns{})
}

// OpenSecretsAppendColumns is OpenSecretsAppend for a file with the
// optional columns c: its header must be that of c.
func OpenSecretsAppendColumns(path string, c Columns) (*Secrets, error) {
	f, err := openAppend(path, c.secretsHeader(), 0o600)
	if err != nil {
		return nil, resumeErrorf("open secrets file: %w", err)
	}
	if err := f.Sync(); err != nil { // the repair, if any
		f.Close()
		return nil, resumeErrorf("open secrets file: %w", err)
	}
	return NewSecretsColumns(f, c), nil
}

// Record appends rows to the file and returns nil only once they are
// written and synced to disk. It is safe for concurrent use; see Secrets
// for group commit. The password is written literally, never escaped (it is
// the secret itself); the user is escaped as in the results CSV, its
// control characters made visible.
//
// After any write or sync error every later Record fails with an error
// wrapping the first one: the caller must stop sending passwords.
//
// If ctx is done before the rows are handed to the committer, Record returns
// an error wrapping ctx.Err() and the rows are not written. If ctx is done
// while the commit is running, Record returns such an error at once, and the
// rows may or may not end up on disk. Either way the caller must not send
// those passwords; a row that did reach the file only names a password never
// set, which a resumed run reuses.
func (s *Secrets) Record(ctx context.Context, rows []SecretRow) error {
	if err := s.failure(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("record passwords: %w (nothing written)", err)
	}
	if len(rows) == 0 {
		return nil
	}
	data, err := encodeSecrets(rows, s.cols)
	if err != nil {
		return err
	}
	c := &commit{data: data, done: make(chan error, 1)}
	select {
	case s.reqs <- c:
	case <-ctx.Done():
		return fmt.Errorf("record passwords: %w (nothing written)", ctx.Err())
	case <-s.quit:
		return ErrClosed
	}
	select {
	case err := <-c.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("record passwords: gave up waiting for the disk, the rows may or may not be in the file: %w", ctx.Err())
	}
}

// Close waits for the commit in progress, stops the committer and closes the
// file. It returns the first write or sync error if there was one, else the
// error closing the file. Record fails with ErrClosed afterwards.
func (s *Secrets) Close() error {
	s.closeOnce.Do(func() {
		close(s.quit)
		<-s.done
		err := s.f.Close()
		if ferr := s.failure(); ferr != nil {
			s.closeErr = ferr
		} else if err != nil {
			s.closeErr = fmt.Errorf("close secrets file: %w", err)
		}
	})
	return s.closeErr
}

func (s *Secrets) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// commitLoop is the committer: it takes one commit, then every other one
// already waiting (those submitted during the previous sync), and writes
// and syncs them together.
func (s *Secrets) commitLoop() {
	defer close(s.done)
	var buf []byte
	var group []*commit
	for {
		select {
		case c := <-s.reqs:
			group = append(group[:0], c)
		case <-s.quit:
			return
		}
	collect:
		for {
			select {
			case c := <-s.reqs:
				group = append(group, c)
			default:
				break collect
			}
		}
		buf = buf[:0]
		for _, c := range group {
			buf = append(buf, c.data...)
		}
		err := s.sealAndWrite(buf)
		for _, c := range group {
			clear(c.data) // do not keep passwords around longer than needed
			c.done <- err
		}
		clear(buf)
		clear(group)
	}
}

// sealAndWrite writes and syncs the rows encoded in plain, sealed into a
// journal frame when the file is encrypted.
func (s *Secrets) sealAndWrite(plain []byte) error {
	if s.seal == nil || s.failure() != nil {
		return s.write(plain)
	}
	frame, err := s.seal(plain)
	if err != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.err = fmt.Errorf("secrets journal failed, no further password may be sent: %w", err)
		return s.err
	}
	return s.write(frame)
}

// write writes and syncs data, unless an earlier write failed.
func (s *Secrets) write(data []byte) error {
	if err := s.failure(); err != nil {
		return err
	}
	n, err := s.f.Write(data)
	if err == nil && n < len(data) {
		err = io.ErrShortWrite
	}
	if err == nil {
		err = s.f.Sync()
	}
	if err == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.err = fmt.Errorf("secrets file failed, no further password may be sent: %w", err)
	return s.err
}

// encodeSecrets encodes rows as CSV, escaping the user and leaving the
// password as it is, with the optional columns c. No error
// names the password.
func encodeSecrets(rows []SecretRow, c Columns) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	for _, r := range rows {
		switch {
		case r.Password.Empty():
			return nil, fmt.Errorf("record passwords: line %d: empty password", r.Line)
		case strings.ContainsAny(r.Password.Reveal(), "\r\n"):
			// CSV readers turn CR LF inside a field into LF: the password
			// read back would differ from the one set.
			return nil, fmt.Errorf("record passwords: line %d: the password contains a line break", r.Line)
		}
		rec := []string{strconv.Itoa(r.Line), escapeCell(Visible(r.User)), r.Password.Reveal()}
		if c.Tenant {
			rec = append(rec, escapeCell(Visible(r.Tenant)))
		}
		for i := range c.SecretsExtra.Len() {
			var v string
			if i < len(r.Extra) {
				v = r.Extra[i]
			}
			rec = append(rec, escapeCell(Visible(v)))
		}
		_ = w.Write(rec) // cannot fail: a bytes.Buffer
	}
	w.Flush()
	return b.Bytes(), nil
}

// SecretsReader reads a secrets file row by row, in bounded memory, as
// ResultsReader reads a results file. Its errors never contain a cell of
// the file, which could be a password.
type SecretsReader = RowReader[SecretRow]

// NewSecretsReader returns a reader of the secrets file r.
func NewSecretsReader(r io.Reader) *SecretsReader {
	rd := newRowReader(r, SecretsHeader, parseSecret, TenantColumn)
	rd.rr.extra = true // the input columns --secrets-columns copies
	return rd
}

// ReadSecrets reads a whole secrets file, undoing the escaping of the user
// column. On error it returns the rows before the failing one with the
// error; a torn last row was never sent, so errors.Is(err, ErrTruncated)
// may be accepted when resuming.
func ReadSecrets(r io.Reader) ([]SecretRow, error) {
	return NewSecretsReader(r).readAll()
}

func parseSecret(rec *record) (SecretRow, error) {
	f := rec.fields
	line, err := strconv.Atoi(f[0])
	if err != nil || line < 0 {
		// Not strconv's error: it would quote the cell.
		return SecretRow{}, &ParseError{Line: rec.line, Column: "line", Err: errors.New("not a line number")}
	}
	if f[2] == "" {
		return SecretRow{}, &ParseError{Line: rec.line, Column: "password", Err: errors.New("empty password")}
	}
	row := SecretRow{Line: line, User: unescapeCell(f[1]), Password: secret.New(f[2])}
	rest := f[len(SecretsHeader):]
	if rec.cols.Tenant {
		row.Tenant, rest = unescapeCell(rest[0]), rest[1:]
	}
	for _, v := range rest {
		row.Extra = append(row.Extra, unescapeCell(v))
	}
	return row, nil
}
