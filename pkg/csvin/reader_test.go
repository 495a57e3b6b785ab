package csvin

import (
	"errors"
	"fmt"
	"github.com/bulkreset/bulkreset/pkg/secret"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/pkg/report"
)

func ptr(v bool) *bool { return &v }

func fmtBool(b *bool) string {
	if b == nil {
		return "nil"
	}
	return fmt.Sprint(*b)
}

// diffRow describes how got differs from want. It never prints a
// password: it says only that the passwords differ.
func diffRow(got, want Row) string {
	var d []string
	add := func(field string, g, w any) {
		if g != w {
			d = append(d, fmt.Sprintf("%s: got %q, want %q", field, g, w))
		}
	}
	add("Line", fmt.Sprint(got.Line), fmt.Sprint(want.Line))
	add("UPN", got.UPN, want.UPN)
	add("ID", got.ID, want.ID)
	if !got.Password.Equal(want.Password) {
		d = append(d, fmt.Sprintf("Password: differs (got %d bytes, want %d)", got.Password.Len(), want.Password.Len()))
	}
	add("ForceChange", fmtBool(got.ForceChange), fmtBool(want.ForceChange))
	add("ForceChangeMFA", fmtBool(got.ForceChangeMFA), fmtBool(want.ForceChangeMFA))
	add("Reason", got.Reason, want.Reason)
	add("Problem", got.Problem, want.Problem)
	add("Example", fmt.Sprint(got.Example), fmt.Sprint(want.Example))
	return strings.Join(d, "; ")
}

func readAll(t *testing.T, r *Reader) []Row {
	t.Helper()
	var rows []Row
	for {
		row, err := r.Read()
		if err == io.EOF {
			return rows
		}
		if err != nil {
			t.Fatalf("Read: got error %v, want nil or io.EOF", err)
		}
		rows = append(rows, row)
	}
}

func checkRows(t *testing.T, got, want []Row) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		switch {
		case i >= len(got):
			t.Errorf("row %d: missing, want line %d", i, want[i].Line)
		case i >= len(want):
			t.Errorf("row %d: got an extra row at line %d (%s)", i, got[i].Line, got[i].Reason)
		default:
			if d := diffRow(got[i], want[i]); d != "" {
				t.Errorf("row %d (line %d): %s", i, want[i].Line, d)
			}
		}
	}
}

func checkInfo(t *testing.T, got, want Info) {
	t.Helper()
	if got.Encoding != want.Encoding {
		t.Errorf("Info.Encoding: got %q, want %q", got.Encoding, want.Encoding)
	}
	if got.Delimiter != want.Delimiter {
		t.Errorf("Info.Delimiter: got %q, want %q", got.Delimiter, want.Delimiter)
	}
	if got.Format != want.Format {
		t.Errorf("Info.Format: got %q, want %q", got.Format, want.Format)
	}
	if got.Sheet != want.Sheet {
		t.Errorf("Info.Sheet: got %q, want %q", got.Sheet, want.Sheet)
	}
	if got.Headerless != want.Headerless {
		t.Errorf("Info.Headerless: got %v, want %v", got.Headerless, want.Headerless)
	}
	if !maps.Equal(got.Columns, want.Columns) {
		t.Errorf("Info.Columns: got %q, want %q", got.Columns, want.Columns)
	}
	if got.HasPassword != want.HasPassword {
		t.Errorf("Info.HasPassword: got %v, want %v", got.HasPassword, want.HasPassword)
	}
	if !slices.Equal(got.Ignored, want.Ignored) {
		t.Errorf("Info.Ignored: got %q, want %q", got.Ignored, want.Ignored)
	}
}

const (
	guidAdele = "87d349ed-44d7-43e1-9a83-5f2406dee5bd"
	upnGuest  = "alex_fabrikam.com#EXT#@contoso.onmicrosoft.com"
	fieldsTip = " (a cell with the delimiter in it needs quotes)"
	quoteTip  = " (quote the whole field and double the quote)"
	closeTip  = " (double a quote inside a quoted field)"
)

