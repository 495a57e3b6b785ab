package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// TestVerifyChecksTheFilesTenant: a partner resets users of one customer
// tenant through a TenantId column, with AZURE_TENANT_ID naming its own
// (home) tenant, as a multi-tenant app is set up. verify of that results
// file, in the same environment, must ask the customer tenant the file
// names: not the home tenant, where none of the file's users exist.
func TestVerifyChecksTheFilesTenant(t *testing.T) {
	customers := partnerTenants(3)
	p := startPartner(t, graphsim.Options{}, customers)
	home, fabrikam := customers[0], customers[1]
	var b strings.Builder
	b.WriteString("UserPrincipalName,TenantId\n")
	for _, u := range fabrikam.users[:3] {
		b.WriteString(u.UPN + "," + fabrikam.domain + "\n")
	}
	dir := t.TempDir()
	in, out, secrets := filepath.Join(dir, "in.csv"), filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	if err := os.WriteFile(in, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	if res := runCLI(t, t.Context(), p.getenv(home.id), p.args(in, out, secrets)...); res.code != exitOK {
		t.Fatalf("reset: exit %d; stderr:\n%s", res.code, res.stderr)
	}
	vout := filepath.Join(dir, "verify.csv")
	v := runCLI(t, t.Context(), p.getenv(home.id), "verify", "-i", out, "-o", vout, "--poll-interval", "1s",
		"--graph-url", p.srv.URL, "--authority-host", p.srv.URL)
	rows := readVerifyFile(t, vout)
	if v.code != exitOK || len(rows) != 3 {
		t.Errorf("verify: exit %d with %d rows, want 0 with 3 confirmed; stderr:\n%s", v.code, len(rows), v.stderr)
	}
	for line, r := range rows {
		if r.Status == report.NotConfirmed {
			t.Errorf("verify exit %d: line %d %s: %s (the users were read in the home tenant %s, the file's are in %s)",
				v.code, line, r.Status, r.Detail, home.domain, fabrikam.domain)
		}
	}
}
