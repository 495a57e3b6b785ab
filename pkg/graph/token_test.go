package graph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// scriptedCredential returns the tokens it is given, in order, and an
// error once they run out.
type scriptedCredential struct {
	mu     sync.Mutex
	tokens []azcore.AccessToken
	calls  int
}

func (s *scriptedCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if len(s.tokens) == 0 {
		return azcore.AccessToken{}, errors.New("token endpoint unavailable")
	}
	t := s.tokens[0]
	s.tokens = s.tokens[1:]
	return t, nil
}

func TestTokenSourceLifetime(t *testing.T) {
	start := testNow
	expires := start.Add(time.Hour)
	type step struct {
		at        time.Duration // since start
		want      string
		wantErr   bool
		wantCalls int
	}
	tests := []struct {
		name   string
		tokens []azcore.AccessToken
		steps  []step
	}{
		{
			name:   "cached until five minutes before expiry, then renewed",
			tokens: []azcore.AccessToken{{Token: "a", ExpiresOn: expires}, {Token: "b", ExpiresOn: expires.Add(time.Hour)}},
			steps: []step{
				{at: 0, want: "a", wantCalls: 1},
				{at: 30 * time.Minute, want: "a", wantCalls: 1},
				{at: 54*time.Minute + 59*time.Second, want: "a", wantCalls: 1},
				{at: 55 * time.Minute, want: "b", wantCalls: 2},
				{at: 70 * time.Minute, want: "b", wantCalls: 2},
			},
		},
		{
			name:   "failed early renewal keeps the valid token and waits 30s",
			tokens: []azcore.AccessToken{{Token: "a", ExpiresOn: expires}},
			steps: []step{
				{at: 0, want: "a", wantCalls: 1},
				{at: 56 * time.Minute, want: "a", wantCalls: 2},
				{at: 56*time.Minute + 10*time.Second, want: "a", wantCalls: 2},
				{at: 56*time.Minute + 30*time.Second, want: "a", wantCalls: 3},
				{at: 60 * time.Minute, wantErr: true, wantCalls: 4},
			},
		},
		{
			name:   "RefreshOn decides when given",
			tokens: []azcore.AccessToken{{Token: "a", ExpiresOn: start.Add(24 * time.Hour), RefreshOn: start.Add(12 * time.Hour)}, {Token: "b", ExpiresOn: start.Add(48 * time.Hour)}},
			steps: []step{
				{at: 0, want: "a", wantCalls: 1},
				{at: 11 * time.Hour, want: "a", wantCalls: 1},
				{at: 12 * time.Hour, want: "b", wantCalls: 2},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := start
			cred := &scriptedCredential{tokens: tt.tokens}
			ts := newTokenSource(cred, "https://graph.microsoft.com/.default", func() time.Time { return now })
			for _, st := range tt.steps {
				now = start.Add(st.at)
				got, err := ts.get(t.Context())
				if (err != nil) != st.wantErr || got != st.want || cred.calls != st.wantCalls {
					t.Errorf("at +%v: get() = %q, %v after %d calls; want %q (error %t) after %d calls", st.at, got, err, cred.calls, st.want, st.wantErr, st.wantCalls)
				}
			}
		})
	}
}

func TestTokenSourceRenew(t *testing.T) {
	now := testNow
	cred := &scriptedCredential{tokens: []azcore.AccessToken{
		{Token: "a", ExpiresOn: now.Add(time.Hour)},
		{Token: "a", ExpiresOn: now.Add(time.Hour)}, // MSAL's cache answers the same token
		{Token: "b", ExpiresOn: now.Add(time.Hour)},
	}}
	ts := newTokenSource(cred, "s", func() time.Time { return now })
	if tok, _ := ts.get(t.Context()); tok != "a" {
		t.Fatalf("get() = %q, want a", tok)
	}
	if tok, err := ts.renew(t.Context(), "a", ""); tok != "a" || err != nil || cred.calls != 2 {
		t.Errorf("renew(a) = %q, %v after %d calls, want a after 2", tok, err, cred.calls)
	}
	if tok, _ := ts.renew(t.Context(), "a", ""); tok != "a" || cred.calls != 2 {
		t.Errorf("second renew(a) within 30s = %q after %d calls, want a without asking again", tok, cred.calls)
	}
	if tok, _ := ts.renew(t.Context(), "a", `{"access_token":{}}`); tok != "b" || cred.calls != 3 {
		t.Errorf("renew(a) with claims = %q after %d calls, want b after 3", tok, cred.calls)
	}
	if tok, _ := ts.renew(t.Context(), "a", `{"access_token":{}}`); tok != "b" || cred.calls != 3 {
		t.Errorf("renew(a) after b was fetched = %q after %d calls, want b without asking", tok, cred.calls)
	}
}

