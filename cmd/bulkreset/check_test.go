package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

func runCheckCLI(t *testing.T, stdin string, args ...string) runResult {
	t.Helper()
	var stdout, stderr strings.Builder
	code := run(context.Background(), append([]string{"check"}, args...), strings.NewReader(stdin), &stdout, &stderr, noEnv)
	return runResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func TestCheckReport(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", "\uFEFFsep=;\r\n"+
		"Display name;User principal name;Department;ForceChangePasswordNextSignIn\r\n"+
		"Adele Vance;adele@contoso.com;Retail;yes\r\n"+
		"Alex Wilber;alex@contoso.com;Marketing;\r\n"+
		"\r\n"+
		"Typo;alex wilber@contoso.com;Marketing;\r\n"+
		"Again;ADELE@contoso.com;Retail;\r\n"+
		"Nobody;;;\r\n"+
		"Lee Gu;lee@contoso.com;R&D;maybe\r\n"+
		"Broken;megan@contoso.com;\"Sales;\r\n"+
		"Nestor;nestor@contoso.com;Sales;no\r\n")
	res := runCheckCLI(t, "", "-i", in)
	if res.code != exitRowsFailed {
		t.Errorf("exit code %d, want %d; stderr:\n%s", res.code, exitRowsFailed, res.stderr)
	}
	want := `Input      ` + in + `
Format     CSV
Encoding   UTF-8 with a byte-order mark (Excel's "CSV UTF-8")
Delimiter  semicolon
Columns    userPrincipalName <- "User principal name" (column 2)
           forceChangePasswordNextSignIn <- "ForceChangePasswordNextSignIn" (column 4)
           not found: id, password, forceChangePasswordNextSignInWithMfa, tenantId
Ignored    "Display name", "Department"

Rows: 8
  valid            3
  invalid          4
    bad_value      1
    invalid_upn    1
    malformed_row  1
    missing_user   1
  duplicate        1

Problems:
  line 6   invalid_upn    alex wilber@contoso.com: UPN has a character at position 5 that is not allowed (allowed: A-Z a-z 0-9 and ' . - _ ! # ^ ~ $)
  line 8   missing_user   the row has no user: User principal name is empty
  line 9   bad_value      lee@contoso.com: ForceChangePasswordNextSignIn is not a yes/no value (true/false, yes/no or 1/0)
  line 10  malformed_row  line 10: a quoted field is never closed

Not sent, not problems:
  line 7  duplicate  ADELE@contoso.com: this user appears on an earlier line; it is reset once

4 rows are invalid: reset would not send them (exit code 3).
`
	if res.stdout != want {
		t.Errorf("report:\n%s\nwant:\n%s", res.stdout, want)
	}
	if res.stderr != "" {
		t.Errorf("stderr: got %q, want nothing", res.stderr)
	}
}

func TestCheckExitCodes(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		input    string
		args     []string
		code     int
		wantText []string // in stdout
	}{
		{
			name:     "every row valid",
			input:    "UPN\nadele@contoso.com\nalex@contoso.com\n",
			code:     exitOK,
			wantText: []string{"  valid  2\n", "Every row can be sent: 2 users to reset."},
		},
		{
			name:     "duplicates are not problems",
			input:    "UPN\nadele@contoso.com\nADELE@contoso.com\n",
			code:     exitOK,
			wantText: []string{"  duplicate  1\n", "line 3  duplicate", "Every row can be sent: 1 user to reset."},
		},
		{
			name:     "the template's example row is not a problem",
			input:    "version:v1.0\nUser name [userPrincipalName] Required\nExample: chris@contoso.com\nadele@contoso.com\n",
			code:     exitOK,
			wantText: []string{"Entra bulk-operation template", "    example_row  1\n", "line 3  skipped/example_row"},
		},
		{
			name:     "header only",
			input:    "UserPrincipalName,Department\n",
			code:     exitOK,
			wantText: []string{"Rows: 0\n", "No users: the file has a header but no rows."},
		},
		{
			name:     "headerless list",
			input:    "adele@contoso.com\nnot-a-upn\n",
			code:     exitRowsFailed,
			wantText: []string{"no header: the users are in the first column", "userPrincipalName <- column 1\n", "line 2  invalid_upn  not-a-upn: UPN has no @"},
		},
		{
			name:     "object ids win",
			input:    "id,userPrincipalName\n87d349ed-44d7-43e1-9a83-5f2406dee5bd,adele@contoso.com\nnot-a-guid,alex@contoso.com\n",
			code:     exitRowsFailed,
			wantText: []string{`id <- "id" (column 1); wins over the UPN when a row has both`, "line 3  invalid_id  alex@contoso.com: the object id is not a GUID"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := writeFile(t, dir, strings.ReplaceAll(tt.name, " ", "_")+".csv", tt.input)
			res := runCheckCLI(t, "", append([]string{"-i", in}, tt.args...)...)
			if res.code != tt.code {
				t.Errorf("exit code %d, want %d; stdout:\n%s\nstderr:\n%s", res.code, tt.code, res.stdout, res.stderr)
			}
			for _, w := range tt.wantText {
				if !strings.Contains(res.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, res.stdout)
				}
			}
		})
	}
}

