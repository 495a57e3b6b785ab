package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulkreset/bulkreset/internal/certtest"
	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// partner is a partner's customer tenants, served by one emulator on one
// host (graphsim.Multi), all consenting to one multi-tenant app (testClient,
// testSecret) except those given another client id.
type partner struct {
	multi  *graphsim.Multi
	srv    *graphsim.Server
	caFile string
	sims   map[string]*graphsim.Sim // by domain
}

// customer is one tenant of a partner.
type customer struct {
	id, domain string
	client     string // "" is testClient: the app is consented
	users      []graphsim.User
}

func startPartner(t *testing.T, opts graphsim.Options, customers []customer) *partner {
	t.Helper()
	p := &partner{sims: map[string]*graphsim.Sim{}}
	var sims []*graphsim.Sim
	for _, c := range customers {
		o := opts
		o.TenantID, o.TenantDomain, o.ClientID, o.ClientSecret = c.id, c.domain, testClient, testSecret
		if c.client != "" {
			o.ClientID = c.client
		}
		sim := graphsim.New(o)
		if err := sim.AddUsers(c.users); err != nil {
			t.Fatalf("AddUsers(%s): %v", c.domain, err)
		}
		p.sims[c.domain] = sim
		sims = append(sims, sim)
	}
	p.multi = graphsim.NewMulti(sims...)
	srv, err := p.multi.Start()
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(srv.Close)
	p.srv = srv
	p.caFile = certtest.WriteCA(t, srv.Certificate)
	return p
}

// getenv is a scheduled task's environment: the app's id and secret, no
// tenant unless defaultTenant is set.
func (p *partner) getenv(defaultTenant string) func(string) string {
	env := map[string]string{
		"AZURE_CLIENT_SECRET": testSecret,
		"AZURE_CLIENT_ID":     testClient,
		"AZURE_TENANT_ID":     defaultTenant,
		"SSL_CERT_FILE":       p.caFile,
	}
	return func(k string) string { return env[k] }
}

func (p *partner) args(in, out, secrets string) []string {
	return []string{"reset", "-i", in, "-o", out, "--secrets", secrets, "--yes",
		"--graph-url", p.srv.URL, "--authority-host", p.srv.URL}
}

// tenantRow is the planned outcome of one input row of a partner's list.
type tenantRow struct {
	line            int
	user, tenant    string // as in the input
	wantTenant      string // the results file's tenant cell: "" for tenant in lower case, "-" for none
	outcome         report.Outcome
	reason          report.Reason
	reset           bool   // the user must end with the password of the secrets file
	domain          string // the tenant's domain, for reset rows
	messageContains string
}

func partnerTenants(n int) []customer {
	mk := func(i int, domain string) customer {
		users := graphsim.GenerateUsers(n, domain)
		// The same UPN lives in every tenant (a consultant's guest-like
		// account, or a clash of names): different users.
		// Object ids are unique across tenants (the emulator would derive
		// the same one from the same UPN).
		users = append(users, graphsim.User{ID: fmt.Sprintf("5a5a5a5a-0000-4000-8000-00000000000%d", i), UPN: "shared.admin@partner.example", Kind: graphsim.KindMember})
		return customer{id: fmt.Sprintf("%d%d%d%d%d%d%d%d-0000-4000-8000-00000000000%d", i, i, i, i, i, i, i, i, i), domain: domain, users: users}
	}
	return []customer{mk(1, "contoso.example"), mk(2, "fabrikam.example"), mk(3, "tailspin.example")}
}

