package report

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func ptr[T any](v T) *T { return &v }

// sampleResults has every kind of cell the results CSV can hold.
func sampleResults() []Result {
	at := time.Date(2025, 3, 14, 9, 26, 53, 589_793_238, time.UTC)
	paris := time.FixedZone("CET", 3600)
	return []Result{
		{Line: 2, User: "alice@contoso.com", ObjectID: "6f1c2d3e-0000-4000-8000-000000000001", Outcome: Succeeded,
			HTTPStatus: 204, Attempts: 1, Revoked: ptr(true), RequestID: "5e0f0c1a-1111-4111-8111-111111111111", FinishedAt: at},
		{Line: 3, User: "bob@contoso.com", ObjectID: "6f1c2d3e-0000-4000-8000-000000000002", Outcome: Succeeded,
			HTTPStatus: 204, Attempts: 3, Revoked: ptr(false), FinishedAt: at.In(paris)},
		{Line: 4, User: "=HYPERLINK(\"http://evil.example\",\"x\")@contoso.com", Outcome: Failed, Reason: "not_found",
			HTTPStatus: 404, ErrorCode: "Request_ResourceNotFound",
			ErrorMessage: "Resource '=HYPERLINK' does not exist or one of its queried reference-property objects are not present.",
			Attempts:     1, RequestID: "r-404", FinishedAt: at},
		{Line: 5, User: "carol@contoso.com", Outcome: Failed, Reason: "password_policy", HTTPStatus: 400, ErrorCode: "Request_BadRequest",
			ErrorMessage: "- The specified password does not comply with password complexity requirements.\nPlease provide a different password.",
			Attempts:     1, FinishedAt: at},
		{Line: 6, User: "+dave@contoso.com", Outcome: Failed, Reason: "throttled", HTTPStatus: 429, ErrorCode: "TooManyRequests",
			ErrorMessage: "Please retry again later, \"soon\".", Attempts: 8, FinishedAt: at},
		{Line: 7, User: "@erin", Outcome: Invalid, Reason: "invalid_upn", ErrorMessage: "\tnot a UPN"},
		{Line: 8, User: "-frank@contoso.com", Outcome: Skipped, Reason: "synced_user", ObjectID: "6f1c2d3e-0000-4000-8000-000000000008"},
		{Line: 9, User: "alice@contoso.com", Outcome: Duplicate, Reason: "duplicate"},
		{Line: 10, User: "'=already quoted", Outcome: Invalid, Reason: "malformed_row", ErrorMessage: "\r=cr"},
		{Line: 11, User: "guest_fabrikam.com#EXT#@contoso.onmicrosoft.com", Outcome: Failed, Reason: "network_error",
			ErrorMessage: "dial tcp: connection refused", Attempts: 8, FinishedAt: at},
		{Line: 12, User: "zoë@contoso.com", Outcome: Failed, Reason: "insufficient_privileges", HTTPStatus: 403,
			ErrorCode: "Authorization_RequestDenied", ErrorMessage: "Insufficient privileges to complete the operation.", Attempts: 1,
			FinishedAt: at, Tenant: "not a column"},
	}
}

func writeResults(t *testing.T, rows []Result) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := NewResults(&b)
	if err != nil {
		t.Fatalf("NewResults: %v", err)
	}
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatalf("Write(line %d): %v", r.Line, err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	return b.Bytes()
}

func TestResultsGolden(t *testing.T) {
	got := writeResults(t, sampleResults())
	golden := filepath.Join("testdata", "results.golden")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("results CSV differs from %s (go test -update refreshes it)\ngot:\n%s\nwant:\n%s", golden, got, want)
	}
}

func TestResultsHeaderIsTheSpecs(t *testing.T) {
	got := writeResults(t, nil)
	want := "line,user,object_id,outcome,reason,http_status,error_code,error_message,attempts,revoked,request_id,finished_at\n"
	if string(got) != want {
		t.Errorf("NewResults wrote %q, want %q", got, want)
	}
}

