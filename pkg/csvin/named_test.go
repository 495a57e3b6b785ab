package csvin

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/pkg/report"
	"github.com/bulkreset/bulkreset/pkg/secret"
)

// germanExport is an HR export whose columns the reader does not know.
const germanExport = "Anzeigename;Benutzerprinzipalname;Objekt-ID;Abteilung\n" +
	"Adele Vance;adele@contoso.com;" + guidAdele + ";Vertrieb\n" +
	"Alex Wilber;alex@contoso.com;;Marketing\n"

func TestNamedColumns(t *testing.T) {
	tests := []struct {
		name      string
		input     string
		opts      Options
		want      []Row
		columns   map[string]string
		positions map[string]int
		named     map[string]bool
		replaced  map[string]Column
		ignored   []string
	}{
		{
			name:      "exact",
			input:     "Name,Employee Email,Dept\nAdele,adele@contoso.com,Retail\n",
			opts:      Options{UserColumn: "Employee Email"},
			want:      []Row{{Line: 2, UPN: "adele@contoso.com"}},
			columns:   map[string]string{ColumnUPN: "Employee Email"},
			positions: map[string]int{ColumnUPN: 2},
			named:     map[string]bool{ColumnUPN: true},
			ignored:   []string{"Name", "Dept"},
		},
		{
			name:      "case and surrounding spaces",
			input:     "Name, EMPLOYEE EMAIL ,Dept\nAdele,adele@contoso.com,Retail\n",
			opts:      Options{UserColumn: "employee email"},
			want:      []Row{{Line: 2, UPN: "adele@contoso.com"}},
			columns:   map[string]string{ColumnUPN: "EMPLOYEE EMAIL"},
			positions: map[string]int{ColumnUPN: 2},
			named:     map[string]bool{ColumnUPN: true},
			ignored:   []string{"Name", "Dept"},
		},
		{
			name:      "an exact match beats one that differs in case",
			input:     "employee email,Employee Email\nwrong@contoso.com,adele@contoso.com\n",
			opts:      Options{UserColumn: "Employee Email"},
			want:      []Row{{Line: 2, UPN: "adele@contoso.com"}},
			columns:   map[string]string{ColumnUPN: "Employee Email"},
			positions: map[string]int{ColumnUPN: 2},
			named:     map[string]bool{ColumnUPN: true},
			ignored:   []string{"employee email"},
		},
		{
			name:  "user and id columns of a German export, semicolons",
			input: germanExport,
			opts:  Options{UserColumn: "Benutzerprinzipalname", IDColumn: "objekt-id"},
			want: []Row{
				{Line: 2, UPN: "adele@contoso.com", ID: guidAdele},
				{Line: 3, UPN: "alex@contoso.com"},
			},
			columns:   map[string]string{ColumnUPN: "Benutzerprinzipalname", ColumnID: "Objekt-ID"},
			positions: map[string]int{ColumnUPN: 2, ColumnID: 3},
			named:     map[string]bool{ColumnUPN: true, ColumnID: true},
			ignored:   []string{"Anzeigename", "Abteilung"},
		},
		{
			name:      "the named column wins over a known header name, and the known one is ignored",
			input:     "UserPrincipalName,Employee Email,ObjectId,Password\nold@contoso.com,adele@contoso.com," + guidAdele + ",pw\n",
			opts:      Options{UserColumn: "Employee Email"},
			want:      []Row{{Line: 2, UPN: "adele@contoso.com", Password: secret.New("pw")}},
			columns:   map[string]string{ColumnUPN: "Employee Email", ColumnPassword: "Password"},
			positions: map[string]int{ColumnUPN: 2, ColumnPassword: 4},
			named:     map[string]bool{ColumnUPN: true},
			replaced:  map[string]Column{ColumnUPN: {"UserPrincipalName", 1}, ColumnID: {"ObjectId", 3}},
			ignored:   []string{"UserPrincipalName", "ObjectId"},
		},
		{
			name:      "naming a column the reader knows changes nothing but the other user column",
			input:     "User principal name,Object Id\nadele@contoso.com," + guidAdele + "\n",
			opts:      Options{UserColumn: "user principal name"},
			want:      []Row{{Line: 2, UPN: "adele@contoso.com"}},
			columns:   map[string]string{ColumnUPN: "User principal name"},
			positions: map[string]int{ColumnUPN: 1},
			named:     map[string]bool{ColumnUPN: true},
			replaced:  map[string]Column{ColumnID: {"Object Id", 2}},
			ignored:   []string{"Object Id"},
		},
		{
			name:      "spaces and dashes inside the name are matched as for the known names",
			input:     "Anzeigename;Objekt-ID\nAdele;" + guidAdele + "\n",
			opts:      Options{IDColumn: "Objekt ID"},
			want:      []Row{{Line: 2, ID: guidAdele}},
			columns:   map[string]string{ColumnID: "Objekt-ID"},
			positions: map[string]int{ColumnID: 2},
			named:     map[string]bool{ColumnID: true},
			ignored:   []string{"Anzeigename"},
		},
		{
			name:      "an id column alone",
			input:     "Benutzer,Objekt-ID\nadele@contoso.com," + guidAdele + "\n",
			opts:      Options{IDColumn: "Objekt-ID"},
			want:      []Row{{Line: 2, ID: guidAdele}},
			columns:   map[string]string{ColumnID: "Objekt-ID"},
			positions: map[string]int{ColumnID: 2},
			named:     map[string]bool{ColumnID: true},
			ignored:   []string{"Benutzer"},
		},
		{
			name:      "the named column picks the delimiter",
			input:     "Mitarbeiter E-Mail;Name, Vorname\nadele@contoso.com;\"Vance, Adele\"\n",
			opts:      Options{UserColumn: "Mitarbeiter E-Mail"},
			want:      []Row{{Line: 2, UPN: "adele@contoso.com"}},
			columns:   map[string]string{ColumnUPN: "Mitarbeiter E-Mail"},
			positions: map[string]int{ColumnUPN: 1},
			named:     map[string]bool{ColumnUPN: true},
			ignored:   []string{"Name, Vorname"},
		},
		{
			name:      "an empty cell of the named column is a row without a user, named by its header",
			input:     "Employee Email,Name\n,Adele\n",
			opts:      Options{UserColumn: "Employee Email"},
			want:      []Row{{Line: 2, Reason: "missing_user", Problem: "the row has no user: Employee Email is empty"}},
			columns:   map[string]string{ColumnUPN: "Employee Email"},
			positions: map[string]int{ColumnUPN: 1},
			named:     map[string]bool{ColumnUPN: true},
			ignored:   []string{"Name"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.input), tt.opts)
			if err != nil {
				t.Fatalf("NewReader: %v", err)
			}
			checkRows(t, readAll(t, r), tt.want)
			info := r.Info()
			if !maps.Equal(info.Columns, tt.columns) {
				t.Errorf("Info.Columns: got %q, want %q", info.Columns, tt.columns)
			}
			if !maps.Equal(info.Positions, tt.positions) {
				t.Errorf("Info.Positions: got %v, want %v", info.Positions, tt.positions)
			}
			if !maps.Equal(info.Named, tt.named) {
				t.Errorf("Info.Named: got %v, want %v", info.Named, tt.named)
			}
			if !maps.Equal(info.Replaced, tt.replaced) {
				t.Errorf("Info.Replaced: got %v, want %v", info.Replaced, tt.replaced)
			}
			if !slices.Equal(info.Ignored, tt.ignored) {
				t.Errorf("Info.Ignored: got %q, want %q", info.Ignored, tt.ignored)
			}
		})
	}
}

