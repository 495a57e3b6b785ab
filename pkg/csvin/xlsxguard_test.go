package csvin

import (
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/internal/xlsxtest"
)

// rezip rewrites the workbook at path, with edit applied to each part's
// content, and extra parts added.
func rezip(t testing.TB, path string, edit func(name string, data []byte) []byte, extra ...xlsxtest.Part) string {
	t.Helper()
	parts := xlsxtest.ReadParts(t, path)
	for i := range parts {
		if edit != nil {
			parts[i].Data = edit(parts[i].Name, parts[i].Data)
		}
	}
	return writeParts(t, "edited.xlsx", append(parts, extra...))
}

// writeParts writes parts as a workbook named name in a test directory.
func writeParts(t testing.TB, name string, parts []xlsxtest.Part) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	xlsxtest.WriteParts(t, path, parts)
	return path
}

// tenUsers is a good workbook: a header in row 1 and users in rows 2 to 11,
// their UPNs in the shared strings, as Excel saves them.
func tenUsers(t testing.TB) (string, []Row) {
	t.Helper()
	rows := map[int][]any{1: {"UserPrincipalName", "Display name"}}
	var want []Row
	for i := 2; i <= 11; i++ {
		upn := fmt.Sprintf("user%02d@contoso.com", i)
		rows[i] = []any{upn, fmt.Sprintf("User %d", i)}
		want = append(want, Row{Line: i, UPN: upn})
	}
	return writeWorkbook(t, "users.xlsx", sheetSpec{name: "Users", rows: rows}), want
}

// replaceIn returns an edit that replaces old by new in the part named
// part, failing the test when old is not there.
func replaceIn(t *testing.T, part, old, new string) func(string, []byte) []byte {
	return func(name string, data []byte) []byte {
		if name != part {
			return data
		}
		if !bytes.Contains(data, []byte(old)) {
			t.Fatalf("%s has no %q:\n%s", part, old, data)
		}
		return bytes.Replace(data, []byte(old), []byte(new), 1)
	}
}

// readEverything opens path and reads every row, returning the rows read
// and the first error, from Open or Read.
func readEverything(path string) ([]Row, error) {
	r, err := Open(path, Options{})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var rows []Row
	for {
		row, err := r.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, row)
	}
}