func TestResultsCells(t *testing.T) {
	tests := []struct {
		name string
		in   Result
		col  string
		want string
	}{
		{name: "http status zero is empty", in: Result{Outcome: Invalid}, col: "http_status", want: ""},
		{name: "http status", in: Result{Outcome: Failed, HTTPStatus: 503}, col: "http_status", want: "503"},
		{name: "attempts zero", in: Result{Outcome: Invalid}, col: "attempts", want: "0"},
		{name: "revoked nil", in: Result{Outcome: Succeeded}, col: "revoked", want: ""},
		{name: "revoked true", in: Result{Outcome: Succeeded, Revoked: ptr(true)}, col: "revoked", want: "true"},
		{name: "revoked false", in: Result{Outcome: Succeeded, Revoked: ptr(false)}, col: "revoked", want: "false"},
		{name: "zero time", in: Result{Outcome: Invalid}, col: "finished_at", want: ""},
		{name: "time in UTC with milliseconds", in: Result{Outcome: Succeeded,
			FinishedAt: time.Date(2025, 1, 2, 4, 5, 6, 7_000_000, time.FixedZone("X", -3*3600))},
			col: "finished_at", want: "2025-01-02T07:05:06.007Z"},
		{name: "time on a whole second keeps its milliseconds", in: Result{Outcome: Succeeded,
			FinishedAt: time.Date(2025, 1, 2, 4, 5, 6, 0, time.UTC)}, col: "finished_at", want: "2025-01-02T04:05:06.000Z"},
		{name: "error message starting with dash", in: Result{Outcome: Failed, ErrorMessage: "-1"}, col: "error_message", want: "'-1"},
		{name: "error code escaped", in: Result{Outcome: Failed, ErrorCode: "=x"}, col: "error_code", want: "'=x"},
		{name: "reason escaped", in: Result{Outcome: Failed, Reason: "@x"}, col: "reason", want: "'@x"},
		{name: "object id escaped", in: Result{Outcome: Failed, ObjectID: "+x"}, col: "object_id", want: "'+x"},
		{name: "request id escaped", in: Result{Outcome: Failed, RequestID: "+\tx"}, col: "request_id", want: `'+\x09x`},
		{name: "a tab is made visible, and no formula", in: Result{Outcome: Failed, RequestID: "\tx"}, col: "request_id", want: `\x09x`},
		{name: "control characters made visible", in: Result{Outcome: Failed, User: "\x1b]0;t\x07u", ErrorMessage: "a\u009b2Jb\r\nc"}, col: "error_message", want: `a\u009b2Jb\x0d\x0ac`},
		{name: "user escaped", in: Result{Outcome: Failed, User: "=cmd|' /C calc'!A0"}, col: "user", want: "'=cmd|' /C calc'!A0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := writeResults(t, []Result{tt.in})
			recs := readCSV(t, data)
			col := indexOf(t, ResultsHeader, tt.col)
			if got := recs[1][col]; got != tt.want {
				t.Errorf("column %s = %q, want %q", tt.col, got, tt.want)
			}
		})
	}
}

func indexOf(t *testing.T, header []string, col string) int {
	t.Helper()
	for i, h := range header {
		if h == col {
			return i
		}
	}
	t.Fatalf("no column %q", col)
	return -1
}

// normalize makes a Result comparable after a trip through a file: the file
// holds milliseconds in UTC, no tenant, and text made visible (a CR or LF
// is written \x0d, \x0a).
func normalize(r Result) Result {
	if !r.FinishedAt.IsZero() {
		r.FinishedAt = r.FinishedAt.UTC().Truncate(time.Millisecond)
	}
	r.Tenant = ""
	nl := Visible
	r.User, r.ObjectID, r.Reason = nl(r.User), nl(r.ObjectID), Reason(nl(string(r.Reason)))
	r.ErrorCode, r.ErrorMessage, r.RequestID = nl(r.ErrorCode), nl(r.ErrorMessage), nl(r.RequestID)
	return r
}