// TestCheckPasswordColumn checks the Password column only with
// --password-mode column, and never prints a password.
func TestCheckPasswordColumn(t *testing.T) {
	passwords := []string{"Blue-Kettle-42x", "short1A", "alllowercaseletters", "Ünïcödé-Pass-99"}
	in := writeFile(t, t.TempDir(), "users.csv", "UserPrincipalName,Password\n"+
		"adele@contoso.com,"+passwords[0]+"\n"+
		"alex@contoso.com,"+passwords[1]+"\n"+
		"lee@contoso.com,"+passwords[2]+"\n"+
		"megan@contoso.com,"+passwords[3]+"\n"+
		"nestor@contoso.com,\n")

	random := runCheckCLI(t, "", "-i", in)
	if random.code != exitOK {
		t.Errorf("--password-mode random: exit code %d, want 0 (the column is ignored); stdout:\n%s", random.code, random.stdout)
	}
	if !strings.Contains(random.stdout, `password <- "Password" (column 2); ignored in --password-mode random`) {
		t.Errorf("--password-mode random: the report does not say the Password column is ignored:\n%s", random.stdout)
	}

	column := runCheckCLI(t, "", "-i", in, "--password-mode", "column")
	if column.code != exitRowsFailed {
		t.Errorf("--password-mode column: exit code %d, want 3; stdout:\n%s", column.code, column.stdout)
	}
	for _, w := range []string{
		"  valid               1\n",
		"    password_policy   3\n",
		"    missing_password  1\n",
		"line 3  password_policy   alex@contoso.com: password policy: length",
		"line 6  missing_password  nestor@contoso.com: the Password cell is empty",
	} {
		if !strings.Contains(column.stdout, w) {
			t.Errorf("--password-mode column: stdout lacks %q:\n%s", w, column.stdout)
		}
	}
	for _, res := range []runResult{random, column} {
		for _, pw := range passwords {
			if strings.Contains(res.stdout, pw) || strings.Contains(res.stderr, pw) {
				t.Errorf("the output holds a password from the Password column")
			}
		}
	}
}

func TestCheckMaxProblems(t *testing.T) {
	var b strings.Builder
	b.WriteString("UPN\n")
	for i := range 25 {
		fmt.Fprintf(&b, "bad%d\n", i)
	}
	in := writeFile(t, t.TempDir(), "users.csv", b.String())

	res := runCheckCLI(t, "", "-i", in)
	if got := strings.Count(res.stdout, "invalid_upn  bad"); got != 20 {
		t.Errorf("by default: %d problems listed, want 20", got)
	}
	if !strings.Contains(res.stdout, "Problems (first 20 of 25; --max-problems 0 lists all):") {
		t.Errorf("the report does not say that problems were left out:\n%s", res.stdout)
	}
	if !strings.Contains(res.stdout, "line 21  invalid_upn  bad19:") || strings.Contains(res.stdout, "line 22 ") {
		t.Errorf("the first 20 problems are not the ones listed:\n%s", res.stdout)
	}
	all := runCheckCLI(t, "", "-i", in, "--max-problems", "0")
	if got := strings.Count(all.stdout, "invalid_upn  bad"); got != 25 {
		t.Errorf("--max-problems 0: %d problems listed, want 25", got)
	}
}

// TestCheckTerminalSafety prints cells holding control characters quoted,
// so that a file cannot drive the terminal it is checked on.
func TestCheckTerminalSafety(t *testing.T) {
	in := writeFile(t, t.TempDir(), "users.csv", "UPN\n\x1b[2J\x1b[31mevil@contoso.com\n")
	res := runCheckCLI(t, "", "-i", in)
	if strings.Contains(res.stdout, "\x1b") {
		t.Errorf("stdout holds an escape character:\n%q", res.stdout)
	}
	if !strings.Contains(res.stdout, `"\x1b[2J\x1b[31mevil@contoso.com"`) {
		t.Errorf("the cell is not shown quoted:\n%s", res.stdout)
	}
}

