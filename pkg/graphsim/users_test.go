package graphsim

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
)

func TestPasswordPatch(t *testing.T) {
	profile := func(pw string) json.RawMessage {
		b, _ := json.Marshal(map[string]any{"passwordProfile": map[string]any{"password": pw, "forceChangePasswordNextSignIn": true}})
		return b
	}
	long := "Aa1!" + strings.Repeat("x", 252)
	tests := []struct {
		name        string
		key         string // the user, escaped into the url
		method      string
		headers     map[string]string
		body        json.RawMessage
		wantStatus  int
		wantCode    string
		wantMessage string
		wantApplied bool
	}{
		{name: "member", key: upn("adele.vance"), body: profile(testPassword), wantStatus: 204, wantApplied: true},
		{name: "guest", key: "alex_fabrikam.com#EXT#@" + SandboxDomain, body: profile(testPassword), wantStatus: 204, wantApplied: true},
		{name: "disabled", key: upn("former.employee"), body: profile(testPassword), wantStatus: 204, wantApplied: true},
		{name: "256 characters", key: upn("adele.vance"), body: profile(long), wantStatus: 204, wantApplied: true},
		{name: "admin", key: upn("global.admin"), body: profile(testPassword), wantStatus: 403, wantCode: codeDenied, wantMessage: msgDenied},
		{name: "synced", key: upn("sync.user"), body: profile(testPassword), wantStatus: 400, wantCode: codeRequestBad, wantMessage: msgSynced},
		{name: "missing user", key: upn("nobody"), body: profile(testPassword), wantStatus: 404, wantCode: codeNotFound,
			wantMessage: "Resource 'nobody@contoso.onmicrosoft.com' does not exist or one of its queried reference-property objects are not present."},
		{name: "7 characters", key: upn("adele.vance"), body: profile("Aa1!xyz"), wantStatus: 400, wantCode: codeRequestBad, wantMessage: msgComplexity},
		{name: "257 characters", key: upn("adele.vance"), body: profile(long + "x"), wantStatus: 400, wantCode: codeRequestBad, wantMessage: msgComplexity},
		{name: "two categories", key: upn("adele.vance"), body: profile("abcdefgh1234"), wantStatus: 400, wantCode: codeRequestBad, wantMessage: msgComplexity},
		{name: "non-ASCII", key: upn("adele.vance"), body: profile("Zq8#mWv2!kLé"), wantStatus: 400, wantCode: codeRequestBad, wantMessage: msgComplexity},
		{name: "banned word", key: upn("adele.vance"), body: profile("MyPassword#2025"), wantStatus: 400, wantCode: codeRequestBad, wantMessage: msgComplexity},
		{name: "banned word after normalisation", key: upn("adele.vance"), body: profile("xP@$$w0rd#2025"), wantStatus: 400, wantCode: codeRequestBad, wantMessage: msgComplexity},
		{name: "tenant name", key: upn("adele.vance"), body: profile("Contoso#2025x"), wantStatus: 400, wantCode: codeRequestBad, wantMessage: msgComplexity},
		{name: "user's name", key: upn("adele.vance"), body: profile("Vance#2025xy"), wantStatus: 400, wantCode: codeRequestBad, wantMessage: msgComplexity},
		{name: "flags only", key: upn("adele.vance"), body: json.RawMessage(`{"passwordProfile":{"forceChangePasswordNextSignIn":true,"forceChangePasswordNextSignInWithMfa":true}}`), wantStatus: 204},
		{name: "empty object", key: upn("adele.vance"), body: json.RawMessage(`{}`), wantStatus: 204},
		{name: "passwordProfile null", key: upn("adele.vance"), body: json.RawMessage(`{"passwordProfile":null}`), wantStatus: 400, wantCode: codeRequestBad},
		{name: "password not a string", key: upn("adele.vance"), body: json.RawMessage(`{"passwordProfile":{"password":5}}`), wantStatus: 400, wantCode: codeBadRequest, wantMessage: msgUnreadableJSON},
		{name: "body is a string", key: upn("adele.vance"), body: json.RawMessage(`"{\"passwordProfile\":{}}"`), wantStatus: 400, wantCode: codeBadRequest, wantMessage: msgUnreadableJSON},
		{name: "other property", key: upn("adele.vance"), body: json.RawMessage(`{"displayName":"x"}`), wantStatus: 501, wantCode: codeNotImplemented},
		{name: "no Content-Type", key: upn("adele.vance"), headers: map[string]string{}, body: profile(testPassword), wantStatus: 400, wantCode: codeBadRequest,
			wantMessage: "Write request id : 1 does not contain Content-Type header or body."},
		{name: "no body", key: upn("adele.vance"), body: nil, wantStatus: 400, wantCode: codeBadRequest,
			wantMessage: "Write request id : 1 does not contain Content-Type header or body."},
		{name: "lower-case header name", key: upn("adele.vance"), headers: map[string]string{"content-type": "application/json"}, body: profile(testPassword), wantStatus: 204, wantApplied: true},
		{name: "PUT", key: upn("adele.vance"), method: "PUT", body: profile(testPassword), wantStatus: 405, wantCode: codeRequestBad, wantMessage: msgMethod},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, Options{})
			q := subRequest{ID: "1", Method: tt.method, URL: "/users/" + url.PathEscape(tt.key), Headers: tt.headers, Body: tt.body}
			if q.Method == "" {
				q.Method = "patch" // methods are not case-sensitive
			}
			if q.Headers == nil {
				q.Headers = jsonHeader()
			}
			before, _ := e.sim.User(tt.key)
			res, got := e.batch(t, q)
			r := got["1"]
			if r.Status != tt.wantStatus {
				t.Fatalf("status: got %d, want %d; body %s", r.Status, tt.wantStatus, r.Body)
			}
			if tt.wantStatus >= 400 {
				d := checkError(t, r.Body, tt.wantCode, tt.wantMessage)
				if d.InnerError.ClientRequestID != "c1a0e5d2-0000-4000-8000-000000000001" {
					t.Errorf("innerError.client-request-id: got %q, want the batch's", d.InnerError.ClientRequestID)
				}
			} else if len(r.Body) != 0 {
				t.Errorf("204 body: got %s, want none", r.Body)
			}
			after, _ := e.sim.User(tt.key)
			changes := e.sim.Changes()
			if !tt.wantApplied {
				if after.PasswordSets != before.PasswordSets || after.Password != before.Password {
					t.Errorf("password: changed, want unchanged")
				}
				if tt.wantStatus != 204 && len(changes) != 0 {
					t.Errorf("changes: got %d, want 0", len(changes))
				}
				return
			}
			var sent struct {
				PasswordProfile struct{ Password string } `json:"passwordProfile"`
			}
			_ = json.Unmarshal(tt.body, &sent)
			if after.PasswordSets != 1 || after.Password != sent.PasswordProfile.Password || !after.ForceChangePasswordNextSignIn {
				t.Errorf("user after: got %d sets, password matches %t, force change %t; want 1, true, true",
					after.PasswordSets, after.Password == sent.PasswordProfile.Password, after.ForceChangePasswordNextSignIn)
			}
			if len(changes) != 1 {
				t.Fatalf("changes: got %d, want 1", len(changes))
			}
			c := changes[0]
			if c.UserID != after.ID || c.UPN != after.UPN || c.Password != sent.PasswordProfile.Password || !c.At.Equal(e.clock.Now()) {
				t.Errorf("change: got %v, want user %s, the password sent, at %v", c, after.UPN, e.clock.Now())
			}
			if want := res.header.Get("request-id"); c.RequestID != want {
				t.Errorf("change request id: got %q, want the batch's request-id %q", c.RequestID, want)
			}
			if st := e.sim.Stats(); st.Writes != 1 || st.WritesApplied != 1 {
				t.Errorf("stats: got %d writes, %d applied; want 1, 1", st.Writes, st.WritesApplied)
			}
		})
	}
}

