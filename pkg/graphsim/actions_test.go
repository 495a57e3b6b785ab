package graphsim

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestBlockSignIn: a PATCH of accountEnabled false blocks a member (its
// lookup says accountEnabled false; true enables it again); an
// administrator is refused like its reset, a synced user because
// accountEnabled is mastered on-premises, a missing user is 404. A block
// changes no password.
func TestBlockSignIn(t *testing.T) {
	body := func(v any) json.RawMessage { b, _ := json.Marshal(map[string]any{"accountEnabled": v}); return b }
	for _, tt := range []struct {
		name        string
		key         string
		body        json.RawMessage
		wantStatus  int
		wantCode    string
		wantEnabled bool
	}{
		{name: "member", key: upn("adele.vance"), body: body(false), wantStatus: 204},
		{name: "guest", key: "alex_fabrikam.com#EXT#@" + SandboxDomain, body: body(false), wantStatus: 204},
		{name: "enabled again", key: upn("former.employee"), body: body(true), wantStatus: 204, wantEnabled: true},
		{name: "admin", key: upn("global.admin"), body: body(false), wantStatus: 403, wantCode: codeDenied, wantEnabled: true},
		{name: "synced", key: upn("sync.user"), body: body(false), wantStatus: 400, wantCode: codeRequestBad, wantEnabled: true},
		{name: "null", key: upn("adele.vance"), body: body(nil), wantStatus: 400, wantCode: codeRequestBad, wantEnabled: true},
		{name: "missing user", key: upn("nobody"), body: body(false), wantStatus: 404, wantCode: codeNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, Options{})
			_, got := e.batch(t, subRequest{ID: "1", Method: "PATCH", URL: "/users/" + escapeKey(tt.key), Headers: jsonHeader(), Body: tt.body})
			r := got["1"]
			if r.Status != tt.wantStatus {
				t.Fatalf("status %d, want %d; body %s", r.Status, tt.wantStatus, r.Body)
			}
			if tt.wantCode != "" {
				if d := graphError(t, r.Body); d.Code != tt.wantCode {
					t.Errorf("code %q, want %q", d.Code, tt.wantCode)
				}
			}
			u, ok := e.sim.User(tt.key)
			if !ok {
				return
			}
			if u.AccountEnabled() != tt.wantEnabled || u.PasswordSets != 0 {
				t.Errorf("account enabled %v, password sets %d; want %v, 0", u.AccountEnabled(), u.PasswordSets, tt.wantEnabled)
			}
			_, got = e.batch(t, subRequest{ID: "2", Method: "GET", URL: "/users/" + escapeKey(tt.key) + "?$select=accountEnabled"})
			var look struct{ AccountEnabled bool }
			if err := json.Unmarshal(got["2"].Body, &look); err != nil || look.AccountEnabled != tt.wantEnabled {
				t.Errorf("lookup: %s (%v), want accountEnabled %v", got["2"].Body, err, tt.wantEnabled)
			}
		})
	}
}

// TestFailWriteAndRevokedAt: FailWrite makes one kind of write to one user
// fail (a 5xx every time, until cleared) while the others work;
// revokeSignInSessions records when, read back through Sim.User.
func TestFailWriteAndRevokedAt(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	e := start(t, Options{Now: func() time.Time { return at }})
	if err := e.sim.FailWrite(upn("adele.vance"), WriteReset, 503); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.FailWrite(upn("nobody"), WriteReset, 503); err == nil {
		t.Error("FailWrite of a missing user: no error")
	}
	reset := json.RawMessage(`{"passwordProfile":{"password":"` + testPassword + `"}}`)
	for range 3 {
		_, got := e.batch(t,
			subRequest{ID: "1", Method: "PATCH", URL: "/users/" + upn("adele.vance"), Headers: jsonHeader(), Body: reset},
			subRequest{ID: "2", Method: "PATCH", URL: "/users/" + upn("lee.gu"), Headers: jsonHeader(), Body: reset})
		if got["1"].Status != 503 || graphError(t, got["1"].Body).Code != "ServiceUnavailable" || got["2"].Status != 204 {
			t.Fatalf("statuses %d and %d, want 503 ServiceUnavailable for the failing user, 204 for the other", got["1"].Status, got["2"].Status)
		}
	}
	_, got := e.batch(t,
		subRequest{ID: "1", Method: "POST", URL: "/users/" + upn("adele.vance") + "/revokeSignInSessions", Headers: jsonHeader(), Body: json.RawMessage(`{}`)},
		subRequest{ID: "2", Method: "PATCH", URL: "/users/" + upn("adele.vance"), Headers: jsonHeader(), Body: json.RawMessage(`{"accountEnabled":false}`)})
	if got["1"].Status != 200 || got["2"].Status != 204 {
		t.Fatalf("revoke %d, block %d, want 200 and 204: only the reset fails", got["1"].Status, got["2"].Status)
	}
	u, _ := e.sim.User(upn("adele.vance"))
	if u.PasswordSets != 0 || u.SessionsRevoked != 1 || !u.SessionsRevokedAt.Equal(at) || u.AccountEnabled() {
		t.Errorf("password sets %d, revoked %d at %v, enabled %v; want 0, 1 at %v, false", u.PasswordSets, u.SessionsRevoked, u.SessionsRevokedAt, u.AccountEnabled(), at)
	}
	if err := e.sim.FailWrite(upn("adele.vance"), WriteReset, 0); err != nil {
		t.Fatal(err)
	}
	if _, got := e.batch(t, subRequest{ID: "1", Method: "PATCH", URL: "/users/" + upn("adele.vance"), Headers: jsonHeader(), Body: reset}); got["1"].Status != 204 {
		t.Errorf("after clearing: status %d, want 204", got["1"].Status)
	}
	e.sim.FailWrite(upn("lee.gu"), WriteBlock, 403)
	if _, got := e.batch(t, subRequest{ID: "1", Method: "PATCH", URL: "/users/" + upn("lee.gu"), Headers: jsonHeader(), Body: json.RawMessage(`{"accountEnabled":false}`)}); got["1"].Status != 403 {
		t.Errorf("a block made to fail with 403: status %d", got["1"].Status)
	}
}

// escapeKey escapes the '#' of a guest UPN for a URL path.
func escapeKey(key string) string { return strings.ReplaceAll(key, "#", "%23") }
