package csvin

import (
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/pkg/report"
)

func TestCheckTenant(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{in: "8A1F3E2B-6C4D-4E5F-9A0B-1C2D3E4F5A6B", want: "8a1f3e2b-6c4d-4e5f-9a0b-1c2d3e4f5a6b"},
		{in: "{8a1f3e2b-6c4d-4e5f-9a0b-1c2d3e4f5a6b}", want: "8a1f3e2b-6c4d-4e5f-9a0b-1c2d3e4f5a6b"},
		{in: "Contoso.onmicrosoft.com", want: "contoso.onmicrosoft.com"},
		{in: "contoso.com.", want: "contoso.com"},
		{in: "fabrikam-eu.co.uk", want: "fabrikam-eu.co.uk"},
		{in: "contoso", bad: true},
		{in: "common", bad: true},
		{in: "Organizations", bad: true},
		{in: "consumers", bad: true},
		{in: "-contoso.com", bad: true},
		{in: "contoso-.com", bad: true},
		{in: "con toso.com", bad: true},
		{in: "contoso..com", bad: true},
		{in: "admin@contoso.com", bad: true},
		{in: "https://login.microsoftonline.com/contoso.com", bad: true},
		{in: "10.0.0.1", bad: true},
		{in: "8a1f3e2b-6c4d-4e5f-9a0b-1c2d3e4f5a6", bad: true},
		{in: "contosö.com", bad: true},
		{in: strings.Repeat("a", 64) + ".com", bad: true},
	}
	for _, tt := range tests {
		got, problem := CheckTenant(tt.in)
		if tt.bad {
			if problem == "" {
				t.Errorf("CheckTenant(%q) = %q, want a problem", tt.in, got)
			}
			continue
		}
		if problem != "" || got != tt.want {
			t.Errorf("CheckTenant(%q) = %q, %q; want %q", tt.in, got, problem, tt.want)
		}
	}
}