func TestPasswordFlags(t *testing.T) {
	tr, fa := true, false
	type profile struct {
		Password                             *string `json:"password,omitempty"`
		ForceChangePasswordNextSignIn        *bool   `json:"forceChangePasswordNextSignIn,omitempty"`
		ForceChangePasswordNextSignInWithMfa *bool   `json:"forceChangePasswordNextSignInWithMfa,omitempty"`
	}
	pw := testPassword
	tests := []struct {
		name             string
		steps            []profile
		wantForce        bool
		wantMfa          bool
		wantPasswordSets int
		wantChanges      int
	}{
		{name: "password without flags forces a change", steps: []profile{{Password: &pw}}, wantForce: true, wantPasswordSets: 1, wantChanges: 1},
		{name: "password with force false", steps: []profile{{Password: &pw, ForceChangePasswordNextSignIn: &fa}}, wantForce: false, wantPasswordSets: 1, wantChanges: 1},
		{name: "mfa kept when not sent", steps: []profile{{ForceChangePasswordNextSignInWithMfa: &tr}, {Password: &pw}}, wantForce: true, wantMfa: true, wantPasswordSets: 1, wantChanges: 2},
		{name: "flags only", steps: []profile{{ForceChangePasswordNextSignIn: &tr, ForceChangePasswordNextSignInWithMfa: &tr}}, wantForce: true, wantMfa: true, wantChanges: 1},
		{name: "flag cleared", steps: []profile{{Password: &pw}, {ForceChangePasswordNextSignIn: &fa}}, wantForce: false, wantPasswordSets: 1, wantChanges: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, Options{})
			for i, p := range tt.steps {
				body, _ := json.Marshal(map[string]any{"passwordProfile": p})
				_, got := e.batch(t, subRequest{ID: "1", Method: "PATCH", URL: "/users/" + upn("megan.bowen"), Headers: jsonHeader(), Body: body})
				if got["1"].Status != 204 {
					t.Fatalf("step %d: got status %d, want 204", i, got["1"].Status)
				}
			}
			u, _ := e.sim.User(upn("megan.bowen"))
			if u.ForceChangePasswordNextSignIn != tt.wantForce || u.ForceChangePasswordNextSignInWithMfa != tt.wantMfa || u.PasswordSets != tt.wantPasswordSets {
				t.Errorf("user: got force %t, mfa %t, sets %d; want %t, %t, %d", u.ForceChangePasswordNextSignIn, u.ForceChangePasswordNextSignInWithMfa, u.PasswordSets, tt.wantForce, tt.wantMfa, tt.wantPasswordSets)
			}
			changes := e.sim.Changes()
			if len(changes) != tt.wantChanges {
				t.Fatalf("changes: got %d, want %d", len(changes), tt.wantChanges)
			}
			last := changes[len(changes)-1]
			if last.ForceChangePasswordNextSignIn != tt.wantForce || last.ForceChangePasswordNextSignInWithMfa != tt.wantMfa {
				t.Errorf("last change flags: got %t, %t; want %t, %t", last.ForceChangePasswordNextSignIn, last.ForceChangePasswordNextSignInWithMfa, tt.wantForce, tt.wantMfa)
			}
		})
	}
}

