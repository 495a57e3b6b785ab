package graph

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// newRefusingAuthority is a TLS Entra stand-in whose token endpoint
// answers every request with status and the OAuth error body.
func newRefusingAuthority(t *testing.T, status int, body map[string]any) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := srv.URL + "/" + testTenant
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/openid-configuration") {
			_ = json.NewEncoder(w).Encode(map[string]string{"token_endpoint": base + "/oauth2/v2.0/token",
				"authorization_endpoint": base + "/oauth2/v2.0/authorize", "issuer": base + "/v2.0"})
			return
		}
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestDiagnoseSignIn: the AADSTS code of Entra's answer, read through
// ClientSecretCredential, gives the cause; the first known code wins; an
// answer without a known code, and an error that is no token error, has no
// diagnosis.
func TestDiagnoseSignIn(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		codes  []int
		want   SignInCause
		code   string
	}{
		{"wrong secret", 401, []int{7000215}, CauseWrongSecret, "AADSTS7000215"},
		{"expired secret", 401, []int{7000222}, CauseSecretExpired, "AADSTS7000222"},
		{"certificate not registered", 401, []int{700027}, CauseCertificateNotRegistered, "AADSTS700027"},
		{"certificate expired", 401, []int{1000502}, CauseCertificateExpired, "AADSTS1000502"},
		{"clock", 401, []int{700024}, CauseClockSkew, "AADSTS700024"},
		{"app not found", 400, []int{700016}, CauseAppNotConsented, "AADSTS700016"},
		{"no service principal", 400, []int{7000229}, CauseAppNotConsented, "AADSTS7000229"},
		{"not consented", 400, []int{65001}, CauseAppNotConsented, "AADSTS65001"},
		{"app disabled", 400, []int{7000112}, CauseAppDisabled, "AADSTS7000112"},
		{"tenant not found", 400, []int{90002}, CauseTenantNotFound, "AADSTS90002"},
		{"invalid tenant", 400, []int{900023}, CauseInvalidTenant, "AADSTS900023"},
		{"unknown code first", 400, []int{50000, 90002}, CauseTenantNotFound, "AADSTS90002"},
		{"unknown code", 400, []int{50000}, CauseUnknown, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newRefusingAuthority(t, tt.status, map[string]any{"error": "invalid_client", "error_codes": tt.codes,
				"error_description": fmt.Sprintf("AADSTS%d: refused.", tt.codes[0])})
			err := getToken(t, AuthOptions{Kind: AuthClientSecret, TenantID: testTenant, ClientID: testClient,
				ClientSecret: testClientSecret, AuthorityHost: srv.URL, Transport: srv.Client()})
			f, ok := DiagnoseSignIn(fmt.Errorf("wrapped: %w", err))
			if ok != (tt.want != CauseUnknown) || f.Cause != tt.want || f.Code != tt.code {
				t.Errorf("DiagnoseSignIn(%v) = %+v, %t; want cause %d, code %q", err, f, ok, tt.want, tt.code)
			}
			var te *TokenError
			if !errors.As(err, &te) || !strings.Contains(te.Detail(), fmt.Sprintf("AADSTS%d: refused.", tt.codes[0])) {
				t.Errorf("Detail() does not hold Entra's description: %q", te.Detail())
			}
		})
	}
	if _, ok := DiagnoseSignIn(errors.New("dial tcp: connection refused")); ok {
		t.Error("an error that is no token error was diagnosed")
	}
}

// TestTokenErrorDetailQuotesNoSecret: the credential's own error, for the
// debug log, holds what Entra said but none of the secrets an echoing
// endpoint sends back: the client secret (as is and form-encoded), a
// token in a JSON member or free text, the form's assertion.
func TestTokenErrorDetailQuotesNoSecret(t *testing.T) {
	const token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2dyYXBoIn0.c2lnbmF0dXJl"
	const opaque = "Zq81xLmP0wAb8Q3vT5nR2kY7uW9eH4jD6cF1gB0a"
	srv := newRefusingAuthority(t, 401, map[string]any{
		"error": "invalid_client", "error_codes": []int{7000215},
		"error_description": "AADSTS7000215: Invalid client secret provided. Echo: client_secret=" + hostileSecret +
			" escaped " + strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(hostileSecret, "+", "%2B"), "/", "%2F"), "=", "%3D") +
			" token " + token + " opaque " + opaque + " app 00000000-0000-0000-0000-0000000000bb client_id=00000000-0000-0000-0000-0000000000bb at login.example.test",
		"access_token": "short-tok-1", "statusCode": 401,
	})
	err := getToken(t, AuthOptions{Kind: AuthClientSecret, TenantID: testTenant, ClientID: testClient,
		ClientSecret: hostileSecret, AuthorityHost: srv.URL, Transport: srv.Client()})
	var te *TokenError
	if !errors.As(err, &te) {
		t.Fatalf("GetToken error %v is not a *TokenError", err)
	}
	d := te.Detail()
	for _, s := range append(formSecrets(hostileSecret), token, "eyJ0eXAi", opaque, "short-tok-1") {
		if strings.Contains(d, s) {
			t.Errorf("Detail() quotes %.12q…: %s", s, d)
		}
	}
	for _, keep := range []string{"AADSTS7000215: Invalid client secret provided", "00000000-0000-0000-0000-0000000000bb", "client_id=00000000-0000-0000-0000-0000000000bb", "login.example.test", `"statusCode": 401`, "RESPONSE 401"} {
		if !strings.Contains(d, keep) {
			t.Errorf("Detail() lost %q: %s", keep, d)
		}
	}
}
