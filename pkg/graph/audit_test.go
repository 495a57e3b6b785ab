package graph

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

// A nextLink is followed only below the client's own Graph root: the token
// goes nowhere else.
func TestNextPath(t *testing.T) {
	c, err := NewClient(ClientOptions{GraphURL: "https://graph.microsoft.com/", Credential: validCred()})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.NextPath("https://graph.microsoft.com/v1.0/auditLogs/directoryAudits?$skiptoken=abc")
	if err != nil || got != "/auditLogs/directoryAudits?$skiptoken=abc" {
		t.Errorf("NextPath = %q, %v", got, err)
	}
	for _, bad := range []string{
		"https://evil.example/v1.0/auditLogs/directoryAudits",
		"https://graph.microsoft.com.evil.example/v1.0/x",
		"https://graph.microsoft.com/v1.0evil/x",
		"https://graph.microsoft.com/beta/auditLogs/directoryAudits",
	} {
		if _, err := c.NextPath(bad); !errors.Is(err, ErrMalformedResponse) {
			t.Errorf("NextPath(%q): %v, want refused", bad, err)
		}
	}
}

// The first page of an activity: the filter Graph documents, quoted.
func TestAuditActivityPath(t *testing.T) {
	from, to := time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC), time.Date(2026, 3, 14, 16, 0, 0, 0, time.UTC)
	p := AuditActivityPath("Reset password (by admin)", from, to)
	path, rawQuery, _ := strings.Cut(p, "?")
	q, err := url.ParseQuery(rawQuery)
	if path != "/auditLogs/directoryAudits" || err != nil {
		t.Fatalf("%q: %v", p, err)
	}
	want := "activityDisplayName eq 'Reset password (by admin)' and activityDateTime ge 2026-03-14T15:00:00Z and activityDateTime le 2026-03-14T16:00:00Z"
	if q.Get("$filter") != want || q.Get("$top") != "200" {
		t.Errorf("$filter %q, $top %q", q.Get("$filter"), q.Get("$top"))
	}
	if p := AuditActivityPath("O'Brien's", from, to); !strings.Contains(p, url.QueryEscape("'O''Brien''s'")) {
		t.Errorf("a quote is not doubled: %s", p)
	}
}

// The lookup reads the times verify checks.
func TestUserInfoTimes(t *testing.T) {
	u, err := ParseUserInfo([]byte(`{"id":"x","lastPasswordChangeDateTime":"2026-03-14T15:09:26Z","signInSessionsValidFromDateTime":"2026-03-14T15:09:27Z","accountEnabled":false}`))
	if err != nil || u.LastPasswordChangeDateTime == nil || u.SignInSessionsValidFromDateTime == nil ||
		u.LastPasswordChangeDateTime.Unix() != 1773500966 || u.SignInSessionsValidFromDateTime.Sub(*u.LastPasswordChangeDateTime) != time.Second {
		t.Errorf("%+v, %v", u, err)
	}
}
