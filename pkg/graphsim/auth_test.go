package graphsim

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/bulkreset/bulkreset/internal/certtest"
)

func TestTokenEndpoint(t *testing.T) {
	e := start(t, Options{})
	scope := e.srv.URL + "/.default"
	good := func() url.Values {
		return url.Values{
			"grant_type": {"client_credentials"}, "client_id": {SandboxClientID},
			"client_secret": {SandboxClientSecret}, "scope": {scope + " openid offline_access profile"},
		}
	}
	with := func(k, v string) url.Values {
		f := good()
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	const wrongSecret = "not-the-secret-7f3e"
	tests := []struct {
		name       string
		tenant     string
		form       url.Values
		wantStatus int
		wantError  string
		wantCode   int
	}{
		{name: "tenant id", tenant: SandboxTenantID, form: good(), wantStatus: 200},
		{name: "tenant domain", tenant: SandboxDomain, form: good(), wantStatus: 200},
		{name: "wrong secret", tenant: SandboxTenantID, form: with("client_secret", wrongSecret), wantStatus: 401, wantError: "invalid_client", wantCode: 7000215},
		{name: "no credential", tenant: SandboxTenantID, form: with("client_secret", ""), wantStatus: 401, wantError: "invalid_client", wantCode: 7000218},
		{name: "unknown tenant", tenant: "fabrikam.onmicrosoft.com", form: good(), wantStatus: 400, wantError: "invalid_request", wantCode: 90002},
		{name: "unknown client", tenant: SandboxTenantID, form: with("client_id", "00000000-0000-0000-0000-000000000001"), wantStatus: 400, wantError: "unauthorized_client", wantCode: 700016},
		{name: "scope without .default", tenant: SandboxTenantID, form: with("scope", "User.ReadWrite.All"), wantStatus: 400, wantError: "invalid_scope", wantCode: 1002012},
		{name: "only oidc scopes", tenant: SandboxTenantID, form: with("scope", "openid profile"), wantStatus: 400, wantError: "invalid_scope", wantCode: 1002012},
		{name: "no scope", tenant: SandboxTenantID, form: with("scope", ""), wantStatus: 400, wantError: "invalid_request", wantCode: 900144},
		{name: "password grant", tenant: SandboxTenantID, form: with("grant_type", "password"), wantStatus: 400, wantError: "unsupported_grant_type", wantCode: 70003},
		{name: "assertion of wrong type", tenant: SandboxTenantID, form: func() url.Values {
			f := with("client_secret", "")
			f.Set("client_assertion", "a.b.c")
			f.Set("client_assertion_type", "urn:other")
			return f
		}(), wantStatus: 400, wantError: "invalid_request", wantCode: 50027},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.sim.Stats().TokensIssued
			res := e.form(t, tt.tenant, tt.form)
			if res.status != tt.wantStatus {
				t.Fatalf("status: got %d, want %d; body %s", res.status, tt.wantStatus, res.body)
			}
			if contains(res.body, wrongSecret) || contains(res.body, SandboxClientSecret) {
				t.Errorf("response body contains a client secret")
			}
			if tt.wantStatus == 200 {
				var tok struct {
					TokenType   string `json:"token_type"`
					ExpiresIn   int    `json:"expires_in"`
					AccessToken string `json:"access_token"`
				}
				if err := json.Unmarshal(res.body, &tok); err != nil {
					t.Fatal(err)
				}
				if tok.TokenType != "Bearer" || tok.ExpiresIn != 3600 || len(tok.AccessToken) < 32 {
					t.Errorf("token: got type %q, expires_in %d, token length %d; want Bearer, 3600, >= 32", tok.TokenType, tok.ExpiresIn, len(tok.AccessToken))
				}
				if got := e.sim.Stats().TokensIssued; got != before+1 {
					t.Errorf("TokensIssued: got %d, want %d", got, before+1)
				}
				return
			}
			var aad struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
				Codes       []int  `json:"error_codes"`
				TraceID     string `json:"trace_id"`
			}
			if err := json.Unmarshal(res.body, &aad); err != nil {
				t.Fatal(err)
			}
			if aad.Error != tt.wantError {
				t.Errorf("error: got %q, want %q", aad.Error, tt.wantError)
			}
			if len(aad.Codes) != 1 || aad.Codes[0] != tt.wantCode {
				t.Errorf("error_codes: got %v, want [%d]", aad.Codes, tt.wantCode)
			}
			if want := "AADSTS" + strconv.Itoa(tt.wantCode) + ": "; !strings.HasPrefix(aad.Description, want) {
				t.Errorf("error_description: got %q, want prefix %q", aad.Description, want)
			}
			if aad.TraceID == "" || aad.TraceID != res.header.Get("x-ms-request-id") {
				t.Errorf("trace_id: got %q, want the x-ms-request-id header %q", aad.TraceID, res.header.Get("x-ms-request-id"))
			}
			if got := e.sim.Stats().TokensIssued; got != before {
				t.Errorf("TokensIssued: got %d, want %d (unchanged)", got, before)
			}
		})
	}
}

