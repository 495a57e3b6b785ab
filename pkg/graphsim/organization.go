package graphsim

import (
	"net/http"
	"strings"
)

// SandboxOrganizationName is the display name of the emulated tenant, in
// GET /organization, unless Options.OrganizationName says otherwise.
const SandboxOrganizationName = "Sandbox (graphsim)"

// isOrganizationURL reports whether url (relative to /v1.0) is
// /organization, with or without a query.
func isOrganizationURL(url string) bool {
	path, _, _ := strings.Cut(url, "?")
	return strings.EqualFold(strings.TrimSuffix(path, "/"), "/organization")
}

// organizationLocked answers GET /organization
// (https://learn.microsoft.com/graph/api/organization-list): the one
// organization, its id and display name. It costs one resource unit, as a
// read; Options.OrganizationDenied refuses it as Graph refuses an app
// without Organization.Read.All.
func (s *Sim) organizationLocked(o op, c opCtx) (int, any, *apiError) {
	if aerr := s.readLocked(o, c); aerr != nil {
		return 0, nil, aerr
	}
	if s.opts.OrganizationDenied {
		return 0, nil, newAPIError(http.StatusForbidden, codeDenied, msgDenied)
	}
	name := s.opts.OrganizationName
	if name == "" {
		name = SandboxOrganizationName
	}
	return http.StatusOK, map[string]any{
		"@odata.context": metadataBase + "organization(id,displayName)",
		"value":          []map[string]string{{"id": s.opts.TenantID, "displayName": name}},
	}, nil
}

// readLocked admits a GET of a collection outside /users (the organization,
// the audit log): another method is 405; a GET counts as a read and costs
// one resource unit, answered 429 when the quota says so.
func (s *Sim) readLocked(o op, c opCtx) *apiError {
	if o.method != http.MethodGet {
		return newAPIError(http.StatusMethodNotAllowed, codeRequestBad, msgMethod)
	}
	s.stats.Reads++
	return s.chargeLocked(c, 1, 0)
}