func TestReaderFormats(t *testing.T) {
	tests := []struct {
		file string
		info Info
		rows []Row
	}{
		{
			file: "plain.csv",
			info: Info{Encoding: "UTF-8", Delimiter: ",", Format: FormatCSV,
				Columns: map[string]string{ColumnUPN: "UserPrincipalName", ColumnForceChange: "ForceChangePasswordNextSignIn", ColumnForceChangeMFA: "ForceChangePasswordNextSignInWithMfa"},
				Ignored: []string{"DisplayName"}},
			rows: []Row{
				{Line: 2, UPN: "adele.vance@contoso.com", ForceChange: ptr(true)},
				{Line: 3, UPN: "alex.wilber@contoso.com", ForceChangeMFA: ptr(true)},
				{Line: 4, UPN: "ALEX.WILBER@contoso.com", ForceChange: ptr(false), ForceChangeMFA: ptr(false)},
				{Line: 5, UPN: upnGuest, ForceChange: ptr(false)},
				{Line: 6, UPN: "$svc-helpdesk@contoso.com", ForceChange: ptr(true)},
				{Line: 7, UPN: "conor.o'brien@contoso.com"},
				{Line: 8, UPN: "not an email", Reason: report.ReasonInvalidUPN, Problem: "UPN has no @ (expected name@domain)"},
				{Line: 9, Reason: report.ReasonMissingUser, Problem: "the row has no user: UserPrincipalName is empty"},
				{Line: 10, UPN: "lee.gu@contoso.com", Reason: report.ReasonBadValue, Problem: "ForceChangePasswordNextSignIn is not a yes/no value (true/false, yes/no or 1/0)"},
				{Line: 11, UPN: "megan.bowen@contoso.com", Reason: report.ReasonBadValue, Problem: "ForceChangePasswordNextSignInWithMfa is not a yes/no value (true/false, yes/no or 1/0)"},
			},
		},
		{
			file: "bom.csv",
			info: Info{Encoding: "UTF-8 BOM", Delimiter: ",", Format: FormatCSV,
				Columns: map[string]string{ColumnUPN: "UPN", ColumnPassword: "Password"}, HasPassword: true,
				Ignored: []string{"Department"}},
			rows: []Row{
				{Line: 2, UPN: "alice@contoso.com", Password: secret.New("  Secret 1!  ")},
				{Line: 3, UPN: "bob@contoso.com"},
			},
		},
		{
			file: "semicolon_sep.csv",
			info: Info{Encoding: "UTF-8", Delimiter: ";", Format: FormatCSV,
				Columns:     map[string]string{ColumnID: "ObjectId", ColumnUPN: "UserPrincipalName", ColumnPassword: "Password", ColumnForceChange: "ForceChangePasswordNextSignIn"},
				HasPassword: true},
			rows: []Row{
				{Line: 3, ID: "8f3c2b1a-1234-4abc-9def-0123456789ab", UPN: "adele@contoso.com", Password: secret.New("Pa;ss1!"), ForceChange: ptr(true)},
				{Line: 4, UPN: "alex@contoso.com", Password: secret.New("Xy12345!")},
				{Line: 5, ID: "not-a-guid", UPN: "lee@contoso.com", Reason: report.ReasonInvalidID, Problem: "the object id is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"},
				{Line: 6, ID: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", Password: secret.New("Qw!23456"), ForceChange: ptr(false)},
			},
		},
		{
			file: "cp1252_semicolon.csv",
			info: Info{Encoding: "Windows-1252", Delimiter: ";", Format: FormatCSV,
				Columns: map[string]string{ColumnUPN: "UPN"}, Ignored: []string{"Name", "Größe"}},
			rows: []Row{
				{Line: 3, UPN: "hans@contoso.com"},
				{Line: 4, UPN: "josé@contoso.com", Reason: report.ReasonInvalidUPN, Problem: "UPN has a non-ASCII character at position 4 (accented and other Unicode characters are not allowed)"},
				{Line: 5, UPN: "euro@contoso.com"},
			},
		},
		{
			file: "semicolon.csv",
			info: Info{Encoding: "UTF-8", Delimiter: ";", Format: FormatCSV,
				Columns: map[string]string{ColumnUPN: "UPN"}, Ignored: []string{"Name", "Abteilung"}},
			rows: []Row{
				{Line: 2, UPN: "hans.mueller@contoso.com"},
				{Line: 3, UPN: "eva.schmidt@contoso.com"},
			},
		},
		{
			file: "utf16le_tab.txt",
			info: Info{Encoding: "UTF-16LE", Delimiter: "\t", Format: FormatCSV,
				Columns: map[string]string{ColumnUPN: "UserPrincipalName"}, Ignored: []string{"Display name", "Department"}},
			rows: []Row{
				{Line: 2, UPN: "adele.vance@contoso.com"},
				{Line: 3, UPN: "josé@contoso.com", Reason: report.ReasonInvalidUPN, Problem: "UPN has a non-ASCII character at position 4 (accented and other Unicode characters are not allowed)"},
				{Line: 4, UPN: "quoted@contoso.com"},
			},
		},
		{
			file: "utf16be.csv",
			info: Info{Encoding: "UTF-16BE", Delimiter: ",", Format: FormatCSV,
				Columns: map[string]string{ColumnID: "Id"}, Ignored: []string{"Display name"}},
			rows: []Row{
				{Line: 2, ID: guidAdele},
				{Line: 3, ID: "xyz", Reason: report.ReasonInvalidID, Problem: "the object id is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"},
			},
		},
		{
			file: "entra_template.csv",
			info: Info{Encoding: "UTF-8", Delimiter: ",", Format: FormatEntraTemplate,
				Columns:     map[string]string{ColumnUPN: "User name [userPrincipalName] Required", ColumnPassword: "Initial password [passwordProfile] Required"},
				HasPassword: true,
				Ignored:     []string{"Name [displayName] Required", "Block sign in (Yes/No) [accountEnabled] Required"}},
			rows: []Row{
				{Line: 3, Example: true, Reason: report.ReasonExampleRow, Problem: "the example row of the Entra template; delete it from the file"},
				{Line: 4, UPN: "adele@contoso.com", Password: secret.New("Start#2024pw")},
				{Line: 5, UPN: "alex@contoso.com", Password: secret.New("Go!2024now")},
			},
		},
		{
			file: "entra_delete_template.csv",
			info: Info{Encoding: "UTF-8", Delimiter: ",", Format: FormatEntraTemplate,
				Columns: map[string]string{ColumnUPN: "User name [userPrincipalName] Required"}},
			rows: []Row{
				{Line: 3, Example: true, Reason: report.ReasonExampleRow, Problem: "the example row of the Entra template; delete it from the file"},
				{Line: 4, UPN: "alain@contoso.com"},
				{Line: 5, UPN: "isabella@contoso.com"},
			},
		},
		{
			file: "m365_export.csv",
			info: Info{Encoding: "UTF-8", Delimiter: ",", Format: FormatCSV,
				Columns: map[string]string{ColumnUPN: "User principal name", ColumnID: "Object Id"},
				Ignored: []string{"Display name", "Department"}},
			rows: []Row{
				{Line: 2, UPN: "AdeleV@contoso.com", ID: guidAdele},
				{Line: 3, UPN: "AlexW@contoso.com"},
			},
		},
		{
			file: "entra_export.csv",
			info: Info{Encoding: "UTF-8", Delimiter: ",", Format: FormatCSV,
				Columns: map[string]string{ColumnUPN: "userPrincipalName", ColumnID: "id"},
				Ignored: []string{"displayName", "userType", "accountEnabled"}},
			rows: []Row{
				{Line: 2, UPN: "AdeleV@contoso.com", ID: guidAdele},
				{Line: 3, UPN: "guest_fabrikam.com#EXT#@contoso.onmicrosoft.com", ID: "5a6b7c8d-0000-4000-8000-000000000001"},
			},
		},
		{
			file: "headerless.txt",
			info: Info{Encoding: "UTF-8", Delimiter: ",", Format: FormatCSV, Headerless: true,
				Columns: map[string]string{ColumnUPN: ""}},
			rows: []Row{
				{Line: 1, UPN: "adele@contoso.com"},
				{Line: 2, UPN: upnGuest},
				{Line: 4, UPN: "$svc@contoso.com"},
				{Line: 5, ID: "8f3c2b1a-1234-4abc-9def-0123456789ab"},
				{Line: 6, UPN: "bad@", Reason: report.ReasonInvalidUPN, Problem: "UPN has no domain after the @"},
			},
		},
		{
			file: "quoted_multiline.csv",
			info: Info{Encoding: "UTF-8", Delimiter: ",", Format: FormatCSV,
				Columns: map[string]string{ColumnUPN: "UserPrincipalName", ColumnPassword: "Password"}, HasPassword: true,
				Ignored: []string{"Note"}},
			rows: []Row{
				{Line: 2, UPN: "adele@contoso.com", Password: secret.New("Xx1!xxxx")},
				{Line: 4, UPN: "alex@contoso.com", Password: secret.New("P,w1 xx")},
				{Line: 5, UPN: "lee@contoso.com"},
				{Line: 8, UPN: "megan@contoso.com"},
			},
		},
		{
			file: "malformed.csv",
			info: Info{Encoding: "UTF-8", Delimiter: ",", Format: FormatCSV,
				Columns: map[string]string{ColumnUPN: "UserPrincipalName", ColumnPassword: "Password"}, HasPassword: true,
				Ignored: []string{"DisplayName"}},
			rows: []Row{
				{Line: 2, UPN: "a@contoso.com"},
				{Line: 3, Reason: report.ReasonMalformedRow, Problem: "line 3, column 16: a quote inside an unquoted field" + quoteTip},
				{Line: 4, Reason: report.ReasonMalformedRow, Problem: "line 4, column 23: a closing quote followed by more text" + closeTip},
				{Line: 5, Reason: report.ReasonMalformedRow, Problem: "the row has 2 cells, the header has 3" + fieldsTip},
				{Line: 6, Reason: report.ReasonMalformedRow, Problem: "the row has 4 cells, the header has 3" + fieldsTip},
				{Line: 7, Reason: report.ReasonMalformedRow, Problem: "line 9, column 15: a closing quote followed by more text" + closeTip},
				{Line: 8, UPN: "j@contoso.com"},
				{Line: 9, Reason: report.ReasonMalformedRow, Problem: "line 9, column 20: a closing quote followed by more text" + closeTip},
				{Line: 10, UPN: "l@contoso.com"},
				{Line: 11, Reason: report.ReasonMalformedRow, Problem: "line 11: a quoted field is never closed"},
				{Line: 12, UPN: "n@contoso.com"},
				{Line: 13, UPN: "o@contoso.com"},
			},
		},
		{
			file: "blank_crlf.csv",
			info: Info{Encoding: "UTF-8", Delimiter: ",", Format: FormatCSV,
				Columns: map[string]string{ColumnUPN: "UPN"}, Ignored: []string{"Name"}},
			rows: []Row{
				{Line: 4, UPN: "a@contoso.com"},
				{Line: 7, UPN: "b@contoso.com"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r, err := Open(filepath.Join("testdata", tt.file), Options{})
			if err != nil {
				t.Fatalf("Open: got error %v, want nil", err)
			}
			defer r.Close()
			checkInfo(t, r.Info(), tt.info)
			checkRows(t, readAll(t, r), tt.rows)
			if _, err := r.Read(); err != io.EOF {
				t.Errorf("Read after the end: got %v, want io.EOF", err)
			}
		})
	}
}

func TestReaderFromString(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		opts     Options
		wantCols map[string]string
		wantSep  string
		rows     []Row
	}{
		{
			name:     "tsv extension prefers tab over comma when both split the header",
			input:    "UPN\tNote,with comma\na@contoso.com\tx,y\n",
			opts:     Options{Name: "users.tsv"},
			wantCols: map[string]string{ColumnUPN: "UPN"},
			wantSep:  "\t",
			rows:     []Row{{Line: 2, UPN: "a@contoso.com"}},
		},
		{
			name:     "delimiter inside quotes in the header is not counted",
			input:    "\"Name; full\",UPN\n\"Doe; J\",j@contoso.com\n",
			wantCols: map[string]string{ColumnUPN: "UPN"},
			wantSep:  ",",
			rows:     []Row{{Line: 2, UPN: "j@contoso.com"}},
		},
		{
			name:     "header names without case, spaces, underscores or dashes",
			input:    "user_principal-NAME,Force Change Password Next Sign In\na@contoso.com,yes\n",
			wantCols: map[string]string{ColumnUPN: "user_principal-NAME", ColumnForceChange: "Force Change Password Next Sign In"},
			wantSep:  ",",
			rows:     []Row{{Line: 2, UPN: "a@contoso.com", ForceChange: ptr(true)}},
		},
		{
			name:     "the canonical name beats an alias, whichever comes first",
			input:    "User,UserPrincipalName\nAdele Vance,adele@contoso.com\n",
			wantCols: map[string]string{ColumnUPN: "UserPrincipalName"},
			wantSep:  ",",
			rows:     []Row{{Line: 2, UPN: "adele@contoso.com"}},
		},
		{
			name:     "sep line names any delimiter",
			input:    "sep=|\nUPN|Password\na@contoso.com|Pw 1!xxxx\n",
			wantCols: map[string]string{ColumnUPN: "UPN", ColumnPassword: "Password"},
			wantSep:  "|",
			rows:     []Row{{Line: 3, UPN: "a@contoso.com", Password: secret.New("Pw 1!xxxx")}},
		},
		{
			name:     "sep line for tab, with CRLF",
			input:    "sep=\t\r\nUPN\tX\r\na@contoso.com\t1\r\n",
			wantCols: map[string]string{ColumnUPN: "UPN"},
			wantSep:  "\t",
			rows:     []Row{{Line: 3, UPN: "a@contoso.com"}},
		},
		{
			name:     "headerless list with a second column",
			input:    "a@contoso.com;Adele\nb@contoso.com;Bob\nc@contoso.com\n",
			wantCols: map[string]string{ColumnUPN: ""},
			wantSep:  ";",
			rows: []Row{
				{Line: 1, UPN: "a@contoso.com"},
				{Line: 2, UPN: "b@contoso.com"},
				{Line: 3, Reason: report.ReasonMalformedRow, Problem: "the row has 1 cell, the first line has 2" + fieldsTip},
			},
		},
		{
			name:     "headerless list whose first line is malformed: the first good line sets the cell count",
			input:    "a@contoso.com,\"x\nb@contoso.com,y\nc@contoso.com\n",
			wantCols: map[string]string{ColumnUPN: ""},
			wantSep:  ",",
			rows: []Row{
				{Line: 1, Reason: report.ReasonMalformedRow, Problem: "line 1: a quoted field is never closed"},
				{Line: 2, UPN: "b@contoso.com"},
				{Line: 3, Reason: report.ReasonMalformedRow, Problem: "the row has 1 cell, the first line has 2" + fieldsTip},
			},
		},
		{
			name:     "UTF-16LE without a byte-order mark",
			input:    utf16LE("UPN\na@contoso.com\n"),
			wantCols: map[string]string{ColumnUPN: "UPN"},
			wantSep:  ",",
			rows:     []Row{{Line: 2, UPN: "a@contoso.com"}},
		},
		{
			name:     "example row with a different number of cells",
			input:    "UPN,Name\nExample: chris@contoso.com\na@contoso.com,A\n",
			wantCols: map[string]string{ColumnUPN: "UPN"},
			wantSep:  ",",
			rows: []Row{
				{Line: 2, Example: true, Reason: report.ReasonExampleRow, Problem: "the example row of the Entra template; delete it from the file"},
				{Line: 3, UPN: "a@contoso.com"},
			},
		},
		{
			name:     "a short row leaves its cells out, so a shifted password is not shown as the user",
			input:    "Name,UPN,Password\nsecret@example.org,Pa$$w0rd!\n",
			wantCols: map[string]string{ColumnUPN: "UPN", ColumnPassword: "Password"},
			wantSep:  ",",
			rows:     []Row{{Line: 2, Reason: report.ReasonMalformedRow, Problem: "the row has 2 cells, the header has 3" + fieldsTip}},
		},
		{
			name:     "id wins over UPN; invalid UPN beside a valid id does not matter",
			input:    "UPN,ObjectId\nnot a upn," + strings.ToUpper(guidAdele) + "\n",
			wantCols: map[string]string{ColumnUPN: "UPN", ColumnID: "ObjectId"},
			wantSep:  ",",
			rows:     []Row{{Line: 2, UPN: "not a upn", ID: guidAdele}},
		},
		{
			name:     "no-break spaces around values are trimmed",
			input:    "UPN\n\u00a0a@contoso.com\u00a0\n",
			wantCols: map[string]string{ColumnUPN: "UPN"},
			wantSep:  ",",
			rows:     []Row{{Line: 2, UPN: "a@contoso.com"}},
		},
		{
			name:     "no final newline, final CR dropped",
			input:    "UPN\na@contoso.com\r",
			wantCols: map[string]string{ColumnUPN: "UPN"},
			wantSep:  ",",
			rows:     []Row{{Line: 2, UPN: "a@contoso.com"}},
		},
		{
			name:     "header only",
			input:    "UserPrincipalName\n",
			wantCols: map[string]string{ColumnUPN: "UserPrincipalName"},
			wantSep:  ",",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.input), tt.opts)
			if err != nil {
				t.Fatalf("NewReader: got error %v, want nil", err)
			}
			info := r.Info()
			if !maps.Equal(info.Columns, tt.wantCols) {
				t.Errorf("Info.Columns: got %q, want %q", info.Columns, tt.wantCols)
			}
			if info.Delimiter != tt.wantSep {
				t.Errorf("Info.Delimiter: got %q, want %q", info.Delimiter, tt.wantSep)
			}
			checkRows(t, readAll(t, r), tt.rows)
		})
	}
}

