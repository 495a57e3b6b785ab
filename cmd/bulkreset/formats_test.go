package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/xuri/excelize/v2"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// The input files of testdata/formats are written by the generator below:
//
//	go test ./cmd/bulkreset -run TestFormatFilesAreCurrent -update-formats
//
// Without -update-formats, TestFormatFilesAreCurrent fails when a committed file
// differs from what the generator makes, so the files and the scenario
// cannot drift apart.
var updateFormats = flag.Bool("update-formats", false, "rewrite the input files of testdata/formats")

const formatsDir = "../../testdata/formats"

// person is a tenant member listed in the format files.
type person struct {
	upn, id, name, dept string
}

// formatRow is one record of the scenario, the same in every format.
type formatRow struct {
	user    string // the user cell as typed (untrimmed)
	id      string // the object id, where an export would have one
	name    string // display name
	dept    string
	outcome report.Outcome
	reason  report.Reason
	reset   bool   // the tenant's user must end with the recorded password
	upn     string // the tenant user this row targets
	number  bool   // a number in the user column (a number cell in the workbook)
}

// formatScenario is the tenant and the 55 records of every format file:
// 49 users to reset (47 members, a UPN that begins with $ and one with an
// apostrophe), an external guest whose reset is skipped, two invalid UPNs (an employee number pasted in
// the user column, and a UPN with a space), a user that does not exist, a
// synced user, and a duplicate in other letter case. Ten more members are
// in the tenant and in no file: they must stay untouched.
func formatScenario() (tenant []graphsim.User, rows []formatRow) {
	firsts := []string{"Adele", "Alex", "Allan", "Diego", "Grady", "Henrietta", "Isaiah", "Johanna", "Joni", "Lee",
		"Lidia", "Lynne", "Megan", "Miriam", "Nestor", "Patti", "Pradeep", "Zoë", "José", "Łukasz", "Renée", "Søren", "Chloé", "Björn"}
	lasts := []string{"Vance", "Wilber", "Deyoung", "Zárate", "Archie", "Cueva", "Turner", "Lauer", "Sherman", "Gu",
		"Holloway", "Robbins", "Bowen", "Graham", "Müller", "Fernandez", "Gupta", "Ødegaard", "Nowak", "García", "Dubois", "Ström", "Weiß"}
	fold := strings.NewReplacer("ë", "e", "é", "e", "á", "a", "ü", "u", "ö", "o", "ø", "o", "Ø", "O", "Ł", "L", "ß", "ss", "í", "i")
	var people []person
	for i := range 57 {
		first, last := firsts[i%len(firsts)], lasts[(i*7)%len(lasts)]
		local := strings.ToLower(fold.Replace(first) + "." + fold.Replace(last))
		people = append(people, person{
			upn:  fmt.Sprintf("%s%02d@%s", local, i+1, testDomain),
			id:   fmt.Sprintf("%08x-5e1f-4c2d-8a3b-%012x", 0x3c7a0000+i, 0x9d0e1f000000+i),
			name: first + " " + last,
			dept: []string{"Sales", "Retail", "R&D", "Finance, Legal", "Operations"}[i%5],
		})
	}
	special := []graphsim.User{
		{UPN: "ann_partner.example#EXT#@" + testDomain, ID: "0b1c2d3e-0000-4000-8000-00000000a001", Kind: graphsim.KindGuest, DisplayName: "Ann (Partner)"},
		{UPN: "$svc-backup@" + testDomain, ID: "0b1c2d3e-0000-4000-8000-00000000a002", Kind: graphsim.KindMember, DisplayName: "Backup service"},
		{UPN: "dana.o'neil@" + testDomain, ID: "0b1c2d3e-0000-4000-8000-00000000a003", Kind: graphsim.KindMember, DisplayName: "Dana O'Neil"},
		{UPN: "sync.user@" + testDomain, ID: "0b1c2d3e-0000-4000-8000-00000000a004", Kind: graphsim.KindSynced, DisplayName: "Sync User"},
	}
	for _, p := range people {
		tenant = append(tenant, graphsim.User{UPN: p.upn, ID: p.id, Kind: graphsim.KindMember, DisplayName: p.name})
	}
	tenant = append(tenant, special...)

	member := func(p person) formatRow {
		return formatRow{user: p.upn, id: p.id, name: p.name, dept: p.dept, outcome: report.Succeeded, reset: true, upn: p.upn}
	}
	next := 0
	members := func(n int) {
		for range n {
			rows = append(rows, member(people[next]))
			next++
		}
	}
	members(10)
	rows[3].user = "  " + rows[3].user + " " // spaces around a cell are trimmed
	rows = append(rows, formatRow{user: "1234567890123450000", name: "Employee number, pasted", dept: "Sales", outcome: report.Invalid, reason: "invalid_upn", number: true})
	members(9)
	rows = append(rows, formatRow{user: special[0].UPN, id: special[0].ID, name: special[0].DisplayName, dept: "IT",
		outcome: report.Skipped, reason: "external_guest", upn: special[0].UPN})
	for _, u := range special[1:3] {
		rows = append(rows, formatRow{user: u.UPN, id: u.ID, name: u.DisplayName, dept: "IT", outcome: report.Succeeded, reset: true, upn: u.UPN})
	}
	rows = append(rows,
		formatRow{user: "bob smith@" + testDomain, name: "Bob Smith", dept: "Sales", outcome: report.Invalid, reason: "invalid_upn"},
		formatRow{user: "nobody.here@" + testDomain, name: "Nobody Here", dept: "Sales", outcome: report.Failed, reason: "not_found"},
		formatRow{user: special[3].UPN, id: special[3].ID, name: special[3].DisplayName, dept: "IT", outcome: report.Skipped, reason: "synced_user", upn: special[3].UPN},
	)
	members(14)
	dup := member(people[2])
	dup.user, dup.outcome, dup.reset = strings.ToUpper(people[2].upn), report.Duplicate, false
	rows = append(rows, dup)
	members(14)
	return tenant, rows
}