// TestDamagedWorkbook damages a good workbook's sheet in the ways found in
// the field and by fuzzing: the reader must fail with an error that names
// the file, the sheet and, where it can, the row, and says what to do.
// It used to stop at the damage and report the rows before it as all.
func TestDamagedWorkbook(t *testing.T) {
	const sheet = "xl/worksheets/sheet1.xml"
	good, want := tenUsers(t)
	// The good workbook reads in full.
	rows, err := readEverything(good)
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, rows, want)

	long := strings.Repeat("x", 32768)
	for _, c := range []struct {
		name, old, new string
		part           string // default: the sheet
		wantRow        int    // 0: no row to name
		want           string // in the message
	}{
		{name: "control character", old: `<c r="B6" t="s"><v>`, new: `<c r="B6" t="str"><v>a` + "\x01" + `b</v></c><c r="C6"><v>`, wantRow: 6, want: "U+0001"},
		{name: "undefined entity", old: `<c r="B6" t="s"><v>`, new: `<c r="B6" t="str"><v>&bogus;</v></c><c r="C6"><v>`, wantRow: 6, want: "character entity"},
		{name: "malformed closing tag", old: `</row><row r="7"`, new: `</rwo><row r="7"`, wantRow: 6, want: "closing tag"},
		{name: "repeated row number", old: `<row r="8"><c r="A8" t="s"><v>`, new: `<row r="7"><c r="A7" t="s"><v>`, wantRow: 7, want: "row 7 comes after row 7"},
		{name: "decreasing row number", old: `<row r="8"><c r="A8" t="s"><v>`, new: `<row r="3"><c r="A3" t="s"><v>`, wantRow: 3, want: "row 3 comes after row 7"},
		{name: "cell of another row", old: `<c r="A8" t="s">`, new: `<c r="A9" t="s">`, wantRow: 8, want: "cell A9"},
		{name: "cells out of order", old: `<c r="B8" t="s">`, new: `<c r="A8" t="s">`, wantRow: 8, want: "cell A8"},
		{name: "shared string out of range", old: `<c r="A6" t="s"><v>`, new: `<c r="A6" t="s"><v>9999</v></c><c r="C6" t="s"><v>`, wantRow: 6, want: "shared string 9999"},
		{name: "shared string not a number", old: `<c r="A6" t="s"><v>`, new: `<c r="A6" t="s"><v>x</v></c><c r="C6" t="s"><v>`, wantRow: 6, want: "not a number"},
		{name: "row number out of range", old: `<row r="11"`, new: `<row r="1048577"`, wantRow: 10, want: "the row after row 10 has a number that is not between 1 and 1,048,576"},
		{name: "cell too long", old: `<c r="B6" t="s"><v>`, new: `<c r="B6" t="str"><v>` + long + `</v></c><c r="C6"><v>`, wantRow: 6, want: "32,767"},
		{name: "truncated sheet", old: `<row r="7"`, new: `<row r="7"><c r="A7"><v>1`, wantRow: 7, want: "ends too early"},
		{name: "damaged shared strings", part: "xl/sharedStrings.xml", old: `<si><t>user05@contoso.com</t></si>`, new: `<si><t>user05@contoso.com</x></si>`, want: "shared strings (xl/sharedStrings.xml) are damaged"},
		{name: "shared string too long", part: "xl/sharedStrings.xml", old: `<si><t>user05@contoso.com</t></si>`, new: `<si><t>` + long + `</t></si>`, want: "32,767"},
	} {
		t.Run(c.name, func(t *testing.T) {
			part := c.part
			if part == "" {
				part = sheet
			}
			old, new := c.old, c.new
			if c.name == "truncated sheet" {
				// Everything from row 7 on is gone.
				edit := func(name string, data []byte) []byte {
					if name != sheet {
						return data
					}
					i := bytes.Index(data, []byte(old))
					return append(data[:i:i], new...)
				}
				checkDamaged(t, rezip(t, good, edit), c.wantRow, c.want)
				return
			}
			checkDamaged(t, rezip(t, good, replaceIn(t, part, old, new)), c.wantRow, c.want)
		})
	}
}