// TestManyTenantsEndToEnd runs a partner's list of three tenants through
// the real azidentity flow and the real Graph client against one emulator
// serving the three, and checks every result row with its tenant, and each
// tenant's final state.
func TestManyTenantsEndToEnd(t *testing.T) {
	const n = 40
	customers := partnerTenants(n)
	// A tenant where the app was never consented (AADSTS700016).
	customers = append(customers, customer{id: "44444444-0000-4000-8000-000000000004", domain: "unconsented.example",
		client: "99999999-0000-4000-8000-000000000009", users: graphsim.GenerateUsers(2, "unconsented.example")})
	p := startPartner(t, graphsim.Options{}, customers)
	contoso, fabrikam, tailspin := customers[0], customers[1], customers[2]

	var b strings.Builder
	b.WriteString("UserPrincipalName;Tenant ID;Department\n")
	var rows []tenantRow
	add := func(r tenantRow) {
		r.line = len(rows) + 2
		fmt.Fprintf(&b, "%s;%s;Dept\n", r.user, r.tenant)
		switch r.wantTenant {
		case "":
			r.wantTenant = strings.ToLower(r.tenant)
		case "-":
			r.wantTenant = ""
		}
		rows = append(rows, r)
	}
	// Rows in tenant blocks, as partners export them, with the tenants
	// named by domain, by id in upper case, and by the default tenant.
	for i, u := range contoso.users[:n] {
		add(tenantRow{user: u.UPN, tenant: contoso.domain, outcome: report.Succeeded, reset: true, domain: contoso.domain})
		if i == 3 { // the same user again, in other letter case: a duplicate
			add(tenantRow{user: strings.ToUpper(u.UPN), tenant: "CONTOSO.example", wantTenant: contoso.domain, outcome: report.Duplicate})
		}
	}
	add(tenantRow{user: "shared.admin@partner.example", tenant: contoso.domain, outcome: report.Succeeded, reset: true, domain: contoso.domain})
	for _, u := range fabrikam.users[:n] {
		add(tenantRow{user: u.UPN, tenant: strings.ToUpper(fabrikam.id), wantTenant: fabrikam.id, outcome: report.Succeeded, reset: true, domain: fabrikam.domain})
	}
	// The same UPN in another tenant is another user: reset too.
	add(tenantRow{user: "shared.admin@partner.example", tenant: fabrikam.id, outcome: report.Succeeded, reset: true, domain: fabrikam.domain})
	add(tenantRow{user: "nobody@fabrikam.example", tenant: fabrikam.id, outcome: report.Failed, reason: "not_found"})
	// An empty cell: the default tenant ($AZURE_TENANT_ID), tailspin.
	for _, u := range tailspin.users[:n] {
		add(tenantRow{user: u.UPN, tenant: "", wantTenant: tailspin.id, outcome: report.Succeeded, reset: true, domain: tailspin.domain})
	}
	add(tenantRow{user: "a@nowhere.example", tenant: "nowhere.example", outcome: report.Failed, reason: "authentication_failed", messageContains: "was not found"})
	add(tenantRow{user: customers[3].users[0].UPN, tenant: customers[3].domain, outcome: report.Failed, reason: "authentication_failed",
		messageContains: "is not consented in tenant unconsented.example"})
	add(tenantRow{user: "b@contoso.example", tenant: "common", wantTenant: "-", outcome: report.Invalid, reason: "bad_value", messageContains: "names no single tenant"})
	add(tenantRow{user: "not-a-upn", tenant: contoso.domain, outcome: report.Invalid, reason: "invalid_upn"})

	dir := t.TempDir()
	in, out, secrets := filepath.Join(dir, "partner.csv"), filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	if err := os.WriteFile(in, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, t.Context(), p.getenv(tailspin.id), p.args(in, out, secrets)...)
	if res.code != exitRowsFailed {
		t.Fatalf("exit code %d, want %d (some rows fail); stderr:\n%s", res.code, exitRowsFailed, res.stderr)
	}

	// The results file: the fixed header (docs/files.md) plus the tenant
	// column and, as in every reset run, client_request_id (issue 15).
	raw, _ := os.ReadFile(out)
	if want := strings.Join(report.ResultsHeaderFor(report.Columns{Tenant: true, ClientRequestID: true}), ",") + "\n"; !strings.HasPrefix(string(raw), want) {
		t.Errorf("results header: %q, want %q", strings.SplitN(string(raw), "\n", 2)[0], want)
	}
	got := readResults(t, out)
	if len(got) != len(rows) {
		t.Errorf("results: %d rows, want %d", len(got), len(rows))
	}
	for _, r := range rows {
		g, ok := got[r.line]
		if !ok {
			t.Errorf("line %d (%s): no result", r.line, r.user)
			continue
		}
		if g.Outcome != r.outcome || g.Reason != r.reason || g.Tenant != r.wantTenant || !strings.EqualFold(g.User, r.user) {
			t.Errorf("line %d: %s/%s tenant %q user %q (%s); want %s/%s tenant %q user %q",
				r.line, g.Outcome, g.Reason, g.Tenant, g.User, g.ErrorMessage, r.outcome, r.reason, r.wantTenant, r.user)
		}
		if r.messageContains != "" && !strings.Contains(g.ErrorMessage, r.messageContains) {
			t.Errorf("line %d: message %q, want it to say %q", r.line, g.ErrorMessage, r.messageContains)
		}
	}

	// The secrets file: one password per reset user, with its tenant, and
	// it is the password in force in that tenant, and in no other.
	raw, _ = os.ReadFile(secrets)
	if !strings.HasPrefix(string(raw), "line,user,password,tenant\n") {
		t.Errorf("secrets header: %q", strings.SplitN(string(raw), "\n", 2)[0])
	}
	f, _ := os.Open(secrets)
	srows, err := report.ReadSecrets(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	byLine := map[int]report.SecretRow{}
	for _, s := range srows {
		byLine[s.Line] = s
	}
	resetIn := map[string]int{}
	for _, r := range rows {
		s, ok := byLine[r.line]
		if !r.reset {
			if ok {
				t.Errorf("line %d (%s): a password in the secrets file, but it was not reset", r.line, r.outcome)
			}
			continue
		}
		if !ok {
			t.Errorf("line %d: no password in the secrets file", r.line)
			continue
		}
		if s.Tenant != r.wantTenant {
			t.Errorf("line %d: secrets tenant %q, want %q", r.line, s.Tenant, r.wantTenant)
		}
		u, _ := p.sims[r.domain].User(r.user)
		if u.Password != s.Password.Reveal() || u.PasswordSets != 1 {
			t.Errorf("line %d: %s in %s has another password than the secrets file's (sets %d)", r.line, r.user, r.domain, u.PasswordSets)
		}
		resetIn[r.domain]++
	}
	// No write crossed tenants: each tenant changed exactly its rows' users,
	// and the shared UPN of the tenant nobody listed it for is untouched.
	for domain, sim := range p.sims {
		if got, want := len(sim.Changes()), resetIn[domain]; got != want {
			t.Errorf("tenant %s: %d changes, want %d", domain, got, want)
		}
		if domain == tailspin.domain {
			if u, _ := sim.User("shared.admin@partner.example"); u.PasswordSets != 0 {
				t.Errorf("tenant %s: shared.admin was reset, but no row names it in this tenant", domain)
			}
		}
	}
	if n := p.sims["unconsented.example"].Stats().TokensIssued; n != 0 {
		t.Errorf("the unconsented tenant issued %d tokens", n)
	}
	// Each tenant's preflight read that tenant's domains, once.
	for domain, sim := range p.sims {
		if st := sim.Stats(); st.TokensIssued > 0 && st.DomainReads != 1 {
			t.Errorf("tenant %s: its domains read %d times, want once", domain, st.DomainReads)
		}
	}

	// No password, secret or token in any output.
	var tokens []string
	for _, sim := range p.sims {
		tokens = append(tokens, sim.IssuedTokens()...)
	}
	for _, s := range append(slices.Clone(tokens), testSecret) {
		if strings.Contains(res.stderr+res.stdout, s) {
			t.Errorf("a token or the client secret is in the output")
		}
	}
	resultsRaw, _ := os.ReadFile(out)
	for _, s := range srows {
		if strings.Contains(res.stderr+res.stdout+string(resultsRaw), s.Password.Reveal()) {
			t.Errorf("line %d: its password is in an output", s.Line)
		}
	}

	// --resume reads both files back with their tenant column: nothing is
	// left to do, and nothing is sent again.
	before := 0
	for _, sim := range p.sims {
		before += sim.Stats().Writes
	}
	res = runCLI(t, t.Context(), p.getenv(tailspin.id), append(p.args(in, out, secrets), "--resume")...)
	if res.code != exitRowsFailed {
		t.Fatalf("--resume: exit code %d, want %d; stderr:\n%s", res.code, exitRowsFailed, res.stderr)
	}
	after := 0
	for _, sim := range p.sims {
		after += sim.Stats().Writes
	}
	if after != before {
		t.Errorf("--resume sent %d writes, want none", after-before)
	}
	if got := readResults(t, out); len(got) != len(rows) {
		t.Errorf("after --resume: %d result rows, want %d", len(got), len(rows))
	}
}

// Sign-ins that cannot pick a tenant per row are refused before anything
// is read or sent.
func TestManyTenantsUsage(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	os.WriteFile(in, []byte("UPN,TenantId\na@contoso.example,contoso.example\n"), 0o600)
	getenv := func(k string) string { return map[string]string{"AZURE_CLIENT_ID": testClient}[k] }
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"managed identity", []string{"--auth", "managed-identity"}, "signs in to one tenant only"},
		{"azure cli", []string{"--auth", "azure-cli"}, "signs in to one tenant only"},
		{"auto without an app credential", nil, "needs an app credential"},
		{"sandbox", []string{"--sandbox"}, "--sandbox serves one tenant"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"reset", "-i", in, "-o", filepath.Join(dir, tt.name+".csv"), "--discard-passwords", "--yes"}, tt.args...)
			res := runCLI(t, t.Context(), getenv, args...)
			if res.code != exitUsage || !strings.Contains(res.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d saying %q", res.code, res.stderr, exitUsage, tt.want)
			}
		})
	}
}

