package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// Outcome is what happened to one input row (docs/outcomes.md).
type Outcome string

// The five outcomes of a row.
const (
	Succeeded Outcome = "succeeded" // the password was reset
	Failed    Outcome = "failed"    // Graph refused it, or attempts ran out
	Skipped   Outcome = "skipped"   // a rule the user chose (e.g. --synced skip) left it alone
	Invalid   Outcome = "invalid"   // the row could not be sent
	Duplicate Outcome = "duplicate" // the user appeared earlier in the same file
)

// Valid reports whether o is one of the five outcomes.
func (o Outcome) Valid() bool {
	switch o {
	case Succeeded, Failed, Skipped, Invalid, Duplicate:
		return true
	}
	return false
}

// outcomes lists the outcomes in the order the summary shows them.
var outcomes = []Outcome{Succeeded, Failed, Skipped, Invalid, Duplicate}

// Result is the result of one input row: one line of the results CSV.
type Result struct {
	Line         int     // line of the input file, 1-based
	User         string  // the user as the input gave it (UPN or object id)
	ObjectID     string  // the user's object id, when known
	Outcome      Outcome // what happened
	Reason       Reason  // stable snake_case word; empty on success
	HTTPStatus   int     // Graph's status for the last attempt; 0 when nothing was sent
	ErrorCode    string  // Graph's error code
	ErrorMessage string  // Graph's error message
	Attempts     int     // write attempts sent for this row
	Revoked      *bool   // whether sessions were revoked; nil when not attempted
	// Blocked says whether sign-in was blocked (accountEnabled=false);
	// nil when not attempted. It is written only to a file made with
	// Columns{Blocked: true} (--block-sign-in).
	Blocked    *bool
	RequestID  string // Graph's request-id, for a support case
	FinishedAt time.Time
	// MaybeSet says the password sent for a failed row may be in force all
	// the same: an attempt's answer was lost (a dropped connection, a 5xx,
	// a $batch answer without the row), or an interrupted run may have sent
	// it. The secrets file keeps such a row's password (see
	// RefusedForGood). It has no column: the error message begins with
	// MaybeSetNote for people, and reading a results file back derives it
	// from that note (the one place that reads the text).
	MaybeSet bool
	// Tenant is the tenant of the user, for an input with a TenantId
	// column; it is written only to a file made with Columns{Tenant: true}
	// (the fixed header stays as it is for every other input).
	Tenant string
	// ClientRequestID is the client-request-id header sent with the write
	// that set the password (the attempt that succeeded); empty when no
	// password was set. It is written only to a file made with
	// Columns{ClientRequestID: true}: every reset run.
	ClientRequestID string
}

// ResultsHeader is the header of the results CSV, fixed by docs/files.md.
var ResultsHeader = []string{"line", "user", "object_id", "outcome", "reason", "http_status", "error_code", "error_message", "attempts", "revoked", "request_id", "finished_at"}

// timeLayout is RFC 3339 with milliseconds; times are written in UTC.
const timeLayout = "2006-01-02T15:04:05.000Z07:00"

// Results writes the results CSV. It is not safe for concurrent use: one
// goroutine, the reporter, owns it: one writer per file.
type Results struct {
	w    io.Writer
	buf  bytes.Buffer // whole rows not yet written to w
	csv  *csv.Writer  // encodes into buf
	err  error        // the first error of w, sticky
	rec  [15]string   // reused by Write
	n    int          // cells written per row: 12, and one per optional column
	cols Columns      // the optional columns
	// flushes counts the successful flushes, so that a caller can tell
	// when the rows it wrote have reached w (see Flushes).
	flushes int64
}

// resultsFlushAt is the buffered size at which Write flushes by itself.
const resultsFlushAt = 64 << 10

// NewResults returns a Results writing to w, and writes and flushes the
// header so that the file is valid even if no row ever follows.
func NewResults(w io.Writer) (*Results, error) {
	return NewResultsColumns(w, Columns{})
}

// NewResultsColumns is NewResults for a file with the optional columns c.
func NewResultsColumns(w io.Writer, c Columns) (*Results, error) {
	r := AppendResultsColumns(w, c)
	if err := r.csv.Write(c.resultsHeader()); err != nil {
		return nil, fmt.Errorf("write results header: %w", err)
	}
	if err := r.Flush(); err != nil {
		return nil, err
	}
	return r, nil
}