func TestGetUserSelect(t *testing.T) {
	e := start(t, Options{})
	tests := []struct {
		name        string
		key         string
		query       string
		want        map[string]any // every property expected, and nothing else
		wantStatus  int
		wantMessage string
	}{
		{name: "preflight fields of a synced user", key: upn("sync.user"), query: "?$select=id,userPrincipalName,accountEnabled,onPremisesSyncEnabled,userType", wantStatus: 200,
			want: map[string]any{"userPrincipalName": upn("sync.user"), "accountEnabled": true, "onPremisesSyncEnabled": true, "userType": "Member"}},
		{name: "guest", key: "alex_fabrikam.com%23EXT%23@" + SandboxDomain, query: "?$select=userType,onPremisesSyncEnabled", wantStatus: 200,
			want: map[string]any{"userType": "Guest", "onPremisesSyncEnabled": nil}},
		{name: "disabled", key: upn("former.employee"), query: "?$select=accountEnabled", wantStatus: 200, want: map[string]any{"accountEnabled": false}},
		{name: "names in other case", key: upn("lee.gu"), query: "?$select=ACCOUNTENABLED,UserType", wantStatus: 200, want: map[string]any{"accountEnabled": true, "userType": "Member"}},
		{name: "select without $", key: upn("lee.gu"), query: "?select=displayName", wantStatus: 200, want: map[string]any{"displayName": "Lee Gu"}},
		{name: "unknown property", key: upn("lee.gu"), query: "?$select=id,shoeSize", wantStatus: 400,
			wantMessage: "Parsing OData Select and Expand failed: Could not find a property named 'shoeSize' on type 'microsoft.graph.user'."},
		{name: "empty item", key: upn("lee.gu"), query: "?$select=id,,userType", wantStatus: 400, wantMessage: msgQuerySyntax},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := e.batch(t, get("1", "/users/"+tt.key+tt.query))
			r := got["1"]
			if r.Status != tt.wantStatus {
				t.Fatalf("status: got %d, want %d; body %s", r.Status, tt.wantStatus, r.Body)
			}
			if tt.wantStatus != 200 {
				checkError(t, r.Body, codeBadRequest, tt.wantMessage)
				return
			}
			var body map[string]any
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(body["@odata.context"].(string), metadataBase+"users(") {
				t.Errorf("@odata.context: got %v", body["@odata.context"])
			}
			delete(body, "@odata.context")
			if _, ok := tt.want["id"]; !ok {
				delete(body, "id") // ids are checked elsewhere
			}
			var gotKeys, wantKeys []string
			for k := range body {
				gotKeys = append(gotKeys, k)
			}
			for k, v := range tt.want {
				wantKeys = append(wantKeys, k)
				if body[k] != v {
					t.Errorf("%s: got %v, want %v", k, body[k], v)
				}
			}
			sort.Strings(gotKeys)
			sort.Strings(wantKeys)
			if strings.Join(gotKeys, ",") != strings.Join(wantKeys, ",") {
				t.Errorf("properties: got %v, want only %v", gotKeys, wantKeys)
			}
		})
	}
	t.Run("default properties", func(t *testing.T) {
		_, got := e.batch(t, get("1", "/users/"+upn("lee.gu")))
		var body map[string]any
		if err := json.Unmarshal(got["1"].Body, &body); err != nil {
			t.Fatal(err)
		}
		if len(body) != len(defaultProperties)+1 || body["displayName"] != "Lee Gu" {
			t.Errorf("default GET: got %d properties (displayName %v), want %d (Lee Gu)", len(body), body["displayName"], len(defaultProperties)+1)
		}
		if _, ok := body["accountEnabled"]; ok {
			t.Errorf("default GET: got accountEnabled, want it only when selected")
		}
	})
	if st := e.sim.Stats(); st.Reads != len(tests)+1 || st.Writes != 0 {
		t.Errorf("stats: got %d reads, %d writes; want %d, 0", st.Reads, st.Writes, len(tests)+1)
	}
}

