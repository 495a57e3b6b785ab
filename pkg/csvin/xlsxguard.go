package csvin

import (
	"archive/zip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
)

// This file stands between a workbook and excelize, which trusts both too
// much: it unpacks whatever the zip directory declares (a 2 MB file can
// declare a 2 GB part), and its row iterator ends quietly at the first XML
// error, so that a damaged sheet reads as a shorter one. Before excelize
// sees a workbook, its zip directory is checked against the limits below;
// then the sheet to read and the shared strings are read once in full by a
// strict XML decoder, which must find them whole and consistent: row
// numbers that increase, cells in their row and in column order, shared
// strings that exist, cells no longer than Excel allows. A workbook that
// passes is read by excelize entirely in memory, so that no plain-text
// copy of a cell (a password) is ever written to a temporary file that a
// SIGKILL would leave behind.

// Limits on what is unpacked from a workbook. A list of users is far from
// them: 100,000 users with a password each unpack to about 30 MB. A
// larger list is read as CSV, which is streamed. Tests lower them.
var (
	xlsxMaxPart  int64 = 128 << 20 // one part, unpacked
	xlsxMaxTotal int64 = 256 << 20 // every part together, and the file
)

const (
	// xlsxMaxRatio is how many times its packed size a part may unpack
	// to, once larger than xlsxRatioFrom. Spreadsheet XML packs 5 to 30
	// times; a decompression bomb packs a thousand times. Apache POI
	// refuses the same ratio by default.
	xlsxMaxRatio  = 100
	xlsxRatioFrom = 1 << 20
	// xlsxMaxCellChars is Excel's limit on the text of a cell, in UTF-16
	// code units.
	xlsxMaxCellChars = 32767
	// Excel's limits on a sheet's rows and columns.
	xlsxMaxRows = 1 << 20
	xlsxMaxCols = 1 << 14
)

// xlsxAdvice ends every WorkbookError: what the administrator can do.
const xlsxAdvice = "re-save the workbook in Excel, or export the sheet as CSV UTF-8, and try again"

// WorkbookError reports a workbook that is not read, because it is damaged
// or would unpack to more than the reader accepts. Reading it would have
// lost rows, or memory.
type WorkbookError struct {
	Name    string // the file, as given
	Sheet   string // the sheet read; "" before one is chosen
	Row     int    // the sheet's row number where the problem is; 0 if none
	Problem string // what is wrong, for a person
	Err     error  // the underlying error, if any
}

// Error names the file, the sheet and the row, says what is wrong and
// what to do.
func (e *WorkbookError) Error() string {
	var b strings.Builder
	b.WriteString("csvin: " + e.Name)
	if e.Sheet != "" {
		fmt.Fprintf(&b, ": sheet %q", e.Sheet)
	}
	if e.Row > 0 {
		fmt.Fprintf(&b, ", row %d", e.Row)
	}
	b.WriteString(": " + e.Problem)
	if e.Err != nil {
		b.WriteString(" (" + e.Err.Error() + ")")
	}
	return b.String() + "; " + xlsxAdvice
}

// Unwrap returns the underlying error.
func (e *WorkbookError) Unwrap() error { return e.Err }

// sizeProblem says what is wrong with a part that unpacks to size bytes
// from packed bytes, or "" when nothing is.
func sizeProblem(part string, size, packed int64) string {
	switch {
	case size < 0:
		return fmt.Sprintf("part %s declares an impossible size", part)
	case size > xlsxRatioFrom && size/max(packed, 1) > xlsxMaxRatio:
		return fmt.Sprintf("part %s unpacks to %s from %s, more than %d times its packed size: a decompression bomb, or a damaged file",
			part, megabytes(size), megabytes(packed), xlsxMaxRatio)
	case size > xlsxMaxPart:
		return fmt.Sprintf("part %s unpacks to %s, more than the %s read from a workbook (a list this long is read as CSV, which has no limit)",
			part, megabytes(size), megabytes(xlsxMaxPart))
	}
	return ""
}

// megabytes is n bytes as a person reads it: "2.0 MB".
func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }

// checkZip checks the zip directory: the file and every part within the
// limits, by their declared sizes. Reading enforces them again (see
// partReader): declared sizes can lie.
func checkZip(name string, size int64, zr *zip.Reader) error {
	if size > xlsxMaxTotal {
		return &WorkbookError{Name: name, Problem: fmt.Sprintf("the file is %s, more than the %s read from a workbook (a list this long is read as CSV, which has no limit)",
			megabytes(size), megabytes(xlsxMaxTotal))}
	}
	var total int64
	for _, f := range zr.File {
		unpacked, packed := int64(f.UncompressedSize64), int64(f.CompressedSize64)
		if p := sizeProblem(f.Name, unpacked, packed); p != "" {
			return &WorkbookError{Name: name, Problem: p}
		}
		if total += unpacked; total > xlsxMaxTotal {
			return &WorkbookError{Name: name, Problem: fmt.Sprintf("its parts unpack to more than the %s read from a workbook (a list this long is read as CSV, which has no limit)",
				megabytes(xlsxMaxTotal))}
		}
	}
	return nil
}

// partReader reads a part of the zip, failing as soon as what it has
// unpacked breaks the limits, whatever the directory declared.
type partReader struct {
	rc     io.ReadCloser
	name   string
	packed int64
	n      int64
}

func (p *partReader) Read(b []byte) (int, error) {
	n, err := p.rc.Read(b)
	p.n += int64(n)
	if prob := sizeProblem(p.name, p.n, p.packed); prob != "" {
		return n, &WorkbookError{Problem: prob}
	}
	return n, err
}

// workbookParts finds a workbook's parts by name, as excelize does.
type workbookParts struct {
	byName  map[string]*zip.File
	charset func(string, io.Reader) (io.Reader, error)
}