func TestOpenIDConfiguration(t *testing.T) {
	e := start(t, Options{})
	tests := []struct {
		name       string
		tenant     string
		wantStatus int
	}{
		{name: "tenant id", tenant: SandboxTenantID, wantStatus: 200},
		{name: "domain, any case", tenant: "Contoso.OnMicrosoft.com", wantStatus: 200},
		{name: "unknown tenant", tenant: "11111111-2222-3333-4444-555555555555", wantStatus: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := e.do(context.Background(), http.MethodGet, "/"+tt.tenant+"/v2.0/.well-known/openid-configuration", nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if res.status != tt.wantStatus {
				t.Fatalf("status: got %d, want %d", res.status, tt.wantStatus)
			}
			var doc map[string]any
			if err := json.Unmarshal(res.body, &doc); err != nil {
				t.Fatal(err)
			}
			if tt.wantStatus != 200 {
				if doc["error"] != "invalid_tenant" || !strings.HasPrefix(doc["error_description"].(string), "AADSTS90002: ") {
					t.Errorf("error: got %v / %v, want invalid_tenant / AADSTS90002", doc["error"], doc["error_description"])
				}
				return
			}
			authority := e.srv.URL + "/" + SandboxTenantID
			want := map[string]string{
				"issuer":                 authority + "/v2.0",
				"token_endpoint":         authority + "/oauth2/v2.0/token",
				"authorization_endpoint": authority + "/oauth2/v2.0/authorize",
			}
			for k, v := range want {
				if doc[k] != v {
					t.Errorf("%s: got %v, want %s", k, doc[k], v)
				}
			}
		})
	}
}

func secretCredential(t *testing.T, e *env, tenant, secret string) *azidentity.ClientSecretCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(tenant, SandboxClientID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: e.srv.URL},
			Transport: e.srv.Client,
		},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatalf("NewClientSecretCredential: %v", err)
	}
	return cred
}

