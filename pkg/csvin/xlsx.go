package csvin

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// This file reads .xlsx workbooks through excelize's streaming row
// iterator (File.Rows), never File.GetRows: one row of cells is built at a
// time. The workbook's parts are held in memory, within the limits of
// xlsxguard.go, and never unpacked to a temporary file: a password column
// must not leave a copy on disk that a SIGKILL would not remove.

// SheetError reports a sheet that the workbook does not have.
type SheetError struct {
	Sheet  string   // the sheet asked for
	Sheets []string // the workbook's sheets, in tab order
}

// Error names the sheet asked for and the sheets that exist.
func (e *SheetError) Error() string {
	quoted := make([]string, len(e.Sheets))
	for i, s := range e.Sheets {
		quoted[i] = strconv.Quote(s)
	}
	return fmt.Sprintf("the workbook has no sheet %q; its sheets are %s", e.Sheet, strings.Join(quoted, ", "))
}

// xlsxSource yields a worksheet's rows as records. A record's line is the
// spreadsheet's row number; its fields are the cells as the spreadsheet
// displays them (excelize applies each cell's number format), without the
// empty cells at the end of the row.
type xlsxSource struct {
	wb          *excelize.File
	rows        *excelize.Rows
	row         int // the row number of the last row read
	done        bool
	name, sheet string
	lastRow     int // the sheet's last row number, as checkWorkbook found it
}

// openWorkbook reads the workbook f, of size bytes, and its header. It
// does not close f.
func openWorkbook(f *os.File, size int64, opts Options) (*Reader, error) {
	name := displayName(opts.Name)
	zr, err := zip.NewReader(f, size)
	if err != nil {
		return nil, notWorkbook(name, err)
	}
	if err := checkZip(name, size, zr); err != nil {
		return nil, err
	}
	// Every part in memory: the limits above the total, none below.
	wb, err := excelize.OpenReader(io.NewSectionReader(f, 0, size), excelize.Options{UnzipSizeLimit: xlsxMaxTotal, UnzipXMLSizeLimit: xlsxMaxTotal})
	if err != nil {
		return nil, notWorkbook(name, err)
	}
	sheet, err := pickSheet(wb, name, opts.Sheet)
	if err != nil {
		wb.Close()
		return nil, err
	}
	lastRow, err := checkWorkbook(name, sheet, zr, wb.CharsetReader)
	if err != nil {
		wb.Close()
		return nil, err
	}
	rows, err := wb.Rows(sheet)
	if err != nil {
		wb.Close()
		return nil, fmt.Errorf("csvin: %s: sheet %q: %w", name, sheet, err)
	}
	src := &xlsxSource{wb: wb, rows: rows, name: name, sheet: sheet, lastRow: lastRow}
	r := &Reader{src: src, file: src, workbook: true, info: Info{Format: FormatXLSX, Sheet: sheet}, defaultTenant: opts.DefaultTenant, names: namesOf(opts)}
	if err := r.readWorkbookHeader(); err != nil {
		src.Close()
		return nil, err
	}
	return r, nil
}

// notWorkbook is the error for a file excelize cannot open.
func notWorkbook(name string, err error) error {
	if errors.Is(err, zip.ErrFormat) || errors.Is(err, excelize.ErrWorkbookFileFormat) {
		return fmt.Errorf("csvin: %s: not an .xlsx workbook (a damaged file, or a zip file of something else): %w", name, ErrUnsupported)
	}
	return fmt.Errorf("csvin: %s: reading the workbook: %w", name, err)
}

// pickSheet returns the sheet named want (Excel's sheet names are unique
// without regard to case, and so is the match), or, when want is empty,
// the first visible sheet: a hidden first sheet (lists behind drop-downs,
// say) is not what the administrator sees when opening the file.
func pickSheet(wb *excelize.File, name, want string) (string, error) {
	sheets := wb.GetSheetList()
	if len(sheets) == 0 {
		return "", fmt.Errorf("csvin: %s: the workbook has no sheets: %w", name, ErrUnsupported)
	}
	if want != "" {
		for _, s := range sheets {
			if s == want {
				return s, nil
			}
		}
		for _, s := range sheets {
			if strings.EqualFold(s, want) {
				return s, nil
			}
		}
		return "", &SheetError{Sheet: want, Sheets: sheets}
	}
	for _, s := range sheets {
		if visible, err := wb.GetSheetVisible(s); err == nil && visible {
			return s, nil
		}
	}
	return sheets[0], nil
}

// next returns the next row that has a cell.
func (s *xlsxSource) next() (rawRecord, error) {
	for !s.done && s.rows.Next() {
		s.row++
		cells, err := s.rows.Columns()
		if err != nil {
			return rawRecord{}, fmt.Errorf("row %d: %w", s.row, err)
		}
		if len(cells) == 0 {
			continue
		}
		return rawRecord{line: s.row, last: s.row, fields: cells}, nil
	}
	s.done = true
	if err := s.rows.Error(); err != nil {
		return rawRecord{}, err
	}
	if s.row < s.lastRow {
		// excelize stopped early, on something the check let through.
		return rawRecord{}, &WorkbookError{Name: s.name, Sheet: s.sheet, Row: s.row + 1,
			Problem: fmt.Sprintf("the sheet could not be read past row %d of %d", s.row, s.lastRow)}
	}
	return rawRecord{}, io.EOF
}

func (s *xlsxSource) lastLine() int { return s.row }

// Close releases the workbook and removes excelize's temporary files.
func (s *xlsxSource) Close() error {
	err := s.rows.Close()
	if cerr := s.wb.Close(); err == nil {
		err = cerr
	}
	return err
}

// readWorkbookHeader skips blank rows and the Entra template's version row,
// then hands the first other row to useHeader.
func (r *Reader) readWorkbookHeader() error {
	version := false
	for {
		rec, err := r.src.next()
		if err == io.EOF {
			return r.names.headerError(fmt.Sprintf("sheet %q is empty", r.info.Sheet))
		}
		if err != nil {
			return fmt.Errorf("csvin: reading the header: %w", err)
		}
		if blank(rec.fields) {
			continue
		}
		if !version && isVersionLine(rec.fields[0]) && blank(rec.fields[1:]) {
			version = true
			r.info.Format = FormatXLSXEntraTemplate
			continue
		}
		return r.useHeader(rec)
	}
}

// plainNumber undoes the exponent notation that excelize gives a number of
// more than 15 significant digits ("1.23456789012346E+19"): the user
// column then shows the digits, as a spreadsheet's "0" format does. Other
// values are returned as they are.
func plainNumber(s string) string {
	e := strings.IndexByte(s, 'E')
	if e < 0 || e+2 >= len(s) || (s[e+1] != '+' && s[e+1] != '-') {
		return s
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9') && c != '.' && c != '-' && c != '+' && c != 'E' {
			return s
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
