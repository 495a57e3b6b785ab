package graph

import (
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/bulkreset/bulkreset/internal/certtest"
)

// hostileSecret is a client secret with the characters a form encodes.
const hostileSecret = "Ab8Q~x.y_z+/=secret"

// echoedSecret is what an echoing managed-identity endpoint adds to its answers.
const echoedSecret = "ECHOED-SECRET eyJhostile.token"

// echoAnswers are the answers of an endpoint that echoes what it was sent:
// a 200 whose expires_in MSAL cannot read, and a 400.
var echoAnswers = []struct {
	name   string
	status int
}{{"200 unreadable", http.StatusOK}, {"400", http.StatusBadRequest}}

// echo writes an answer of status that repeats form (and echoedSecret).
func echo(w http.ResponseWriter, status int, form string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if status == http.StatusOK {
		_ = json.NewEncoder(w).Encode(map[string]string{"access_token": "x", "expires_in": form + " " + echoedSecret})
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_request", "error_description": form, "echo": echoedSecret})
}

// newEchoAuthority is a TLS Entra stand-in whose token endpoint echoes
// the form with the given status.
func newEchoAuthority(t *testing.T, status int) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		base := srv.URL + "/" + testTenant
		if strings.HasSuffix(r.URL.Path, "/openid-configuration") {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"token_endpoint": base + "/oauth2/v2.0/token",
				"authorization_endpoint": base + "/oauth2/v2.0/authorize", "issuer": base + "/v2.0"})
			return
		}
		form, _ := io.ReadAll(r.Body)
		echo(w, status, string(form))
	}))
	t.Cleanup(srv.Close)
	return srv
}

// checkQuotesNothing asserts err is a one-line error that holds none of
// secrets, and says want.
func checkQuotesNothing(t *testing.T, err error, want string, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("GetToken succeeded")
	}
	msg := err.Error()
	for _, s := range append(secrets, echoedSecret, "ECHOED", "eyJhostile") {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("the error quotes %.12q…: %.300q", s, msg)
		}
	}
	if strings.ContainsAny(msg, "\n\r") || len(msg) > 400 {
		t.Errorf("the error is not one short line: %.500q", msg)
	}
	if !strings.Contains(msg, want) {
		t.Errorf("error %q, want it to say %q", msg, want)
	}
}

// getToken asks cred for a Graph token.
func getToken(t *testing.T, opts AuthOptions) error {
	t.Helper()
	cred, err := NewCredential(opts)
	if err != nil {
		t.Fatalf("NewCredential: %v", err)
	}
	_, err = cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{"https://graph.example.test/.default"}})
	return err
}

// formSecrets are the forms in which a secret could come back in an
// echoed form: as is and URL-encoded.
func formSecrets(secrets ...string) []string {
	var out []string
	for _, s := range secrets {
		out = append(out, s, url.QueryEscape(s))
	}
	return out
}

// TestTokenErrorsClientSecretEcho: the client secret, echoed back in a
// 200 MSAL cannot read or in a 400, is not quoted, in either encoding.
func TestTokenErrorsClientSecretEcho(t *testing.T) {
	for _, a := range echoAnswers {
		t.Run(a.name, func(t *testing.T) {
			srv := newEchoAuthority(t, a.status)
			err := getToken(t, AuthOptions{Kind: AuthClientSecret, TenantID: testTenant, ClientID: testClient,
				ClientSecret: hostileSecret, AuthorityHost: srv.URL, Transport: srv.Client()})
			checkQuotesNothing(t, err, "HTTP "+strconv.Itoa(a.status), formSecrets(hostileSecret)...)
		})
	}
}