// TestAzidentityClientSecret drives the real azidentity (and MSAL) code.
func TestAzidentityClientSecret(t *testing.T) {
	const wrongSecret = "wrong-secret-value-42"
	tests := []struct {
		name       string
		tenant     string
		secret     string
		wantStatus int // 0: success
		wantAADSTS string
	}{
		{name: "right secret", tenant: SandboxTenantID, secret: SandboxClientSecret},
		{name: "right secret, tenant by domain", tenant: SandboxDomain, secret: SandboxClientSecret},
		{name: "wrong secret", tenant: SandboxTenantID, secret: wrongSecret, wantStatus: 401, wantAADSTS: "AADSTS7000215"},
		{name: "unknown tenant", tenant: "fabrikam.onmicrosoft.com", secret: SandboxClientSecret, wantStatus: 400, wantAADSTS: "AADSTS90002"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, Options{Now: time.Now})
			cred := secretCredential(t, e, tt.tenant, tt.secret)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{e.srv.URL + "/.default"}})
			if tt.wantStatus == 0 {
				if err != nil {
					t.Fatalf("GetToken: %v", err)
				}
				if until := time.Until(tok.ExpiresOn); until < 50*time.Minute || until > 61*time.Minute {
					t.Errorf("ExpiresOn: got %v from now, want about 1h", until)
				}
				e.token = tok.Token
				_, got := e.batch(t, get("1", "/users/"+upn("adele.vance")))
				if got["1"].Status != 200 {
					t.Errorf("GET with azidentity's token: got status %d, want 200", got["1"].Status)
				}
				return
			}
			if err == nil {
				t.Fatalf("GetToken: got a token, want an error")
			}
			var afe *azidentity.AuthenticationFailedError
			if !errors.As(err, &afe) {
				t.Fatalf("GetToken error: got %T, want *azidentity.AuthenticationFailedError", err)
			}
			if afe.RawResponse == nil || afe.RawResponse.StatusCode != tt.wantStatus {
				t.Errorf("GetToken error status: got %v, want %d", afe.RawResponse, tt.wantStatus)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantAADSTS) {
				t.Errorf("GetToken error: want it to mention %s", tt.wantAADSTS)
			}
			if strings.Contains(msg, wrongSecret) || strings.Contains(msg, SandboxClientSecret) {
				t.Errorf("GetToken error contains the client secret")
			}
		})
	}
}

// TestAzidentityClientCertificate drives azidentity's certificate credential,
// whose MSAL client signs a PS256 client assertion: a certificate not
// registered on the app is AADSTS700027 (the key was not found, with the
// thumbprint the client sent), a registered one past its end date
// AADSTS1000502.
func TestAzidentityClientCertificate(t *testing.T) {
	registered, registeredKey := certtest.New(t, time.Now())
	other, otherKey := certtest.New(t, time.Now())
	expired, expiredKey := certtest.New(t, time.Now().Add(-72*time.Hour))
	const notRegistered = "AADSTS700027: The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '"
	tests := []struct {
		name    string
		allowed []*x509.Certificate
		cert    *x509.Certificate
		key     *rsa.PrivateKey
		wantErr string
	}{
		{name: "registered certificate", allowed: []*x509.Certificate{registered}, cert: registered, key: registeredKey},
		{name: "any certificate when none is registered", cert: other, key: otherKey},
		{name: "unregistered certificate", allowed: []*x509.Certificate{registered}, cert: other, key: otherKey, wantErr: notRegistered},
		{name: "expired certificate", allowed: []*x509.Certificate{registered, expired}, cert: expired, key: expiredKey,
			wantErr: "AADSTS1000502: The provided certificate is not within its specified validity window."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, Options{Now: time.Now, ClientCertificates: tt.allowed})
			cred, err := azidentity.NewClientCertificateCredential(SandboxTenantID, SandboxClientID, []*x509.Certificate{tt.cert}, tt.key,
				&azidentity.ClientCertificateCredentialOptions{
					ClientOptions: azcore.ClientOptions{
						Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: e.srv.URL},
						Transport: e.srv.Client,
					},
					DisableInstanceDiscovery: true,
				})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, err = cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{e.srv.URL + "/.default"}})
			if gotErr := err != nil; gotErr != (tt.wantErr != "") {
				t.Fatalf("GetToken: got error %v, want error %q", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("GetToken error: want it to say %q, got %v", tt.wantErr, err)
			}
		})
	}
}

