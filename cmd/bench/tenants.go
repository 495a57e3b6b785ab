package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
)

// partnerTenant is one of a partner's customer tenants, all consenting to
// the bench's app.
type partnerTenant struct{ id, domain string }

// partnerTenants are k customer tenants: customer1.example, ...
func partnerTenants(k int) []partnerTenant {
	ts := make([]partnerTenant, k)
	for i := range ts {
		ts[i] = partnerTenant{fmt.Sprintf("0c7d9a4e-2f1b-4c8d-9e3a-%012d", i+1), fmt.Sprintf("customer%d.example", i+1)}
	}
	return ts
}

// partner is k tenants served by one emulator (graphsim.Multi), each
// tenant with n users and its own quota, with the inputs: one list with a
// TenantId column, and one list per tenant.
type partner struct {
	tenants []partnerTenant
	multi   *graphsim.Multi
	sims    []*graphsim.Sim
	srv     *graphsim.Server
	dir     string
	ca      string
	all     string   // every tenant's users, with a TenantId column
	inputs  []string // one tenant's users each
}

// startPartner serves k tenants of n users each with o; app, when set,
// limits the application across them (graphsim.Multi.LimitApp) before the
// emulator serves.
func startPartner(o graphsim.Options, n, k int, app func(*graphsim.Multi)) (*partner, error) {
	dir, err := os.MkdirTemp("", "bulkreset-bench-tenants-")
	if err != nil {
		return nil, err
	}
	p := &partner{tenants: partnerTenants(k), dir: dir, ca: filepath.Join(dir, "ca.pem"), all: filepath.Join(dir, "all.csv")}
	all, err := os.Create(p.all)
	if err != nil {
		p.close()
		return nil, err
	}
	defer all.Close()
	aw := bufio.NewWriter(all)
	aw.WriteString("UserPrincipalName,TenantId\n")
	for i, bt := range p.tenants {
		to := o
		to.TenantID, to.TenantDomain, to.ClientID, to.ClientSecret = bt.id, bt.domain, benchClient, benchSecret
		sim := graphsim.New(to)
		users := graphsim.GenerateUsers(n, bt.domain)
		if err := sim.AddUsers(users); err != nil {
			p.close()
			return nil, err
		}
		p.sims = append(p.sims, sim)
		in := filepath.Join(dir, fmt.Sprintf("tenant%d.csv", i+1))
		var one []byte
		one = append(one, "UserPrincipalName\n"...)
		for _, u := range users { // sorted by tenant, as partners export
			fmt.Fprintf(aw, "%s,%s\n", u.UPN, bt.domain)
			one = append(one, u.UPN+"\n"...)
		}
		if err := os.WriteFile(in, one, 0o600); err != nil {
			p.close()
			return nil, err
		}
		p.inputs = append(p.inputs, in)
	}
	if err := aw.Flush(); err != nil {
		p.close()
		return nil, err
	}
	p.multi = graphsim.NewMulti(p.sims...)
	if app != nil {
		app(p.multi)
	}
	if p.srv, err = serve(p.multi.Start, p.ca); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// totals sums the tenants' users reset, write attempts and 429s.
func (p *partner) totals() (reset, writes, limited int) {
	for _, s := range p.sims {
		st := s.Stats()
		writes += st.Writes
		limited += st.Throttled
		for _, u := range s.Users() {
			if u.PasswordSets > 0 {
				reset++
			}
		}
	}
	return reset, writes, limited
}

func (p *partner) close() {
	if p.srv != nil {
		p.srv.Close()
	}
	os.RemoveAll(p.dir)
}

// manyTenants is issue 6's figure: a partner's three tenants, each with 3 ×
// its write burst of users and each with its own quota, reset by one run
// (a TenantId column: one token and one pacer per tenant, all at once),
// against three runs one after another (one tenant each).
func (b *bench) manyTenants(t *table) error {
	n := 3 * graphsim.QuotaWriteBurst
	o := b.quotaOptions(n, 0, false)
	const figure = "3 tenants × 9,000 users"

	b.logf("%s: at once", figure)
	p, err := startPartner(o, n, 3, nil)
	if err != nil {
		return err
	}
	res, err := b.runReset(p.srv.URL, p.ca, p.dir, p.all, "all")
	if err != nil {
		p.close()
		return err
	}
	reset, writes, limited := p.totals()
	p.close()
	if res.exit != 0 || reset != 3*n {
		return fmt.Errorf("%s: bulkreset exited %d with %d of %d users reset: %s\n%s", figure, res.exit, reset, 3*n, failures(res.results), tail(res.stderr, 20))
	}
	once := row{figure: figure + ", at once", client: "bulkreset", users: 3 * n, wall: res.wall, reset: reset,
		writes: writes, limited: limited, rssKB: res.maxRSS / 1024, cpu: res.cpu}

	b.logf("%s: one after another", figure)
	p, err = startPartner(o, n, 3, nil)
	if err != nil {
		return err
	}
	defer p.close()
	seq := row{figure: figure + ", one after another", client: "bulkreset ×3", users: 3 * n}
	for i, in := range p.inputs {
		res, err := b.runReset(p.srv.URL, p.ca, p.dir, in, fmt.Sprintf("tenant%d", i+1), "--tenant", p.tenants[i].id)
		if err != nil {
			return err
		}
		if res.exit != 0 {
			return fmt.Errorf("%s, tenant %d: bulkreset exited %d: %s", figure, i+1, res.exit, tail(res.stderr, 20))
		}
		seq.wall += res.wall
		seq.cpu += res.cpu
		seq.rssKB = max(seq.rssKB, res.maxRSS/1024)
	}
	seq.reset, seq.writes, seq.limited = p.totals()
	ratio := seq.wall.Seconds() / once.wall.Seconds()
	min := quotaMinimum(o, n)
	once.compare = fmt.Sprintf("%.2fx faster than one after another (each tenant's minimum %s)", ratio, seconds(min))
	once.accept = met(once.wall < seq.wall && once.limited*20 <= once.writes, "faster than one after another, 429s <= 5%")
	t.add(once)
	t.add(seq)
	return nil
}