func TestRevokeSignInSessions(t *testing.T) {
	tests := []struct {
		name        string
		key         string
		action      string
		headers     map[string]string
		body        json.RawMessage
		wantStatus  int
		wantMessage string
		wantRevoked int
	}{
		{name: "with an empty body", key: upn("adele.vance"), action: "revokeSignInSessions", headers: jsonHeader(), body: json.RawMessage(`{}`), wantStatus: 200, wantRevoked: 1},
		{name: "namespaced action", key: upn("adele.vance"), action: "microsoft.graph.revokeSignInSessions", headers: jsonHeader(), body: json.RawMessage(`{}`), wantStatus: 200, wantRevoked: 1},
		{name: "synced user", key: upn("sync.user"), action: "revokeSignInSessions", headers: jsonHeader(), body: json.RawMessage(`{}`), wantStatus: 200, wantRevoked: 1},
		{name: "without a body", key: upn("adele.vance"), action: "revokeSignInSessions", wantStatus: 400,
			wantMessage: "Write request id : 1 does not contain Content-Type header or body."},
		// User.RevokeSessions.All needs no role: an administrator the
		// app may not reset is revoked all the same.
		{name: "admin", key: upn("global.admin"), action: "revokeSignInSessions", headers: jsonHeader(), body: json.RawMessage(`{}`), wantStatus: 200, wantRevoked: 1},
		{name: "missing user", key: upn("nobody"), action: "revokeSignInSessions", headers: jsonHeader(), body: json.RawMessage(`{}`), wantStatus: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, Options{})
			_, got := e.batch(t, subRequest{ID: "1", Method: "POST", URL: "/users/" + tt.key + "/" + tt.action, Headers: tt.headers, Body: tt.body})
			r := got["1"]
			if r.Status != tt.wantStatus {
				t.Fatalf("status: got %d, want %d; body %s", r.Status, tt.wantStatus, r.Body)
			}
			if tt.wantStatus == 200 {
				var body struct{ Value bool }
				if err := json.Unmarshal(r.Body, &body); err != nil || !body.Value {
					t.Errorf("body: got %s, want value true", r.Body)
				}
			} else if tt.wantMessage != "" {
				if d := graphError(t, r.Body); d.Message != tt.wantMessage {
					t.Errorf("message: got %q, want %q", d.Message, tt.wantMessage)
				}
			}
			if u, ok := e.sim.User(tt.key); ok && u.SessionsRevoked != tt.wantRevoked {
				t.Errorf("SessionsRevoked: got %d, want %d", u.SessionsRevoked, tt.wantRevoked)
			}
		})
	}
}