func newWorkbookParts(zr *zip.Reader, charset func(string, io.Reader) (io.Reader, error)) *workbookParts {
	p := &workbookParts{byName: map[string]*zip.File{}, charset: charset}
	for _, f := range zr.File {
		p.byName[strings.ReplaceAll(f.Name, `\`, "/")] = f
	}
	return p
}

// lookup returns the part named name, matched exactly or else without
// regard to case; nil if there is none.
func (p *workbookParts) lookup(name string) *zip.File {
	if f, ok := p.byName[name]; ok {
		return f
	}
	for n, f := range p.byName {
		if strings.EqualFold(n, name) {
			return f
		}
	}
	return nil
}

// decoder returns a strict XML decoder of the part f, and its closer.
func (p *workbookParts) decoder(f *zip.File) (*xml.Decoder, io.Closer, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, nil, err
	}
	d := xml.NewDecoder(&partReader{rc: rc, name: f.Name, packed: int64(f.CompressedSize64)})
	d.CharsetReader = p.charset
	return d, rc, nil
}

// eachElement calls fn with each start element of the part named name; a
// missing part has none.
func (p *workbookParts) eachElement(name string, fn func(xml.StartElement)) error {
	f := p.lookup(name)
	if f == nil {
		return nil
	}
	d, c, err := p.decoder(f)
	if err != nil {
		return err
	}
	defer c.Close()
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			fn(se)
		}
	}
}

// attr returns the value of the attribute local, in no namespace.
func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// sheetPart returns the name of the part that holds sheet's cells, found
// as excelize finds it: the package's office document (the workbook), its
// sheet of that name, and the relationship that sheet names.
func (p *workbookParts) sheetPart(sheet string) (string, error) {
	wbPath := "xl/workbook.xml"
	err := p.eachElement("_rels/.rels", func(se xml.StartElement) {
		if se.Name.Local == "Relationship" && strings.HasSuffix(attr(se, "Type"), "/officeDocument") {
			wbPath = strings.TrimPrefix(attr(se, "Target"), "/")
		}
	})
	if err != nil {
		return "", err
	}
	type entry struct{ name, rid string }
	var sheets []entry
	err = p.eachElement(wbPath, func(se xml.StartElement) {
		if se.Name.Local != "sheet" {
			return
		}
		e := entry{name: attr(se, "name")}
		for _, a := range se.Attr {
			if a.Name.Local == "id" && a.Name.Space != "" {
				e.rid = a.Value
			}
		}
		sheets = append(sheets, e)
	})
	if err != nil {
		return "", err
	}
	// The sheet of that name, else of that name in other letter case.
	rid := ""
	for _, e := range sheets {
		if e.name == sheet {
			rid = e.rid
			break
		}
		if rid == "" && strings.EqualFold(e.name, sheet) {
			rid = e.rid
		}
	}
	dir := path.Dir(wbPath)
	rels := path.Join(dir, "_rels", path.Base(wbPath)+".rels")
	var target string
	err = p.eachElement(rels, func(se xml.StartElement) {
		if se.Name.Local == "Relationship" && rid != "" && attr(se, "Id") == rid {
			target = attr(se, "Target")
		}
	})
	switch {
	case err != nil:
		return "", err
	case target == "":
		return "", errors.New("the workbook does not say which part holds the sheet")
	case strings.HasPrefix(target, "/"):
		return strings.TrimPrefix(path.Clean(target), "/"), nil
	}
	return path.Join(dir, target), nil
}

// sharedStrings is the name excelize reads the shared strings from.
const sharedStrings = "xl/sharedStrings.xml"

// countSharedStrings reads the shared strings table in full and returns
// how many strings it has. A string longer than Excel allows is an error.
func (p *workbookParts) countSharedStrings() (int, error) {
	f := p.lookup(sharedStrings)
	if f == nil {
		return 0, nil
	}
	d, c, err := p.decoder(f)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	n, depth, chars := 0, 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 2 && t.Name.Local == "si" {
				n++
				chars = 0
			}
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth >= 3 {
				if chars += utf16Len(t); chars > xlsxMaxCellChars {
					return n, fmt.Errorf("shared string %d is longer than Excel's 32,767 characters", n-1)
				}
			}
		}
	}
}

// utf16Len is the length of s in UTF-16 code units, as Excel counts.
func utf16Len(s []byte) int {
	n := 0
	for _, r := range string(s) {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}

// cellTypes are the values of a cell's t attribute (ECMA-376 ST_CellType).
var cellTypes = map[string]bool{"": true, "b": true, "d": true, "e": true, "inlineStr": true, "n": true, "s": true, "str": true}

// sheetCheck is the state of checkSheet.
type sheetCheck struct {
	strings int // shared strings in the workbook
	row     int // the current row's number; 0 before the first
	col     int // the current cell's column; 0 before the first of the row
	inCell  bool
	kind    string // the current cell's t
	text    int    // the current cell's value, in UTF-16 code units
	inValue int    // the depth of the <v> or <is> being read; 0 outside
	values  int    // the current cell's <v> (1) and <is> (2) seen
	value   []byte // the current <v>, for a shared string's index
}

// checkSheet reads the sheet part in full and returns the number of its
// last row; an error names the row it is in, if any.
func (p *workbookParts) checkSheet(part string, strs int) (lastRow int, err error) {
	f := p.lookup(part)
	if f == nil {
		return 0, fmt.Errorf("the sheet's part %s is missing", part)
	}
	d, c, err := p.decoder(f)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	s := &sheetCheck{strings: strs}
	// The structure excelize reads: <worksheet><sheetData><row><c><v>, the
	// rows and cells where they belong, up to the end of the sheetData
	// (excelize counts a <row> anywhere before it, and stops there).
	depth, stage := 0, 0 // stage: 0 before <sheetData>, 1 in it, 2 after it
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return s.row, nil
		}
		if err != nil {
			return s.row, rowError{s.row, err}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch name := t.Name.Local; {
			case name == "sheetData":
				if depth != 2 || stage != 0 {
					err = errors.New("a <sheetData> element out of place, or a second one")
				}
				stage = 1
			case stage == 2:
			case name == "row":
				if stage != 1 || depth != 3 {
					err = errors.New("a <row> element outside the sheet's data")
				} else {
					err = s.startRow(t)
				}
			case name == "c":
				if stage != 1 || depth != 4 {
					err = errors.New("a <c> (cell) element outside a row")
				} else {
					err = s.startCell(t)
				}
			case s.inCell && depth == 5 && (name == "v" || name == "is"):
				err = s.startValue(name)
				s.inValue = depth
			}
		case xml.EndElement:
			switch {
			case stage == 1 && depth == 2:
				stage = 2 // </sheetData>
			case stage == 1 && depth == 4 && t.Name.Local == "c":
				err = s.endCell()
			case s.inValue == depth:
				s.inValue = 0
			}
			depth--
		case xml.CharData:
			if s.inValue > 0 {
				if s.text += utf16Len(t); s.text > xlsxMaxCellChars {
					err = fmt.Errorf("cell %s is longer than Excel's 32,767 characters", s.cell())
				}
				if s.kind == "s" && len(s.value) < 32 {
					s.value = append(s.value, t...)
				}
			}
		}
		if err != nil {
			return s.row, rowError{s.row, err}
		}
	}
}

// rowError is an error found in a row of a sheet (0: before the first).
// Its text quotes nothing from the sheet: in a damaged sheet, markup can
// hold a cell's text, a password.
type rowError struct {
	row int
	err error
}

func (e rowError) Error() string { return e.err.Error() }
func (e rowError) Unwrap() error { return e.err }

func (s *sheetCheck) startRow(t xml.StartElement) error {
	prev := s.row
	if r := attr(t, "r"); r != "" {
		n, err := strconv.Atoi(r)
		if err != nil || n < 1 || n > xlsxMaxRows {
			return fmt.Errorf("the row after row %d has a number that is not between 1 and 1,048,576", prev)
		}
		if n <= prev {
			s.row = n
			return fmt.Errorf("row %d comes after row %d: rows must be in order, each once", n, prev)
		}
		s.row = n
	} else if s.row++; s.row > xlsxMaxRows {
		return errors.New("the sheet has more than Excel's 1,048,576 rows")
	}
	s.col, s.inCell = 0, false
	return nil
}

func (s *sheetCheck) startCell(t xml.StartElement) error {
	if s.row == 0 {
		return errors.New("a cell outside any row")
	}
	ref := attr(t, "r")
	if ref != "" {
		col, row, ok := splitCellRef(ref)
		switch {
		case !ok:
			if s.col == 0 {
				return errors.New("the row's first cell has a reference that is not valid")
			}
			return fmt.Errorf("the cell after column %s has a reference that is not valid", columnName(s.col))
		case row != s.row:
			return fmt.Errorf("cell %s is in the data of row %d", ref, s.row)
		case col <= s.col:
			return fmt.Errorf("cell %s comes after column %s: cells must be in column order, each once", ref, columnName(s.col))
		}
		s.col = col
	} else if s.col++; s.col > xlsxMaxCols {
		return errors.New("the row has more than Excel's 16,384 columns")
	}
	s.kind = attr(t, "t")
	if !cellTypes[s.kind] {
		return fmt.Errorf("cell %s has a type that is not one of Excel's", s.cell())
	}
	if st := attr(t, "s"); st != "" {
		if n, err := strconv.Atoi(st); err != nil || n < 0 {
			return fmt.Errorf("cell %s has a style that is not a number", s.cell())
		}
	}
	s.inCell, s.text, s.inValue, s.values, s.value = true, 0, 0, 0, s.value[:0]
	return nil
}

// startValue notes a cell's <v> or <is>: one of each at most, as Excel
// writes them (excelize would keep the last).
func (s *sheetCheck) startValue(name string) error {
	bit := 1
	if name == "is" {
		bit = 2
	}
	if s.values&bit != 0 {
		return fmt.Errorf("cell %s has two <%s> values", s.cell(), name)
	}
	s.values |= bit
	return nil
}

// cell is the current cell's reference, "B7".
func (s *sheetCheck) cell() string { return columnName(s.col) + strconv.Itoa(s.row) }

func (s *sheetCheck) endCell() error {
	s.inCell = false
	if s.kind != "s" {
		return nil
	}
	v := strings.TrimSpace(string(s.value))
	if v == "" {
		return nil
	}
	cell := s.cell()
	n, err := strconv.Atoi(v)
	switch {
	case err != nil:
		return fmt.Errorf("cell %s refers to a shared string by something that is not a number", cell)
	case n < 0 || n >= s.strings:
		return fmt.Errorf("cell %s refers to shared string %d, which the workbook does not have (it has %d)", cell, n, s.strings)
	}
	return nil
}

// splitCellRef splits "AB12" into column 28 and row 12.
func splitCellRef(ref string) (col, row int, ok bool) {
	i := 0
	for i < len(ref) && i < 3 && 'A' <= ref[i]&^0x20 && ref[i]&^0x20 <= 'Z' {
		col = col*26 + int(ref[i]&^0x20-'A'+1)
		i++
	}
	if i == 0 || col > xlsxMaxCols || i == len(ref) || ref[i] == '0' {
		return 0, 0, false
	}
	row, err := strconv.Atoi(ref[i:])
	if err != nil || row < 1 || row > xlsxMaxRows || ref[i] == '+' || ref[i] == '-' {
		return 0, 0, false
	}
	return col, row, true
}

// columnName is column n's letters: 1 is A, 28 is AB.
func columnName(n int) string {
	var b []byte
	for ; n > 0; n = (n - 1) / 26 {
		b = append([]byte{byte('A' + (n-1)%26)}, b...)
	}
	return string(b)
}

// checkWorkbook reads the parts of sheet that excelize would read with
// less care; it returns the sheet's last row number.
func checkWorkbook(name, sheet string, zr *zip.Reader, charset func(string, io.Reader) (io.Reader, error)) (int, error) {
	p := newWorkbookParts(zr, charset)
	fail := func(row int, problem string, err error) error {
		var we *WorkbookError
		if errors.As(err, &we) { // a limit broken while reading
			problem, err = we.Problem, nil
		}
		return &WorkbookError{Name: name, Sheet: sheet, Row: row, Problem: problem, Err: err}
	}
	part, err := p.sheetPart(sheet)
	if err != nil {
		return 0, fail(0, "the workbook's list of sheets is damaged", unpackError(err))
	}
	n, err := p.countSharedStrings()
	if err != nil {
		return 0, fail(0, "the shared strings ("+sharedStrings+") are damaged", unpackError(err))
	}
	last, err := p.checkSheet(part, n)
	if err != nil {
		var re rowError
		row := 0
		if errors.As(err, &re) {
			row, err = re.row, re.err
		}
		if damaged(err) {
			return 0, fail(row, "the sheet's part "+part+" is damaged", unpackError(err))
		}
		var we *WorkbookError
		if errors.As(err, &we) {
			return 0, fail(row, "", err)
		}
		return 0, fail(row, err.Error(), nil)
	}
	return last, nil
}

// damaged reports an error of the XML or of the zip, rather than one of
// the checks.
func damaged(err error) bool {
	var se *xml.SyntaxError
	return errors.As(err, &se) || errors.Is(err, zip.ErrFormat) || errors.Is(err, zip.ErrChecksum) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, zip.ErrAlgorithm)
}

// unpackError describes a damaged part's error without quoting the part:
// encoding/xml quotes the text around an error (a character entity, an
// element's name), which in a damaged sheet can be part of a cell, a
// password.
func unpackError(err error) error {
	var se *xml.SyntaxError
	switch {
	case errors.As(err, &se):
		what := "malformed XML"
		switch m := se.Msg; {
		case strings.HasPrefix(m, "illegal character code"): // "U+0001": no text quoted
			what = "a character not allowed in XML (" + m + ")"
		case strings.Contains(m, "character entity"):
			what = "an undefined or malformed character entity (&...;)"
		case strings.Contains(m, "closed by") || strings.Contains(m, "unexpected end element"):
			what = "a closing tag that does not match its opening tag"
		case m == "unexpected EOF":
			what = "the XML ends too early"
		case strings.Contains(m, "UTF-8"):
			what = "text that is not UTF-8"
		}
		return fmt.Errorf("%s, on line %d of its XML", what, se.Line)
	case errors.Is(err, zip.ErrFormat), errors.Is(err, zip.ErrChecksum), errors.Is(err, io.ErrUnexpectedEOF):
		return errors.New("it does not unpack to its declared size and checksum")
	case errors.Is(err, zip.ErrAlgorithm):
		return errors.New("it is packed by a method other than deflate")
	}
	return err
}
