package graphsim

import (
	"fmt"
	"net/http"
	"strings"
)

// Multi serves several emulated tenants from one host, as Graph and Entra
// do for a multi-tenant application: the token endpoint
// /{tenant}/oauth2/v2.0/token issues tokens of the tenant named in its
// path, and a Graph request goes to the directory, and is charged to the
// quotas, of the tenant its access token was issued by. Each tenant is a
// Sim with its own users, record of changes, statistics and quotas (the
// application's writes and resource units in the tenant, and the tenant's
// writes), configured by its own Options; give them the same ClientID and
// ClientSecret for one multi-tenant app registration, or another ClientID
// for a tenant where that app is not consented (the token endpoint then
// answers AADSTS700016). A tenant no Sim knows is answered AADSTS90002,
// 400, like Entra's "tenant not found".
type Multi struct {
	sims []*Sim
}

// NewMulti returns an emulator of the tenants sims, which must have
// different tenant ids and domains. It panics without a tenant.
func NewMulti(sims ...*Sim) *Multi {
	if len(sims) == 0 {
		panic("graphsim: NewMulti needs a tenant")
	}
	for i, a := range sims {
		for _, b := range sims[:i] {
			if a.tenantKnown(b.opts.TenantID) || a.tenantKnown(b.opts.TenantDomain) {
				panic(fmt.Sprintf("graphsim: NewMulti: tenants %s and %s share an id or a domain", a.opts.TenantID, b.opts.TenantID))
			}
		}
	}
	return &Multi{sims: append([]*Sim(nil), sims...)}
}

// LimitApp enforces the application's write quota across every tenant:
// a bucket of burst writes refilled at perSecond, shared by the tenants
// (https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits:
// 70,000 writes per 5 minutes). A write it refuses is answered 429 with
// x-ms-throttle-scope Application/Write/{app}/{tenant} (in the
// ThrottleHeadersAll mode of its tenant). Call it before serving.
func (m *Multi) LimitApp(burst int, perSecond float64) {
	aq := &appQuota{b: bucket{burst: float64(burst), rate: perSecond}}
	for _, s := range m.sims {
		s.mu.Lock()
		s.quota.app = aq
		s.mu.Unlock()
	}
}

// Tenant returns the Sim of the tenant with this id or domain (without
// regard to case), or nil.
func (m *Multi) Tenant(idOrDomain string) *Sim {
	for _, s := range m.sims {
		if s.tenantKnown(idOrDomain) {
			return s
		}
	}
	return nil
}

// Tenants returns the tenants' Sims, in the order given to NewMulti.
func (m *Multi) Tenants() []*Sim { return append([]*Sim(nil), m.sims...) }

// Handler returns the handler of every tenant's Graph and token endpoint.
func (m *Multi) Handler() http.Handler { return http.HandlerFunc(m.serveHTTP) }

// Start serves the tenants on 127.0.0.1 over TLS until Close, like
// Sim.Start.
func (m *Multi) Start() (*Server, error) { return serve(m.Handler()) }

func (m *Multi) serveHTTP(w http.ResponseWriter, r *http.Request) {
	m.route(r).serveHTTP(w, r)
}

// route picks the tenant that answers r: by its access token on Graph's
// routes, by the tenant in its path on the token endpoint's. A request no
// tenant claims goes to the first, which answers it as for a stranger: an
// unknown token is a 401, an unknown tenant AADSTS90002.
func (m *Multi) route(r *http.Request) *Sim {
	if strings.HasPrefix(r.URL.Path, "/v1.0/") {
		if tok := bearer(r.Header.Get("Authorization")); tok != "" {
			for _, s := range m.sims {
				if s.issuedToken(tok) {
					return s
				}
			}
		}
		return m.sims[0]
	}
	if parts := strings.SplitN(r.URL.Path, "/", 3); len(parts) == 3 && parts[0] == "" {
		if s := m.Tenant(parts[1]); s != nil {
			return s
		}
	}
	return m.sims[0]
}

// bearer returns the token of a Bearer Authorization header, or "".
func bearer(authz string) string {
	scheme, tok, _ := strings.Cut(strings.TrimSpace(authz), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// issuedToken reports whether this tenant issued tok (expired or not).
func (s *Sim) issuedToken(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.tokens[tok]
	return ok
}
