package report

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"time"
)

// VerifyStatus is what bulkreset verify found for one row.
type VerifyStatus string

// The statuses of a verify row (docs/files.md).
const (
	// Confirmed: the tenant shows every action the row records, and the
	// reset is in the audit log.
	Confirmed VerifyStatus = "confirmed"
	// NotConfirmed: the user object contradicts the row (Detail says how).
	NotConfirmed VerifyStatus = "not_confirmed"
	// NotInAuditLog: the user object agrees, but no audit record of the
	// reset was found (yet: records arrive minutes late; see --wait).
	NotInAuditLog VerifyStatus = "not_in_audit_log"
)

// VerifyHeader is the header of the verify CSV.
var VerifyHeader = []string{"line", "user", "object_id", "checked", "status", "detail", "audit_id", "activity", "activity_time", "initiator", "matched_by"}

// VerifyRow is one row of the verify CSV: one checked row of a results
// file.
type VerifyRow struct {
	Line     int    // the results row's line of the input
	User     string // as the results row gives it
	ObjectID string
	// Checked lists the actions checked, joined by "+": reset, block,
	// revoke.
	Checked string
	Status  VerifyStatus
	// Detail says what differed, or what was confirmed.
	Detail string
	// The audit record that shows the reset; empty when none was found.
	AuditID, Activity string
	ActivityTime      time.Time
	Initiator         string
	// MatchedBy is how the record was matched: correlation_id (it carries
	// the row's client_request_id) or object_id (the target and the time).
	MatchedBy string
}

// VerifyWriter writes the verify CSV, escaping every cell like the results
// file (formulas, control characters).
type VerifyWriter struct {
	buf *bufio.Writer
	csv *csv.Writer
}

// NewVerifyWriter writes the header to w and returns the writer.
func NewVerifyWriter(w io.Writer) (*VerifyWriter, error) {
	b := bufio.NewWriterSize(w, 64<<10)
	v := &VerifyWriter{buf: b, csv: csv.NewWriter(b)}
	if err := v.csv.Write(VerifyHeader); err != nil {
		return nil, fmt.Errorf("write verify header: %w", err)
	}
	return v, nil
}

// Write buffers one row.
func (v *VerifyWriter) Write(r VerifyRow) error {
	at := ""
	if !r.ActivityTime.IsZero() {
		at = r.ActivityTime.UTC().Format(timeLayout)
	}
	rec := []string{fmt.Sprint(r.Line), r.User, r.ObjectID, r.Checked, string(r.Status), r.Detail, r.AuditID, r.Activity, at, r.Initiator, r.MatchedBy}
	for i := range rec {
		rec[i] = escapeCell(Visible(rec[i]))
	}
	if err := v.csv.Write(rec); err != nil {
		return fmt.Errorf("write verify row for line %d: %w", r.Line, err)
	}
	return nil
}

// Flush writes what is buffered.
func (v *VerifyWriter) Flush() error {
	v.csv.Flush()
	if err := v.csv.Error(); err != nil {
		return fmt.Errorf("write verify file: %w", err)
	}
	if err := v.buf.Flush(); err != nil {
		return fmt.Errorf("write verify file: %w", err)
	}
	return nil
}

// ReadVerify reads a verify CSV back (for tests and scripts in Go),
// undoing the escaping.
func ReadVerify(r io.Reader) ([]VerifyRow, error) {
	cr := csv.NewReader(r)
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read verify file: %w", err)
	}
	if len(recs) == 0 || len(recs[0]) != len(VerifyHeader) {
		return nil, fmt.Errorf("read verify file: %w", ErrHeader)
	}
	var out []VerifyRow
	for _, f := range recs[1:] {
		for i := range f {
			f[i] = unescapeCell(f[i])
		}
		var line int
		if _, err := fmt.Sscan(f[0], &line); err != nil {
			return nil, fmt.Errorf("read verify file: line %q: %w", f[0], err)
		}
		row := VerifyRow{Line: line, User: f[1], ObjectID: f[2], Checked: f[3], Status: VerifyStatus(f[4]), Detail: f[5],
			AuditID: f[6], Activity: f[7], Initiator: f[9], MatchedBy: f[10]}
		if f[8] != "" {
			if row.ActivityTime, err = time.Parse(time.RFC3339Nano, f[8]); err != nil {
				return nil, fmt.Errorf("read verify file: activity_time %q: %w", f[8], err)
			}
		}
		out = append(out, row)
	}
	return out, nil
}