func TestNamedColumnErrors(t *testing.T) {
	tests := []struct {
		name      string
		input     string
		opts      Options
		column    string
		want      string
		found     []string
		notInText string
	}{
		{
			name:   "missing: the error lists the columns there are",
			input:  "Name,Mail,UserPrincipalName\nAdele,adele@contoso.com,adele@contoso.com\n",
			opts:   Options{UserColumn: "Employee Email"},
			column: ColumnUPN,
			want:   `no column "Employee Email" for the user: the header has "Name", "Mail", "UserPrincipalName"`,
			found:  []string{"Name", "Mail", "UserPrincipalName"},
		},
		{
			name:   "missing id column",
			input:  germanExport,
			opts:   Options{UserColumn: "Benutzerprinzipalname", IDColumn: "Objekt-Nr"},
			column: ColumnID,
			want:   `no column "Objekt-Nr" for the object id: the header has "Anzeigename", "Benutzerprinzipalname", "Objekt-ID", "Abteilung"`,
		},
		{
			name:   "two columns of that name",
			input:  "Email,Name,email\nadele@contoso.com,Adele,x@contoso.com\n",
			opts:   Options{UserColumn: "EMAIL"},
			column: ColumnUPN,
			want:   `2 columns are named "EMAIL" (columns 1 and 3): rename one of them in the file, so that the user's column is clear`,
		},
		{
			name:   "user and id name one column",
			input:  "Mail,Name\nadele@contoso.com,Adele\n",
			opts:   Options{UserColumn: "Mail", IDColumn: "mail"},
			column: ColumnID,
			want:   `the user and the object id are named to be one column, "Mail" (column 1)`,
		},
		{
			name:   "a name of dashes does not find an empty header cell",
			input:  "Mail,,Name\nadele@contoso.com,,Adele\n",
			opts:   Options{UserColumn: "--"},
			column: ColumnUPN,
			want:   `no column "--" for the user: the header has "Mail", "", "Name"`,
		},
		{
			name:      "a file without a header: its values are not shown",
			input:     "adele@contoso.com,Secret1!\n",
			opts:      Options{UserColumn: "Employee Email"},
			column:    ColumnUPN,
			want:      `no column "Employee Email" for the user: line 1 looks like data, not a header (a named column needs a header line)`,
			notInText: "Secret1!",
		},
		{
			name:   "an empty file",
			input:  "\n",
			opts:   Options{IDColumn: "Objekt-ID"},
			column: ColumnID,
			want:   `no column "Objekt-ID" for the object id: the file is empty`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.input), tt.opts)
			var ce *ColumnError
			if !errors.As(err, &ce) {
				t.Fatalf("NewReader: got %v, want a *ColumnError", err)
			}
			if ce.Column != tt.column {
				t.Errorf("Column: got %q, want %q", ce.Column, tt.column)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Error():\ngot  %s\nwant %s", got, tt.want)
			}
			if tt.found != nil && !slices.Equal(ce.Found, tt.found) {
				t.Errorf("Found: got %q, want %q", ce.Found, tt.found)
			}
			if tt.notInText != "" && strings.Contains(err.Error(), tt.notInText) {
				t.Errorf("Error() repeats a value of the first line")
			}
		})
	}
}

