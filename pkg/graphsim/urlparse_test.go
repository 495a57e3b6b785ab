package graphsim

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseUserURL(t *testing.T) {
	tests := []struct {
		raw         string
		wantKey     string
		wantAction  string
		wantSelect  string
		wantStatus  int // 0: parsed
		wantMessage string
	}{
		{raw: "/users/a@b.com", wantKey: "a@b.com"},
		{raw: "users/a@b.com", wantKey: "a@b.com"},
		{raw: "/Users/a@b.com", wantKey: "a@b.com"},
		{raw: "/users/a@b.com/", wantKey: "a@b.com"},
		{raw: "/users/a%40b.com", wantKey: "a@b.com"},
		{raw: "/users/x%23EXT%23@b.com", wantKey: "x#EXT#@b.com"},
		{raw: "/users/x#EXT#@b.com", wantKey: "x"},
		{raw: "/users/x%23EXT%23@b.com?$select=id,userType", wantKey: "x#EXT#@b.com", wantSelect: "id,userType"},
		{raw: "/users/a@b.com?$select=id#frag", wantKey: "a@b.com", wantSelect: "id"},
		{raw: "/users/a%3Fb@c.com", wantKey: "a?b@c.com"},
		{raw: "/users/a+b@c.com", wantKey: "a+b@c.com"},
		{raw: "/users('a@b.com')", wantKey: "a@b.com"},
		{raw: "/users('$a@b.com')", wantKey: "$a@b.com"},
		{raw: "/users('o''brien@b.com')", wantKey: "o'brien@b.com"},
		{raw: "/users('''')", wantKey: "'"},
		{raw: "/users('a')/revokeSignInSessions", wantKey: "a", wantAction: actionRevoke},
		{raw: "/users/a/revokesigninsessions", wantKey: "a", wantAction: actionRevoke},
		{raw: "/users/a/microsoft.graph.revokeSignInSessions", wantKey: "a", wantAction: actionRevoke},
		{raw: "/users/$a@b.com", wantStatus: 400, wantMessage: "Resource not found for the segment '$a@b.com'."},
		{raw: "/users/%24a@b.com", wantStatus: 400, wantMessage: "Resource not found for the segment '$a@b.com'."},
		{raw: "/users('a@b.com", wantStatus: 400, wantMessage: msgQuerySyntax},
		{raw: "/users('a@b.com'", wantStatus: 400, wantMessage: msgQuerySyntax},
		{raw: "/users(a@b.com)", wantStatus: 400, wantMessage: msgQuerySyntax},
		{raw: "/users('')", wantStatus: 400, wantMessage: msgQuerySyntax},
		{raw: "/users('a')x", wantStatus: 400, wantMessage: msgQuerySyntax},
		{raw: "/users('x#EXT#@b.com')", wantStatus: 400, wantMessage: msgQuerySyntax},
		{raw: "/usersx/a", wantStatus: 400, wantMessage: "Resource not found for the segment 'usersx'."},
		{raw: "/groups('a')", wantStatus: 400, wantMessage: "Resource not found for the segment 'groups'."},
		{raw: "", wantStatus: 400, wantMessage: "Resource not found for the segment ''."},
		{raw: "/users/a/b/c", wantStatus: 400, wantMessage: "Resource not found for the segment 'b'."},
		{raw: "/users/a%zz", wantStatus: 400, wantMessage: msgInvalidURL},
		{raw: "/users/a?$select=%zz", wantStatus: 400, wantMessage: msgQuerySyntax},
		{raw: "/users", wantStatus: 501},
		{raw: "/users/", wantStatus: 501},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, aerr := parseUserURL(tt.raw)
			if tt.wantStatus != 0 {
				if aerr == nil {
					t.Fatalf("parseUserURL(%q): got key %q, want status %d", tt.raw, got.key, tt.wantStatus)
				}
				if aerr.status != tt.wantStatus || (tt.wantMessage != "" && aerr.message != tt.wantMessage) {
					t.Errorf("parseUserURL(%q): got %d %q, want %d %q", tt.raw, aerr.status, aerr.message, tt.wantStatus, tt.wantMessage)
				}
				return
			}
			if aerr != nil {
				t.Fatalf("parseUserURL(%q): got %d %q, want key %q", tt.raw, aerr.status, aerr.message, tt.wantKey)
			}
			if got.key != tt.wantKey || got.action != tt.wantAction || got.query.Get("$select") != tt.wantSelect {
				t.Errorf("parseUserURL(%q): got key %q action %q select %q, want %q %q %q", tt.raw, got.key, got.action, got.query.Get("$select"), tt.wantKey, tt.wantAction, tt.wantSelect)
			}
		})
	}
}

// FuzzParseUserURL checks that the parser never panics, that whatever it
// accepts names a key, and that both ways a client can correctly encode a key
// (path segment, or quoted with doubled quotes) come back as that key.
func FuzzParseUserURL(f *testing.F) {
	for _, s := range []string{"a@b.com", "x#EXT#@b.com", "$svc@b.com", "o'brien@b.com", "a?b", "%", "''", "(", "é@b.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		for _, raw := range []string{"/users/" + key, "/users('" + key + "')", key} {
			if got, aerr := parseUserURL(raw); aerr == nil && got.key == "" {
				t.Errorf("parseUserURL(%q): accepted with an empty key", raw)
			}
		}
		if key == "" || strings.Contains(key, "/") || !utf8.ValidString(key) {
			return // a UPN never holds '/'
		}
		quoted := "/users('" + url.PathEscape(strings.ReplaceAll(key, "'", "''")) + "')"
		if got, aerr := parseUserURL(quoted); aerr != nil || got.key != key || got.action != "" {
			t.Errorf("parseUserURL(%q): got key %q, error %v; want key %q", quoted, got.key, aerr, key)
		}
		if strings.HasPrefix(key, "$") {
			return // only the quoted form can address these
		}
		path := "/users/" + url.PathEscape(key) + "/revokeSignInSessions?$select=id"
		if got, aerr := parseUserURL(path); aerr != nil || got.key != key || got.action != actionRevoke {
			t.Errorf("parseUserURL(%q): got key %q action %q, error %v; want key %q", path, got.key, got.action, aerr, key)
		}
	})
}

func FuzzParseBatch(f *testing.F) {
	f.Add(`{"requests":[{"id":"1","method":"PATCH","url":"/users/a","headers":{"Content-Type":"application/json"},"body":{}}]}`)
	f.Add(`{"requests":[{"id":"1","method":"GET","url":"/users/a"},{"id":"2","method":"GET","url":"/users/b","dependsOn":["1"]}]}`)
	f.Add(`{"requests":[]}`)
	f.Add(`{"requests":[{"id":"a","method":"GET","url":"x"},{"id":"A","method":"GET","url":"y"}]}`)
	f.Add(`[`)
	f.Fuzz(func(t *testing.T, body string) {
		reqs, aerr := parseBatch([]byte(body))
		if aerr != nil {
			if aerr.status != 400 || aerr.code != codeBadRequest {
				t.Errorf("parseBatch: got %d %s, want 400 %s", aerr.status, aerr.code, codeBadRequest)
			}
			return
		}
		if len(reqs) == 0 || len(reqs) > maxBatchRequests {
			t.Errorf("parseBatch: accepted %d requests", len(reqs))
		}
		seen := map[string]bool{}
		for _, q := range reqs {
			id := strings.ToLower(q.ID)
			if seen[id] || q.Method == "" || q.URL == "" {
				t.Errorf("parseBatch: accepted %s", fmt.Sprint(q.ID, q.Method, q.URL))
			}
			seen[id] = true
		}
	})
}