// AppendResults returns a Results that appends rows to w without a header:
// for --resume, where w already holds the header and earlier rows (see
// OpenResultsAppend).
func AppendResults(w io.Writer) *Results {
	return AppendResultsColumns(w, Columns{})
}

// AppendResultsColumns is AppendResults for a file with the optional
// columns c.
func AppendResultsColumns(w io.Writer, c Columns) *Results {
	r := &Results{w: w, n: len(c.resultsHeader()), cols: c}
	r.csv = csv.NewWriter(&r.buf)
	return r
}

// Write buffers one row; Flush sends it to the underlying writer. Every text
// cell is escaped against spreadsheet formulas, and its control characters
// are written visibly (see Visible): reading the file back gives the
// visible form. An error from the
// underlying writer is sticky: every later Write and Flush returns it.
func (r *Results) Write(res Result) error {
	rec := r.rec[:r.n]
	rec[0] = strconv.Itoa(res.Line)
	rec[1] = res.User
	rec[2] = res.ObjectID
	rec[3] = string(res.Outcome)
	rec[4] = string(res.Reason)
	rec[5] = ""
	if res.HTTPStatus != 0 {
		rec[5] = strconv.Itoa(res.HTTPStatus)
	}
	rec[6] = res.ErrorCode
	rec[7] = res.ErrorMessage
	rec[8] = strconv.Itoa(res.Attempts)
	rec[9] = boolCell(res.Revoked)
	rec[10] = res.RequestID
	rec[11] = ""
	if !res.FinishedAt.IsZero() {
		rec[11] = res.FinishedAt.UTC().Format(timeLayout)
	}
	i := len(ResultsHeader)
	if r.cols.Blocked {
		rec[i] = boolCell(res.Blocked)
		i++
	}
	if r.cols.Tenant {
		rec[i] = res.Tenant
		i++
	}
	if r.cols.ClientRequestID {
		rec[i] = res.ClientRequestID
	}
	// Every cell, numbers included: a number never begins with a formula
	// character unless it is negative, and then the quote is still right.
	// Control characters (from an input cell, or Graph's error message)
	// are made visible first, so that no cell can drive a terminal.
	for i := range rec {
		rec[i] = escapeCell(Visible(rec[i]))
	}
	if r.err != nil {
		return r.err
	}
	if err := r.csv.Write(rec); err != nil {
		return fmt.Errorf("write result for line %d: %w", res.Line, err)
	}
	if r.buf.Len() >= resultsFlushAt {
		return r.Flush()
	}
	return nil
}

// boolCell is the cell of an action column: true or false when the action
// was sent, empty when not.
func boolCell(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

// Flush writes the buffered rows to the underlying writer. The owner calls
// it whenever no more results are pending right now, so that the file is
// complete up to the last finished row even after an interrupt. Rows reach
// the writer whole, in one Write call, so that a process killed at any
// moment leaves a file of whole rows (a write to a regular file is not
// torn by the death of its process).
func (r *Results) Flush() error {
	if r.err != nil {
		return r.err
	}
	r.csv.Flush() // into buf: cannot fail
	if r.buf.Len() == 0 {
		return nil
	}
	n, err := r.w.Write(r.buf.Bytes())
	if err == nil && n < r.buf.Len() {
		err = io.ErrShortWrite
	}
	r.buf.Reset()
	if err != nil {
		r.err = fmt.Errorf("write results: %w", err)
		return r.err
	}
	r.flushes++
	return nil
}

// Flushes returns how many times the buffered rows were written to the
// underlying writer, by Flush or by a Write whose buffer was full: when it
// moved on, every row written before is in the file.
func (r *Results) Flushes() int64 { return r.flushes }

// CreateResultsFile creates the results file at path, refusing to overwrite
// an existing file (the results of an earlier run are evidence). The path
// "-" (standard output) is the caller's to handle.
func CreateResultsFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("results file %s already exists, and is not overwritten: %w", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("create results file: %w", err)
	}
	return f, nil
}

// OpenResultsAppend opens the results file of an interrupted run for
// --resume: it checks that path is a regular file starting with the results
// header, cuts off a torn last row (see ErrTruncated) and leaves the file
// positioned at its end, ready for AppendResults. A file left empty by a
// crash gets its header. Read the file with ReadResults before, to learn
// which lines are done; a torn row it reports is one to do again.
func OpenResultsAppend(path string) (*os.File, error) {
	return OpenResultsAppendColumns(path, Columns{})
}