func TestTokenSourceWaitHonoursContext(t *testing.T) {
	ts := newTokenSource(&scriptedCredential{}, "s", time.Now)
	ts.sem <- struct{}{} // someone else holds the lock
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := ts.get(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("get() with a held lock and canceled context = %v, want context.Canceled", err)
	}
}

func TestClaimsChallenge(t *testing.T) {
	claims := `{"access_token":{"nbf":{"essential":true,"value":"1604106651"}}}`
	enc := base64.StdEncoding.EncodeToString([]byte(claims))
	raw := base64.RawURLEncoding.EncodeToString([]byte(claims))
	tests := []struct {
		name   string
		values []string
		want   string
	}{
		{name: "CAE challenge", values: []string{`Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", error="insufficient_claims", claims="` + enc + `"`}, want: claims},
		{name: "unpadded url encoding", values: []string{`Bearer error="insufficient_claims", claims="` + raw + `"`}, want: claims},
		{name: "second header", values: []string{`Basic realm="x"`, `Bearer error="insufficient_claims", claims="` + enc + `"`}, want: claims},
		{name: "plain 401", values: []string{`Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`}, want: ""},
		{name: "other error", values: []string{`Bearer error="invalid_token", claims="` + enc + `"`}, want: ""},
		{name: "not base64", values: []string{`Bearer error="insufficient_claims", claims="%%%"`}, want: ""},
		{name: "not JSON", values: []string{`Bearer error="insufficient_claims", claims="` + base64.StdEncoding.EncodeToString([]byte("hello")) + `"`}, want: ""},
		{name: "JSON array", values: []string{`Bearer error="insufficient_claims", claims="` + base64.StdEncoding.EncodeToString([]byte("[1]")) + `"`}, want: ""},
		{name: "other scheme", values: []string{`PoP error="insufficient_claims", claims="` + enc + `"`}, want: ""},
		{name: "none", values: nil, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := claimsChallenge(tt.values); got != tt.want {
				t.Errorf("claimsChallenge(%q) = %q, want %q", tt.values, got, tt.want)
			}
		})
	}
}

func FuzzClaimsChallenge(f *testing.F) {
	f.Add(`Bearer realm="", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnt9fQ=="`)
	f.Add(`Bearer error="insufficient_claims", claims=""`)
	f.Add(`Bearer realm=""`)
	f.Add(`,,,="`)
	f.Fuzz(func(t *testing.T, header string) {
		got := claimsChallenge([]string{header})
		if got == "" {
			return
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(got), &obj); err != nil || obj == nil {
			t.Fatalf("claimsChallenge(%q) = %q, not a JSON object", header, got)
		}
		if !strings.Contains(header, "insufficient_claims") {
			t.Fatalf("claimsChallenge(%q) = %q without an insufficient_claims error", header, got)
		}
	})
}

func FuzzParseBatch(f *testing.F) {
	f.Add([]byte(`{"responses":[{"id":"1","status":204},{"id":"2","status":429,"headers":{"Retry-After":"0.249"}}]}`))
	f.Add([]byte(`{"responses":[{"id":"1","status":204},{"id":"1","status":500},{"id":"x","status":200,"body":{}}]}`))
	f.Add([]byte(`{"responses":[{"id":1,"status":"204","headers":{"a":5}}]}`))
	f.Add([]byte(`{"responses":[`))
	f.Add([]byte(`null`))
	reqs := []Request{{ID: "1"}, {ID: "2"}, {ID: "3"}}
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := parseBatch(body, reqs)
		if err != nil {
			if !errors.Is(err, ErrMalformedResponse) {
				t.Fatalf("parseBatch error %v does not wrap ErrMalformedResponse", err)
			}
			return
		}
		for id, r := range res.Responses {
			if id != "1" && id != "2" && id != "3" || r.ID != id {
				t.Fatalf("response for %q (ID %q) was not requested", id, r.ID)
			}
			if r.Status < 100 || r.Status > 599 {
				t.Fatalf("response %q has status %d", id, r.Status)
			}
			_ = r.Err(testNow)
		}
		if len(res.Responses) != len(reqs) {
			t.Fatalf("%d responses to %d requests", len(res.Responses), len(reqs))
		}
	})
}