func TestTenantColumn(t *testing.T) {
	const g = "8a1f3e2b-6c4d-4e5f-9a0b-1c2d3e4f5a6b"
	tests := []struct {
		name          string
		in            string
		defaultTenant string
		header        string // the tenant column's header as found
		want          []Row  // Line, UPN/ID, Tenant, Reason
		problem       []string
	}{
		{
			name:   "TenantId",
			in:     "UserPrincipalName,TenantId\na@contoso.com,contoso.onmicrosoft.com\nb@fabrikam.com," + strings.ToUpper(g) + "\n",
			header: "TenantId",
			want: []Row{
				{Line: 2, UPN: "a@contoso.com", Tenant: "contoso.onmicrosoft.com"},
				{Line: 3, UPN: "b@fabrikam.com", Tenant: g},
			},
		},
		{
			name:   "alias Tenant, before the user column",
			in:     "Tenant;UPN\ncontoso.com;a@contoso.com\n",
			header: "Tenant",
			want:   []Row{{Line: 2, UPN: "a@contoso.com", Tenant: "contoso.com"}},
		},
		{
			name:   "alias Tenant ID with a space",
			in:     "User principal name,Tenant ID\na@contoso.com,contoso.com\n",
			header: "Tenant ID",
			want:   []Row{{Line: 2, UPN: "a@contoso.com", Tenant: "contoso.com"}},
		},
		{
			name:   "alias tenant_domain",
			in:     "upn,tenant_domain\na@contoso.com,Contoso.COM\n",
			header: "tenant_domain",
			want:   []Row{{Line: 2, UPN: "a@contoso.com", Tenant: "contoso.com"}},
		},
		{
			name:   "alias TENANT-ID and an object id",
			in:     "Id,TENANT-ID\n11111111-2222-4333-8444-555555555555,contoso.com\n",
			header: "TENANT-ID",
			want:   []Row{{Line: 2, ID: "11111111-2222-4333-8444-555555555555", Tenant: "contoso.com"}},
		},
		{
			name:   "alias Directory ID",
			in:     "UPN,Directory ID\na@contoso.com," + g + "\n",
			header: "Directory ID",
			want:   []Row{{Line: 2, UPN: "a@contoso.com", Tenant: g}},
		},
		{
			name:    "empty cell, no default: missing_tenant",
			in:      "UPN,TenantId\na@contoso.com,\n",
			header:  "TenantId",
			want:    []Row{{Line: 2, UPN: "a@contoso.com", Reason: report.ReasonMissingTenant}},
			problem: []string{"the tenant is missing"},
		},
		{
			name:          "empty cell takes the default tenant",
			in:            "UPN,TenantId\na@contoso.com,  \nb@fabrikam.com,fabrikam.com\n",
			defaultTenant: "Contoso.onmicrosoft.com",
			header:        "TenantId",
			want: []Row{
				{Line: 2, UPN: "a@contoso.com", Tenant: "contoso.onmicrosoft.com"},
				{Line: 3, UPN: "b@fabrikam.com", Tenant: "fabrikam.com"},
			},
		},
		{
			name:          "empty cell with a bad default tenant",
			in:            "UPN,TenantId\na@contoso.com,\n",
			defaultTenant: "common",
			header:        "TenantId",
			want:          []Row{{Line: 2, UPN: "a@contoso.com", Reason: report.ReasonBadValue}},
			problem:       []string{"default tenant"},
		},
		{
			name:   "bad values",
			in:     "UPN,TenantId\na@contoso.com,contoso\nb@contoso.com,common\nc@contoso.com,not a tenant.com\n",
			header: "TenantId",
			want: []Row{
				{Line: 2, UPN: "a@contoso.com", Reason: report.ReasonBadValue},
				{Line: 3, UPN: "b@contoso.com", Reason: report.ReasonBadValue},
				{Line: 4, UPN: "c@contoso.com", Reason: report.ReasonBadValue},
			},
			problem: []string{`TenantId "contoso" is not a tenant id`, "names no single tenant", "is not a tenant id"},
		},
		{
			name:   "an invalid user keeps its tenant",
			in:     "UPN,TenantId\nnot-a-upn,contoso.com\n",
			header: "TenantId",
			want:   []Row{{Line: 2, UPN: "not-a-upn", Tenant: "contoso.com", Reason: report.ReasonInvalidUPN}},
		},
		{
			name: "no tenant column: the default is not used",
			in:   "UPN\na@contoso.com\n", defaultTenant: "contoso.com",
			want: []Row{{Line: 2, UPN: "a@contoso.com"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.in), Options{Name: "in.csv", DefaultTenant: tt.defaultTenant})
			if err != nil {
				t.Fatalf("NewReader: %v", err)
			}
			info := r.Info()
			if info.HasTenant != (tt.header != "") || info.Columns[ColumnTenant] != tt.header {
				t.Errorf("HasTenant = %v, Columns[tenantId] = %q; want the column %q", info.HasTenant, info.Columns[ColumnTenant], tt.header)
			}
			rows := readAll(t, r)
			if len(rows) != len(tt.want) {
				t.Fatalf("got %d rows, want %d", len(rows), len(tt.want))
			}
			for i, w := range tt.want {
				g := rows[i]
				if g.Line != w.Line || g.UPN != w.UPN || g.ID != w.ID || g.Tenant != w.Tenant || g.Reason != w.Reason {
					t.Errorf("row %d = line %d upn %q id %q tenant %q reason %q (%s); want line %d upn %q id %q tenant %q reason %q",
						i, g.Line, g.UPN, g.ID, g.Tenant, g.Reason, g.Problem, w.Line, w.UPN, w.ID, w.Tenant, w.Reason)
				}
				if i < len(tt.problem) && !strings.Contains(g.Problem, tt.problem[i]) {
					t.Errorf("row %d problem = %q, want it to say %q", i, g.Problem, tt.problem[i])
				}
			}
		})
	}
}

// The same user in two tenants is two users; in one tenant, a duplicate.
func TestKeyWithTenant(t *testing.T) {
	d := NewDedup()
	rows := []Row{
		{UPN: "Adele@contoso.com", Tenant: "a.onmicrosoft.com"},
		{UPN: "adele@contoso.com", Tenant: "b.onmicrosoft.com"},
		{UPN: "ADELE@contoso.com", Tenant: "a.onmicrosoft.com"},
		{UPN: "adele@contoso.com"},
	}
	want := []bool{false, false, true, false}
	for i, r := range rows {
		if got := d.Seen(r.Key()); got != want[i] {
			t.Errorf("row %d (%s in %q): seen = %v, want %v", i, r.UPN, r.Tenant, got, want[i])
		}
	}
}
