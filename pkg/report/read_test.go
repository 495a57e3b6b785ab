package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

const resultsHeaderLine = "line,user,object_id,outcome,reason,http_status,error_code,error_message,attempts,revoked,request_id,finished_at\n"

func TestReadResultsErrors(t *testing.T) {
	ok := "2,a@b.c,,succeeded,,204,,,1,true,,2025-01-02T03:04:05.006Z\n"
	tests := []struct {
		name     string
		in       string
		wantRows int // rows returned before the error
		wantLine int
		wantCol  string
		wantErr  error // matched with errors.Is when not nil
	}{
		{name: "empty file", in: "", wantLine: 1, wantErr: ErrHeader},
		{name: "another header", in: "UserPrincipalName\n" + ok, wantLine: 1, wantErr: ErrHeader},
		{name: "torn header", in: "line,user,obj", wantLine: 1, wantErr: ErrTruncated},
		{name: "wrong number of fields", in: resultsHeaderLine + ok + "3,b@b.c\n" + ok, wantRows: 1, wantLine: 3, wantErr: csv.ErrFieldCount},
		{name: "bad line number", in: resultsHeaderLine + ok + "x,a,,failed,,,,,1,,,\n", wantRows: 1, wantLine: 3, wantCol: "line"},
		{name: "bad outcome", in: resultsHeaderLine + "2,a,,done,,,,,1,,,\n", wantLine: 2, wantCol: "outcome"},
		{name: "bad status", in: resultsHeaderLine + "2,a,,failed,,abc,,,1,,,\n", wantLine: 2, wantCol: "http_status"},
		{name: "zero status", in: resultsHeaderLine + "2,a,,failed,,0,,,1,,,\n", wantLine: 2, wantCol: "http_status"},
		{name: "empty attempts", in: resultsHeaderLine + "2,a,,failed,,,,,,,,\n", wantLine: 2, wantCol: "attempts"},
		{name: "negative attempts", in: resultsHeaderLine + "2,a,,failed,,,,,'-1,,,\n", wantLine: 2, wantCol: "attempts"},
		{name: "bad revoked", in: resultsHeaderLine + "2,a,,failed,,,,,1,yes,,\n", wantLine: 2, wantCol: "revoked"},
		{name: "bad time", in: resultsHeaderLine + "2,a,,failed,,,,,1,,,yesterday\n", wantLine: 2, wantCol: "finished_at"},
		{name: "error on a line after a multi-line cell", in: resultsHeaderLine + "2,a,,failed,,,,\"x\ny\",1,,,\n3,a,,failed,,,,,1,,,bad\n",
			wantRows: 1, wantLine: 4, wantCol: "finished_at"},
		{name: "bad quote", in: resultsHeaderLine + ok + "3,\"a\"b,,failed,,,,,1,,,\n" + ok, wantRows: 1, wantLine: 3, wantErr: csv.ErrQuote},
		{name: "torn last row", in: resultsHeaderLine + ok + "3,b@b.c,,failed,,,", wantRows: 1, wantLine: 3, wantErr: ErrTruncated},
		{name: "torn last row that parses", in: resultsHeaderLine + ok + "3,b@b.c,,failed,,,,,1,,,2025-01-02T03:04:05.006Z",
			wantRows: 1, wantLine: 3, wantErr: ErrTruncated},
		{name: "torn inside a quoted cell", in: resultsHeaderLine + ok + "3,b,,failed,,,,\"half a mess", wantRows: 1, wantLine: 3, wantErr: ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := ReadResults(strings.NewReader(tt.in))
			if len(rows) != tt.wantRows {
				t.Errorf("got %d rows before the error, want %d", len(rows), tt.wantRows)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got error %v (%T), want a *ParseError", err, err)
			}
			if pe.Line != tt.wantLine || pe.Column != tt.wantCol {
				t.Errorf("got error at line %d column %q, want line %d column %q (%v)", pe.Line, pe.Column, tt.wantLine, tt.wantCol, err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("got error %v, want one wrapping %v", err, tt.wantErr)
			}
		})
	}
}

func TestReadResultsAccepts(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int
	}{
		{name: "header only", in: resultsHeaderLine, want: 0},
		{name: "byte-order mark", in: utf8BOM + resultsHeaderLine + "2,a,,succeeded,,,,,1,,,\n", want: 1},
		{name: "CRLF line ends", in: strings.ReplaceAll(resultsHeaderLine+"2,a,,succeeded,,,,,1,,,\n", "\n", "\r\n"), want: 1},
		{name: "blank lines", in: resultsHeaderLine + "\n2,a,,succeeded,,,,,1,,,\n\n", want: 1},
		{name: "unescaped formula from another tool", in: resultsHeaderLine + "2,=a,,succeeded,,,,,1,,,\n", want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := ReadResults(strings.NewReader(tt.in))
			if err != nil {
				t.Fatalf("ReadResults: %v", err)
			}
			if len(rows) != tt.want {
				t.Errorf("got %d rows, want %d", len(rows), tt.want)
			}
		})
	}
}

