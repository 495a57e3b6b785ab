package graph

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestNewCredentialErrorsNameSettings: below the command line, an error
// names the setting that is missing or wrong, never a flag (the command
// line adds its own flag names), and it is typed: errors.Is finds which
// setting is missing and errors.As gives the settings to a caller.
func TestNewCredentialErrorsNameSettings(t *testing.T) {
	for _, tt := range []struct {
		name    string
		opts    AuthOptions
		want    string
		is      []error
		missing []Setting
	}{
		{"client-secret without secret", AuthOptions{Kind: AuthClientSecret, TenantID: testTenant, ClientID: testClient},
			"auth kind client-secret needs the client secret", []error{ErrAuthConfig, ErrMissingClientSecret}, []Setting{SettingClientSecret}},
		{"client-secret without ids", AuthOptions{Kind: AuthClientSecret, ClientSecret: testClientSecret},
			"auth kind client-secret needs the tenant and the client id", []error{ErrAuthConfig, ErrMissingTenant, ErrMissingClientID}, []Setting{SettingTenant, SettingClientID}},
		{"certificate without path", AuthOptions{Kind: AuthCertificate, TenantID: testTenant, ClientID: testClient},
			"auth kind certificate needs the certificate", []error{ErrAuthConfig, ErrMissingCertificate}, []Setting{SettingCertificate}},
		{"workload-identity without file", AuthOptions{Kind: AuthWorkloadIdentity, TenantID: testTenant},
			"auth kind workload-identity needs the client id and the federated token file", []error{ErrAuthConfig, ErrMissingClientID, ErrMissingFederatedTokenFile}, []Setting{SettingClientID, SettingFederatedTokenFile}},
		{"device-code without prompt", AuthOptions{Kind: AuthDeviceCode},
			"auth kind device-code needs a way to show the sign-in message", []error{ErrAuthConfig, ErrMissingDeviceCodePrompt}, []Setting{SettingDeviceCodePrompt}},
		{"unknown kind", AuthOptions{Kind: "password"},
			`unknown auth kind "password": valid kinds are auto, client-secret`, []error{ErrAuthConfig, ErrUnknownAuthKind}, nil},
		{"http authority", AuthOptions{Kind: AuthClientSecret, TenantID: testTenant, ClientID: testClient, ClientSecret: testClientSecret, AuthorityHost: "http://login.example.test"},
			"authority host: ", []error{ErrAuthConfig}, nil},
		{"bad tenant", AuthOptions{Kind: AuthClientSecret, TenantID: "bad tenant/..", ClientID: testClient, ClientSecret: testClientSecret},
			"auth kind client-secret: ", nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Transport = &noNetwork{}
			_, err := NewCredential(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewCredential error = %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "--") || strings.Contains(err.Error(), "AZURE_") {
				t.Errorf("NewCredential error = %q names a flag or an environment variable; want the setting only", err)
			}
			checkTyped(t, err, tt.is, tt.missing)
		})
	}
}

// checkTyped checks that err is a *ConfigError listing missing and matching
// every sentinel in is.
func checkTyped(t *testing.T, err error, is []error, missing []Setting) {
	t.Helper()
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("NewCredential error %v is not a *ConfigError", err)
	}
	if !slices.Equal(ce.Missing, missing) {
		t.Errorf("Missing = %v, want %v", ce.Missing, missing)
	}
	for _, target := range is {
		if !errors.Is(err, target) {
			t.Errorf("errors.Is(%v, %v) = false, want true", err, target)
		}
	}
}