func equalResults(a, b []Result) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := normalize(a[i]), normalize(b[i])
		if !x.FinishedAt.Equal(y.FinishedAt) {
			return false
		}
		x.FinishedAt, y.FinishedAt = time.Time{}, time.Time{}
		if !reflect.DeepEqual(x, y) {
			return false
		}
	}
	return true
}

func TestResultsRoundTrip(t *testing.T) {
	want := sampleResults()
	got, err := ReadResults(bytes.NewReader(writeResults(t, want)))
	if err != nil {
		t.Fatalf("ReadResults: %v", err)
	}
	if !equalResults(got, want) {
		t.Errorf("ReadResults(Write(rows)) =\n%+v\nwant\n%+v", got, want)
	}
}

func TestResultsReaderStreams(t *testing.T) {
	want := sampleResults()
	r := NewResultsReader(bytes.NewReader(writeResults(t, want)))
	var got []Result
	for {
		res, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Read after %d rows: %v", len(got), err)
		}
		got = append(got, res)
	}
	if !equalResults(got, want) {
		t.Errorf("ResultsReader gave\n%+v\nwant\n%+v", got, want)
	}
	if _, err := r.Read(); err != io.EOF {
		t.Errorf("Read after the end: got %v, want io.EOF", err)
	}
}

// failingWriter fails every write after the first n bytes.
type failingWriter struct {
	n   int
	err error
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		n := w.n
		w.n = 0
		return n, w.err
	}
	w.n -= len(p)
	return len(p), nil
}

func TestResultsWriteErrorIsSticky(t *testing.T) {
	diskFull := errors.New("no space left on device")
	w, err := NewResults(&failingWriter{n: 200, err: diskFull})
	if err != nil {
		t.Fatalf("NewResults: %v", err)
	}
	var firstErr error
	for _, r := range sampleResults() {
		if err := w.Write(r); err != nil {
			firstErr = err
			break
		}
		if err := w.Flush(); err != nil {
			firstErr = err
			break
		}
	}
	if !errors.Is(firstErr, diskFull) {
		t.Fatalf("got error %v, want one wrapping %v", firstErr, diskFull)
	}
	if err := w.Flush(); !errors.Is(err, diskFull) {
		t.Errorf("Flush after a failure: got %v, want an error wrapping %v", err, diskFull)
	}
	if _, err := NewResults(&failingWriter{err: diskFull}); !errors.Is(err, diskFull) {
		t.Errorf("NewResults on a full disk: got %v, want an error wrapping %v", err, diskFull)
	}
}

