package graph

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/bulkreset/bulkreset/internal/certtest"
)

// noNetwork is a Transporter that counts calls; constructing a credential
// must make none.
type noNetwork struct{ calls atomic.Int32 }

func (n *noNetwork) Do(*http.Request) (*http.Response, error) {
	n.calls.Add(1)
	return nil, errors.New("no network in this test")
}

var _ policy.Transporter = (*noNetwork)(nil)

const (
	testTenant       = "00000000-0000-0000-0000-0000000000aa"
	testClient       = "00000000-0000-0000-0000-0000000000bb"
	testClientSecret = "Qx9~not-a-real-client-secret"
	testCertPassword = "Pw9~not-a-real-cert-password"
)

func TestNewCredential(t *testing.T) {
	// DefaultAzureCredential reads AZURE_TOKEN_CREDENTIALS itself; keep the
	// developer's environment out of this test.
	t.Setenv("AZURE_TOKEN_CREDENTIALS", "")
	os.Unsetenv("AZURE_TOKEN_CREDENTIALS")
	certPath, _ := certtest.WritePEM(t, testNow)
	garbage := filepath.Join(t.TempDir(), "garbage.pfx")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("federated"), 0o600); err != nil {
		t.Fatal(err)
	}
	show := func(context.Context, string) error { return nil }
	tests := []struct {
		name    string
		opts    AuthOptions
		wantErr string // "" means success; the flag names are cmd/bulkreset's (its errors_test.go)
	}{
		{name: "auto", opts: AuthOptions{Kind: "auto", TenantID: testTenant}},
		{name: "empty kind is auto", opts: AuthOptions{}},
		// With ids but nothing to pick a credential by, auto is the chain,
		// whatever the case of its name (this once recursed for ever).
		{name: "Auto with ids and no secret", opts: AuthOptions{Kind: " Auto", TenantID: testTenant, ClientID: testClient}},
		{name: "client-secret", opts: AuthOptions{Kind: "client-secret", TenantID: testTenant, ClientID: testClient, ClientSecret: testClientSecret}},
		{name: "client-secret without secret", opts: AuthOptions{Kind: "client-secret", TenantID: testTenant, ClientID: testClient}, wantErr: "auth kind client-secret needs the client secret"},
		{name: "client-secret without ids", opts: AuthOptions{Kind: "client-secret", ClientSecret: testClientSecret}, wantErr: "auth kind client-secret needs the tenant and the client id"},
		{name: "client-secret bad tenant", opts: AuthOptions{Kind: "client-secret", TenantID: "bad tenant/..", ClientID: testClient, ClientSecret: testClientSecret}, wantErr: "auth kind client-secret: invalid tenantID"},
		{name: "certificate PEM", opts: AuthOptions{Kind: "certificate", TenantID: testTenant, ClientID: testClient, CertificatePath: certPath}},
		{name: "certificate PEM with an unneeded password", opts: AuthOptions{Kind: "certificate", TenantID: testTenant, ClientID: testClient, CertificatePath: certPath, CertificatePassword: testCertPassword}},
		{name: "certificate without path", opts: AuthOptions{Kind: "certificate", TenantID: testTenant, ClientID: testClient}, wantErr: "auth kind certificate needs the certificate"},
		{name: "certificate missing file", opts: AuthOptions{Kind: "certificate", TenantID: testTenant, ClientID: testClient, CertificatePath: filepath.Join(t.TempDir(), "nope.pem")}, wantErr: "reading certificate"},
		{name: "certificate garbage", opts: AuthOptions{Kind: "certificate", TenantID: testTenant, ClientID: testClient, CertificatePath: garbage, CertificatePassword: testCertPassword}, wantErr: "is not a PEM or PKCS#12 file"},
		{name: "managed-identity system", opts: AuthOptions{Kind: "managed-identity"}},
		{name: "managed-identity user-assigned", opts: AuthOptions{Kind: "managed-identity", ClientID: testClient}},
		{name: "workload-identity", opts: AuthOptions{Kind: "workload-identity", TenantID: testTenant, ClientID: testClient, FederatedTokenFile: tokenFile}},
		{name: "workload-identity without file", opts: AuthOptions{Kind: "workload-identity", TenantID: testTenant, ClientID: testClient}, wantErr: "auth kind workload-identity needs the federated token file"},
		{name: "azure-cli", opts: AuthOptions{Kind: "azure-cli", TenantID: testTenant}},
		{name: "device-code", opts: AuthOptions{Kind: "device-code", TenantID: testTenant, ClientID: testClient, DeviceCodeMessage: show}},
		{name: "device-code without prompt", opts: AuthOptions{Kind: "device-code"}, wantErr: "auth kind device-code needs a way to show the sign-in message"},
		{name: "browser", opts: AuthOptions{Kind: "Browser", TenantID: testTenant}},
		{name: "unknown kind", opts: AuthOptions{Kind: "password"}, wantErr: "valid kinds are auto, client-secret, certificate, managed-identity, workload-identity, azure-cli, device-code, browser"},
		{name: "usgov cloud", opts: AuthOptions{Kind: "client-secret", TenantID: testTenant, ClientID: testClient, ClientSecret: testClientSecret, Cloud: Cloud{AuthorityHost: "https://login.microsoftonline.us"}}},
		{name: "private authority", opts: AuthOptions{Kind: "client-secret", TenantID: testTenant, ClientID: testClient, ClientSecret: testClientSecret, AuthorityHost: "https://login.example.test"}},
		{name: "http authority", opts: AuthOptions{Kind: "client-secret", TenantID: testTenant, ClientID: testClient, ClientSecret: testClientSecret, AuthorityHost: "http://login.example.test"}, wantErr: "https is required"},
		{name: "http loopback authority", opts: AuthOptions{Kind: "client-secret", TenantID: testTenant, ClientID: testClient, ClientSecret: testClientSecret, AuthorityHost: "http://127.0.0.1:9"}, wantErr: "without https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			transport := &noNetwork{}
			tt.opts.Transport = transport
			cred, err := NewCredential(tt.opts)
			if tt.wantErr == "" {
				if err != nil || cred == nil {
					t.Fatalf("NewCredential(%s) = %v, %v; want a credential", tt.opts.Kind, cred, err)
				}
			} else {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewCredential(%s) error = %v, want one containing %q", tt.opts.Kind, err, tt.wantErr)
				}
				for _, secret := range []string{testClientSecret, testCertPassword} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error shows a secret: %v", err)
					}
				}
			}
			if n := transport.calls.Load(); n != 0 {
				t.Errorf("constructing the credential made %d HTTP calls, want 0", n)
			}
		})
	}
}

func TestNewCredentialValidationIsTyped(t *testing.T) {
	_, err := NewCredential(AuthOptions{Kind: "client-secret"})
	if !errors.Is(err, ErrAuthConfig) {
		t.Errorf("NewCredential error = %v, want it to wrap ErrAuthConfig", err)
	}
}
