// Package xlsxtest builds, takes apart and damages .xlsx workbooks for
// tests: the parts of a zip file, rewritten at will.
package xlsxtest

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"testing"

	"github.com/xuri/excelize/v2"
)

// Part is one part (file) of a workbook: its content, or, with Raw set,
// deflated bytes stored as they are under the Declared uncompressed size,
// which may lie.
type Part struct {
	Name     string
	Data     []byte
	Raw      bool
	Declared uint64
}

// ReadParts returns the parts of the workbook at path, in order.
func ReadParts(tb testing.TB, path string) []Part {
	tb.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer zr.Close()
	var parts []Part
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			tb.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			tb.Fatal(err)
		}
		parts = append(parts, Part{Name: f.Name, Data: data})
	}
	return parts
}

// WriteParts writes parts as a zip file at path.
func WriteParts(tb testing.TB, path string, parts []Part) {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.Raw {
			w, err = zw.CreateRaw(&zip.FileHeader{Name: p.Name, Method: zip.Deflate,
				CompressedSize64: uint64(len(p.Data)), UncompressedSize64: p.Declared})
		} else {
			w, err = zw.Create(p.Name)
		}
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := w.Write(p.Data); err != nil {
			tb.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		tb.Fatal(err)
	}
}

// Replace returns parts with old replaced by new, once, in the part named
// name, failing the test when old is not there.
func Replace(tb testing.TB, parts []Part, name, old, new string) []Part {
	tb.Helper()
	out := make([]Part, len(parts))
	copy(out, parts)
	for i, p := range out {
		if p.Name != name {
			continue
		}
		if !bytes.Contains(p.Data, []byte(old)) {
			tb.Fatalf("%s has no %q:\n%s", name, old, p.Data)
		}
		out[i].Data = bytes.Replace(p.Data, []byte(old), []byte(new), 1)
		return out
	}
	tb.Fatalf("the workbook has no part %s", name)
	return nil
}

// StreamRows writes a workbook of one sheet, Sheet1, at path with
// excelize's stream writer, which scales to large sheets: header in row 1,
// then row(i) for i from 0 to n-1.
func StreamRows(tb testing.TB, path string, header []any, n int, row func(i int) []any) {
	tb.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		tb.Fatal(err)
	}
	if err := sw.SetRow("A1", header); err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		if err := sw.SetRow(fmt.Sprintf("A%d", i+2), row(i)); err != nil {
			tb.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.SaveAs(path); err != nil {
		tb.Fatal(err)
	}
}