// TestManyTenantsWithinTheirQuotas is the acceptance: three tenants whose
// users exceed each one's write burst finish faster together than one after
// another, each within its own quota. Asserted by the emulator's own
// accounting, not by racing wall clocks: the three tenants' applied writes
// overlap in time, so the whole run spans much less than the sum of the
// tenants' spans; and each tenant's 429s stay a small share of its writes.
func TestManyTenantsWithinTheirQuotas(t *testing.T) {
	const n = 600
	var opts graphsim.Options
	// Entra's documented quotas, 10 times smaller and 100 times faster: a
	// burst of 300 writes, then 200 per second, per app and tenant. Each
	// tenant's 600 users need at least (600-300)/200 = 1.5 s.
	opts.SetDocumentedLimits(n, graphsim.Scale{Count: 10, Time: 100})
	opts.FractionalRetryAfter = true
	opts.Latency = 5 * time.Millisecond
	customers := partnerTenants(n)
	p := startPartner(t, opts, customers)

	var b strings.Builder
	b.WriteString("UserPrincipalName,TenantId\n")
	for _, c := range customers { // sorted by tenant, as partners export
		for _, u := range c.users[:n] {
			fmt.Fprintf(&b, "%s,%s\n", u.UPN, c.domain)
		}
	}
	dir := t.TempDir()
	in, out, secrets := filepath.Join(dir, "partner.csv"), filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	os.WriteFile(in, []byte(b.String()), 0o600)
	start := time.Now()
	res := runCLI(t, t.Context(), p.getenv(""), p.args(in, out, secrets)...)
	wall := time.Since(start)
	if res.code != exitOK {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", res.code, res.stderr)
	}

	minimum := time.Duration(float64(n-opts.WriteBurst) / opts.WriteRate * float64(time.Second))
	var first, last time.Time
	var sumSpans time.Duration
	type span struct{ from, to time.Time }
	spans := map[string]span{}
	for _, c := range customers {
		sim := p.sims[c.domain]
		ch := sim.Changes()
		if len(ch) != n {
			t.Fatalf("tenant %s: %d users reset, want %d", c.domain, len(ch), n)
		}
		st := sim.Stats()
		// Within its own quota: few of the tenant's writes were refused
		// (alone, a tenant sees about 5% at this scale; the pacer learns the
		// quota from its first 429s).
		t.Logf("tenant %s: %d of %d writes throttled", c.domain, st.Throttled, st.Writes)
		if st.Throttled*4 > st.Writes {
			t.Errorf("tenant %s: %d of %d writes throttled, want at most 25%%", c.domain, st.Throttled, st.Writes)
		}
		// Applied writes never exceed the bucket: burst + rate × elapsed.
		for i := range ch {
			for j := i + opts.WriteBurst; j < len(ch); j += 17 {
				allowed := float64(opts.WriteBurst) + opts.WriteRate*ch[j].At.Sub(ch[i].At).Seconds()
				if float64(j-i+1) > allowed+1 {
					t.Fatalf("tenant %s: %d writes applied in %v, more than its quota allows (%.0f)", c.domain, j-i+1, ch[j].At.Sub(ch[i].At), allowed)
				}
			}
		}
		s := span{ch[0].At, ch[len(ch)-1].At}
		spans[c.domain] = s
		// The tenant's writes were paced by its own quota, not by others.
		if d := s.to.Sub(s.from); d < minimum*9/10 {
			t.Errorf("tenant %s: its writes took %v, less than its quota allows (%v)", c.domain, d, minimum)
		}
		sumSpans += s.to.Sub(s.from)
		if first.IsZero() || s.from.Before(first) {
			first = s.from
		}
		if s.to.After(last) {
			last = s.to
		}
	}
	// The tenants ran at once: their write intervals overlap for most of
	// each, and the whole run spans well under the sum (one after another).
	var common span
	for _, s := range spans {
		if common.from.IsZero() || s.from.After(common.from) {
			common.from = s.from
		}
		if common.to.IsZero() || s.to.Before(common.to) {
			common.to = s.to
		}
	}
	overlap := common.to.Sub(common.from)
	for d, s := range spans {
		if overlap < s.to.Sub(s.from)/2 {
			t.Errorf("tenant %s wrote during %v, of which only %v overlaps the other tenants'", d, s.to.Sub(s.from), overlap)
		}
	}
	total := last.Sub(first)
	if total*10 > sumSpans*6 {
		t.Errorf("the run's writes spanned %v, not well under the %v of the tenants one after another", total, sumSpans)
	}
	t.Logf("3 tenants × %d users: writes spanned %v (tenants one after another: ≥ %v); wall %v; quota minimum per tenant %v",
		n, total.Round(time.Millisecond), sumSpans.Round(time.Millisecond), wall.Round(time.Millisecond), minimum)
}