// checkDamaged asserts that reading path fails, with a message naming the
// file, the sheet, the row (when wantRow is not 0) and want, and telling
// what to do.
func checkDamaged(t *testing.T, path string, wantRow int, want string) {
	t.Helper()
	rows, err := readEverything(path)
	if err == nil {
		t.Fatalf("read %d rows and no error, want an error", len(rows))
	}
	msg := err.Error()
	t.Logf("error: %s", msg)
	for _, w := range []string{path, `sheet "Users"`, want, "re-save the workbook in Excel"} {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
	if wantRow != 0 && !strings.Contains(msg, fmt.Sprintf("row %d", wantRow)) {
		t.Errorf("error %q does not name row %d", msg, wantRow)
	}
	var we *WorkbookError
	if !errors.As(err, &we) {
		t.Errorf("error %q is not a *WorkbookError", msg)
	}
}

// deflated returns n bytes (prefix, fill repeated, suffix) deflated: a
// decompression bomb built in memory, in well under a second.
func deflated(t testing.TB, prefix string, fill byte, n int64, suffix string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte{fill}, 1<<20)
	w.Write([]byte(prefix))
	for left := n; left > 0; left -= int64(len(chunk)) {
		w.Write(chunk[:min(left, int64(len(chunk)))])
	}
	w.Write([]byte(suffix))
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// bomb is a part of n bytes, deflated, declared at its true size.
func bomb(t testing.TB, name, prefix string, fill byte, n int64, suffix string) xlsxtest.Part {
	return xlsxtest.Part{Name: name, Raw: true, Data: deflated(t, prefix, fill, n, suffix),
		Declared: uint64(len(prefix)) + uint64(n) + uint64(len(suffix))}
}

// TestWorkbookBombs reads workbooks whose parts unpack to far more than
// their size: each is refused with a clear error, within a few MB of
// memory, and without writing a temporary file. They used to take GBs of
// memory or of /tmp.
func TestWorkbookBombs(t *testing.T) {
	good, want := tenUsers(t)
	parts := xlsxtest.ReadParts(t, good)
	replace := func(p xlsxtest.Part) []xlsxtest.Part {
		out := []xlsxtest.Part{}
		for _, q := range parts {
			if q.Name != p.Name {
				out = append(out, q)
			}
		}
		return append(out, p)
	}
	const sst = "xl/sharedStrings.xml"
	sheetPrefix := `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>`
	sheetSuffix := `</t></is></c></row></sheetData></worksheet>`
	sheetXML := readPartNamed(t, parts, "xl/worksheets/sheet1.xml")
	// A sheet's true content, followed by far more than its declared size:
	// the zip directory lies, so only reading can tell.
	lying := deflated(t, string(sheetXML), ' ', 256<<20, "")

	for _, c := range []struct {
		name  string
		parts []xlsxtest.Part
		want  string
	}{
		{"one huge part", append(parts, bomb(t, "xl/media/image1.bin", "", 0, 300<<20, "")), "xl/media/image1.bin"},
		{"a huge cell", replace(bomb(t, "xl/worksheets/sheet1.xml", sheetPrefix, 'a', 100<<20, sheetSuffix)), "xl/worksheets/sheet1.xml"},
		{"a huge shared strings table", replace(bomb(t, sst, `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`, ' ', 300<<20, `</sst>`)), sst},
		{"a part larger than declared", replace(xlsxtest.Part{Name: "xl/worksheets/sheet1.xml", Raw: true, Data: lying, Declared: uint64(len(sheetXML)) - 40}), "xl/worksheets/sheet1.xml"},
	} {
		t.Run(c.name, func(t *testing.T) {
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			path := writeParts(t, "bomb.xlsx", c.parts)
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			rows, err := readEverything(path)
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatalf("read %d rows and no error, want an error", len(rows))
			}
			if allocated := after.TotalAlloc - before.TotalAlloc; allocated > 64<<20 {
				t.Errorf("allocated %d MB while refusing it, want well under 256 MB", allocated>>20)
			}
			t.Logf("error: %v", err)
			for _, w := range []string{path, c.want, "re-save the workbook in Excel"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("temporary files written: %v", left)
			}
		})
	}
	_ = want
}

func readPartNamed(t testing.TB, parts []xlsxtest.Part, name string) []byte {
	t.Helper()
	for _, p := range parts {
		if p.Name == name {
			return p.Data
		}
	}
	t.Fatalf("no part %s", name)
	return nil
}

// TestWorkbookTooLarge lowers the limit on a part's size: an honest
// workbook over it is refused with a message that says how to read it
// (as CSV, which is streamed).
func TestWorkbookTooLarge(t *testing.T) {
	defer func(old int64) { xlsxMaxPart = old }(xlsxMaxPart)
	xlsxMaxPart = 64 << 10
	path := streamWorkbook(t, 2000)
	_, err := readEverything(path)
	if err == nil {
		t.Fatal("no error, want one")
	}
	for _, w := range []string{path, "xl/worksheets/sheet1.xml", "CSV"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

// TestWorkbookNoTemporaryFiles reads a large workbook with passwords: no
// temporary file is written, so that none can outlive the process (a
// SIGKILL runs no clean-up).
func TestWorkbookNoTemporaryFiles(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	rows := map[int][]any{1: {"UserPrincipalName", "Password"}}
	for i := 2; i <= 20_000; i++ {
		rows[i] = []any{fmt.Sprintf("user%05d@contoso.com", i), fmt.Sprintf("Pw-%05d-kettle!", i)}
	}
	path := writeWorkbook(t, "passwords.xlsx", sheetSpec{name: "Users", rows: rows})
	r, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	n := 0
	for {
		_, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if n == 10_000 {
			if left, _ := os.ReadDir(tmp); len(left) != 0 {
				t.Errorf("temporary files while reading: %v", left)
			}
		}
	}
	if n != 19_999 {
		t.Errorf("read %d rows, want 19999", n)
	}
}
