package csvin

import (
	"errors"
	"fmt"
	"github.com/bulkreset/bulkreset/pkg/secret"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/bulkreset/bulkreset/internal/xlsxtest"

	"github.com/bulkreset/bulkreset/pkg/report"
)

// sheetSpec is one worksheet of a test workbook: its rows by row number,
// each from column A.
type sheetSpec struct {
	name   string
	hidden bool
	rows   map[int][]any
	// text lists cells ("B2") given Excel's Text number format ("@").
	text []string
}

// writeWorkbook saves a workbook of the given sheets, in tab order, with
// excelize's ordinary (shared-strings) writer, as Excel writes them.
func writeWorkbook(t testing.TB, name string, sheets ...sheetSpec) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, s := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s.name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(s.name); err != nil {
			t.Fatal(err)
		}
		for row, cells := range s.rows {
			if err := f.SetSheetRow(s.name, fmt.Sprintf("A%d", row), &cells); err != nil {
				t.Fatal(err)
			}
		}
		if len(s.text) > 0 {
			style, err := f.NewStyle(&excelize.Style{NumFmt: 49})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range s.text {
				if err := f.SetCellStyle(s.name, c, c, style); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for i, s := range sheets {
		if !s.hidden {
			f.SetActiveSheet(i)
			break
		}
	}
	for _, s := range sheets {
		if s.hidden {
			if err := f.SetSheetVisible(s.name, false); err != nil {
				t.Fatal(err)
			}
		}
	}
	path := filepath.Join(t.TempDir(), name)
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestWorkbook(t *testing.T) {
	notes := sheetSpec{name: "Notes", rows: map[int][]any{1: {"Reset list, March"}, 2: {"Ask IT before editing"}}}
	users := sheetSpec{
		name: "Users",
		rows: map[int][]any{
			// Row 1 left empty: the header is the first row with a cell.
			2: {"Employee ID", "UPN", "Display name", "ForceChangePasswordNextSignIn"},
			3: {int64(1001), "adele@contoso.com", "Adele Vance", true},
			4: {int64(1002), "  alex@contoso.com  ", "Alex Wilber", false},
			// Row 5 empty: no row, and the next keeps its own number.
			6:  {int64(1003), "lee@contoso.com"}, // trailing empty cells: not malformed
			7:  {nil, nil, "Nobody"},
			8:  {int64(1004), 12345678901234500000.0, "Employee number in the UPN column"},
			9:  {int64(1005), "megan@contoso.com", nil, "maybe"},
			10: {int64(1006), "nestor@contoso.com", "Nestor", nil, "a cell past the header"},
			11: {int64(1007), "00123", "A number kept as text"},
		},
		text: []string{"B11"},
	}
	tests := []struct {
		name   string
		sheets []sheetSpec
		opts   Options
		info   Info // Sheet is "Users" unless set
		rows   []Row
	}{
		{
			name:   "users on the second sheet, named",
			sheets: []sheetSpec{notes, users},
			opts:   Options{Sheet: "Users"},
			info: Info{Format: FormatXLSX,
				Columns: map[string]string{ColumnUPN: "UPN", ColumnForceChange: "ForceChangePasswordNextSignIn"},
				Ignored: []string{"Employee ID", "Display name"}},
			rows: []Row{
				{Line: 3, UPN: "adele@contoso.com", ForceChange: ptr(true)},
				{Line: 4, UPN: "alex@contoso.com", ForceChange: ptr(false)},
				{Line: 6, UPN: "lee@contoso.com"},
				{Line: 7, Reason: report.ReasonMissingUser, Problem: "the row has no user: UPN is empty"},
				{Line: 8, UPN: "12345678901234500000", Reason: report.ReasonInvalidUPN, Problem: "UPN has no @ (expected name@domain)"},
				{Line: 9, UPN: "megan@contoso.com", Reason: report.ReasonBadValue, Problem: "ForceChangePasswordNextSignIn is not a yes/no value (true/false, yes/no or 1/0)"},
				{Line: 10, UPN: "nestor@contoso.com"},
				{Line: 11, UPN: "00123", Reason: report.ReasonInvalidUPN, Problem: "UPN has no @ (expected name@domain)"},
			},
		},
		{
			name:   "sheet names match without regard to case",
			sheets: []sheetSpec{notes, {name: "Users", rows: map[int][]any{1: {"UPN"}, 2: {"adele@contoso.com"}}}},
			opts:   Options{Sheet: "USERS"},
			info:   Info{Format: FormatXLSX, Columns: map[string]string{ColumnUPN: "UPN"}},
			rows:   []Row{{Line: 2, UPN: "adele@contoso.com"}},
		},
		{
			name: "the first visible sheet by default",
			sheets: []sheetSpec{
				{name: "Lists", hidden: true, rows: map[int][]any{1: {"Department"}, 2: {"Sales"}}},
				{name: "Users", rows: map[int][]any{1: {"UPN"}, 2: {"adele@contoso.com"}}},
			},
			info: Info{Format: FormatXLSX, Columns: map[string]string{ColumnUPN: "UPN"}},
			rows: []Row{{Line: 2, UPN: "adele@contoso.com"}},
		},
		{
			name: "Entra template saved as a workbook",
			sheets: []sheetSpec{{name: "Sheet1", rows: map[int][]any{
				1: {"version:v1.0"},
				2: {"Name [displayName] Required", "User name [userPrincipalName] Required", "Initial password [passwordProfile] Required"},
				3: {"Example: Chris Green", "chris@contoso.com", "myPassword1234"},
				4: {"Adele Vance", "adele@contoso.com", "Start#2024pw"},
			}}},
			info: Info{Format: FormatXLSXEntraTemplate, Sheet: "Sheet1",
				Columns:     map[string]string{ColumnUPN: "User name [userPrincipalName] Required", ColumnPassword: "Initial password [passwordProfile] Required"},
				HasPassword: true, Ignored: []string{"Name [displayName] Required"}},
			rows: []Row{
				{Line: 3, Example: true, Reason: report.ReasonExampleRow, Problem: "the example row of the Entra template; delete it from the file"},
				{Line: 4, UPN: "adele@contoso.com", Password: secret.New("Start#2024pw")},
			},
		},
		{
			name: "headerless, with object ids",
			sheets: []sheetSpec{{name: "Sheet1", rows: map[int][]any{
				1: {"adele@contoso.com"},
				3: {"8F3C2B1A-1234-4ABC-9DEF-0123456789AB"},
				4: {"bad@"},
			}}},
			info: Info{Format: FormatXLSX, Sheet: "Sheet1", Headerless: true, Columns: map[string]string{ColumnUPN: ""}},
			rows: []Row{
				{Line: 1, UPN: "adele@contoso.com"},
				{Line: 3, ID: "8f3c2b1a-1234-4abc-9def-0123456789ab"},
				{Line: 4, UPN: "bad@", Reason: report.ReasonInvalidUPN, Problem: "UPN has no domain after the @"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeWorkbook(t, "users.xlsx", tt.sheets...)
			r, err := Open(path, tt.opts)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer r.Close()
			want := tt.info
			if want.Sheet == "" {
				want.Sheet = "Users"
			}
			checkInfo(t, r.Info(), want)
			checkRows(t, readAll(t, r), tt.rows)
		})
	}
}

// TestPositions checks where each column used was found, in a CSV file
// and in a workbook.
func TestPositions(t *testing.T) {
	wb := writeWorkbook(t, "users.xlsx", sheetSpec{name: "Users", rows: map[int][]any{
		1: {"Name", "Department", "Object Id", "User principal name"},
		2: {"Adele", "Retail", guidAdele, "adele@contoso.com"},
	}})
	for path, want := range map[string]map[string]int{
		wb: {ColumnID: 3, ColumnUPN: 4},
		filepath.Join("testdata", "m365_export.csv"):   {ColumnUPN: 2, ColumnID: 3},
		filepath.Join("testdata", "headerless.txt"):    {ColumnUPN: 1},
		filepath.Join("testdata", "semicolon_sep.csv"): {ColumnID: 1, ColumnUPN: 2, ColumnPassword: 3, ColumnForceChange: 4},
	} {
		r, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Info().Positions; !maps.Equal(got, want) {
			t.Errorf("%s: Info.Positions: got %v, want %v", filepath.Base(path), got, want)
		}
		r.Close()
	}
}

func TestWorkbookByContent(t *testing.T) {
	// A workbook saved under a .csv name is still a workbook, and a CSV
	// file under an .xlsx name is still text: the bytes decide.
	wb := writeWorkbook(t, "book.xlsx", sheetSpec{name: "Sheet1", rows: map[int][]any{1: {"UPN"}, 2: {"adele@contoso.com"}}})
	data, err := os.ReadFile(wb)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	asCSV := filepath.Join(dir, "users.csv")
	asXLSX := filepath.Join(dir, "users.xlsx")
	if err := os.WriteFile(asCSV, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(asXLSX, []byte("UPN\r\nadele@contoso.com\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, format := range map[string]string{asCSV: FormatXLSX, asXLSX: FormatCSV} {
		r, err := Open(path, Options{})
		if err != nil {
			t.Fatalf("Open(%s): %v", filepath.Base(path), err)
		}
		if got := r.Info().Format; got != format {
			t.Errorf("Open(%s): Info.Format %q, want %q", filepath.Base(path), got, format)
		}
		checkRows(t, readAll(t, r), []Row{{Line: 2, UPN: "adele@contoso.com"}})
		r.Close()
	}
}

func TestWorkbookErrors(t *testing.T) {
	twoSheets := writeWorkbook(t, "two.xlsx",
		sheetSpec{name: "Notes", rows: map[int][]any{1: {"x"}}},
		sheetSpec{name: "Users 2024", rows: map[int][]any{1: {"UPN"}}})

	_, err := Open(twoSheets, Options{Sheet: "Users"})
	var se *SheetError
	if !errors.As(err, &se) {
		t.Fatalf("missing sheet: got %v, want a *SheetError", err)
	}
	if se.Sheet != "Users" || !slices.Equal(se.Sheets, []string{"Notes", "Users 2024"}) {
		t.Errorf("SheetError: got sheet %q and sheets %q, want \"Users\" and [Notes \"Users 2024\"]", se.Sheet, se.Sheets)
	}
	if want := `the workbook has no sheet "Users"; its sheets are "Notes", "Users 2024"`; err.Error() != want {
		t.Errorf("Error(): got %q, want %q", err, want)
	}

	noUser := writeWorkbook(t, "hr.xlsx", sheetSpec{name: "HR", rows: map[int][]any{1: {"Name", "Department"}, 2: {"Adele", "Retail"}}})
	_, err = Open(noUser, Options{})
	var he *HeaderError
	if !errors.As(err, &he) || !slices.Equal(he.Found, []string{"Name", "Department"}) {
		t.Errorf("no user column: got %v, want a *HeaderError naming Name and Department", err)
	}

	empty := writeWorkbook(t, "empty.xlsx", sheetSpec{name: "Users"})
	_, err = Open(empty, Options{})
	if !errors.As(err, &he) || he.Detail != `sheet "Users" is empty` {
		t.Errorf("empty sheet: got %v, want a *HeaderError saying the sheet is empty", err)
	}
}

// streamWorkbook writes n users with excelize's stream writer, which
// scales to large sheets.
func streamWorkbook(t testing.TB, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.xlsx")
	xlsxtest.StreamRows(t, path, []any{"UserPrincipalName", "Display name", "Department"}, n, func(i int) []any {
		return []any{fmt.Sprintf("first.last%d@contoso.onmicrosoft.com", i), fmt.Sprintf("Last, First %d", i), "Sales"}
	})
	return path
}

// TestWorkbookMemoryIsBounded reads a workbook of 15,000 users: the
// heap holds the workbook's parts, unpacked (they are kept in memory, never
// in a temporary file), and one row at a time, not every row's cells
// (File.GetRows would hold them all).
func TestWorkbookMemoryIsBounded(t *testing.T) {
	const n = 15_000
	path := streamWorkbook(t, n)
	var unpacked uint64
	for _, p := range xlsxtest.ReadParts(t, path) {
		unpacked += uint64(len(p.Data))
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	r, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var top uint64
	for i := 0; ; i++ {
		row, err := r.Read()
		if err == io.EOF {
			if i != n {
				t.Fatalf("read %d rows, want %d", i, n)
			}
			break
		}
		if err != nil || row.Reason != "" {
			t.Fatalf("row %d: %v %s", i, err, row.Reason)
		}
		if i%(n/4) == n/8 {
			runtime.GC()
			runtime.ReadMemStats(&ms)
			top = max(top, ms.HeapAlloc-min(base, ms.HeapAlloc))
		}
	}
	t.Logf("workbook unpacks to %d bytes; heap while reading grew by at most %d", unpacked, top)
	if top > 3*unpacked+(1<<20) {
		t.Errorf("heap while reading grew by %d bytes, want at most 3 times the %d bytes the workbook unpacks to", top, unpacked)
	}
}

func TestPlainNumber(t *testing.T) {
	tests := []struct{ in, want string }{
		{"1.23456789012345E+19", "12345678901234500000"},
		{"1.23456789012346E-05", "0.0000123456789012346"},
		{"-1.5E+16", "-15000000000000000"},
		{"123456789012", "123456789012"},
		{"adele@contoso.com", "adele@contoso.com"},
		{"E+10", "E+10"},
		{"1E", "1E"},
		{"1.5E+10x", "1.5E+10x"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := plainNumber(tt.in); got != tt.want {
			t.Errorf("plainNumber(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}