func TestDirectRequests(t *testing.T) {
	body := func(pw string) []byte {
		b, _ := json.Marshal(map[string]any{"passwordProfile": map[string]any{"password": pw}})
		return b
	}
	tests := []struct {
		name        string
		method      string
		path        string
		body        []byte
		noAuth      bool
		wantStatus  int
		wantCode    string
		wantMessage string
		wantApplied bool
	}{
		{name: "GET with $select", method: "GET", path: "/v1.0/users/" + upn("lee.gu") + "?$select=id,userType", wantStatus: 200},
		{name: "GET guest encoded", method: "GET", path: "/v1.0/users/alex_fabrikam.com%23EXT%23@" + SandboxDomain, wantStatus: 200},
		{name: "GET quoted $ upn", method: "GET", path: "/v1.0/users('$svc-helpdesk@" + SandboxDomain + "')", wantStatus: 200},
		{name: "PATCH password", method: "PATCH", path: "/v1.0/users/" + upn("lee.gu"), body: body(testPassword), wantStatus: 204, wantApplied: true},
		{name: "PATCH weak password", method: "PATCH", path: "/v1.0/users/" + upn("lee.gu"), body: body("password"), wantStatus: 400, wantCode: codeRequestBad, wantMessage: msgComplexity},
		{name: "PATCH without body", method: "PATCH", path: "/v1.0/users/" + upn("lee.gu"), wantStatus: 400, wantCode: codeBadRequest, wantMessage: msgEmptyPayload},
		{name: "POST revoke without body", method: "POST", path: "/v1.0/users/" + upn("lee.gu") + "/revokeSignInSessions", wantStatus: 200},
		{name: "missing user", method: "GET", path: "/v1.0/users/nobody@" + SandboxDomain, wantStatus: 404, wantCode: codeNotFound},
		{name: "no token", method: "GET", path: "/v1.0/users/" + upn("lee.gu"), noAuth: true, wantStatus: 401, wantCode: codeInvalidToken, wantMessage: msgTokenEmpty},
		{name: "unknown version", method: "GET", path: "/beta/users/" + upn("lee.gu"), wantStatus: 400, wantCode: codeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, Options{})
			hdr := map[string]string{"Content-Type": "application/json"}
			if !tt.noAuth {
				hdr["Authorization"] = "Bearer " + e.token
			}
			res, err := e.do(context.Background(), tt.method, tt.path, tt.body, hdr)
			if err != nil {
				t.Fatal(err)
			}
			if res.status != tt.wantStatus {
				t.Fatalf("status: got %d, want %d; body %s", res.status, tt.wantStatus, res.body)
			}
			if res.header.Get("request-id") == "" {
				t.Errorf("request-id header: got none")
			}
			if tt.wantCode != "" {
				d := checkError(t, res.body, tt.wantCode, tt.wantMessage)
				if d.InnerError.RequestID != res.header.Get("request-id") {
					t.Errorf("innerError.request-id: got %q, want the header's %q", d.InnerError.RequestID, res.header.Get("request-id"))
				}
			}
			if got := e.applied(upn("lee.gu")) == 1; got != tt.wantApplied {
				t.Errorf("applied: got %t, want %t", got, tt.wantApplied)
			}
			if tt.wantApplied {
				if c := e.sim.Changes(); len(c) != 1 || c[0].RequestID != res.header.Get("request-id") {
					t.Errorf("changes: got %v, want one with the response's request-id", c)
				}
			}
			if st := e.sim.Stats(); !tt.noAuth && tt.wantStatus != 400 && st.DirectRequests != 1 {
				t.Errorf("DirectRequests: got %d, want 1", st.DirectRequests)
			}
		})
	}
}

func TestErrorsDoNotEchoPasswords(t *testing.T) {
	e := start(t, Options{})
	weak := "Password12345"
	res, got := e.batch(t, patch("1", upn("adele.vance"), weak), patch("2", upn("sync.user"), testPassword), patch("3", upn("global.admin"), testPassword))
	for _, pw := range []string{weak, testPassword} {
		if contains(res.body, pw) {
			t.Errorf("batch response contains a password that was sent")
		}
	}
	if len(got) != 3 {
		t.Errorf("responses: got %d, want 3", len(got))
	}
	if http.StatusBadRequest != got["1"].Status {
		t.Errorf("weak password: got status %d, want 400", got["1"].Status)
	}
}
