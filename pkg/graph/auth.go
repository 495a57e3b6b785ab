package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// Auth kinds accepted by NewCredential (docs/cli.md, "Sign-in", lists them
// as the --auth flag takes them).
const (
	AuthAuto             = "auto"
	AuthClientSecret     = "client-secret"
	AuthCertificate      = "certificate"
	AuthManagedIdentity  = "managed-identity"
	AuthWorkloadIdentity = "workload-identity"
	AuthAzureCLI         = "azure-cli"
	AuthDeviceCode       = "device-code"
	AuthBrowser          = "browser"
)

// AuthKinds returns the auth kinds NewCredential accepts, in display order.
func AuthKinds() []string {
	return []string{AuthAuto, AuthClientSecret, AuthCertificate, AuthManagedIdentity,
		AuthWorkloadIdentity, AuthAzureCLI, AuthDeviceCode, AuthBrowser}
}

// AuthOptions holds what NewCredential needs. The caller reads flags and
// environment variables and passes the values here: this package never reads
// the environment itself, and secrets come from environment variables, never
// from flags.
type AuthOptions struct {
	// Kind is one of AuthKinds(); "" means auto.
	Kind string
	// TenantID is the tenant id or domain (--tenant, $AZURE_TENANT_ID).
	TenantID string
	// ClientID is the app registration (--client-id, $AZURE_CLIENT_ID); for
	// managed-identity, the client id of a user-assigned identity.
	ClientID string
	// ClientSecret is used by client-secret ($AZURE_CLIENT_SECRET).
	ClientSecret string
	// CertificatePath is a PEM or PKCS#12 file with the certificate and its
	// private key (--certificate, $AZURE_CLIENT_CERTIFICATE_PATH).
	CertificatePath string
	// CertificatePassword decrypts a PKCS#12 file ($AZURE_CLIENT_CERTIFICATE_PASSWORD).
	CertificatePassword string
	// FederatedTokenFile is the workload-identity token file ($AZURE_FEDERATED_TOKEN_FILE).
	FederatedTokenFile string
	// AuthorityHost overrides Cloud.AuthorityHost (--authority-host). Instance
	// discovery is turned off when the host is not IsKnownAuthority.
	AuthorityHost string
	// Cloud gives the default authority host; the zero Cloud means global.
	Cloud Cloud
	// Transport, when set, sends the token requests (tests pass an
	// *http.Client that trusts their TLS certificate). An *http.Client is
	// used through a copy that never follows a redirect.
	Transport policy.Transporter
	// DeviceCodeMessage shows the device-code sign-in instruction to the
	// user (on standard error). Required for device-code.
	DeviceCodeMessage func(ctx context.Context, message string) error
}

// String describes o with its secrets redacted.
func (o AuthOptions) String() string {
	return fmt.Sprintf("{kind:%s tenant:%s client:%s clientSecret:%s certificate:%s certificatePassword:%s federatedTokenFile:%s authorityHost:%s cloud:%s}",
		o.Kind, o.TenantID, o.ClientID, mask(o.ClientSecret), o.CertificatePath, mask(o.CertificatePassword),
		o.FederatedTokenFile, o.AuthorityHost, o.Cloud.Name)
}

// GoString describes o with its secrets redacted, for %#v.
func (o AuthOptions) GoString() string {
	return "graph.AuthOptions" + o.String()
}

// Format makes every fmt verb use String or GoString, so that no verb
// prints the client secret or the certificate password.
func (o AuthOptions) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, o.GoString())
		return
	}
	fmt.Fprint(f, o.String())
}

// LogValue implements slog.LogValuer with the secrets redacted.
func (o AuthOptions) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("kind", o.Kind), slog.String("tenant", o.TenantID), slog.String("client", o.ClientID),
		slog.String("clientSecret", mask(o.ClientSecret)), slog.String("certificate", o.CertificatePath),
		slog.String("certificatePassword", mask(o.CertificatePassword)),
		slog.String("federatedTokenFile", o.FederatedTokenFile), slog.String("authorityHost", o.AuthorityHost),
		slog.String("cloud", o.Cloud.Name),
	)
}

