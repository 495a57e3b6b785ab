package csvin

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/internal/xlsxtest"
)

// The fixed parts of the workbooks FuzzWorkbookSheet builds around a
// fuzzed sheet: one sheet, three shared strings, no styles (so that every
// value is shown as it is stored).
var fuzzParts = []xlsxtest.Part{
	{Name: "[Content_Types].xml", Data: []byte(`<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`)},
	{Name: "_rels/.rels", Data: []byte(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)},
	{Name: "xl/workbook.xml", Data: []byte(`<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Users" sheetId="1" r:id="rId1"/></sheets></workbook>`)},
	{Name: "xl/_rels/workbook.xml.rels", Data: []byte(`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`)},
	{Name: "xl/sharedStrings.xml", Data: []byte(`<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="3" uniqueCount="3"><si><t>UserPrincipalName</t></si><si><t>Password</t></si><si><t> </t></si></sst>`)},
}

// fuzzStrings are fuzzParts' shared strings.
var fuzzStrings = []string{"UserPrincipalName", "Password", " "}

// fuzzSheet is a seed: a header and n users, in the kinds of cell a
// workbook has (shared, inline and formula strings, numbers, booleans),
// with a blank row and a row left out.
func fuzzSheet(n int) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n" +
		`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:C9"/><sheetData>` +
		`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>`)
	for i := 2; i < n+2; i++ {
		switch i % 5 {
		case 0:
			fmt.Fprintf(&b, `<row r="%d" spans="1:3"><c r="A%d" t="inlineStr"><is><t>user%d@contoso.com</t></is></c><c r="B%d" t="str"><f>"x"</f><v>Kettle-%d!x</v></c></row>`, i, i, i, i, i)
		case 1:
			fmt.Fprintf(&b, `<row><c t="str"><v>user%d@contoso.com</v></c><c><v>%d</v></c><c t="b"><v>1</v></c></row>`, i, i)
		case 2:
			fmt.Fprintf(&b, `<row r="%d"><c r="A%d" t="s"><v>2</v></c></row>`, i, i) // blank
		case 3:
			// row i is left out
		default:
			fmt.Fprintf(&b, `<row r="%d"><c r="B%d" t="inlineStr"><is><r><t>Pass</t></r><r><t>word%d</t></r></is></c><c r="C%d" t="e"><v>#N/A</v></c></row>`, i, i, i, i)
		}
	}
	b.WriteString(`</sheetData><pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/></worksheet>`)
	return []byte(b.String())
}

// refSheet is the sheet as encoding/xml's Unmarshal sees it: the reference
// the reader is held to.
type refSheet struct {
	Rows []struct {
		R     string `xml:"r,attr"`
		Cells []struct {
			T  string  `xml:"t,attr"`
			V  *string `xml:"v"`
			IS *struct {
				T  string   `xml:"t"`
				Rs []string `xml:"r>t"`
			} `xml:"is"`
		} `xml:"c"`
	} `xml:"sheetData>row"`
}

// nonBlankRows returns the row numbers of the rows of sheet with a cell
// that is not blank, by an independent reading of the XML; ok is false if
// the XML does not parse.
func nonBlankRows(sheet []byte) (rows []int, ok bool) {
	var ref refSheet
	if err := xml.Unmarshal(sheet, &ref); err != nil {
		return nil, false
	}
	num := 0
	for _, r := range ref.Rows {
		if n, err := strconv.Atoi(r.R); err == nil {
			num = n
		} else {
			num++
		}
		for _, c := range r.Cells {
			var v string
			switch {
			case c.T == "inlineStr" && c.IS != nil:
				v = c.IS.T + strings.Join(c.IS.Rs, "")
			case c.V == nil:
			case c.T == "s":
				if i, err := strconv.Atoi(strings.TrimSpace(*c.V)); err == nil && i >= 0 && i < len(fuzzStrings) {
					v = fuzzStrings[i]
				}
			default:
				v = *c.V
			}
			if trim(v) != "" {
				rows = append(rows, num)
				break
			}
		}
	}
	return rows, true
}

// FuzzWorkbookSheet feeds damaged sheets to the workbook reader. It must
// read every row or fail: when it succeeds, the rows it returns are, line
// for line, the non-blank rows that encoding/xml finds in the same sheet
// (less the header), so that no row can be lost, merged or made up
// without an error.
func FuzzWorkbookSheet(f *testing.F) {
	f.Add(fuzzSheet(8))
	f.Add(fuzzSheet(40))
	f.Add([]byte(`<worksheet><sheetData><row><c t="inlineStr"><is><t>UPN</t></is></c></row><row><c t="inlineStr"><is><t>a@b.co</t></is></c></row></sheetData></worksheet>`))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, sheet []byte) {
		if len(sheet) > 1<<20 {
			return
		}
		file, err := os.CreateTemp(dir, "fuzz-*.xlsx")
		if err != nil {
			t.Fatal(err)
		}
		file.Close()
		path := file.Name()
		defer os.Remove(path)
		xlsxtest.WriteParts(t, path, append(slices.Clip(fuzzParts), xlsxtest.Part{Name: "xl/worksheets/sheet1.xml", Data: sheet}))

		r, err := Open(path, Options{})
		if err != nil {
			return // refused, with an error: allowed
		}
		info := r.Info()
		var got []int
		for {
			row, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				r.Close()
				return // the reader failed: allowed
			}
			got = append(got, row.Line)
		}
		r.Close()

		want, ok := nonBlankRows(sheet)
		if !ok {
			t.Fatalf("the reader read %d rows from a sheet that encoding/xml cannot parse:\n%s", len(got), sheet)
		}
		// Less the header (or for an Entra template, its version row and
		// header), unless the first column is a headerless list of users.
		skip := 1
		if info.Format == FormatXLSXEntraTemplate {
			skip = 2
		}
		if info.Headerless {
			skip = 0
		}
		want = want[min(skip, len(want)):]
		if !slices.Equal(got, want) {
			t.Fatalf("the reader returned rows %v, the sheet's non-blank rows after the header are %v:\n%s", got, want, bytes.TrimSpace(sheet))
		}
	})
}
