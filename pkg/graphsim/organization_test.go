package graphsim

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestOrganization: GET /organization names the tenant, in a $batch or on
// its own, and is refused with 403 when the app may not read it.
func TestOrganization(t *testing.T) {
	e := start(t, Options{OrganizationName: "Contoso"})
	auth := map[string]string{"Authorization": "Bearer " + e.token}
	res, err := e.do(t.Context(), http.MethodGet, "/v1.0/organization?$select=id,displayName", nil, auth)
	if err != nil {
		t.Fatal(err)
	}
	var list struct {
		Value []struct{ ID, DisplayName string }
	}
	if err := json.Unmarshal(res.body, &list); err != nil || res.status != http.StatusOK || len(list.Value) != 1 ||
		list.Value[0].ID != SandboxTenantID || list.Value[0].DisplayName != "Contoso" {
		t.Errorf("GET /organization: %d %s (%v)", res.status, res.body, err)
	}
	if _, subs := e.batch(t, subRequest{ID: "1", Method: "GET", URL: "/organization"}); subs["1"].Status != http.StatusOK {
		t.Errorf("GET /organization in a batch: %+v", subs["1"])
	}
	if res, _ := e.do(t.Context(), http.MethodPatch, "/v1.0/organization", []byte(`{}`), auth); res.status != http.StatusMethodNotAllowed {
		t.Errorf("PATCH /organization: %d, want 405", res.status)
	}

	denied := start(t, Options{OrganizationDenied: true})
	res, _ = denied.do(t.Context(), http.MethodGet, "/v1.0/organization", nil, map[string]string{"Authorization": "Bearer " + denied.token})
	if res.status != http.StatusForbidden {
		t.Errorf("GET /organization without the permission: %d, want 403", res.status)
	}
}