// format is one way an administrator hands over the scenario.
type format struct {
	file   string
	args   []string
	offset int // line of a record = its number (from 1) + 1 + offset
	// example is the line of an Entra template's example row, 0 if none.
	example int
	write   func(rows []formatRow) []byte // nil for the workbook
}

var formats = []format{
	{file: "plain.csv", write: plainCSV},
	{file: "excel-csv-utf8.csv", write: excelCSVUTF8},
	{file: "excel-european.csv", offset: 1, write: europeanCSV},
	{file: "excel-unicode-text.txt", write: unicodeText},
	{file: "entra-bulk-template.csv", offset: 2, example: 3, write: entraTemplate},
	{file: "m365-admin-export.csv", write: adminExport},
	{file: "users.xlsx", args: []string{"--sheet", "Users"}},
	{file: "headerless.txt", offset: -1, write: headerless},
}

// csvCell quotes a cell for a delimiter when it must be.
func csvCell(s string, delim byte) string {
	if strings.ContainsAny(s, "\"\r\n"+string(delim)) {
		return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
	}
	return s
}

func csvLines(lines [][]string, delim byte, eol string) string {
	var b strings.Builder
	for _, l := range lines {
		for i, c := range l {
			if i > 0 {
				b.WriteByte(delim)
			}
			b.WriteString(csvCell(c, delim))
		}
		b.WriteString(eol)
	}
	return b.String()
}

// plainCSV is a CSV file written by a script: UTF-8, LF, commas.
func plainCSV(rows []formatRow) []byte {
	lines := [][]string{{"UserPrincipalName", "DisplayName", "Department"}}
	for _, r := range rows {
		lines = append(lines, []string{r.user, r.name, r.dept})
	}
	return []byte(csvLines(lines, ',', "\n"))
}

// excelCSVUTF8 is Excel's "CSV UTF-8" on Windows: a byte-order mark,
// CRLF, the headers of the admin center.
func excelCSVUTF8(rows []formatRow) []byte {
	lines := [][]string{{"Display name", "User principal name", "Department", "Office"}}
	for _, r := range rows {
		lines = append(lines, []string{r.name, r.user, r.dept, "Building 4, floor 2"})
	}
	return []byte("\uFEFF" + csvLines(lines, ',', "\r\n"))
}

// europeanCSV is Excel's "CSV" in a German locale: semicolons, a sep=
// line, CRLF, and Windows-1252, not UTF-8 (characters outside it become
// "?", as Excel writes them).
func europeanCSV(rows []formatRow) []byte {
	lines := [][]string{{"Name", "UPN", "Abteilung", "Kostenstelle"}}
	for i, r := range rows {
		first, last, _ := strings.Cut(r.name, " ")
		lines = append(lines, []string{last + ", " + first, r.user, r.dept, fmt.Sprint(4700 + i)})
	}
	return cp1252("sep=;\r\n" + csvLines(lines, ';', "\r\n"))
}