func TestCheckStdin(t *testing.T) {
	res := runCheckCLI(t, "UPN;Name\r\nadele@contoso.com;Adele\r\n", "-i", "-")
	if res.code != exitOK || !strings.Contains(res.stdout, "Input      - (standard input)\n") || !strings.Contains(res.stdout, "Delimiter  semicolon\n") {
		t.Errorf("exit code %d, stdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
}

// failingReader returns its data, then an error.
type failingReader struct {
	data string
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.data == "" {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

// TestCheckReadError stops with exit code 1 when the input cannot be read
// to the end, and does not present the rows read as the whole file.
func TestCheckReadError(t *testing.T) {
	stdin := &failingReader{data: "UPN\nadele@contoso.com\nnot-a-upn\n", err: errors.New("connection reset by peer")}
	var stdout, stderr strings.Builder
	code := run(context.Background(), []string{"check", "-i", "-"}, stdin, &stdout, &stderr, noEnv)
	if code != exitFatal {
		t.Errorf("exit code %d, want %d; stderr:\n%s", code, exitFatal, stderr.String())
	}
	if !strings.Contains(stderr.String(), "connection reset by peer") {
		t.Errorf("stderr does not give the read error:\n%s", stderr.String())
	}
	if out := stdout.String(); !strings.Contains(out, "Stopped: the file could not be read to the end; the counts above are of the 2 rows read.") ||
		strings.Contains(out, "reset would not send") {
		t.Errorf("the report does not say it stopped early:\n%s", out)
	}
}

func TestCheckWorkbook(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", "Read me"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.NewSheet("Users"); err != nil {
		t.Fatal(err)
	}
	for cell, v := range map[string]any{
		"A1": "Employee ID", "B1": "UPN", "C1": "Department",
		"A2": 1001, "B2": "adele@contoso.com", "C2": "Retail",
		"A4": 1002, "B4": "alex@contoso", "C4": "Sales",
	} {
		if err := f.SetCellValue("Users", cell, v); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "users.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	res := runCheckCLI(t, "", "-i", path, "--sheet", "users")
	if res.code != exitRowsFailed {
		t.Errorf("exit code %d, want 3; stderr:\n%s", res.code, res.stderr)
	}
	for _, w := range []string{
		"Format   Excel workbook, sheet \"Users\"\n",
		"Columns  userPrincipalName <- \"UPN\" (column B)\n",
		"Ignored  \"Employee ID\", \"Department\"\n",
		"line 4  invalid_upn  alex@contoso: UPN domain has no dot",
	} {
		if !strings.Contains(res.stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, res.stdout)
		}
	}
	if strings.Contains(res.stdout, "Encoding") || strings.Contains(res.stdout, "Delimiter") {
		t.Errorf("a workbook has no encoding or delimiter to report:\n%s", res.stdout)
	}
}

func TestCheckUsageErrors(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", "UPN\nadele@contoso.com\n")
	hr := writeFile(t, dir, "hr.csv", "Name,Department\nAdele,Retail\n")
	f := excelize.NewFile()
	defer f.Close()
	if _, err := f.NewSheet("Users 2024"); err != nil {
		t.Fatal(err)
	}
	wb := filepath.Join(dir, "users.xlsx")
	if err := f.SaveAs(wb); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantText string // in stderr
	}{
		{"no input", nil, "--input is required"},
		{"missing file", []string{"-i", filepath.Join(dir, "nope.csv")}, "nope.csv"},
		{"no user column", []string{"-i", hr}, `found ["Name" "Department"]; expected one of UserPrincipalName`},
		{"unknown sheet", []string{"-i", wb, "--sheet", "Users"}, `no sheet "Users"; its sheets are "Sheet1", "Users 2024"`},
		{"sheet of a CSV file", []string{"-i", in, "--sheet", "Users"}, "not a workbook"},
		{"sheet of standard input", []string{"-i", "-", "--sheet", "Users"}, "--sheet is for a workbook file"},
		{"bad password mode", []string{"-i", in, "--password-mode", "guess"}, "--password-mode"},
		{"column mode without a Password column", []string{"-i", in, "--password-mode", "column"}, "Password column"},
		{"negative max problems", []string{"-i", in, "--max-problems", "-1"}, "--max-problems"},
		{"stray argument", []string{"-i", in, "extra"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCheckCLI(t, "", tt.args...)
			if res.code != exitUsage {
				t.Errorf("exit code %d, want %d (usage); stderr:\n%s", res.code, exitUsage, res.stderr)
			}
			if !strings.Contains(res.stderr, tt.wantText) {
				t.Errorf("stderr does not mention %q:\n%s", tt.wantText, res.stderr)
			}
		})
	}
}