// utf16LE encodes ASCII text as UTF-16LE without a byte-order mark.
func utf16LE(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		b.WriteByte(0)
	}
	return b.String()
}

const expectedText = "; expected one of UserPrincipalName (UPN, User, SignInName) or Id (ObjectId, UserId)"

func TestHeaderError(t *testing.T) {
	tests := []struct {
		name      string
		input     string
		want      string
		wantFound []string
		notInText string
	}{
		{
			name:      "no user column",
			input:     "Name,Mail,Department\nAdele,adele@contoso.com,Retail\n",
			want:      `no user column: found ["Name" "Mail" "Department"]` + expectedText,
			wantFound: []string{"Name", "Mail", "Department"},
		},
		{
			name:  "semicolon header without a user column",
			input: "Name;Abteilung\n",
			want:  `no user column: found ["Name" "Abteilung"]` + expectedText,
		},
		{
			name:  "empty file",
			input: "",
			want:  "no user column: the file is empty" + expectedText,
		},
		{
			name:  "only blank lines and the template's version line",
			input: "\n  \nversion:v1.0\n\n",
			want:  "no user column: the file is empty" + expectedText,
		},
		{
			name:      "first line is data without the user first: its values are not shown",
			input:     "Adele Vance,adele@contoso.com,Secret1!\n",
			want:      "no user column: line 1 looks like data, not a header (a file without a header must have the users in its first column)" + expectedText,
			notInText: "Secret1!",
		},
		{
			name:  "malformed header",
			input: "UPN,\"Name\n",
			want:  "no user column: the header is malformed: line 1: a quoted field is never closed" + expectedText,
		},
		{
			name:  "long header cells are cut",
			input: strings.Repeat("x", 50) + "\n",
			want:  `no user column: found ["` + strings.Repeat("x", 40) + `…"]` + expectedText,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.input), Options{})
			var he *HeaderError
			if !errors.As(err, &he) {
				t.Fatalf("NewReader: got %v, want a *HeaderError", err)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Error():\ngot  %s\nwant %s", got, tt.want)
			}
			if tt.wantFound != nil && !slices.Equal(he.Found, tt.wantFound) {
				t.Errorf("Found: got %q, want %q", he.Found, tt.wantFound)
			}
			if !slices.Equal(he.Expected, expectedUserColumns) {
				t.Errorf("Expected: got %q, want %q", he.Expected, expectedUserColumns)
			}
			if tt.notInText != "" && strings.Contains(err.Error(), tt.notInText) {
				t.Errorf("Error() repeats a value of the first line")
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	zip := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(zip, []byte("PK\x03\x04rest of a zip"), 0o600); err != nil {
		t.Fatal(err)
	}
	xls := filepath.Join(dir, "old.csv")
	if err := os.WriteFile(xls, []byte("\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1"), 0o600); err != nil {
		t.Fatal(err)
	}
	utf32 := filepath.Join(dir, "utf32.csv")
	if err := os.WriteFile(utf32, []byte("\xFF\xFE\x00\x00U\x00\x00\x00"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		path        string
		opts        Options
		unsupported bool
		wantIn      string
	}{
		{name: "a damaged zip is not a workbook", path: zip, unsupported: true, wantIn: "not an .xlsx workbook"},
		{name: "xls content with a csv name", path: xls, unsupported: true, wantIn: "legacy .xls"},
		{name: "UTF-32", path: utf32, unsupported: true, wantIn: "UTF-32"},
		{name: "missing file", path: filepath.Join(dir, "nope.csv"), wantIn: "no such file"},
		{name: "sheet for a CSV file", path: filepath.Join("testdata", "plain.csv"), opts: Options{Sheet: "Users"}, wantIn: "not a workbook"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Open(tt.path, tt.opts)
			if err == nil {
				r.Close()
				t.Fatalf("Open(%q): got nil error, want one", tt.path)
			}
			if got := errors.Is(err, ErrUnsupported); got != tt.unsupported {
				t.Errorf("Open(%q): errors.Is(err, ErrUnsupported) = %v, want %v (err: %v)", tt.path, got, tt.unsupported, err)
			}
			if !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("Open(%q): got %q, want it to contain %q", tt.path, err, tt.wantIn)
			}
		})
	}
}

