package graphsim

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

type auditPage struct {
	Value []struct {
		ID                  string `json:"id"`
		CorrelationID       string `json:"correlationId"`
		ActivityDisplayName string `json:"activityDisplayName"`
		ActivityDateTime    string `json:"activityDateTime"`
		LoggedByService     string `json:"loggedByService"`
		Category            string `json:"category"`
		InitiatedBy         struct {
			App *struct {
				AppID string `json:"appId"`
			} `json:"app"`
		} `json:"initiatedBy"`
		TargetResources []struct {
			ID                string `json:"id"`
			UserPrincipalName string `json:"userPrincipalName"`
			Type              string `json:"type"`
		} `json:"targetResources"`
	} `json:"value"`
	NextLink string `json:"@odata.nextLink"`
}

func (e *env) audits(t *testing.T, path string) (int, auditPage) {
	t.Helper()
	if strings.HasPrefix(path, e.srv.URL) {
		path = strings.TrimPrefix(path, e.srv.URL)
	}
	res, err := e.do(context.Background(), http.MethodGet, path, nil, map[string]string{"Authorization": "Bearer " + e.token})
	if err != nil {
		t.Fatal(err)
	}
	var p auditPage
	if res.status == http.StatusOK {
		if err := json.Unmarshal(res.body, &p); err != nil {
			t.Fatalf("audit page: %v", err)
		}
	}
	return res.status, p
}