func cp1252(s string) []byte {
	var b []byte
	for _, r := range s {
		switch {
		case r < 0x80 || (r >= 0xA0 && r <= 0xFF):
			b = append(b, byte(r))
		default:
			b = append(b, '?')
		}
	}
	return b
}

// unicodeText is Excel's "Unicode Text": UTF-16 LE with a byte-order
// mark, tabs, CRLF, a cell with a tab in it quoted.
func unicodeText(rows []formatRow) []byte {
	lines := [][]string{{"UserPrincipalName", "Display name", "Notes"}}
	for i, r := range rows {
		note := ""
		if i%9 == 4 {
			note = "on leave\tback in May"
		}
		lines = append(lines, []string{r.user, r.name, note})
	}
	units := utf16.Encode([]rune("\uFEFF" + csvLines(lines, '\t', "\r\n")))
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, units)
	return b.Bytes()
}

// entraTemplate is the Entra admin center's bulk-create template, filled
// in, with its example row left in.
func entraTemplate(rows []formatRow) []byte {
	lines := [][]string{
		{"version:v1.0", "", "", ""},
		{"Name [displayName] Required", "User name [userPrincipalName] Required", "Initial password [passwordProfile] Required", "Block sign in (Yes/No) [accountEnabled] Required"},
		{"Example: Chris Green", "chris@contoso.com", "myPassword1234", "No"},
	}
	for i, r := range rows {
		lines = append(lines, []string{r.name, r.user, fmt.Sprintf("Welcome-%03d!x", i), "No"})
	}
	return []byte(csvLines(lines, ',', "\r\n"))
}

// adminExport is the Microsoft 365 admin center's Active users export:
// every column, the object ids of the users that exist (the id is sent),
// none for the rows typed in afterwards.
func adminExport(rows []formatRow) []byte {
	header := []string{"Block credential", "City", "Country/Region", "Department", "DirSyncEnabled", "Display name", "Fax",
		"First name", "Last dirsync time", "Last name", "Last password change time stamp", "License assignment detail",
		"Licenses", "Mobile Phone", "Oath token metadata", "Object Id", "Office", "Password never expires", "Phone number",
		"Postal code", "Preferred data location", "Preferred language", "Proxy addresses", "Release track",
		"Soft deletion time stamp", "State", "Street address", "Strong password required", "Title", "Usage location",
		"User principal name", "When created"}
	lines := [][]string{header}
	for _, r := range rows {
		first, last, _ := strings.Cut(r.name, " ")
		local, _, _ := strings.Cut(strings.TrimSpace(r.user), "@")
		lines = append(lines, []string{"False", "Redmond", "United States", r.dept, "", r.name, "",
			first, "", last, "2024-03-04 08:15:00Z", "", "fabrikam:SPE_E3+fabrikam:EMSPREMIUM", "", "", r.id, "", "False", "+1 425 555 0100",
			"98052", "", "en-US", "SMTP:" + local + "@" + testDomain + "+smtp:" + local + "@fabrikam.onmicrosoft.com", "",
			"", "WA", "1 Microsoft Way, Building 4", "True", "", "US",
			r.user, "2023-01-15 09:30:00Z"})
	}
	return []byte(csvLines(lines, ',', "\r\n"))
}

// headerless is a list of UPNs pasted from an e-mail: no header.
func headerless(rows []formatRow) []byte {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(r.user + "\n")
	}
	return []byte(b.String())
}

// workbookCells returns the cells of the workbook's two sheets: a "Read me"
// sheet first, then the users, with the UPN column formatted as text, an
// employee-id column of numbers and a yes/no column of TRUE cells.
func workbookCells(rows []formatRow) (readMe, users [][]any) {
	readMe = [][]any{{"Password reset list"}, {"The users are on the next sheet."}}
	users = [][]any{{"Employee ID", "UserPrincipalName", "Display name", "ForceChangePasswordNextSignIn"}}
	for i, r := range rows {
		var user any = r.user
		if r.number {
			user = 1234567890123450000.0 // as Excel holds a long number typed in a General cell
		}
		users = append(users, []any{100200 + i, user, r.name, true})
	}
	return readMe, users
}