func TestReadResultsLineNumbers(t *testing.T) {
	in := resultsHeaderLine + "2,a,,succeeded,,,,\"two\nlines\",1,,,\n\n9,b,,failed,,,,,1,,,\n"
	r := NewResultsReader(strings.NewReader(in))
	if _, err := r.Read(); err != nil {
		t.Fatal(err)
	}
	// Read reports the line of the file, but a Result carries the line of the
	// input file, which is a column: check both are right.
	res, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	if res.Line != 9 {
		t.Errorf("got Line %d, want 9", res.Line)
	}
}

func TestReadResultsReaderError(t *testing.T) {
	boom := errors.New("disk unplugged")
	r := io.MultiReader(strings.NewReader(resultsHeaderLine+"2,a,,succeeded,,,,,1,,,\n"), iotest.ErrReader(boom))
	rows, err := ReadResults(r)
	if !errors.Is(err, boom) {
		t.Errorf("got error %v, want one wrapping %v", err, boom)
	}
	if len(rows) != 0 && len(rows) != 1 {
		t.Errorf("got %d rows, want at most 1", len(rows))
	}
}

func FuzzReadResults(f *testing.F) {
	f.Add([]byte(resultsHeaderLine))
	f.Add([]byte(resultsHeaderLine + "2,a@b.c,,succeeded,,204,,,1,true,r,2025-01-02T03:04:05.006Z\n"))
	f.Add([]byte(resultsHeaderLine + "2,'=a,,failed,x,429,'-c,\"m,\n\"\"q\"\"\",8,false,,2025-01-02T03:04:05+02:00\n"))
	f.Add([]byte(resultsHeaderLine + "2,a,,failed,,,"))
	f.Add([]byte(utf8BOM + resultsHeaderLine + "\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := ReadResults(bytes.NewReader(data))
		if err != nil {
			checkParseError(t, err)
			return
		}
		// What was read writes back and reads again to the same rows.
		var b bytes.Buffer
		w, err := NewResults(&b)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if err := w.Write(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		again, err := ReadResults(&b)
		if err != nil {
			t.Fatalf("reading back what was written: %v", err)
		}
		if !equalResults(again, rows) {
			t.Errorf("round trip changed the rows:\ngot  %+v\nwant %+v", again, rows)
		}
	})
}

func FuzzResultsRoundTrip(f *testing.F) {
	f.Add(2, "a@b.c", "id", uint8(0), "", 204, "", "", 1, uint8(1), "req", int64(1736000000123))
	f.Add(3, "=a", "+b", uint8(1), "-c", 429, "@d", "\te\r\nf", 8, uint8(2), "\rg", int64(0))
	f.Add(0, "'=x", "''", uint8(4), "'", 0, "\"", ",", 0, uint8(0), " ", int64(-1))
	f.Fuzz(func(t *testing.T, line int, user, objectID string, outcome uint8, reason string, status int,
		code, message string, attempts int, revoked uint8, requestID string, ms int64) {
		if line < 0 || status < 0 || attempts < 0 {
			return // never produced by the tool
		}
		in := Result{Line: line, User: user, ObjectID: objectID, Outcome: outcomes[int(outcome)%len(outcomes)],
			Reason: Reason(reason), HTTPStatus: status, ErrorCode: code, ErrorMessage: message, Attempts: attempts,
			RequestID: requestID}
		// The file has no column for MaybeSet: reading derives it from
		// the message's note.
		in.MaybeSet = strings.HasPrefix(message, MaybeSetNote)
		switch revoked % 3 {
		case 1:
			in.Revoked = ptr(true)
		case 2:
			in.Revoked = ptr(false)
		}
		if ms > 0 && ms < 253402300799999 { // up to year 9999
			in.FinishedAt = time.UnixMilli(ms)
		}
		var b bytes.Buffer
		w, err := NewResults(&b)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(in); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		for i, cell := range readCSV(t, b.Bytes())[1] {
			if cell != "" && strings.IndexByte(formulaChars, cell[0]) >= 0 {
				t.Errorf("column %s = %q begins with a formula character", ResultsHeader[i], cell)
			}
		}
		got, err := ReadResults(&b)
		if err != nil {
			t.Fatalf("ReadResults: %v", err)
		}
		// What comes back is the row with its text made visible (see
		// normalize): control characters escaped, everything else exact.
		if !equalResults(got, []Result{in}) {
			t.Errorf("round trip: got %+v, want %+v", got, in)
		}
	})
}