// MarshalJSON encodes o with its secrets redacted (AuthOptions is never
// sent anywhere as JSON; this only keeps it out of JSON logs).
func (o AuthOptions) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{
		"kind": o.Kind, "tenant": o.TenantID, "client": o.ClientID, "clientSecret": mask(o.ClientSecret),
		"certificate": o.CertificatePath, "certificatePassword": mask(o.CertificatePassword),
		"federatedTokenFile": o.FederatedTokenFile, "authorityHost": o.AuthorityHost, "cloud": o.Cloud.Name,
	})
}

// mask returns "" for an empty secret and the redaction mark otherwise.
func mask(secret string) string {
	if secret == "" {
		return ""
	}
	return redacted
}

// ErrAuthConfig is wrapped by NewCredential's validation errors.
var ErrAuthConfig = errors.New("authentication settings")

// NewCredential builds the azidentity credential for opts.Kind. It checks
// that the values the kind needs are present; a value missing or wrong is a
// *ConfigError naming the setting (ErrMissingClientSecret, ...), which a
// command line turns into its own flag names with ConfigError.Text.
// Constructing a credential makes no network call; the first token request
// does.
func NewCredential(opts AuthOptions) (azcore.TokenCredential, error) {
	kind := strings.ToLower(strings.TrimSpace(opts.Kind))
	if kind == "" {
		kind = AuthAuto
	}
	authority, err := authorityHost(opts)
	if err != nil {
		return nil, err
	}
	if kind == AuthAuto {
		// With a tenant and a client id, a secret, certificate or federated
		// token given to us picks that credential, so that --tenant and
		// --client-id are obeyed: DefaultAzureCredential's environment step
		// would read AZURE_TENANT_ID and AZURE_CLIENT_ID itself, and without
		// them fall through silently to a managed identity or the Azure CLI.
		if pick := autoKind(opts); pick != "" {
			explicit := opts
			explicit.Kind = pick
			return NewCredential(explicit)
		}
	}
	if missing := missingSettings(kind, opts); len(missing) > 0 {
		return nil, &ConfigError{Kind: kind, Missing: missing}
	}
	// Token requests never follow a redirect and read at most
	// maxTokenResponseBytes; the credential's errors never quote the answer.
	client := azcore.ClientOptions{
		Cloud:            cloud.Configuration{ActiveDirectoryAuthorityHost: authority},
		Transport:        tokenHTTPClient(opts.Transport),
		PerRetryPolicies: []policy.Policy{tokenPolicy{}},
	}
	cred, err := kindCredential(kind, opts, client, !IsKnownAuthority(authority))
	if err != nil {
		return nil, err
	}
	return &safeCredential{cred: cred, secrets: []string{opts.ClientSecret, opts.CertificatePassword}}, nil
}

// autoKind is the kind that AuthAuto picks for what opts were given: a
// tenant and a client id with a client secret, a certificate or a
// federated token file; "" for DefaultAzureCredential's chain.
func autoKind(opts AuthOptions) string {
	if opts.TenantID == "" || opts.ClientID == "" {
		return ""
	}
	switch {
	case opts.ClientSecret != "":
		return AuthClientSecret
	case opts.CertificatePath != "":
		return AuthCertificate
	case opts.FederatedTokenFile != "":
		return AuthWorkloadIdentity
	}
	return ""
}

// missingSettings lists the settings kind needs that opts lack, the tenant
// and the client id first. The workload identity needs all three of its
// values here so that azidentity never falls back to reading the
// environment on its own.
func missingSettings(kind string, opts AuthOptions) []Setting {
	var missing []Setting
	requireTenantAndClient := func() {
		if opts.TenantID == "" {
			missing = append(missing, SettingTenant)
		}
		if opts.ClientID == "" {
			missing = append(missing, SettingClientID)
		}
	}
	switch kind {
	case AuthClientSecret:
		requireTenantAndClient()
		if opts.ClientSecret == "" {
			missing = append(missing, SettingClientSecret)
		}
	case AuthCertificate:
		requireTenantAndClient()
		if opts.CertificatePath == "" {
			missing = append(missing, SettingCertificate)
		}
	case AuthWorkloadIdentity:
		requireTenantAndClient()
		if opts.FederatedTokenFile == "" {
			missing = append(missing, SettingFederatedTokenFile)
		}
	case AuthDeviceCode:
		if opts.DeviceCodeMessage == nil {
			missing = append(missing, SettingDeviceCodePrompt)
		}
	}
	return missing
}

