package graphsim

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// domainsPage decodes a GET /domains answer.
type domainsPage struct {
	Value    []map[string]any `json:"value"`
	NextLink string           `json:"@odata.nextLink"`
}

// TestDomains: GET /domains lists the tenant's own domain (managed) and
// Options.Domains with their authenticationType, $select honoured, in
// pages with an absolute @odata.nextLink, in a $batch and directly; it is
// refused 403 with DenyDomains, and a write to it is 405.
func TestDomains(t *testing.T) {
	e := start(t, Options{DomainsPageSize: 2, Domains: []Domain{
		{ID: "fabrikam.com", AuthenticationType: "federated"}, {ID: "contoso.com"},
	}})
	var ids []string
	url := "/domains?$select=id,authenticationType"
	for pages := 0; url != ""; pages++ {
		if pages > 3 {
			t.Fatal("the pages never end")
		}
		_, got := e.batch(t, get("1", url))
		r := got["1"]
		if r.Status != 200 {
			t.Fatalf("GET %s: %d %s", url, r.Status, r.Body)
		}
		var p domainsPage
		if err := json.Unmarshal(r.Body, &p); err != nil {
			t.Fatal(err)
		}
		for _, d := range p.Value {
			if len(d) != 2 {
				t.Errorf("domain %v: want only the selected id and authenticationType", d)
			}
			ids = append(ids, d["id"].(string)+":"+d["authenticationType"].(string))
		}
		url = ""
		if p.NextLink != "" {
			rel, ok := strings.CutPrefix(p.NextLink, e.srv.URL+"/v1.0")
			if !ok || !strings.Contains(rel, "$skiptoken=") || !strings.Contains(rel, "$select=id,authenticationType") {
				t.Fatalf("nextLink %q: want an absolute link to the next page, keeping $select", p.NextLink)
			}
			url = rel
		}
	}
	if got := strings.Join(ids, " "); got != SandboxDomain+":Managed fabrikam.com:Federated contoso.com:Managed" {
		t.Errorf("domains %s; want the tenant's own first, then the options', normalised", got)
	}
	res, err := e.do(t.Context(), http.MethodGet, "/v1.0/domains", nil, map[string]string{"Authorization": "Bearer " + e.token})
	if err != nil || res.status != 200 || !contains(res.body, `"isDefault":true`) {
		t.Errorf("direct GET /domains: %v %d %s", err, res.status, res.body)
	}
	if st := e.sim.Stats(); st.DomainReads != 3 || st.Reads != 0 {
		t.Errorf("stats domain reads %d, user reads %d; want 3 and 0", st.DomainReads, st.Reads)
	}
	_, got := e.batch(t, subRequest{ID: "w", Method: "PATCH", URL: "/domains", Headers: jsonHeader(), Body: json.RawMessage(`{}`)},
		get("s", "/domains?$select=nonsense"))
	if got["w"].Status != 405 || got["s"].Status != 400 {
		t.Errorf("PATCH /domains %d, $select=nonsense %d; want 405 and 400", got["w"].Status, got["s"].Status)
	}

	denied := start(t, Options{DenyDomains: true})
	_, got = denied.batch(t, get("1", "/domains?$select=id,authenticationType"))
	if got["1"].Status != 403 {
		t.Fatalf("DenyDomains: status %d, want 403", got["1"].Status)
	}
	checkError(t, got["1"].Body, codeDenied, msgDenied)
}

// TestFederatedUserPasswordPatch: a passwordProfile PATCH for a user of a
// federated domain is refused 400 Request_BadRequest and changes nothing;
// the same user is found by a GET, and a managed domain's user is reset.
func TestFederatedUserPasswordPatch(t *testing.T) {
	e := start(t, Options{Domains: []Domain{{ID: "fabrikam.com", AuthenticationType: AuthFederated}, {ID: "contoso.com", AuthenticationType: AuthManaged}}})
	for _, u := range []string{"megan@Fabrikam.com", "lee@contoso.com"} {
		if err := e.sim.AddUser(User{UPN: u}); err != nil {
			t.Fatal(err)
		}
	}
	_, got := e.batch(t, patch("f", "megan@fabrikam.com", testPassword), patch("m", "lee@contoso.com", testPassword),
		get("g", "/users/megan@fabrikam.com?$select=id,userPrincipalName"))
	if got["f"].Status != 400 || got["m"].Status != 204 || got["g"].Status != 200 {
		t.Fatalf("statuses federated %d, managed %d, GET %d; want 400, 204, 200", got["f"].Status, got["m"].Status, got["g"].Status)
	}
	checkError(t, got["f"].Body, codeRequestBad, msgFederated)
	if u, _ := e.sim.User("megan@fabrikam.com"); u.PasswordSets != 0 {
		t.Errorf("federated user: %d password sets, want 0", u.PasswordSets)
	}
}

// TestLoadTenantDomains: a tenant file's domains are read, checked and
// normalised; a bad one is an error that says which.
func TestLoadTenantDomains(t *testing.T) {
	tn, err := LoadTenantFile(strings.NewReader(`{"domains":[{"id":"fabrikam.com","authenticationType":"Federated"},{"id":"contoso.com"}],
		"users":[{"userPrincipalName":"megan@fabrikam.com"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(tn.Users) != 1 || len(tn.Domains) != 2 || tn.Domains[0] != (Domain{"fabrikam.com", AuthFederated}) || tn.Domains[1] != (Domain{"contoso.com", AuthManaged}) {
		t.Errorf("LoadTenantFile = %+v", tn)
	}
	for _, bad := range []struct{ json, want string }{
		{`{"domains":[{"id":"not a domain"}]}`, "domains[0]"},
		{`{"domains":[{"id":"a.example","authenticationType":"Kerberos"}]}`, "Kerberos"},
		{`{"domains":[{"id":"a.example"},{"id":"A.example"}]}`, "twice"},
		{`{"domains":[{"id":"a.example","federated":true}]}`, "unknown field"},
	} {
		if _, err := LoadTenantFile(strings.NewReader(bad.json)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("LoadTenantFile(%s) = %v, want an error saying %q", bad.json, err, bad.want)
		}
	}
}