// TestTokenErrorsCertificateEcho: the signed client assertion, echoed
// back, is not quoted.
func TestTokenErrorsCertificateEcho(t *testing.T) {
	certFile, _ := certtest.WritePEM(t, testNow)
	for _, a := range echoAnswers {
		t.Run(a.name, func(t *testing.T) {
			var assertion string
			var srv *httptest.Server
			srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				base := srv.URL + "/" + testTenant
				if strings.HasSuffix(r.URL.Path, "/openid-configuration") {
					_ = json.NewEncoder(w).Encode(map[string]string{"token_endpoint": base + "/oauth2/v2.0/token",
						"authorization_endpoint": base + "/oauth2/v2.0/authorize", "issuer": base + "/v2.0"})
					return
				}
				form, _ := io.ReadAll(r.Body)
				v, _ := url.ParseQuery(string(form))
				assertion = v.Get("client_assertion")
				echo(w, a.status, string(form))
			}))
			t.Cleanup(srv.Close)
			err := getToken(t, AuthOptions{Kind: AuthCertificate, TenantID: testTenant, ClientID: testClient,
				CertificatePath: certFile, AuthorityHost: srv.URL, Transport: srv.Client()})
			if assertion == "" {
				t.Fatal("no client assertion was sent")
			}
			checkQuotesNothing(t, err, "HTTP "+strconv.Itoa(a.status), formSecrets(assertion[:40], assertion[len(assertion)-40:])...)
		})
	}
}

// TestTokenErrorsWorkloadIdentityEcho: the service account token read
// from the token file, echoed back, is not quoted.
func TestTokenErrorsWorkloadIdentityEcho(t *testing.T) {
	const saToken = "eyJserviceaccount.SA-TOKEN-SECRET.sig"
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(saToken), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, a := range echoAnswers {
		t.Run(a.name, func(t *testing.T) {
			srv := newEchoAuthority(t, a.status)
			err := getToken(t, AuthOptions{Kind: AuthWorkloadIdentity, TenantID: testTenant, ClientID: testClient,
				FederatedTokenFile: file, AuthorityHost: srv.URL, Transport: srv.Client()})
			checkQuotesNothing(t, err, "HTTP "+strconv.Itoa(a.status), formSecrets(saToken, "SA-TOKEN-SECRET")...)
		})
	}
}

// TestTokenErrorsManagedIdentityEcho: a managed-identity endpoint (App
// Service's, found through IDENTITY_ENDPOINT) that echoes the request
// and a secret of its own in its answers is not quoted.
func TestTokenErrorsManagedIdentityEcho(t *testing.T) {
	for _, a := range append(echoAnswers, struct {
		name   string
		status int
	}{"403", http.StatusForbidden}) {
		t.Run(a.name, func(t *testing.T) {
			const header = "IDENTITY-HEADER-SECRET"
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				echo(w, a.status, r.URL.RawQuery+" "+r.Header.Get("X-IDENTITY-HEADER"))
			}))
			t.Cleanup(srv.Close)
			t.Setenv("IDENTITY_ENDPOINT", srv.URL+"/msi/token")
			t.Setenv("IDENTITY_HEADER", header)
			err := getToken(t, AuthOptions{Kind: AuthManagedIdentity})
			checkQuotesNothing(t, err, "HTTP "+strconv.Itoa(a.status), header)
		})
	}
}

