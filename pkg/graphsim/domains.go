package graphsim

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Domain is one domain of the emulated tenant: its name and how its users
// sign in (https://learn.microsoft.com/graph/api/resources/domain).
type Domain struct {
	// ID is the domain name, such as fabrikam.com.
	ID string `json:"id"`
	// AuthenticationType is AuthManaged (Entra ID holds the passwords) or
	// AuthFederated (an identity provider such as AD FS does).
	AuthenticationType string `json:"authenticationType"`
}

// The authentication types of a domain.
const (
	AuthManaged   = "Managed"
	AuthFederated = "Federated"
)

// msgFederated answers a passwordProfile PATCH for a user of a federated
// domain. Graph documents that passwordProfile "cannot be used for
// federated users" (https://learn.microsoft.com/graph/api/user-update) but
// not the answer; Azure AD Graph answered such a password set 400
// Request_BadRequest, which is what this emulator assumes Microsoft Graph
// does. The wording is the emulator's own.
const msgFederated = "graphsim: the password of a user of a federated domain cannot be updated: it is managed by the domain's identity provider."

// checkDomain checks a domain given in Options or a tenant file.
func checkDomain(d Domain) (Domain, error) {
	if !validDomain(d.ID) {
		return Domain{}, fmt.Errorf("graphsim: domain %q is not a domain", d.ID)
	}
	switch {
	case strings.EqualFold(d.AuthenticationType, AuthFederated):
		d.AuthenticationType = AuthFederated
	case d.AuthenticationType == "" || strings.EqualFold(d.AuthenticationType, AuthManaged):
		d.AuthenticationType = AuthManaged
	default:
		return Domain{}, fmt.Errorf("graphsim: domain %s: authenticationType %q is not Managed or Federated", d.ID, d.AuthenticationType)
	}
	return d, nil
}

// tenantDomains are the domains of a Sim: TenantDomain (managed) first,
// unless opts.Domains lists it, then opts.Domains.
func tenantDomains(opts Options) ([]Domain, error) {
	var out []Domain
	seen := map[string]bool{}
	add := func(d Domain) error {
		d, err := checkDomain(d)
		if err != nil {
			return err
		}
		if k := strings.ToLower(d.ID); !seen[k] {
			seen[k] = true
			out = append(out, d)
		}
		return nil
	}
	for _, d := range opts.Domains {
		if err := add(d); err != nil {
			return nil, err
		}
	}
	if !seen[strings.ToLower(opts.TenantDomain)] {
		out = append([]Domain{{ID: opts.TenantDomain, AuthenticationType: AuthManaged}}, out...)
	}
	return out, nil
}

// Domains returns the tenant's domains, its own first.
func (s *Sim) Domains() []Domain {
	return append([]Domain(nil), s.domains...)
}

// federatedLocked reports whether upn's domain (after its last @) is a
// federated domain of the tenant.
func (s *Sim) federatedLocked(upn string) bool {
	i := strings.LastIndexByte(upn, '@')
	if i < 0 {
		return false
	}
	for _, d := range s.domains {
		if d.AuthenticationType == AuthFederated && strings.EqualFold(d.ID, upn[i+1:]) {
			return true
		}
	}
	return false
}

// domainProperties are the domain properties $select may name.
var domainProperties = []string{"id", "authenticationType", "isDefault", "isInitial", "isVerified"}

// listDomainsLocked answers GET /domains: every domain of the tenant, in
// pages of Options.DomainsPageSize (all in one when 0), each page but the
// last with an absolute @odata.nextLink; $select of the domain properties.
// It costs one resource unit, and is refused with 403 when
// Options.DenyDomains says the app lacks Domain.Read.All.
func (s *Sim) listDomainsLocked(query url.Values, c opCtx) (int, any, *apiError) {
	s.stats.DomainReads++
	if aerr := s.chargeLocked(c, 1, 0); aerr != nil {
		return 0, nil, aerr
	}
	if s.opts.DenyDomains {
		return 0, nil, newAPIError(http.StatusForbidden, codeDenied, msgDenied)
	}
	names := domainProperties
	if sel := query.Get("$select"); sel != "" {
		names = nil
		for _, raw := range strings.Split(sel, ",") {
			name := ""
			for _, p := range domainProperties {
				if strings.EqualFold(p, strings.TrimSpace(raw)) {
					name = p
				}
			}
			if name == "" {
				return 0, nil, badRequest(fmt.Sprintf("Parsing OData Select and Expand failed: Could not find a property named '%s' on type 'microsoft.graph.domain'.", strings.TrimSpace(raw)))
			}
			names = append(names, name)
		}
	}
	from := 0
	if tok := query.Get("$skiptoken"); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > len(s.domains) {
			return 0, nil, badRequest(msgQuerySyntax)
		}
		from = n
	}
	to := len(s.domains)
	if size := s.opts.DomainsPageSize; size > 0 {
		to = min(from+size, to)
	}
	value := make([]map[string]any, 0, to-from)
	for i, d := range s.domains[from:to] {
		all := map[string]any{
			"id": d.ID, "authenticationType": d.AuthenticationType,
			"isDefault": from+i == 0, "isInitial": from+i == 0, "isVerified": true,
		}
		v := make(map[string]any, len(names))
		for _, n := range names {
			v[n] = all[n]
		}
		value = append(value, v)
	}
	out := map[string]any{"@odata.context": metadataBase + "domains", "value": value}
	if to < len(s.domains) {
		next := "$skiptoken=" + strconv.Itoa(to)
		if sel := query.Get("$select"); sel != "" {
			next = "$select=" + sel + "&" + next
		}
		out["@odata.nextLink"] = c.base + "/v1.0/domains?" + next
	}
	return http.StatusOK, out, nil
}

// isDomainsURL reports whether a request URL (relative to /v1.0) addresses
// the domains collection, and returns its query.
func isDomainsURL(raw string) (bool, url.Values, *apiError) {
	if i := strings.IndexByte(raw, '#'); i >= 0 {
		raw = raw[:i]
	}
	path, rawQuery, _ := strings.Cut(raw, "?")
	if !strings.EqualFold(strings.TrimSuffix(strings.TrimPrefix(path, "/"), "/"), "domains") {
		return false, nil, nil
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return true, nil, badRequest(msgQuerySyntax)
	}
	return true, q, nil
}