// A wrong client secret fails every tenant alike: it ends the run (exit 1)
// instead of failing each tenant's rows.
func TestManyTenantsWrongSecretIsFatal(t *testing.T) {
	customers := partnerTenants(2)[:1]
	p := startPartner(t, graphsim.Options{}, customers)
	dir := t.TempDir()
	in, out, secrets := filepath.Join(dir, "in.csv"), filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	os.WriteFile(in, []byte("UPN,TenantId\n"+customers[0].users[0].UPN+","+customers[0].domain+"\n"), 0o600)
	base := p.getenv("")
	getenv := func(k string) string {
		if k == "AZURE_CLIENT_SECRET" {
			return "not-the-secret"
		}
		return base(k)
	}
	res := runCLI(t, t.Context(), getenv, p.args(in, out, secrets)...)
	if res.code != exitFatal || !strings.Contains(res.stderr, "7000215") {
		t.Errorf("exit %d, want %d with Entra's AADSTS7000215; stderr:\n%s", res.code, exitFatal, res.stderr)
	}
	if n := len(p.sims[customers[0].domain].Changes()); n != 0 {
		t.Errorf("%d changes, want none", n)
	}
}

// check shows the TenantId column and counts rows without a tenant.
func TestCheckShowsTenantColumn(t *testing.T) {
	in := filepath.Join(t.TempDir(), "in.csv")
	os.WriteFile(in, []byte("UPN,Tenant ID\na@contoso.example,contoso.example\nb@contoso.example,\nc@contoso.example,common\n"), 0o600)
	res := runCLI(t, t.Context(), func(string) string { return "" }, "check", "-i", in)
	out := res.stdout + res.stderr
	if !strings.Contains(out, `tenantId <- "Tenant ID" (column 2)`) {
		t.Errorf("check does not show the tenant column:\n%s", out)
	}
	if res.code != exitRowsFailed || !strings.Contains(out, "missing_tenant") || !strings.Contains(out, "bad_value") {
		t.Errorf("exit %d; want %d with missing_tenant and bad_value rows:\n%s", res.code, exitRowsFailed, out)
	}
}

