package graphsim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// startBare starts a Sim of opts without signing in (start does, which a
// refusing Sim would refuse).
func startBare(t *testing.T, opts Options) *env {
	t.Helper()
	sim := New(opts)
	srv, err := sim.Start()
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(srv.Close)
	return &env{sim: sim, srv: srv}
}

// aadAnswer is an Entra error answer.
type aadAnswer struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Codes       []int  `json:"error_codes"`
	TraceID     string `json:"trace_id"`
	Correlation string `json:"correlation_id"`
	Timestamp   string `json:"timestamp"`
}

// TestTokenEndpointRefusals: each Refusal, and each unknown tenant, is
// answered with Entra's status, OAuth error, AADSTS code and a description
// that starts with the code and ends with the trace and correlation ids;
// no token is issued.
func TestTokenEndpointRefusals(t *testing.T) {
	clientCredentials := func(tenantScope string) url.Values {
		return url.Values{"grant_type": {"client_credentials"}, "client_id": {SandboxClientID},
			"client_secret": {SandboxClientSecret}, "scope": {tenantScope + "/.default"}}
	}
	for _, tt := range []struct {
		name       string
		refuse     Refusal
		tenant     string
		form       func(scope string) url.Values
		wantStatus int
		wantError  string
		wantCode   int
		wantText   string
	}{
		{"expired secret", RefuseSecretExpired, SandboxTenantID, clientCredentials, 401, "invalid_client", 7000222, "client secret keys for app '" + SandboxClientID + "' are expired"},
		{"wrong secret beats expired", RefuseSecretExpired, SandboxTenantID, func(s string) url.Values {
			f := clientCredentials(s)
			f.Set("client_secret", "not-the-secret")
			return f
		}, 401, "invalid_client", 7000215, "Invalid client secret provided"},
		{"no service principal", RefuseNoServicePrincipal, SandboxTenantID, clientCredentials, 400, "invalid_client", 7000229, "is missing service principal in the tenant"},
		{"not consented", RefuseNotConsented, SandboxTenantID, clientCredentials, 400, "invalid_grant", 65001, "has not consented to use the application"},
		{"not consented, device code", RefuseNotConsented, SandboxTenantID, func(string) url.Values {
			return url.Values{"grant_type": {grantDeviceCode}, "client_id": {SandboxClientID}, "device_code": {"x"}}
		}, 400, "invalid_grant", 65001, "has not consented"},
		{"unknown tenant id", "", "0f0f0f0f-0000-4000-8000-000000000000", clientCredentials, 400, "invalid_request", 90002, "Tenant '0f0f0f0f-0000-4000-8000-000000000000' not found"},
		{"invalid tenant identifier", "", "contoso", clientCredentials, 400, "invalid_request", 900023, "Specified tenant identifier 'contoso' is neither a valid DirectoryName nor a valid ObjectId"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := startBare(t, Options{Refuse: tt.refuse})
			res := e.form(t, tt.tenant, tt.form(e.srv.URL))
			var aad aadAnswer
			if err := json.Unmarshal(res.body, &aad); err != nil {
				t.Fatalf("answer %d is not JSON: %s", res.status, res.body)
			}
			if res.status != tt.wantStatus || aad.Error != tt.wantError || len(aad.Codes) != 1 || aad.Codes[0] != tt.wantCode {
				t.Fatalf("answer %d %q %v, want %d %q [%d]", res.status, aad.Error, aad.Codes, tt.wantStatus, tt.wantError, tt.wantCode)
			}
			prefix := "AADSTS" + strconv.Itoa(tt.wantCode) + ": "
			if !strings.HasPrefix(aad.Description, prefix) || !strings.Contains(aad.Description, tt.wantText) ||
				!strings.Contains(aad.Description, "Trace ID: "+aad.TraceID) || !strings.Contains(aad.Description, "Correlation ID: "+aad.Correlation) {
				t.Errorf("error_description %q, want %q…%q… and the trace and correlation ids", aad.Description, prefix, tt.wantText)
			}
			if strings.Contains(string(res.body), SandboxClientSecret) {
				t.Error("the answer holds the client secret")
			}
			if n := e.sim.Stats().TokensIssued; n != 0 {
				t.Errorf("%d tokens issued, want 0", n)
			}
		})
	}
}

// TestManagedIdentityEndpoint drives azidentity's managed-identity
// credential against the App Service endpoint (IDENTITY_ENDPOINT): the
// assigned identity gets a token Graph accepts; a host with no identity,
// or another client id, is refused with App Service's 400.
func TestManagedIdentityEndpoint(t *testing.T) {
	const identity = "3c3c3c3c-0000-4000-8000-00000000001d"
	for _, tt := range []struct {
		name     string
		assigned string
		clientID string
		wantErr  string
	}{
		{"system assigned", identity, "", ""},
		{"user assigned", identity, identity, ""},
		{"no identity assigned", "", "", "Unable to load the proper Managed Identity"},
		{"another identity", identity, "3c3c3c3c-0000-4000-8000-0000000000ff", "Unable to load the proper Managed Identity"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := startBare(t, Options{ManagedIdentity: tt.assigned})
			if err := e.sim.AddUsers(SandboxTenant()); err != nil {
				t.Fatal(err)
			}
			for _, v := range []string{"MSI_ENDPOINT", "IMDS_ENDPOINT", "IDENTITY_SERVER_THUMBPRINT", "AZURE_TOKEN_CREDENTIALS"} {
				t.Setenv(v, "")
				_ = os.Unsetenv(v)
			}
			t.Setenv("IDENTITY_ENDPOINT", e.srv.URL+ManagedIdentityPath)
			t.Setenv("IDENTITY_HEADER", "identity-header-of-the-host")
			o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: azcore.ClientOptions{Transport: e.srv.Client}}
			if tt.clientID != "" {
				o.ID = azidentity.ClientID(tt.clientID)
			}
			cred, err := azidentity.NewManagedIdentityCredential(o)
			if err != nil {
				t.Fatal(err)
			}
			// A resource of its own: MSAL keeps managed-identity tokens process-wide.
			resource := e.srv.URL + "/" + strings.ReplaceAll(tt.name, " ", "-")
			tok, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{resource + "/.default"}})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("GetToken error = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("GetToken: %v", err)
			}
			e.token = tok.Token
			res, err := e.do(t.Context(), http.MethodGet, "/v1.0/users/"+url.PathEscape(upn("adele.vance")), nil, map[string]string{"Authorization": "Bearer " + tok.Token})
			if err != nil || res.status != http.StatusOK {
				t.Fatalf("GET a user with the managed identity's token: %d, %v", res.status, err)
			}
		})
	}
}

// TestRefuseAfter: with RefuseAfter, the first tokens are issued and the
// requests after them refused: a secret that expires during a run.
func TestRefuseAfter(t *testing.T) {
	e := startBare(t, Options{Refuse: RefuseSecretExpired, RefuseAfter: 2})
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {SandboxClientID},
		"client_secret": {SandboxClientSecret}, "scope": {e.srv.URL + "/.default"}}
	for i, want := range []int{200, 200, 401, 401} {
		if res := e.form(t, SandboxTenantID, form); res.status != want {
			t.Errorf("token request %d: %d, want %d", i+1, res.status, want)
		}
	}
	if n := e.sim.Stats().TokensIssued; n != 2 {
		t.Errorf("%d tokens issued, want 2", n)
	}
}