// TestManagedIdentityServiceFabric: with Service Fabric's variables set,
// the managed-identity credential is built (azidentity requires its
// transport to be an *http.Client there, whose transport MSAL copies and
// pins to the endpoint's certificate), gets a token from an endpoint on
// loopback whose thumbprint is given, and an echoing answer from it is not
// quoted.
func TestManagedIdentityServiceFabric(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int // 0: a token
	}{{"200 unreadable", http.StatusOK}, {"400", http.StatusBadRequest}, {"token", 0}} {
		t.Run(tc.name, func(t *testing.T) {
			const header = "SF-HEADER-SECRET"
			// A resource of its own: MSAL keeps managed-identity tokens process-wide.
			resource := "https://sf-" + strconv.FormatInt(time.Now().UnixNano(), 36) + ".example.test"
			srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.status != 0 {
					echo(w, tc.status, r.URL.RawQuery+" "+r.Header.Get("Secret"))
					return
				}
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"access_token":"sf-token","expires_on":"`+strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)+`","resource":"`+resource+`","token_type":"Bearer"}`)
			}))
			t.Cleanup(srv.Close)
			thumb := sha1.Sum(srv.Certificate().Raw)
			for _, v := range []string{"MSI_ENDPOINT", "IMDS_ENDPOINT", "AZURE_TOKEN_CREDENTIALS"} {
				t.Setenv(v, "")
				_ = os.Unsetenv(v)
			}
			t.Setenv("IDENTITY_ENDPOINT", srv.URL+"/metadata/identity/oauth2/token")
			t.Setenv("IDENTITY_HEADER", header)
			t.Setenv("IDENTITY_SERVER_THUMBPRINT", hex.EncodeToString(thumb[:]))
			cred, err := NewCredential(AuthOptions{Kind: AuthManagedIdentity})
			if err != nil {
				t.Fatalf("NewCredential(managed-identity) on Service Fabric: %v", err)
			}
			tok, err := cred.GetToken(t.Context(), policy.TokenRequestOptions{Scopes: []string{resource + "/.default"}})
			if tc.status == 0 {
				if err != nil || tok.Token != "sf-token" {
					t.Fatalf("GetToken = %q, %v; want sf-token", tok.Token, err)
				}
				return
			}
			checkQuotesNothing(t, err, "HTTP "+strconv.Itoa(tc.status), header)
		})
	}
}

// TestTokenErrorsChain: when no credential of --auth auto gets a token,
// the error names each one tried with a fixed reason, on one line, and
// quotes nothing a managed-identity endpoint answered. The chain is kept
// to loopback: AZURE_TOKEN_CREDENTIALS picks its production half with App
// Service's endpoint on loopback (no IMDS probe, which would leave the
// machine), or its developer half with no az or azd on PATH.
func TestTokenErrorsChain(t *testing.T) {
	for _, tc := range []struct {
		name  string
		env   func(t *testing.T) map[string]string
		names []string
	}{
		{"managed identity echoes", func(t *testing.T) map[string]string {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				echo(w, http.StatusBadRequest, r.URL.RawQuery)
			}))
			t.Cleanup(srv.Close)
			return map[string]string{"AZURE_TOKEN_CREDENTIALS": "prod", "IDENTITY_ENDPOINT": srv.URL + "/msi/token", "IDENTITY_HEADER": "IDENTITY-HEADER-SECRET"}
		}, []string{"EnvironmentCredential unavailable", "WorkloadIdentityCredential unavailable", "ManagedIdentityCredential HTTP 400"}},
		{"no developer tools", func(*testing.T) map[string]string {
			return map[string]string{"AZURE_TOKEN_CREDENTIALS": "dev"}
		}, []string{"AzureCLICredential unavailable", "AzureDeveloperCLICredential unavailable"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range []string{"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
				"AZURE_FEDERATED_TOKEN_FILE", "AZURE_USERNAME", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT",
				"MSI_ENDPOINT", "IMDS_ENDPOINT", "AZURE_TOKEN_CREDENTIALS"} {
				t.Setenv(v, "")
				_ = os.Unsetenv(v)
			}
			t.Setenv("PATH", t.TempDir()) // no az, no azd
			for k, v := range tc.env(t) {
				t.Setenv(k, v)
			}
			err := getToken(t, AuthOptions{Kind: AuthAuto})
			checkQuotesNothing(t, err, "DefaultAzureCredential: no credential could get a token: ", "IDENTITY-HEADER-SECRET")
			for _, name := range tc.names {
				if !strings.Contains(err.Error(), name) {
					t.Errorf("error %q does not say %q", err, name)
				}
			}
		})
	}
}
