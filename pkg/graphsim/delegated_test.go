package graphsim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// deviceSignIn runs the device code flow by hand, as MSAL does: the first
// poll is pending, the next is granted.
func (e *env) deviceSignIn(t *testing.T) (access, refresh string) {
	t.Helper()
	res, err := e.do(t.Context(), http.MethodPost, "/"+SandboxTenantID+"/oauth2/v2.0/devicecode",
		[]byte(url.Values{"client_id": {SandboxClientID}, "scope": {e.srv.URL + "/.default openid offline_access"}}.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if err != nil || res.status != http.StatusOK {
		t.Fatalf("devicecode: %v, status %d", err, res.status)
	}
	var dc struct{ DeviceCode, Message string }
	if err := json.Unmarshal(res.body, &struct {
		DeviceCode *string `json:"device_code"`
		Message    *string `json:"message"`
	}{&dc.DeviceCode, &dc.Message}); err != nil || dc.DeviceCode == "" || !strings.Contains(dc.Message, "devicelogin") {
		t.Fatalf("devicecode answer unreadable: %v", err)
	}
	poll := url.Values{"grant_type": {"device_code"}, "client_id": {SandboxClientID}, "device_code": {dc.DeviceCode}}
	if r := e.form(t, SandboxTenantID, poll); r.status != http.StatusBadRequest || !contains(r.body, `"authorization_pending"`) {
		t.Fatalf("first poll: status %d, want 400 authorization_pending", r.status)
	}
	r := e.form(t, SandboxTenantID, poll)
	var tok struct {
		Access     string `json:"access_token"`
		Refresh    string `json:"refresh_token"`
		IDToken    string `json:"id_token"`
		ClientInfo string `json:"client_info"`
	}
	if err := json.Unmarshal(r.body, &tok); err != nil || r.status != http.StatusOK || tok.Access == "" || tok.Refresh == "" || tok.IDToken == "" || tok.ClientInfo == "" {
		t.Fatalf("second poll: status %d, %v: want a token with refresh token, id token and client_info", r.status, err)
	}
	if r := e.form(t, SandboxTenantID, poll); r.status != http.StatusBadRequest {
		t.Errorf("a device code was redeemed twice: status %d", r.status)
	}
	return tok.Access, tok.Refresh
}

func resetPassword(id, user, password string) subRequest {
	return subRequest{ID: id, Method: http.MethodPost, URL: "/users/" + user + "/authentication/methods/" + PasswordMethodID + "/resetPassword",
		Headers: jsonHeader(), Body: json.RawMessage(`{"newPassword":"` + password + `"}`)}
}

// TestResetPasswordOperation: an administrator signed in resets a synced
// user; the password takes effect when a poll finds the operation done.
func TestResetPasswordOperation(t *testing.T) {
	e := start(t, Options{OperationPolls: 1})
	appToken := e.token
	// An application may not call it.
	_, got := e.batch(t, resetPassword("1", upn("sync.user"), testPassword))
	if got["1"].Status != http.StatusForbidden {
		t.Fatalf("app-only resetPassword: status %d, want 403", got["1"].Status)
	}
	e.token, _ = e.deviceSignIn(t)
	_, got = e.batch(t, resetPassword("1", upn("sync.user"), testPassword))
	loc := got["1"].Headers["Location"]
	if got["1"].Status != http.StatusAccepted || !strings.HasPrefix(loc, e.srv.URL+"/v1.0/users/") {
		t.Fatalf("resetPassword: status %d, Location %q; want 202 and an operation on this host", got["1"].Status, loc)
	}
	path := strings.TrimPrefix(loc, e.srv.URL+"/v1.0")
	states := []string{}
	for range 3 {
		_, got = e.batch(t, get("p", path))
		var op struct{ Status string }
		_ = json.Unmarshal(got["p"].Body, &op)
		states = append(states, op.Status)
		if u, _ := e.sim.User(upn("sync.user")); (op.Status == OperationSucceeded) != (u.Password == testPassword) {
			t.Errorf("after poll %d (%s) the password in force is set: %v", len(states), op.Status, u.Password == testPassword)
		}
	}
	if strings.Join(states, ",") != "running,succeeded,succeeded" {
		t.Errorf("operation states %v, want running then succeeded", states)
	}
	if e.applied(upn("sync.user")) != 1 {
		t.Error("the password was not applied exactly once")
	}
	// The application token cannot read the operation either.
	e.token = appToken
	if _, got = e.batch(t, get("p", path)); got["p"].Status != http.StatusForbidden {
		t.Errorf("app-only poll: status %d, want 403", got["p"].Status)
	}
}

// TestResetPasswordWithoutWriteback: the operation of a synced user fails
// and changes nothing; a cloud user's succeeds.
func TestResetPasswordWithoutWriteback(t *testing.T) {
	e := start(t, Options{NoWriteback: true})
	e.token, _ = e.deviceSignIn(t)
	_, got := e.batch(t, resetPassword("1", upn("sync.user"), testPassword), resetPassword("2", upn("adele.vance"), testPassword))
	for id, want := range map[string]string{"1": OperationFailed, "2": OperationSucceeded} {
		path := strings.TrimPrefix(got[id].Headers["Location"], e.srv.URL+"/v1.0")
		_, polled := e.batch(t, get("p", path))
		var op struct{ Status, StatusDetail string }
		_ = json.Unmarshal(polled["p"].Body, &op)
		if op.Status != want || (want == OperationFailed && op.StatusDetail == "") {
			t.Errorf("request %s: operation %s (%q), want %s", id, op.Status, op.StatusDetail, want)
		}
	}
	if e.applied(upn("sync.user")) != 0 || e.applied(upn("adele.vance")) != 1 {
		t.Error("without writeback only the cloud user's password may change")
	}
}

// TestRefreshTokenRotates: a refresh token gives a new delegated token once.
func TestRefreshTokenRotates(t *testing.T) {
	e := start(t, Options{})
	_, refresh := e.deviceSignIn(t)
	v := url.Values{"grant_type": {"refresh_token"}, "client_id": {SandboxClientID}, "refresh_token": {refresh}, "scope": {e.srv.URL + "/.default"}}
	if r := e.form(t, SandboxTenantID, v); r.status != http.StatusOK {
		t.Fatalf("refresh: status %d", r.status)
	}
	if r := e.form(t, SandboxTenantID, v); r.status != http.StatusBadRequest {
		t.Errorf("a used refresh token worked again: status %d", r.status)
	}
}

// TestResetPasswordOperationEndsOnTheClock: with OperationDelay an operation
// ends when its time comes, polled or not, and before any later change: a
// password set after it is the one in force, and the changes are in time
// order.
func TestResetPasswordOperationEndsOnTheClock(t *testing.T) {
	e := start(t, Options{OperationDelay: time.Minute})
	appToken := e.token
	e.token, _ = e.deviceSignIn(t)
	_, got := e.batch(t, resetPassword("1", upn("adele.vance"), testPassword))
	if got["1"].Status != http.StatusAccepted {
		t.Fatalf("resetPassword: status %d, want 202", got["1"].Status)
	}
	if st := e.sim.Stats(); st.WritesApplied != 0 {
		t.Fatalf("applied before its time: %d writes", st.WritesApplied)
	}
	e.clock.Advance(2 * time.Minute)
	if st := e.sim.Stats(); st.WritesApplied != 1 {
		t.Errorf("after its time, unpolled: %d writes applied, want 1", st.WritesApplied)
	}
	const newer = "Nw9#kLp2!zQm"
	e.token = appToken
	if _, got = e.batch(t, patch("2", upn("adele.vance"), newer)); got["2"].Status != http.StatusNoContent {
		t.Fatalf("PATCH: status %d", got["2"].Status)
	}
	if u, _ := e.sim.User(upn("adele.vance")); u.Password != newer {
		t.Error("the operation's password replaced one set after it")
	}
	ch := e.sim.Changes()
	if len(ch) != 2 || ch[1].At.Before(ch[0].At) || ch[0].Password != testPassword {
		t.Errorf("changes out of order or missing: %v", ch)
	}
}