// Every change is an audit record, listed after the delay, filtered and
// paged as Graph does; a flags-only update is no password change.
func TestAuditLog(t *testing.T) {
	e := start(t, Options{AuditDelay: time.Minute, AuditPageSize: 2})
	users := []string{upn("user00001"), upn("user00002"), upn("user00003")}
	var reqs []subRequest
	for i, u := range users {
		r := patch("p"+string(rune('1'+i)), u, testPassword)
		r.Headers = map[string]string{"Content-Type": "application/json", "client-request-id": "0000000" + string(rune('1'+i)) + "-0000-4000-8000-000000000000"}
		reqs = append(reqs, r)
	}
	flags := subRequest{ID: "f", Method: "PATCH", URL: "/users/" + upn("user00004"), Headers: jsonHeader(),
		Body: []byte(`{"passwordProfile":{"forceChangePasswordNextSignIn":true}}`)}
	block := subRequest{ID: "b", Method: "PATCH", URL: "/users/" + upn("user00005"), Headers: jsonHeader(), Body: []byte(`{"accountEnabled":false}`)}
	revoke := subRequest{ID: "r", Method: "POST", URL: "/users/" + upn("user00005") + "/revokeSignInSessions", Headers: jsonHeader(), Body: []byte(`{}`)}
	e.batch(t, append(reqs, flags, block, revoke)...)
	start := e.clock.Now()

	list := "/v1.0/auditLogs/directoryAudits?$filter=" + url.QueryEscape("activityDisplayName eq 'Reset user password' and activityDateTime ge "+start.Add(-time.Second).Format(time.RFC3339))
	if st, p := e.audits(t, list); st != http.StatusOK || len(p.Value) != 0 {
		t.Fatalf("before the delay: status %d, %d records, want none yet", st, len(p.Value))
	}
	e.clock.Advance(time.Minute)
	seen := map[string]string{}
	pages := 0
	for next := list; next != ""; pages++ {
		st, p := e.audits(t, next)
		if st != http.StatusOK {
			t.Fatalf("status %d", st)
		}
		for _, v := range p.Value {
			if v.LoggedByService != ServiceCoreDirectory || v.Category != "UserManagement" || v.InitiatedBy.App == nil || v.InitiatedBy.App.AppID != SandboxClientID ||
				len(v.TargetResources) != 1 || v.TargetResources[0].Type != "User" {
				t.Errorf("record %+v", v)
			}
			seen[strings.ToLower(v.TargetResources[0].UserPrincipalName)] = v.CorrelationID
		}
		next = p.NextLink
	}
	if pages != 2 || len(seen) != 3 {
		t.Errorf("%d pages, %d users: want 2 pages of the 3 resets", pages, len(seen))
	}
	for i, u := range users {
		if want := reqs[i].Headers["client-request-id"]; seen[u] != want {
			t.Errorf("%s: correlationId %q, want the sub-request's client-request-id %q", u, seen[u], want)
		}
	}

	// By target, and the other activities.
	u4, _ := e.sim.User(upn("user00004"))
	_, p := e.audits(t, "/v1.0/auditLogs/directoryAudits?$filter="+url.QueryEscape("targetResources/any(t:t/id eq '"+u4.ID+"')"))
	if len(p.Value) != 1 || p.Value[0].ActivityDisplayName != ActivityUpdatePassword {
		t.Errorf("flags-only update: %+v, want one %q", p.Value, ActivityUpdatePassword)
	}
	if !u4.PasswordChangedAt.IsZero() {
		t.Errorf("flags-only update changed lastPasswordChangeDateTime to %v", u4.PasswordChangedAt)
	}
	u5, _ := e.sim.User(upn("user00005"))
	_, p = e.audits(t, "/v1.0/auditLogs/directoryAudits?$top=10&$filter="+url.QueryEscape("targetResources/any(x:x/id eq '"+u5.ID+"')"))
	if len(p.Value) != 2 || p.Value[0].ActivityDisplayName != ActivityRevokeSessions || p.Value[1].ActivityDisplayName != ActivityUpdateUser {
		t.Errorf("block and revoke: %+v", p.Value)
	}

	// The user object carries the times, in whole seconds.
	_, got := e.batch(t, get("g", "/users/"+upn("user00001")+"?$select=lastPasswordChangeDateTime,signInSessionsValidFromDateTime,accountEnabled"),
		get("h", "/users/"+upn("user00005")+"?$select=lastPasswordChangeDateTime,signInSessionsValidFromDateTime,accountEnabled"))
	var g, h struct {
		Last    string `json:"lastPasswordChangeDateTime"`
		Valid   string `json:"signInSessionsValidFromDateTime"`
		Enabled *bool  `json:"accountEnabled"`
	}
	_ = json.Unmarshal(got["g"].Body, &g)
	_ = json.Unmarshal(got["h"].Body, &h)
	if g.Last != start.Format(time.RFC3339) || h.Last != accountCreated.Format(time.RFC3339) || h.Valid != start.Format(time.RFC3339) || h.Enabled == nil || *h.Enabled {
		t.Errorf("user objects: %+v %+v", g, h)
	}

	// Switches: an unsupported filter, a lost record, a change out of
	// band, no permission.
	if st, _ := e.audits(t, "/v1.0/auditLogs/directoryAudits?$filter="+url.QueryEscape("result eq 'success'")); st != http.StatusBadRequest {
		t.Errorf("unsupported filter: status %d, want 400", st)
	}
	u1, _ := e.sim.User(upn("user00001"))
	if n := e.sim.DropAudit(u1.ID); n != 1 {
		t.Errorf("DropAudit: %d records, want 1", n)
	}
	later := e.clock.Now().Add(time.Hour)
	if err := e.sim.ChangePassword(upn("user00002"), "Another#Pass9", later); err != nil {
		t.Fatal(err)
	}
	if u, _ := e.sim.User(upn("user00002")); !u.PasswordChangedAt.Equal(later) {
		t.Errorf("ChangePassword: lastPasswordChangeDateTime %v, want %v", u.PasswordChangedAt, later)
	}
	e.clock.Advance(2 * time.Hour)
	e.token = e.fetchToken(t) // the first has expired
	_, p = e.audits(t, list)
	if len(p.Value) != 2 {
		t.Errorf("after the drop and the change: %d records, want 2 (user00002's twice)", len(p.Value))
	}
	e.sim.DenyAuditLog(true)
	if st, _ := e.audits(t, list); st != http.StatusForbidden {
		t.Errorf("denied: status %d, want 403", st)
	}
}

// Reading the audit log spends the application's resource units like any
// read: past them it is throttled, with a Retry-After.
func TestAuditLogThrottled(t *testing.T) {
	e := start(t, Options{ResourceUnitBurst: 2, ResourceUnitRate: 1})
	codes := map[int]int{}
	for range 4 {
		res, err := e.do(context.Background(), http.MethodGet, "/v1.0/auditLogs/directoryAudits?$top=5", nil, map[string]string{"Authorization": "Bearer " + e.token})
		if err != nil {
			t.Fatal(err)
		}
		codes[res.status]++
		if res.status == http.StatusTooManyRequests && res.header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
	if codes[http.StatusOK] != 2 || codes[http.StatusTooManyRequests] != 2 {
		t.Errorf("answers %v, want 2 OK then 2 throttled", codes)
	}
}
