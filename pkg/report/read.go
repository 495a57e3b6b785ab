package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// ErrTruncated reports a file whose last line does not end in a newline: the
// run that wrote it stopped in the middle of a row (a crash or a full disk).
// Both writers end every row with a newline, so the torn row is not
// trustworthy and readers drop it; the rows before it are sound.
var ErrTruncated = errors.New("the file ends in the middle of a row (the run that wrote it was cut short)")

// ErrHeader reports a file whose first line is not the expected header.
var ErrHeader = errors.New("the first line is not the expected header")

// ParseError is an error in one row of a results or secrets file. Line is
// the 1-based line of the file, as an editor shows it.
type ParseError struct {
	Line   int    // line of the file where the row starts
	Column string // column name, or "" when the error concerns the whole row
	Err    error
}

// Error returns the line, the column and the cause.
func (e *ParseError) Error() string {
	if e.Column == "" {
		return fmt.Sprintf("line %d: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("line %d, column %s: %v", e.Line, e.Column, e.Err)
}

// Unwrap returns the cause.
func (e *ParseError) Unwrap() error { return e.Err }

// tailReader remembers the last byte read, so that a reader can tell at EOF
// whether the input ended with a newline.
type tailReader struct {
	r    io.Reader
	last byte
	n    int64
}

func (t *tailReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.last = p[n-1]
		t.n += int64(n)
	}
	return n, err
}

// record is one CSV record and the line where it starts.
type record struct {
	fields []string
	line   int
	err    error
	io     bool    // err comes from the underlying reader, not from the data
	cols   Columns // the optional columns of the file, after its fixed ones
}

// recordReader reads the records of a file written by this package: it
// checks the header, drops a UTF-8 byte-order mark (a file saved again by
// Excel), reports line numbers and detects a torn last row. It reads one
// record ahead, because only the next read tells whether a record was the
// last one and whether the file ended with a newline.
type recordReader struct {
	tail     *tailReader
	csv      *csv.Reader
	header   []string
	optional []string // trailing columns a file may have after header: any of them, in this order
	cols     Columns  // the optional columns found, once started
	// extra accepts any further columns after header and optional: the
	// input columns a secrets file may copy (Columns.SecretsExtra).
	extra   bool
	started bool
	next    *record // the record read ahead, nil at EOF
	done    bool
}

// newRecordReader returns a reader of a file whose header is header,
// followed by any of the optional columns, in their order.
func newRecordReader(r io.Reader, header []string, optional ...string) *recordReader {
	tail := &tailReader{r: r}
	cr := csv.NewReader(tail)
	// 0: every record must have as many fields as the header, whichever
	// of the accepted headers it is.
	cr.FieldsPerRecord = 0
	return &recordReader{tail: tail, csv: cr, header: header, optional: optional}
}

// columns starts the reader, if not started yet, and returns the optional
// columns found in the header.
func (rr *recordReader) columns() (Columns, error) {
	if !rr.started {
		if err := rr.start(); err != nil {
			return Columns{}, err
		}
	}
	return rr.cols, nil
}

// readOne reads one record, or returns nil at EOF.
func (rr *recordReader) readOne() *record {
	fields, err := rr.csv.Read()
	if err == io.EOF {
		return nil
	}
	var pe *csv.ParseError
	switch {
	case errors.As(err, &pe):
		// csv's own message names the line already; keep only the cause so
		// that our message has the same shape as every other.
		return &record{fields: fields, line: pe.StartLine, err: pe.Err}
	case err != nil: // the underlying reader failed
		return &record{err: err, io: true}
	}
	line, _ := rr.csv.FieldPos(0)
	return &record{fields: fields, line: line}
}

// start reads and checks the header.
func (rr *recordReader) start() error {
	rr.started = true
	h := rr.readOne()
	if h == nil {
		rr.done = true
		if rr.tail.n == 0 {
			return &ParseError{Line: 1, Err: fmt.Errorf("%w: the file is empty", ErrHeader)}
		}
		return &ParseError{Line: 1, Err: ErrHeader}
	}
	if h.io {
		rr.done = true
		return h.err
	}
	if len(h.fields) > 0 {
		h.fields[0] = strings.TrimPrefix(h.fields[0], utf8BOM)
	}
	rr.next = rr.readOne()
	if rr.next == nil && rr.tail.last != '\n' {
		rr.done = true
		return &ParseError{Line: h.line, Err: ErrTruncated}
	}
	cols, ok := optionalColumns(h.fields, rr.header, rr.optional)
	if rr.extra {
		cols, ok = extraColumns(h.fields, rr.header, rr.optional)
	}
	if h.err != nil || !ok {
		// The header found is not quoted back: in a secrets file a
		// malformed first line could be a password.
		rr.done = true
		return &ParseError{Line: h.line, Err: fmt.Errorf("%w %q", ErrHeader, strings.Join(rr.header, ","))}
	}
	rr.cols = cols
	return nil
}

// optionalColumns reports whether fields is header followed by some of
// optional, each at most once and in their order, and which.
func optionalColumns(fields, header, optional []string) (Columns, bool) {
	if len(fields) < len(header) || !slices.Equal(fields[:len(header)], header) {
		return Columns{}, false
	}
	var c Columns
	rest := optional
	for _, f := range fields[len(header):] {
		i := slices.Index(rest, f)
		if i < 0 {
			return Columns{}, false
		}
		rest = rest[i+1:]
		switch f {
		case TenantColumn:
			c.Tenant = true
		case BlockedColumn:
			c.Blocked = true
		case ClientRequestIDColumn:
			c.ClientRequestID = true
		}
	}
	return c, true
}

// extraColumns is optionalColumns for a secrets file, which may have
// further columns after the optional ones: the input columns it copies
// (Columns.SecretsExtra), whose names it undoes the escaping of. None of
// them may have the name of a column bulkreset writes itself.
func extraColumns(fields, header, optional []string) (Columns, bool) {
	end := min(len(header), len(fields))
	for end < len(fields) && slices.Contains(optional, fields[end]) {
		end++
	}
	c, ok := optionalColumns(fields[:end], header, optional)
	names := make([]string, 0, len(fields)-end)
	for _, name := range fields[end:] {
		if ReservedColumn(name) {
			return Columns{}, false
		}
		names = append(names, unescapeCell(name))
	}
	c.SecretsExtra = NewExtraColumns(names...)
	return c, ok
}

// read returns the next data record. At the end it returns io.EOF, or a
// *ParseError wrapping ErrTruncated when the last row is torn.
func (rr *recordReader) read() (*record, error) {
	if !rr.started {
		if err := rr.start(); err != nil {
			return nil, err
		}
	}
	if rr.done || rr.next == nil {
		rr.done = true
		return nil, io.EOF
	}
	cur := rr.next
	if cur.io {
		rr.done = true
		return nil, cur.err
	}
	rr.next = rr.readOne()
	if rr.next == nil && rr.tail.last != '\n' {
		rr.done = true
		return nil, &ParseError{Line: cur.line, Err: ErrTruncated}
	}
	if cur.err != nil {
		return nil, &ParseError{Line: cur.line, Err: cur.err}
	}
	cur.cols = rr.cols
	return cur, nil
}

// RowReader reads the rows of a results or secrets file one by one, in
// bounded memory, as values of T. ResultsReader and SecretsReader are the
// two; both read a file with or without its optional columns.
type RowReader[T any] struct {
	rr    *recordReader
	parse func(*record) (T, error)
}

// newRowReader reads the file r whose header is header, followed by any of
// the optional columns in their order, with parse.
func newRowReader[T any](r io.Reader, header []string, parse func(*record) (T, error), optional ...string) *RowReader[T] {
	return &RowReader[T]{rr: newRecordReader(r, header, optional...), parse: parse}
}

// Columns reads the header, if not read yet, and returns the optional
// columns the file has.
func (r *RowReader[T]) Columns() (Columns, error) { return r.rr.columns() }

// Read returns the next row; io.EOF after the last. Errors are *ParseError
// with the line of the file; a torn last row (see ErrTruncated) is
// reported instead of io.EOF.
func (r *RowReader[T]) Read() (T, error) {
	rec, err := r.rr.read()
	if err != nil {
		var zero T
		return zero, err
	}
	return r.parse(rec)
}

// readAll collects every row. On error it returns the rows read before the
// failing one together with the error, so that a caller may accept a torn
// last row (errors.Is(err, ErrTruncated)).
func (r *RowReader[T]) readAll() ([]T, error) {
	var out []T
	for {
		v, err := r.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
}

// headerLine returns the header as the writers put it in a file.
func headerLine(header []string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(header) // cannot fail: a bytes.Buffer
	w.Flush()
	return b.Bytes()
}