// plan looks users up in each row's tenant and writes the tenant column
// too; nothing is written to any tenant.
func TestManyTenantsPlan(t *testing.T) {
	customers := partnerTenants(3)[:2]
	p := startPartner(t, graphsim.Options{}, customers)
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.csv"), filepath.Join(dir, "plan.csv")
	csv := "UPN,TenantId\n" +
		customers[0].users[0].UPN + "," + customers[0].domain + "\n" +
		customers[0].users[0].UPN + "," + customers[1].domain + "\n" + // not a user of the second tenant
		"shared.admin@partner.example," + customers[1].id + "\n"
	os.WriteFile(in, []byte(csv), 0o600)
	res := runCLI(t, t.Context(), p.getenv(""), "plan", "-i", in, "-o", out, "--discard-passwords", "--graph-url", p.srv.URL, "--authority-host", p.srv.URL)
	if res.code != exitRowsFailed {
		t.Fatalf("exit %d, want %d (one user not found); stderr:\n%s", res.code, exitRowsFailed, res.stderr)
	}
	got := readResults(t, out)
	want := map[int][3]string{
		2: {string(report.Succeeded), "would_reset", customers[0].domain},
		3: {string(report.Failed), "not_found", customers[1].domain},
		4: {string(report.Succeeded), "would_reset", customers[1].id},
	}
	for line, w := range want {
		g := got[line]
		if string(g.Outcome) != w[0] || string(g.Reason) != w[1] || g.Tenant != w[2] {
			t.Errorf("line %d: %s/%s tenant %q; want %s/%s tenant %q", line, g.Outcome, g.Reason, g.Tenant, w[0], w[1], w[2])
		}
	}
	for d, sim := range p.sims {
		if n := sim.Stats().Writes; n != 0 {
			t.Errorf("tenant %s: %d writes in a plan", d, n)
		}
	}
}

