package graphsim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
)

// multiEnv serves tenants A and B of one app, and tenant C where the app is
// not consented (another client id), from one host.
func multiEnv(t *testing.T) (*Multi, *env) {
	t.Helper()
	clock := newFakeClock()
	mk := func(id, domain, client string, burst int) *Sim {
		s := New(Options{TenantID: id, TenantDomain: domain, ClientID: client, WriteBurst: burst, WriteRate: 1, Now: clock.Now})
		if err := s.AddUsers([]User{{UPN: "adele@" + domain}, {UPN: "same@shared.example"}}); err != nil {
			t.Fatal(err)
		}
		return s
	}
	a := mk("aaaaaaaa-0000-4000-8000-000000000001", "a.onmicrosoft.com", SandboxClientID, 2)
	b := mk("bbbbbbbb-0000-4000-8000-000000000002", "b.onmicrosoft.com", SandboxClientID, 2)
	c := mk("cccccccc-0000-4000-8000-000000000003", "c.onmicrosoft.com", "0ther000-0000-4000-8000-000000000000", 2)
	m := NewMulti(a, b, c)
	srv, err := m.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return m, &env{sim: a, srv: srv, clock: clock}
}

func (e *env) tokenFor(t *testing.T, tenant string) (string, result) {
	t.Helper()
	res := e.form(t, tenant, url.Values{
		"grant_type": {"client_credentials"}, "client_id": {SandboxClientID},
		"client_secret": {SandboxClientSecret}, "scope": {e.srv.URL + "/.default"},
	})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.Unmarshal(res.body, &tok)
	return tok.AccessToken, res
}

func TestMultiRoutesByToken(t *testing.T) {
	m, e := multiEnv(t)
	a, b := m.Tenant("a.onmicrosoft.com"), m.Tenant("BBBBBBBB-0000-4000-8000-000000000002")
	if a == nil || b == nil || a == b {
		t.Fatalf("Tenant lookup: a %p b %p", a, b)
	}
	tokA, _ := e.tokenFor(t, "a.onmicrosoft.com")
	tokB, _ := e.tokenFor(t, "bbbbbbbb-0000-4000-8000-000000000002")
	if tokA == "" || tokB == "" {
		t.Fatal("no token")
	}
	// A's token resets in A only, the same UPN in B stays untouched.
	e.token = tokA
	_, rs := e.batch(t, patch("1", "same@shared.example", "Tenant-A-pw1!"), patch("2", "adele@b.onmicrosoft.com", "Tenant-A-pw2!"))
	if rs["1"].Status != http.StatusNoContent || rs["2"].Status != http.StatusNotFound {
		t.Errorf("with A's token: statuses %d, %d; want 204 (A's user), 404 (B's user)", rs["1"].Status, rs["2"].Status)
	}
	if u, _ := a.User("same@shared.example"); u.Password != "Tenant-A-pw1!" {
		t.Error("A's user was not reset")
	}
	if u, _ := b.User("same@shared.example"); u.PasswordSets != 0 {
		t.Error("B's user was reset with A's token")
	}
	// Quotas are per tenant: A's bucket (2, a 404 costs a write too) is
	// spent, B's is whole.
	_, rs = e.batch(t, patch("1", "adele@a.onmicrosoft.com", "Tenant-A-pw3!"))
	if rs["1"].Status != http.StatusTooManyRequests {
		t.Errorf("A's third write: status %d, want 429", rs["1"].Status)
	}
	e.token = tokB
	_, rs = e.batch(t, patch("1", "same@shared.example", "Tenant-B-pw1!"), patch("2", "adele@b.onmicrosoft.com", "Tenant-B-pw2!"))
	if rs["1"].Status != http.StatusNoContent || rs["2"].Status != http.StatusNoContent {
		t.Errorf("B's writes: %d, %d; want 204, 204 (its own quota)", rs["1"].Status, rs["2"].Status)
	}
	if na, nb := len(a.Changes()), len(b.Changes()); na != 1 || nb != 2 {
		t.Errorf("changes: A %d, B %d; want 1, 2", na, nb)
	}
	// An unknown token is a 401.
	e.token = "not-a-token"
	res, err := e.batchRaw(t.Context(), []byte(`{"requests":[]}`))
	if err != nil || res.status != http.StatusUnauthorized {
		t.Errorf("unknown token: %d %v, want 401", res.status, err)
	}
}

func TestMultiTokenErrors(t *testing.T) {
	_, e := multiEnv(t)
	_, res := e.tokenFor(t, "nowhere.onmicrosoft.com")
	if res.status != http.StatusBadRequest || !contains(res.body, "AADSTS90002") {
		t.Errorf("unknown tenant: %d %s; want 400 AADSTS90002", res.status, res.body)
	}
	_, res = e.tokenFor(t, "c.onmicrosoft.com")
	if res.status != http.StatusBadRequest || !contains(res.body, "AADSTS700016") || !contains(res.body, "c.onmicrosoft.com") {
		t.Errorf("app not in tenant C: %d %s; want 400 AADSTS700016", res.status, res.body)
	}
}

// TestMultiLimitApp checks the application's write quota across tenants:
// writes in A spend B's too, and a write it refuses names the application.
func TestMultiLimitApp(t *testing.T) {
	m, e := multiEnv(t) // each tenant allows 2 writes at once
	m.LimitApp(3, 1)
	tokA, _ := e.tokenFor(t, "a.onmicrosoft.com")
	tokB, _ := e.tokenFor(t, "b.onmicrosoft.com")
	e.token = tokA
	_, rs := e.batch(t, patch("1", "adele@a.onmicrosoft.com", "Tenant-A-pw1!"), patch("2", "same@shared.example", "Tenant-A-pw2!"))
	if rs["1"].Status != http.StatusNoContent || rs["2"].Status != http.StatusNoContent {
		t.Fatalf("A: statuses %d, %d; want 204, 204", rs["1"].Status, rs["2"].Status)
	}
	e.token = tokB
	_, rs = e.batch(t, patch("1", "adele@b.onmicrosoft.com", "Tenant-B-pw1!"), patch("2", "same@shared.example", "Tenant-B-pw2!"))
	if rs["1"].Status != http.StatusNoContent || rs["2"].Status != http.StatusTooManyRequests {
		t.Fatalf("B: statuses %d, %d; want 204 then 429 (the app's 3 writes are spent)", rs["1"].Status, rs["2"].Status)
	}
	if scope := rs["2"].Headers["x-ms-throttle-scope"]; scope != "Application/Write/"+SandboxClientID+"/bbbbbbbb-0000-4000-8000-000000000002" {
		t.Errorf("x-ms-throttle-scope %q, want the application's write limit", scope)
	}
	if ra := rs["2"].Headers["Retry-After"]; ra != "1" {
		t.Errorf("Retry-After %q, want 1", ra)
	}
}
