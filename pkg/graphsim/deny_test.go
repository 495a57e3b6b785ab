package graphsim

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestDenyWrites: the switch refuses every write of a kind with Graph's
// 403 Authorization_RequestDenied, as for an app that lacks the permission
// or the role; other kinds and reads go on; granting it again while the
// server runs lets the same write through.
func TestDenyWrites(t *testing.T) {
	e := start(t, Options{})
	revoke := func(id, key string) subRequest {
		return subRequest{ID: id, Method: "POST", URL: "/users/" + key + "/revokeSignInSessions", Headers: jsonHeader(), Body: json.RawMessage(`{}`)}
	}
	member := upn("adele.vance")

	e.sim.DenyWrites(WriteReset)
	_, got := e.batch(t, patch("1", member, testPassword), patch("2", upn("nobody"), testPassword), revoke("3", member),
		get("4", "/users/"+member))
	for _, id := range []string{"1", "2"} {
		if got[id].Status != http.StatusForbidden {
			t.Fatalf("denied PATCH %s: status %d, want 403; body %s", id, got[id].Status, got[id].Body)
		}
		checkError(t, got[id].Body, codeDenied, msgDenied)
	}
	if got["3"].Status != http.StatusOK || got["4"].Status != http.StatusOK {
		t.Errorf("revoke %d and GET %d, want 200: only password writes are denied", got["3"].Status, got["4"].Status)
	}
	if n := e.applied(member); n != 0 {
		t.Errorf("a denied PATCH set the password")
	}
	st := e.sim.Stats()
	if st.Denied != 2 || st.Writes != 3 {
		t.Errorf("Stats: %d denied, %d writes; want 2 and 3 (a denied write reaches the quota)", st.Denied, st.Writes)
	}

	e.sim.DenyWrites(AllWrites)
	_, got = e.batch(t, revoke("1", member))
	if got["1"].Status != http.StatusForbidden {
		t.Errorf("revoke with every write denied: status %d, want 403", got["1"].Status)
	}

	e.sim.GrantWrites(AllWrites)
	_, got = e.batch(t, revoke("1", member), patch("2", member, testPassword))
	if got["1"].Status != http.StatusOK || got["2"].Status != http.StatusForbidden {
		t.Errorf("all granted back but passwords: revoke %d and PATCH %d, want 200 and 403", got["1"].Status, got["2"].Status)
	}

	e.sim.GrantWrites()
	_, got = e.batch(t, patch("1", member, testPassword))
	if got["1"].Status != http.StatusNoContent || e.applied(member) != 1 {
		t.Errorf("after GrantWrites: status %d, applied %d; want 204 and the password set", got["1"].Status, e.applied(member))
	}
}
