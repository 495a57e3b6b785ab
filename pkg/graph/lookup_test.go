package graph

import (
	"errors"
	"testing"
)

// TestParseDomains: a page of domains, the relative URL of the next page
// (from an absolute @odata.nextLink of any cloud), and the answers that
// are not a domain collection or whose next link leads elsewhere.
func TestParseDomains(t *testing.T) {
	for _, tt := range []struct {
		name, body string
		want       []Domain
		next       string
		bad        bool
	}{
		{name: "one page", body: `{"@odata.context":"x","value":[{"id":"contoso.com","authenticationType":"Managed"},{"id":"fabrikam.com","authenticationType":"Federated"}]}`,
			want: []Domain{{"contoso.com", "Managed"}, {"fabrikam.com", "Federated"}}},
		{name: "next page", body: `{"value":[{"id":"a.example","authenticationType":"managed"}],"@odata.nextLink":"https://graph.microsoft.us/v1.0/domains?$select=id,authenticationType&$skiptoken=X%2744%27"}`,
			want: []Domain{{"a.example", "managed"}}, next: "/domains?$select=id,authenticationType&$skiptoken=X%2744%27"},
		{name: "empty", body: `{"value":[]}`, want: []Domain{}},
		{name: "no value", body: `{"error":{}}`, bad: true},
		{name: "not json", body: `<html>`, bad: true},
		{name: "next link elsewhere", body: `{"value":[],"@odata.nextLink":"https://graph.microsoft.com/v1.0/users?$skiptoken=1"}`, bad: true},
		{name: "next link of another version", body: `{"value":[],"@odata.nextLink":"https://graph.microsoft.com/beta/domains?$skiptoken=1"}`, bad: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			page, err := ParseDomains([]byte(tt.body))
			if tt.bad {
				if !errors.Is(err, ErrMalformedResponse) {
					t.Fatalf("ParseDomains = %v, %v; want ErrMalformedResponse", page, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDomains: %v", err)
			}
			if len(page.Domains) != len(tt.want) || page.Next != tt.next {
				t.Fatalf("ParseDomains = %+v, want %+v next %q", page, tt.want, tt.next)
			}
			for i, d := range page.Domains {
				if d != tt.want[i] {
					t.Errorf("domain %d = %+v, want %+v", i, d, tt.want[i])
				}
			}
		})
	}
	if !(Domain{AuthenticationType: "federated"}).Federated() || (Domain{AuthenticationType: "Managed"}).Federated() {
		t.Error("Federated does not read authenticationType without regard to case")
	}
}

// TestUserInfoExternalGuestAndDomain: #EXT# in any case marks an external
// guest; the domain is what follows the last @, in lower case.
func TestUserInfoExternalGuestAndDomain(t *testing.T) {
	for _, tt := range []struct {
		upn      string
		external bool
		domain   string
	}{
		{"alex_fabrikam.com#EXT#@contoso.onmicrosoft.com", true, "contoso.onmicrosoft.com"},
		{"alex_fabrikam.com#ext#@Contoso.OnMicrosoft.com", true, "contoso.onmicrosoft.com"},
		{"adele@Fabrikam.COM", false, "fabrikam.com"},
		{"no-at-sign", false, ""},
	} {
		u := UserInfo{UserPrincipalName: tt.upn}
		if u.ExternalGuest() != tt.external || u.Domain() != tt.domain {
			t.Errorf("%s: external %t domain %q, want %t %q", tt.upn, u.ExternalGuest(), u.Domain(), tt.external, tt.domain)
		}
	}
}