type failAfter struct {
	data []byte
	err  error
}

func (f *failAfter) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestReadIOError(t *testing.T) {
	errDisk := errors.New("disk on fire")
	r, err := NewReader(&failAfter{data: []byte("UPN\na@contoso.com\n"), err: errDisk}, Options{})
	if err != nil {
		t.Fatalf("NewReader: got error %v, want nil", err)
	}
	if row, err := r.Read(); err != nil || row.UPN != "a@contoso.com" {
		t.Fatalf("first Read: got (%q, %v), want (a@contoso.com, nil)", row.UPN, err)
	}
	if _, err := r.Read(); !errors.Is(err, errDisk) {
		t.Errorf("second Read: got %v, want an error wrapping %v", err, errDisk)
	}

	if _, err := NewReader(&failAfter{err: errDisk}, Options{}); !errors.Is(err, errDisk) {
		t.Errorf("NewReader on a failing input: got %v, want an error wrapping %v", err, errDisk)
	}
}

func TestRowMethods(t *testing.T) {
	tests := []struct {
		name                          string
		row                           Row
		wantTarget, wantDisplay, want string
	}{
		{name: "UPN only", row: Row{UPN: "Adele@Contoso.com"}, wantTarget: "Adele@Contoso.com", wantDisplay: "Adele@Contoso.com", want: "upn:adele@contoso.com"},
		{name: "id only", row: Row{ID: guidAdele}, wantTarget: guidAdele, wantDisplay: guidAdele, want: "id:" + guidAdele},
		{name: "both: id is sent, UPN is shown", row: Row{UPN: "adele@contoso.com", ID: guidAdele}, wantTarget: guidAdele, wantDisplay: "adele@contoso.com", want: "id:" + guidAdele},
		{name: "neither", row: Row{}, wantTarget: "", wantDisplay: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.row.Target(); got != tt.wantTarget {
				t.Errorf("Target: got %q, want %q", got, tt.wantTarget)
			}
			if got := tt.row.Display(); got != tt.wantDisplay {
				t.Errorf("Display: got %q, want %q", got, tt.wantDisplay)
			}
			if got := tt.row.Key(); got != tt.want {
				t.Errorf("Key: got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestProblemNeverHoldsPassword reads every test file and checks that no
// row's Problem holds a password of the file.
func TestProblemNeverHoldsPassword(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		r, err := Open(f, Options{})
		if err != nil {
			continue
		}
		var passwords, problems []string
		for _, row := range readAll(t, r) {
			if !row.Password.Empty() {
				passwords = append(passwords, row.Password.Reveal())
			}
			problems = append(problems, row.Problem)
		}
		r.Close()
		for _, pw := range append(passwords, "Secret1!", "myPassword1234") {
			for _, p := range problems {
				if strings.Contains(p, pw) {
					t.Errorf("%s: a Problem holds a password", f)
				}
			}
		}
	}
}

// TestStreamOfAWorkbook reads a workbook or an .xls file from a stream
// (standard input), which is read as text only: the error says so.
func TestStreamOfAWorkbook(t *testing.T) {
	for _, tt := range []struct{ name, data, wantIn string }{
		{"xlsx", "PK\x03\x04rest of a zip", "read from a file, not from standard input"},
		{"xls", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "legacy .xls workbook, or a workbook protected by a password"},
	} {
		_, err := NewReader(strings.NewReader(tt.data), Options{Name: "-"})
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tt.wantIn) {
			t.Errorf("%s on standard input: got %v, want ErrUnsupported saying %q", tt.name, err, tt.wantIn)
		}
	}
}

// TestRowNeverShowsItsPassword: no fmt verb prints a Row's password.
func TestRowNeverShowsItsPassword(t *testing.T) {
	const pw = "Sekr3t!Pa55word-xyz"
	r := Row{Line: 3, UPN: "adele@contoso.com", Password: secret.New(pw)}
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%d", "%t", "%x", "%q"} {
		for _, out := range []string{fmt.Sprintf(f, r), fmt.Sprintf(f, &r), fmt.Sprintf(f, []Row{r})} {
			if strings.Contains(out, pw) || strings.Contains(out, fmt.Sprintf("%x", pw)) {
				t.Errorf("%s shows the password", f)
			}
		}
	}
	if got := fmt.Sprint(r); !strings.Contains(got, "adele@contoso.com") || !strings.Contains(got, "line 3") {
		t.Errorf("%q does not say which row it is", got)
	}
}