func writeWorkbookFile(t *testing.T, path string, rows []formatRow) {
	t.Helper()
	readMe, users := workbookCells(rows)
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "Read me"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.NewSheet("Users"); err != nil {
		t.Fatal(err)
	}
	text, err := f.NewStyle(&excelize.Style{NumFmt: 49}) // "@": Text
	if err != nil {
		t.Fatal(err)
	}
	for sheet, cells := range map[string][][]any{"Read me": readMe, "Users": users} {
		for i, row := range cells {
			if err := f.SetSheetRow(sheet, fmt.Sprintf("A%d", i+1), &row); err != nil {
				t.Fatal(err)
			}
		}
	}
	for i, r := range rows {
		if !r.number {
			cell := fmt.Sprintf("B%d", i+2)
			if err := f.SetCellStyle("Users", cell, cell, text); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
}

// TestFormatFilesAreCurrent checks that the committed files are what the
// generator writes (with -update-formats, writes them).
func TestFormatFilesAreCurrent(t *testing.T) {
	_, rows := formatScenario()
	if *updateFormats {
		if err := os.MkdirAll(formatsDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range formats {
		path := filepath.Join(formatsDir, f.file)
		if f.write == nil {
			// A workbook's bytes depend on the zip compressor; compare what
			// a spreadsheet shows instead.
			if *updateFormats {
				writeWorkbookFile(t, path, rows)
				continue
			}
			fresh := filepath.Join(t.TempDir(), f.file)
			writeWorkbookFile(t, fresh, rows)
			if got, want := workbookText(t, path), workbookText(t, fresh); got != want {
				t.Errorf("%s differs from what the generator writes; run: go test ./cmd/bulkreset -run TestFormatFilesAreCurrent -update-formats", path)
			}
			continue
		}
		data := f.write(rows)
		if *updateFormats {
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run: go test ./cmd/bulkreset -run TestFormatFilesAreCurrent -update-formats)", err)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("%s differs from what the generator writes; run: go test ./cmd/bulkreset -run TestFormatFilesAreCurrent -update-formats", path)
		}
	}
}

// workbookText renders every sheet of a workbook, with its number formats.
func workbookText(t *testing.T, path string) string {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b strings.Builder
	for _, sheet := range f.GetSheetList() {
		rows, err := f.GetRows(sheet, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "[%s]\n", sheet)
		for i, row := range rows {
			for j, c := range row {
				cell, _ := excelize.CoordinatesToCellName(j+1, i+1)
				style, _ := f.GetCellStyle(sheet, cell)
				typ, _ := f.GetCellType(sheet, cell)
				fmt.Fprintf(&b, "%s=%q/%d/%d ", cell, c, style, typ)
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// TestFormatsEndToEnd is acceptance 1: the same 49 users are reset, and
// the same rows reported, from every format an administrator is likely
// to hand over. Each format runs against its own emulated tenant, through
// azidentity and $batch; the tenant's final state is checked, not only
// the results file.
func TestFormatsEndToEnd(t *testing.T) {
	tenantUsers, rows := formatScenario()
	resetUsers := map[string]bool{}
	for _, r := range rows {
		if r.reset {
			resetUsers[strings.ToLower(r.upn)] = true
		}
	}
	if len(rows) != 55 || len(resetUsers) != 49 {
		t.Fatalf("scenario: %d rows and %d users to reset, want 55 and 49", len(rows), len(resetUsers))
	}
	for _, f := range formats {
		t.Run(f.file, func(t *testing.T) {
			tn := startTenant(t, graphsim.Options{}, tenantUsers)
			dir := t.TempDir()
			in := filepath.Join(formatsDir, f.file)
			results, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")

			res := runCLI(t, t.Context(), tn.getenv(nil), append(append([]string{"reset", "-i", in, "-o", results, "--secrets", secrets,
				"--yes", "--quiet"}, f.args...), tn.authArgs()...)...)
			if res.code != exitRowsFailed {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitRowsFailed, res.stderr)
			}
			want := f.planned(rows)
			checkRun(t, tn, want, results, secrets)

			// The same 49 users, by name, whatever the format.
			got := map[string]bool{}
			for _, u := range tn.sim.Users() {
				if u.PasswordSets > 0 {
					got[strings.ToLower(u.UPN)] = true
				}
			}
			if len(got) != len(resetUsers) {
				t.Errorf("%d users reset, want %d", len(got), len(resetUsers))
			}
			for upn := range resetUsers {
				if !got[upn] {
					t.Errorf("%s was not reset", upn)
				}
			}
			// The export's object ids are what was sent (the id wins over
			// the UPN), and what the results show.
			if f.file == "m365-admin-export.csv" {
				byLine := readResults(t, results)
				for i, r := range rows {
					if line := i + 2 + f.offset; r.id != "" && byLine[line].ObjectID != r.id {
						t.Errorf("line %d: object_id %q, want %q", line, byLine[line].ObjectID, r.id)
					}
				}
			}
			if f.file == "entra-bulk-template.csv" && !strings.Contains(res.stderr, "Password column; it is ignored in --password-mode random") {
				t.Errorf("no warning that the template's Initial password column is ignored; stderr:\n%s", res.stderr)
			}
			checkNoSecrets(t, tn, secrets, map[string]string{"stdout": res.stdout, "stderr": res.stderr, "results file": readFile(t, results)})
		})
	}
}

// planned returns the results planned for a format: the scenario's rows at
// the format's lines, plus the template's example row.
func (f format) planned(rows []formatRow) []expect {
	var out []expect
	if f.example != 0 {
		out = append(out, expect{line: f.example, outcome: report.Skipped, reason: "example_row"})
	}
	for i, r := range rows {
		user := strings.TrimSpace(r.user)
		out = append(out, expect{line: i + 2 + f.offset, user: user, outcome: r.outcome, reason: r.reason, reset: r.reset, upn: r.upn})
	}
	return out
}

// TestFormatsCheck runs bulkreset check on every format file: it must see
// the same rows as reset, at the same lines, and say what it detected.
func TestFormatsCheck(t *testing.T) {
	_, rows := formatScenario()
	detected := map[string][]string{
		"plain.csv":               {"Format     CSV\n", "Encoding   UTF-8\n", "Delimiter  comma\n", `userPrincipalName <- "UserPrincipalName" (column 1)`},
		"excel-csv-utf8.csv":      {"Encoding   UTF-8 with a byte-order mark", `userPrincipalName <- "User principal name" (column 2)`},
		"excel-european.csv":      {"Encoding   Windows-1252 (not UTF-8", "Delimiter  semicolon\n", `userPrincipalName <- "UPN" (column 2)`, `Ignored    "Name", "Abteilung", "Kostenstelle"`},
		"excel-unicode-text.txt":  {"Encoding   UTF-16LE (Excel's \"Unicode Text\")\n", "Delimiter  tab\n"},
		"entra-bulk-template.csv": {"Format     Entra bulk-operation template", "password <- \"Initial password [passwordProfile] Required\" (column 3); ignored in --password-mode random"},
		"m365-admin-export.csv":   {`id <- "Object Id" (column 16); wins over the UPN`, `userPrincipalName <- "User principal name" (column 31)`, "and 22 more"},
		"users.xlsx":              {`Format   Excel workbook, sheet "Users"`, `userPrincipalName <- "UserPrincipalName" (column B)`, `forceChangePasswordNextSignIn <- "ForceChangePasswordNextSignIn" (column D)`},
		"headerless.txt":          {"no header: the users are in the first column"},
	}
	for _, f := range formats {
		t.Run(f.file, func(t *testing.T) {
			res := runCheckCLI(t, "", append([]string{"-i", filepath.Join(formatsDir, f.file)}, f.args...)...)
			if res.code != exitRowsFailed {
				t.Errorf("exit code %d, want %d; stderr:\n%s", res.code, exitRowsFailed, res.stderr)
			}
			for _, w := range detected[f.file] {
				if !strings.Contains(res.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, res.stdout)
				}
			}
			counts := []string{"Rows: 55\n", "  valid          52\n", "  invalid         2\n", "    invalid_upn   2\n", "  duplicate       1\n"}
			if f.example != 0 {
				counts = []string{"Rows: 56\n", "  valid          52\n", "  invalid         2\n", "    invalid_upn   2\n", "  duplicate       1\n", "  skipped         1\n", "    example_row   1\n"}
			}
			for _, w := range counts {
				if !strings.Contains(res.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, res.stdout)
				}
			}
			var lines []string
			for i, r := range rows {
				if r.outcome == report.Invalid || r.outcome == report.Duplicate {
					lines = append(lines, fmt.Sprintf("  line %d ", i+2+f.offset))
				}
			}
			if f.example != 0 {
				lines = append(lines, fmt.Sprintf("  line %d   skipped/example_row", f.example))
			}
			for _, l := range lines {
				if !strings.Contains(res.stdout, l) {
					t.Errorf("stdout does not list %q:\n%s", l, res.stdout)
				}
			}
			if got := strings.Count(res.stdout, "  line "); got != len(lines) {
				t.Errorf("%d rows listed, want %d", got, len(lines))
			}
		})
	}
}