func TestNamedColumnWorkbook(t *testing.T) {
	wb := writeWorkbook(t, "hr.xlsx", sheetSpec{name: "Export", rows: map[int][]any{
		1: {"Personalnummer", "Benutzerprinzipalname", "UPN"},
		2: {4711, "adele@contoso.com", "old@contoso.com"},
		3: {4712, "alex@contoso.com", ""},
	}})
	r, err := Open(wb, Options{UserColumn: "benutzerprinzipalname"})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	checkRows(t, readAll(t, r), []Row{{Line: 2, UPN: "adele@contoso.com"}, {Line: 3, UPN: "alex@contoso.com"}})
	info := r.Info()
	if want := map[string]int{ColumnUPN: 2}; !maps.Equal(info.Positions, want) {
		t.Errorf("Info.Positions: got %v, want %v", info.Positions, want)
	}
	if want := map[string]Column{ColumnUPN: {"UPN", 3}}; !maps.Equal(info.Replaced, want) {
		t.Errorf("Info.Replaced: got %v, want %v", info.Replaced, want)
	}

	if _, err := Open(wb, Options{UserColumn: "Employee Email"}); err == nil || !strings.Contains(err.Error(), `the header has "Personalnummer", "Benutzerprinzipalname", "UPN"`) {
		t.Errorf("a workbook without the named column: got %v, want a *ColumnError listing its columns", err)
	}
}

// FuzzNamedColumns reads arbitrary input with arbitrary column names: the
// reader never panics; it either refuses the header with a *ColumnError
// (or a read error), or uses, for each name given, a column whose header
// matches it, and every row it reads has a line and a known reason.
func FuzzNamedColumns(f *testing.F) {
	f.Add([]byte(germanExport), "Benutzerprinzipalname", "Objekt-ID")
	f.Add([]byte("UPN,Employee Email\nold@contoso.com,adele@contoso.com\n"), " employee EMAIL ", "")
	f.Add([]byte("a,a,b\nx,y,z\n"), "a", "b")
	f.Add([]byte("Mail,,Name\n"), "-", "")
	f.Add([]byte("adele@contoso.com\n"), "", "id")
	f.Fuzz(func(t *testing.T, data []byte, user, id string) {
		r, err := NewReader(bytes.NewReader(data), Options{UserColumn: user, IDColumn: id})
		if err != nil {
			var ce *ColumnError
			var he *HeaderError
			if namesOf(Options{UserColumn: user, IDColumn: id}).given() && errors.As(err, &he) {
				t.Fatalf("a *HeaderError with named columns: %v", err)
			}
			if !errors.As(err, &ce) && !errors.As(err, &he) && !errors.Is(err, ErrUnsupported) && !strings.Contains(err.Error(), "reading the header") {
				t.Fatalf("NewReader: unexpected error %v", err)
			}
			return
		}
		info := r.Info()
		for col, name := range map[string]string{ColumnUPN: trim(user), ColumnID: trim(id)} {
			if name == "" {
				if info.Named[col] {
					t.Errorf("%s is named, but no name was given", col)
				}
				continue
			}
			if !info.Named[col] {
				t.Fatalf("%s was named %q but not used: %+v", col, name, info)
			}
			if h := info.Columns[col]; !strings.EqualFold(h, name) && normalizeHeader(h) != normalizeHeader(name) {
				t.Errorf("%s named %q is the column %q", col, name, h)
			}
		}
		for line := 0; ; {
			row, err := r.Read()
			if err == io.EOF {
				return
			}
			if err != nil {
				return // a read error of the input, not of the reader
			}
			if row.Line <= line || !reasons[row.Reason] && row.Reason != report.ReasonMissingTenant {
				t.Fatalf("row %+v after line %d", row.String(), line)
			}
			line = row.Line
		}
	})
}