// kindCredential constructs the azidentity credential of kind, whose
// settings are all present.
func kindCredential(kind string, opts AuthOptions, client azcore.ClientOptions, noDiscovery bool) (azcore.TokenCredential, error) {
	var (
		cred azcore.TokenCredential
		err  error
	)
	switch kind {
	case AuthAuto:
		cred, err = azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
			ClientOptions:            client,
			DisableInstanceDiscovery: noDiscovery,
			TenantID:                 opts.TenantID,
		})
	case AuthClientSecret:
		cred, err = azidentity.NewClientSecretCredential(opts.TenantID, opts.ClientID, opts.ClientSecret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: client, DisableInstanceDiscovery: noDiscovery})
	case AuthCertificate:
		cred, err = certificateCredential(opts, client, noDiscovery)
	case AuthManagedIdentity:
		o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: client}
		if opts.ClientID != "" {
			o.ID = azidentity.ClientID(opts.ClientID)
		}
		cred, err = azidentity.NewManagedIdentityCredential(o)
	case AuthWorkloadIdentity:
		cred, err = azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions:            client,
			ClientID:                 opts.ClientID,
			TenantID:                 opts.TenantID,
			TokenFilePath:            opts.FederatedTokenFile,
			DisableInstanceDiscovery: noDiscovery,
		})
	case AuthAzureCLI:
		cred, err = azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: opts.TenantID})
	case AuthDeviceCode:
		show := opts.DeviceCodeMessage
		cred, err = azidentity.NewDeviceCodeCredential(&azidentity.DeviceCodeCredentialOptions{
			ClientOptions:            client,
			ClientID:                 opts.ClientID, // "" -> azidentity's default public client
			TenantID:                 opts.TenantID, // "" -> "organizations"
			DisableInstanceDiscovery: noDiscovery,
			UserPrompt: func(ctx context.Context, m azidentity.DeviceCodeMessage) error {
				return show(ctx, m.Message)
			},
		})
	case AuthBrowser:
		cred, err = azidentity.NewInteractiveBrowserCredential(&azidentity.InteractiveBrowserCredentialOptions{
			ClientOptions:            client,
			ClientID:                 opts.ClientID,
			TenantID:                 opts.TenantID,
			DisableInstanceDiscovery: noDiscovery,
		})
	default:
		return nil, &ConfigError{Kind: kind, Setting: SettingKind, Value: opts.Kind}
	}
	if err != nil {
		return nil, &ConfigError{Kind: kind, Setting: SettingKind, Err: err}
	}
	return cred, nil
}

// authorityHost picks and checks the Entra host: AuthorityHost, else the
// cloud's, else the global one.
func authorityHost(opts AuthOptions) (string, error) {
	host := opts.AuthorityHost
	if host == "" {
		host = opts.Cloud.AuthorityHost
	}
	if host == "" {
		host = clouds[0].AuthorityHost
	}
	u, err := CheckEndpoint(host)
	if err != nil {
		return "", &ConfigError{Setting: SettingAuthorityHost, Err: err}
	}
	return u.String(), nil
}

// certificateCredential reads a PEM or PKCS#12 certificate file. Errors
// name the file, never the password.
func certificateCredential(opts AuthOptions, client azcore.ClientOptions, noDiscovery bool) (azcore.TokenCredential, error) {
	data, err := os.ReadFile(opts.CertificatePath)
	if err != nil {
		return nil, fmt.Errorf("%w: reading certificate: %w", ErrAuthConfig, err)
	}
	certs, key, err := azidentity.ParseCertificates(data, []byte(opts.CertificatePassword))
	if err != nil && opts.CertificatePassword != "" {
		// azidentity tries only PKCS#12 when given a password; a plain PEM
		// file with AZURE_CLIENT_CERTIFICATE_PASSWORD set anyway still works.
		if c, k, pemErr := azidentity.ParseCertificates(data, nil); pemErr == nil {
			certs, key, err = c, k, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%w: certificate %s is not a PEM or PKCS#12 file with a certificate and its private key (or its password is wrong): %w",
			ErrAuthConfig, opts.CertificatePath, err)
	}
	return azidentity.NewClientCertificateCredential(opts.TenantID, opts.ClientID, certs, key,
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: client, DisableInstanceDiscovery: noDiscovery})
}