func TestGraphAuthentication(t *testing.T) {
	e := start(t, Options{})
	body, _ := json.Marshal(batchRequest{Requests: []subRequest{get("1", "/users/"+upn("adele.vance"))}})
	tests := []struct {
		name        string
		authz       string
		advance     time.Duration
		wantStatus  int
		wantMessage string
	}{
		{name: "valid token", authz: "Bearer " + e.token, wantStatus: 200},
		{name: "no header", authz: "", wantStatus: 401, wantMessage: msgTokenEmpty},
		{name: "empty bearer", authz: "Bearer ", wantStatus: 401, wantMessage: msgTokenEmpty},
		{name: "basic scheme", authz: "Basic dXNlcjpwYXNz", wantStatus: 401, wantMessage: msgTokenEmpty},
		{name: "unknown token", authz: "Bearer eyJhbGciOi.not.issued", wantStatus: 401, wantMessage: msgTokenUnparsable},
		{name: "expired token", authz: "Bearer " + e.token, advance: time.Hour, wantStatus: 401, wantMessage: msgTokenExpired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.clock.Advance(tt.advance)
			before := e.sim.Stats()
			hdr := map[string]string{"Content-Type": "application/json", "client-request-id": "abc-123"}
			if tt.authz != "" {
				hdr["Authorization"] = tt.authz
			}
			res, err := e.do(context.Background(), http.MethodPost, "/v1.0/$batch", body, hdr)
			if err != nil {
				t.Fatal(err)
			}
			if res.status != tt.wantStatus {
				t.Fatalf("status: got %d, want %d", res.status, tt.wantStatus)
			}
			if got := res.header.Get("client-request-id"); got != "abc-123" {
				t.Errorf("client-request-id header: got %q, want %q", got, "abc-123")
			}
			after := e.sim.Stats()
			if tt.wantStatus == 200 {
				if after.Batches != before.Batches+1 {
					t.Errorf("Batches: got %d, want %d", after.Batches, before.Batches+1)
				}
				return
			}
			d := checkError(t, res.body, codeInvalidToken, tt.wantMessage)
			if d.InnerError.RequestID != res.header.Get("request-id") {
				t.Errorf("innerError.request-id %q differs from the request-id header %q", d.InnerError.RequestID, res.header.Get("request-id"))
			}
			if res.header.Get("WWW-Authenticate") == "" {
				t.Errorf("WWW-Authenticate: got none, want a Bearer challenge")
			}
			if after.Unauthorized != before.Unauthorized+1 || after.Batches != before.Batches {
				t.Errorf("Unauthorized, Batches: got %d, %d; want %d, %d", after.Unauthorized, after.Batches, before.Unauthorized+1, before.Batches)
			}
		})
	}
}

func TestParseAssertion(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	header := enc(`{"alg":"PS256","typ":"JWT"}`)
	tests := []struct {
		name         string
		jws          string
		wantErr      bool
		wantAudience string
	}{
		{name: "string aud", jws: header + "." + enc(`{"iss":"a","sub":"a","aud":"https://h/t/oauth2/v2.0/token","exp":1700000000}`) + "." + enc("sig"), wantAudience: "https://h/t/oauth2/v2.0/token"},
		{name: "array aud", jws: header + "." + enc(`{"iss":"a","sub":"a","aud":["x","y"],"exp":1700000000}`) + "." + enc("sig"), wantAudience: "x"},
		{name: "two parts", jws: header + "." + enc(`{}`), wantErr: true},
		{name: "bad base64", jws: header + ".!!!." + enc("sig"), wantErr: true},
		{name: "no exp", jws: header + "." + enc(`{"iss":"a","aud":"x"}`) + "." + enc("sig"), wantErr: true},
		{name: "no aud", jws: header + "." + enc(`{"iss":"a","exp":1}`) + "." + enc("sig"), wantErr: true},
		{name: "claims not an object", jws: header + "." + enc(`[1]`) + "." + enc("sig"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := parseAssertion(tt.jws)
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("parseAssertion: got error %v, want error %t", err, tt.wantErr)
			}
			if err == nil && a.audience != tt.wantAudience {
				t.Errorf("audience: got %q, want %q", a.audience, tt.wantAudience)
			}
		})
	}
}

func FuzzParseAssertion(f *testing.F) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	f.Add(enc(`{"alg":"PS256"}`) + "." + enc(`{"iss":"a","sub":"a","aud":"x","exp":1}`) + "." + enc("s"))
	f.Add("a.b.c")
	f.Add("")
	f.Add("..")
	f.Fuzz(func(t *testing.T, jws string) {
		a, err := parseAssertion(jws)
		if err == nil && a.signingInput == "" {
			t.Errorf("parseAssertion(%q): no error but no signing input", jws)
		}
	})
}
