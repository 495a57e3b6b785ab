package graph

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// tokenEndpoint is a tiny Entra stand-in over TLS for the client-credentials
// flow: the OpenID configuration MSAL reads, and a token endpoint that
// hands out real-tok-1, real-tok-2, …
type tokenEndpoint struct {
	srv    *httptest.Server
	mu     sync.Mutex
	claims []string // the claims form field of each token request
	errs   []string
}

func newTokenEndpoint(t *testing.T) *tokenEndpoint {
	t.Helper()
	e := &tokenEndpoint{}
	e.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := e.srv.URL + "/" + testTenant
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/" + testTenant + "/v2.0/.well-known/openid-configuration":
			json.NewEncoder(w).Encode(map[string]string{
				"token_endpoint":         base + "/oauth2/v2.0/token",
				"authorization_endpoint": base + "/oauth2/v2.0/authorize",
				"issuer":                 base + "/v2.0",
			})
		case "/" + testTenant + "/oauth2/v2.0/token":
			if err := r.ParseForm(); err != nil {
				http.Error(w, "bad form", 400)
				return
			}
			e.mu.Lock()
			defer e.mu.Unlock()
			if r.PostForm.Get("client_secret") != testClientSecret || r.PostForm.Get("client_id") != testClient ||
				r.PostForm.Get("grant_type") != "client_credentials" || !strings.HasPrefix(r.PostForm.Get("scope"), "https://graph.example.test/.default") {
				e.errs = append(e.errs, fmt.Sprintf("unexpected token request: client_id %q grant_type %q scope %q secret ok %t",
					r.PostForm.Get("client_id"), r.PostForm.Get("grant_type"), r.PostForm.Get("scope"), r.PostForm.Get("client_secret") == testClientSecret))
				w.WriteHeader(400)
				io.WriteString(w, `{"error":"invalid_client"}`)
				return
			}
			e.claims = append(e.claims, r.PostForm.Get("claims"))
			fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3600,"ext_expires_in":3600,"access_token":"real-tok-%d"}`, len(e.claims))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *tokenEndpoint) requests() (claims, errs []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.claims...), append([]string(nil), e.errs...)
}

// TestBatch401WithAzidentity drives the real ClientSecretCredential, to
// check what the client's 401 handling gets from azidentity and MSAL.
func TestBatch401WithAzidentity(t *testing.T) {
	tests := []struct {
		name            string
		challenge       string
		wantTokenCalls  int
		wantSecondToken string
	}{
		{
			// A plain 401: MSAL answers the second GetToken from its cache.
			name:            "plain 401 gets the cached token",
			challenge:       `Bearer realm="", client_id="00000003-0000-0000-c000-000000000000"`,
			wantTokenCalls:  1,
			wantSecondToken: "real-tok-1",
		},
		{
			// A CAE claims challenge: the claims make MSAL skip its cache.
			name:            "claims challenge gets a new token",
			challenge:       `Bearer realm="", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwidmFsdWUiOiIxNzQxOTY0OTY2In19fQ=="`,
			wantTokenCalls:  2,
			wantSecondToken: "real-tok-2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entra := newTokenEndpoint(t)
			cred, err := NewCredential(AuthOptions{
				Kind: "client-secret", TenantID: testTenant, ClientID: testClient, ClientSecret: testClientSecret,
				AuthorityHost: entra.srv.URL, Transport: entra.srv.Client(),
			})
			if err != nil {
				t.Fatalf("NewCredential: %v", err)
			}
			graph := newStub(t, func(w http.ResponseWriter, r *http.Request, body []byte, n int) {
				if n == 1 {
					w.Header().Set("WWW-Authenticate", tt.challenge)
					w.WriteHeader(401)
					return
				}
				echoBatch(w, r, body, n)
			})
			c := newTestClient(t, graph, cred, func(o *ClientOptions) { o.Scope = "https://graph.example.test/.default"; o.Now = nil })
			res, err := c.Batch(t.Context(), []Request{{ID: "1", Method: "GET", URL: "/users/x"}})
			claims, errs := entra.requests()
			if len(errs) > 0 {
				t.Fatalf("token endpoint: %q", errs)
			}
			if err != nil || res.Responses["1"].Status != 204 {
				t.Fatalf("Batch = %+v, %v; want item 1 answered 204", res, err)
			}
			if len(claims) != tt.wantTokenCalls {
				t.Fatalf("token requests = %d, want %d", len(claims), tt.wantTokenCalls)
			}
			// Every token request announces CAE (client capability CP1).
			for i, c := range claims {
				if !strings.Contains(c, "CP1") {
					t.Errorf("token request %d claims = %q, want the CP1 capability", i, c)
				}
			}
			if tt.wantTokenCalls == 2 && !strings.Contains(claims[1], `"nbf"`) {
				t.Errorf("second token request claims = %q, want the challenge's nbf claim", claims[1])
			}
			seen := graph.requests()
			if len(seen) != 2 {
				t.Fatalf("Graph got %d requests, want 2", len(seen))
			}
			if got := seen[0].Header.Get("Authorization"); got != "Bearer real-tok-1" {
				t.Errorf("first Authorization = %q, want Bearer real-tok-1", got)
			}
			if got := seen[1].Header.Get("Authorization"); got != "Bearer "+tt.wantSecondToken {
				t.Errorf("retry Authorization = %q, want Bearer %s", got, tt.wantSecondToken)
			}
		})
	}
}