func TestAppendResultsWritesNoHeader(t *testing.T) {
	var b bytes.Buffer
	w := AppendResults(&b)
	if err := w.Write(Result{Line: 7, User: "a@b.c", Outcome: Succeeded, Attempts: 1}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "7,a@b.c,,succeeded,,,,,1,,,\n"; got != want {
		t.Errorf("AppendResults wrote %q, want %q", got, want)
	}
}

func TestCreateResultsFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.csv")
	f, err := CreateResultsFile(path)
	if err != nil {
		t.Fatalf("CreateResultsFile(new path): %v", err)
	}
	if _, err := f.WriteString("first run\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := CreateResultsFile(path); !errors.Is(err, os.ErrExist) {
		t.Errorf("CreateResultsFile(existing file): got %v, want an error wrapping os.ErrExist", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "first run\n" {
		t.Errorf("existing file now holds %q, want it untouched", got)
	}
}

func TestOpenResultsAppend(t *testing.T) {
	header := strings.Join(ResultsHeader, ",") + "\n"
	row := "2,a@b.c,,succeeded,,204,,,1,,,\n"
	tests := []struct {
		name    string
		content string
		want    string // after appending row 9
		wantErr error
	}{
		{name: "complete file", content: header + row, want: header + row + "9,z@b.c,,failed,,,,,0,,,\n"},
		{name: "torn last row is cut", content: header + row + "3,b@b.c,,succ", want: header + row + "9,z@b.c,,failed,,,,,0,,,\n"},
		{name: "empty file gets a header", content: "", want: header + "9,z@b.c,,failed,,,,,0,,,\n"},
		{name: "torn header is rewritten", content: header[:10], want: header + "9,z@b.c,,failed,,,,,0,,,\n"},
		{name: "header with a byte-order mark", content: utf8BOM + header, want: utf8BOM + header + "9,z@b.c,,failed,,,,,0,,,\n"},
		{name: "CRLF file", content: strings.ReplaceAll(header+row, "\n", "\r\n"),
			want: strings.ReplaceAll(header+row, "\n", "\r\n") + "9,z@b.c,,failed,,,,,0,,,\n"},
		{name: "header without the newline is torn", content: header[:len(header)-1], want: header + "9,z@b.c,,failed,,,,,0,,,\n"},
		{name: "another file", content: "UserPrincipalName\nalice@contoso.com\n", wantErr: ErrHeader},
		{name: "a prefix of the header followed by more", content: "line,user\n1,2\n", wantErr: ErrHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "results.csv")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := OpenResultsAppend(path)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("OpenResultsAppend: got %v, want an error wrapping %v", err, tt.wantErr)
				}
				if got, _ := os.ReadFile(path); string(got) != tt.content {
					t.Errorf("refused file now holds %q, want it untouched", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("OpenResultsAppend: %v", err)
			}
			w := AppendResults(f)
			if err := w.Write(Result{Line: 9, User: "z@b.c", Outcome: Failed}); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			f.Close()
			got, _ := os.ReadFile(path)
			if string(got) != tt.want {
				t.Errorf("file holds %q, want %q", got, tt.want)
			}
			if _, err := ReadResults(bytes.NewReader(got)); err != nil {
				t.Errorf("ReadResults of the appended file: %v", err)
			}
		})
	}
}

func TestOpenResultsAppendRefusesADirectory(t *testing.T) {
	if _, err := OpenResultsAppend(t.TempDir()); err == nil {
		t.Error("OpenResultsAppend(a directory): got nil error, want a refusal")
	}
}

// TestResultsMaybeSetReadBack: a results file says "may have been set" in
// words only, exactly as before; reading it back (--resume) turns those
// words into Result.MaybeSet, so that the secrets compaction of a resumed
// run keeps the same passwords as the run that wrote the file.
func TestResultsMaybeSetReadBack(t *testing.T) {
	in := []Result{
		{Line: 2, User: "a@contoso.com", Outcome: Failed, Reason: ReasonNotFound, HTTPStatus: 404, Attempts: 2,
			MaybeSet: true, ErrorMessage: MaybeSetNote + "Resource not found."},
		{Line: 3, User: "b@contoso.com", Outcome: Failed, Reason: ReasonNotFound, HTTPStatus: 404, Attempts: 1,
			ErrorMessage: "Resource not found."},
	}
	file := writeResults(t, in)
	rows := readCSV(t, file)
	if got, want := rows[1][7], MaybeSetNote+"Resource not found."; got != want {
		t.Errorf("error_message cell %q, want %q", got, want)
	}
	if got := rows[2][7]; got != "Resource not found." {
		t.Errorf("error_message cell %q, want Graph's message alone", got)
	}
	got, err := ReadResults(bytes.NewReader(file))
	if err != nil {
		t.Fatalf("ReadResults: %v", err)
	}
	if len(got) != 2 || !got[0].MaybeSet || got[1].MaybeSet {
		t.Fatalf("read back %+v; want line 2 marked may-have-been-set, line 3 not", got)
	}
	if RefusedForGood(got[0]) || !RefusedForGood(got[1]) {
		t.Errorf("refused for good: line 2 %v, line 3 %v; want false, true", RefusedForGood(got[0]), RefusedForGood(got[1]))
	}
}