// OpenResultsAppendColumns is OpenResultsAppend for a file with the
// optional columns c: its header must be that of c.
func OpenResultsAppendColumns(path string, c Columns) (*os.File, error) {
	f, err := openAppend(path, c.resultsHeader(), 0)
	if err != nil {
		return nil, resumeErrorf("open results file: %w", err)
	}
	return f, nil
}

// ResultsReader reads a results file row by row, in bounded memory: Read
// returns the next row, io.EOF after the last; errors are *ParseError with
// the line of the file, and a torn last row is reported as a *ParseError
// wrapping ErrTruncated instead of io.EOF.
type ResultsReader = RowReader[Result]

// NewResultsReader returns a reader of the results file r. It reads a file
// with or without the optional columns: any of blocked, tenant and
// client_request_id, in that order.
func NewResultsReader(r io.Reader) *ResultsReader {
	return newRowReader(r, ResultsHeader, parseResult, resultsOptional...)
}

// ReadResults reads a whole results file, undoing the formula escaping. On
// error it returns the rows before the failing one with the error; a caller
// resuming a run may accept a torn last row: errors.Is(err, ErrTruncated).
func ReadResults(r io.Reader) ([]Result, error) {
	return NewResultsReader(r).readAll()
}

func parseResult(rec *record) (Result, error) {
	f := rec.fields
	for i := range f {
		f[i] = unescapeCell(f[i])
	}
	bad := func(col int, err error) (Result, error) {
		return Result{}, &ParseError{Line: rec.line, Column: ResultsHeader[col], Err: err}
	}
	res := Result{
		User:         f[1],
		ObjectID:     f[2],
		Outcome:      Outcome(f[3]),
		Reason:       Reason(f[4]),
		ErrorCode:    f[6],
		ErrorMessage: f[7],
		RequestID:    f[10],
		// The one place that reads the note: the file says it in words.
		MaybeSet: strings.HasPrefix(f[7], MaybeSetNote),
	}
	var err error
	i := len(ResultsHeader)
	if rec.cols.Blocked {
		if res.Blocked, err = parseBoolCell(f[i]); err != nil {
			return Result{}, &ParseError{Line: rec.line, Column: BlockedColumn, Err: err}
		}
		i++
	}
	if rec.cols.Tenant {
		res.Tenant = f[i]
		i++
	}
	if rec.cols.ClientRequestID {
		res.ClientRequestID = f[i]
	}
	if res.Line, err = strconv.Atoi(f[0]); err != nil || res.Line < 0 {
		return bad(0, fmt.Errorf("%q is not a line number", f[0]))
	}
	if !res.Outcome.Valid() {
		return bad(3, fmt.Errorf("%q is not an outcome", f[3]))
	}
	if f[5] != "" {
		if res.HTTPStatus, err = strconv.Atoi(f[5]); err != nil || res.HTTPStatus <= 0 {
			return bad(5, fmt.Errorf("%q is not an HTTP status", f[5]))
		}
	}
	if res.Attempts, err = strconv.Atoi(f[8]); err != nil || res.Attempts < 0 {
		return bad(8, fmt.Errorf("%q is not a number of attempts", f[8]))
	}
	if res.Revoked, err = parseBoolCell(f[9]); err != nil {
		return bad(9, err)
	}
	if f[11] != "" {
		res.FinishedAt, err = time.Parse(time.RFC3339Nano, f[11])
		// In UTC, as it is written back, the year must stay within RFC
		// 3339's 0000-9999 ("0000-01-01T00:00:00+01:00" is in year -1).
		if y := res.FinishedAt.UTC().Year(); err != nil || y < 0 || y > 9999 {
			return bad(11, fmt.Errorf("%q is not an RFC 3339 time", f[11]))
		}
	}
	return res, nil
}

// parseBoolCell reads an action column: true, false or empty (nil).
func parseBoolCell(s string) (*bool, error) {
	switch s {
	case "":
		return nil, nil
	case "true", "false":
		v := s == "true"
		return &v, nil
	}
	return nil, fmt.Errorf("%q is not true, false or empty", s)
}
