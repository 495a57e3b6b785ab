package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// TestTokenErrorsQuoteNothing drives the real ClientSecretCredential
// against token endpoints that answer with something a credential error
// would quote: each error is one line, names the status and the codes
// that can be trusted, and holds neither the secret nor the token.
func TestTokenErrorsQuoteNothing(t *testing.T) {
	const token = "eyJ0eXAi.hostile-token.sig"
	var elsewhere atomic.Int64
	other := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	t.Cleanup(other.Close)
	tests := []struct {
		name      string
		answer    func(w http.ResponseWriter, form []byte)
		want      string // in the error
		wantCodes []int  // from AsEntraError; nil: none
		wantIs    error
	}{
		{"truncated", func(w http.ResponseWriter, _ []byte) {
			io.WriteString(w, `{"token_type":"Bearer","expires_in":3600,"access_token":"`+token)
		}, "HTTP 200", nil, nil},
		{"form echoed", func(w http.ResponseWriter, form []byte) {
			w.WriteHeader(http.StatusBadRequest)
			w.Write(form)
		}, "answered HTTP 400", nil, nil},
		{"OAuth error echoing the form", func(w http.ResponseWriter, form []byte) {
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]any{"error": "invalid_client", "error_codes": []int{7000215},
				"error_description": "AADSTS7000215: Invalid client secret provided: " + string(form) + " " + token})
		}, "answered HTTP 401 (invalid_client, AADSTS7000215)", []int{7000215}, nil},
		{"OAuth error that is the secret", func(w http.ResponseWriter, _ []byte) {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]any{"error": testClientSecret, "error_codes": []int{-1}})
		}, "answered HTTP 400", nil, nil},
		{"two megabytes", func(w http.ResponseWriter, _ []byte) {
			io.WriteString(w, `{"token_type":"Bearer","expires_in":3600,"access_token":"`+token)
			w.Write(bytes.Repeat([]byte("A"), 2<<20))
			io.WriteString(w, `"}`)
		}, "larger than 1024 KiB", nil, nil},
		{"redirect", func(w http.ResponseWriter, _ []byte) {
			w.Header().Set("Location", other.URL+"/token?x="+testClientSecret)
			w.WriteHeader(http.StatusTemporaryRedirect)
		}, "redirect (HTTP 307 to " + other.URL + ")", nil, ErrRedirect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var srv *httptest.Server
			srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				base := srv.URL + "/" + testTenant
				w.Header().Set("Content-Type", "application/json")
				if strings.HasSuffix(r.URL.Path, "/openid-configuration") {
					json.NewEncoder(w).Encode(map[string]string{"token_endpoint": base + "/oauth2/v2.0/token",
						"authorization_endpoint": base + "/oauth2/v2.0/authorize", "issuer": base + "/v2.0"})
					return
				}
				form, _ := io.ReadAll(r.Body)
				tt.answer(w, form)
			}))
			t.Cleanup(srv.Close)
			// The caller's client would follow redirects: NewCredential must not.
			hc := srv.Client()
			hc.Transport.(*http.Transport).TLSClientConfig.RootCAs.AddCert(other.Certificate())
			cred, err := NewCredential(AuthOptions{Kind: AuthClientSecret, TenantID: testTenant, ClientID: testClient,
				ClientSecret: testClientSecret, AuthorityHost: srv.URL, Transport: hc})
			if err != nil {
				t.Fatal(err)
			}
			_, err = cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{"https://graph.example.test/.default"}})
			if err == nil {
				t.Fatal("GetToken succeeded")
			}
			msg := err.Error()
			if strings.Contains(msg, testClientSecret) || strings.Contains(msg, token) || strings.Contains(msg, "\n") || len(msg) > 400 {
				t.Errorf("error is not one line free of secrets (%d bytes)", len(msg))
			}
			if !strings.Contains(msg, tt.want) || !strings.HasPrefix(msg, "ClientSecretCredential: ") {
				t.Errorf("error %q, want it to begin with the credential and say %q", msg, tt.want)
			}
			ee, ok := AsEntraError(err)
			if ok != (tt.wantCodes != nil) || ok && (len(ee.Codes) != len(tt.wantCodes) || ee.Codes[0] != tt.wantCodes[0]) {
				t.Errorf("AsEntraError = %+v, %t; want codes %v", ee, ok, tt.wantCodes)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error does not wrap %v", tt.wantIs)
			}
		})
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests", n)
	}
}
