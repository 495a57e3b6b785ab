package csvin

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/pkg/report"
)

var reasons = map[report.Reason]bool{
	"": true, report.ReasonMissingUser: true, report.ReasonInvalidUPN: true, report.ReasonInvalidID: true,
	report.ReasonBadValue: true, report.ReasonMalformedRow: true, report.ReasonExampleRow: true,
}

// decodedText returns the input's text as the reader sees it, decoded by an
// independent route (unicode/utf16 for UTF-16).
func decodedText(data []byte, encoding string) []byte {
	switch encoding {
	case "UTF-8":
		return data
	case "Windows-1252":
		return []byte(referenceWindows1252(data))
	case "UTF-8 BOM":
		return data[3:]
	case "UTF-16LE":
		return []byte(referenceUTF16(data[2:], false))
	case "UTF-16BE":
		return []byte(referenceUTF16(data[2:], true))
	case "UTF-16LE (no BOM)":
		return []byte(referenceUTF16(data, false))
	case "UTF-16BE (no BOM)":
		return []byte(referenceUTF16(data, true))
	}
	return nil
}

// windows1252 is the Windows-1252 code page from 0x80 to 0xFF, as its
// code chart shows it (the five undefined bytes as C1 controls).
const windows1252 = "€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ" +
	"\u00a0¡¢£¤¥¦§¨©ª«¬\u00ad®¯°±²³´µ¶·¸¹º»¼½¾¿ÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖ×ØÙÚÛÜÝÞßàáâãäåæçèéêëìíîïðñòóôõö÷øùúûüýþÿ"

func referenceWindows1252(data []byte) string {
	high := []rune(windows1252)
	var b strings.Builder
	for _, c := range data {
		if c < 0x80 {
			b.WriteByte(c)
		} else {
			b.WriteRune(high[c-0x80])
		}
	}
	return b.String()
}

// FuzzReader reads arbitrary input. It checks that the reader never panics,
// that line numbers strictly increase, that every row is consistent, and,
// against encoding/csv reading the same text, that every record after the
// header yields exactly one row, on the line where the record starts.
func FuzzReader(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), Options{})
		if err != nil {
			var he *HeaderError
			if !errors.As(err, &he) && !errors.Is(err, ErrUnsupported) {
				t.Fatalf("NewReader: got %v, want a *HeaderError or ErrUnsupported", err)
			}
			return
		}
		info := r.Info()
		var rows []Row
		for {
			row, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Read: got error %v from an in-memory input", err)
			}
			if len(rows) > 0 && row.Line <= rows[len(rows)-1].Line {
				t.Fatalf("row at line %d after a row at line %d", row.Line, rows[len(rows)-1].Line)
			}
			if row.Line < r.dataAt {
				t.Fatalf("row at line %d before the first data line %d", row.Line, r.dataAt)
			}
			checkRowInvariants(t, row)
			rows = append(rows, row)
		}

		// Compare with encoding/csv on the text from the first data line.
		text := decodedText(data, info.Encoding)
		start := 0
		for range r.dataAt - 1 {
			i := bytes.IndexByte(text[start:], '\n')
			if i < 0 {
				start = len(text) // a header without a final newline
				break
			}
			start += i + 1
		}
		cr := csv.NewReader(bytes.NewReader(text[start:]))
		cr.Comma = rune(info.Delimiter[0])
		cr.FieldsPerRecord = -1
		i := 0
		for {
			fields, err := cr.Read()
			if err == io.EOF {
				if i != len(rows) {
					t.Fatalf("got %d rows, encoding/csv found %d records", len(rows), i)
				}
				return
			}
			var pe *csv.ParseError
			var line int
			switch {
			case errors.As(err, &pe):
				line = pe.StartLine
			case err != nil:
				t.Fatalf("encoding/csv: %v", err)
			default:
				line, _ = cr.FieldPos(0)
				if blank(fields) {
					continue
				}
			}
			line += r.dataAt - 1
			if i >= len(rows) {
				t.Fatalf("encoding/csv found a record at line %d, got no row for it", line)
			}
			if rows[i].Line != line {
				t.Fatalf("row %d: got line %d, encoding/csv's record starts on line %d", i, rows[i].Line, line)
			}
			if pe != nil {
				if rows[i].Reason != report.ReasonMalformedRow {
					t.Fatalf("row at line %d: got reason %q, want %q (encoding/csv: %v)", line, rows[i].Reason, report.ReasonMalformedRow, err)
				}
				if pe.StartLine != pe.Line {
					// From here we read the broken record's lines again;
					// encoding/csv does not.
					return
				}
			}
			i++
		}
	})
}

func checkRowInvariants(t *testing.T, row Row) {
	t.Helper()
	if !reasons[row.Reason] {
		t.Fatalf("line %d: unknown reason %q", row.Line, row.Reason)
	}
	if (row.Reason == "") != (row.Problem == "") {
		t.Fatalf("line %d: reason %q with problem %q", row.Line, row.Reason, row.Problem)
	}
	if row.Example != (row.Reason == report.ReasonExampleRow) {
		t.Fatalf("line %d: Example %v with reason %q", row.Line, row.Example, row.Reason)
	}
	if row.Reason != "" && !row.Password.Empty() {
		t.Fatalf("line %d: an invalid row carries a password", row.Line)
	}
	if row.Reason == report.ReasonMalformedRow && (row.UPN != "" || row.ID != "") {
		t.Fatalf("line %d: a malformed row carries cells", row.Line)
	}
	if row.Reason != "" {
		return
	}
	if row.Target() == "" || row.Key() == "" {
		t.Fatalf("line %d: a valid row without a user", row.Line)
	}
	if row.ID != "" {
		if g, ok := parseGUID(row.ID); !ok || g != row.ID {
			t.Fatalf("line %d: a valid row with id %q", row.Line, row.ID)
		}
	} else if msg := checkUPN(row.UPN); msg != "" {
		t.Fatalf("line %d: a valid row with UPN %q: %s", row.Line, row.UPN, msg)
	}
	if row.UPN != trim(row.UPN) || strings.ContainsAny(row.Target(), "\r\n") {
		t.Fatalf("line %d: user not trimmed", row.Line)
	}
}