// TestManyTenantsOneTenantTwoNames: a tenant named by its id on one line and
// by its domain on another gets two lanes, but its user is reset once: the
// lanes' preflights share the object ids they have passed on.
func TestManyTenantsOneTenantTwoNames(t *testing.T) {
	tenants := partnerTenants(3)[:1]
	p := startPartner(t, graphsim.Options{}, tenants)
	c := tenants[0]
	u := c.users[0].UPN
	dir := t.TempDir()
	in := writeFile(t, dir, "in.csv", "UserPrincipalName,TenantId\n"+u+","+c.domain+"\n"+u+","+c.id+"\n")
	out, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	res := runCLI(t, t.Context(), p.getenv(""), append(p.args(in, out, secrets), "--auth", "client-secret")...)
	if res.code != exitOK {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitOK, res.stderr)
	}
	var outcomes []string
	for _, r := range readResults(t, out) {
		outcomes = append(outcomes, string(r.Outcome))
	}
	slices.Sort(outcomes)
	if fmt.Sprint(outcomes) != "[duplicate succeeded]" {
		t.Errorf("outcomes %v, want one succeeded and one duplicate", outcomes)
	}
	got, _ := p.sims[c.domain].User(u)
	pws := readSecrets(t, secrets)
	if got.PasswordSets != 1 || len(pws) != 1 || pws[strings.ToLower(u)] != got.Password {
		t.Errorf("%d password sets, %d passwords recorded; want 1 and 1, the one in force", got.PasswordSets, len(pws))
	}
}
