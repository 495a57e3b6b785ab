package main

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// settingFlags names each authentication setting as a user sets it: its
// flag and environment variable (docs/cli.md, "Sign-in"). A setting not
// here keeps the name pkg/graph gives it.
var settingFlags = map[graph.Setting]string{
	graph.SettingKind:               "--auth",
	graph.SettingTenant:             "--tenant (or AZURE_TENANT_ID)",
	graph.SettingClientID:           "--client-id (or AZURE_CLIENT_ID)",
	graph.SettingClientSecret:       "AZURE_CLIENT_SECRET",
	graph.SettingCertificate:        "--certificate (or AZURE_CLIENT_CERTIFICATE_PATH)",
	graph.SettingFederatedTokenFile: "AZURE_FEDERATED_TOKEN_FILE",
	graph.SettingAuthorityHost:      "--authority-host",
}

// flagName is the flag or environment variable that sets s.
func flagName(s graph.Setting) string {
	if name, ok := settingFlags[s]; ok {
		return name
	}
	return s.String()
}

// flagError is err as the command line shows it: the packages name the
// setting at fault (a *graph.ConfigError, a *report.ResumeError), and the
// user needs the flag or environment variable that sets it. The message
// changes; what err wraps, and so its exit code, does not. An err that
// names no setting is returned as it is.
func flagError(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	var ce *graph.ConfigError
	if errors.As(err, &ce) {
		msg = strings.Replace(msg, ce.Error(), ce.Text(flagName), 1)
	}
	var re *report.ResumeError
	if errors.As(err, &re) {
		msg = strings.Replace(msg, re.Error(), "--resume: "+re.Err.Error(), 1)
	}
	if msg == err.Error() {
		return err
	}
	return flagged{msg: msg, err: err}
}

// flagged is an error shown with flag names; it wraps the original.
type flagged struct {
	msg string
	err error
}

func (e flagged) Error() string { return e.msg }
func (e flagged) Unwrap() error { return e.err }

// signInContext is what a sign-in message names: the values the run
// signed in with, and whether the tenant came from the input's TenantId
// column (a many-tenant run) rather than --tenant.
type signInContext struct {
	tenant, clientID, certificate string
	tenantColumn                  bool
}

// signInMessage is the one line that says what to set or do after a
// sign-in failure f, or "" for a cause it has no words for. The AADSTS
// code, when there is one, is named so that it can be looked up.
func signInMessage(f graph.SignInFailure, c signInContext) string {
	tenant, app := c.tenant, c.clientID
	if tenant == "" {
		tenant = "(the sign-in's default)" // --auth azure-cli, device-code or browser without --tenant
	}
	if app == "" {
		app = "(the default sign-in app)"
	}
	code := ""
	if f.Code != "" {
		code = " (" + f.Code + ")"
	}
	tenantSetting := "--tenant (AZURE_TENANT_ID)"
	if c.tenantColumn {
		tenantSetting = "the TenantId cell"
	}
	switch f.Cause {
	case graph.CauseNoCredential:
		return "no credential to sign in with: for an app registration set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (a client secret) " +
			"or AZURE_CLIENT_CERTIFICATE_PATH (a certificate); --auth device-code signs an administrator in instead; " +
			"--sandbox tries bulkreset on a built-in emulated tenant, with no tenant or credential"
	case graph.CauseWrongSecret:
		return fmt.Sprintf("AZURE_CLIENT_SECRET is not a valid secret of app %s%s: copy the secret's Value (not its Secret ID) from the app registration's Certificates & secrets, "+
			"or create a new client secret there", app, code)
	case graph.CauseSecretExpired:
		return fmt.Sprintf("the client secret of app %s has expired%s: create a new client secret in the app registration's Certificates & secrets and put its Value in AZURE_CLIENT_SECRET", app, code)
	case graph.CauseCertificateNotRegistered:
		return fmt.Sprintf("the certificate %s is not registered on app %s%s: upload its public part (.cer, .pem or .crt, without the key) to the app registration's Certificates & secrets, "+
			"or point --certificate (AZURE_CLIENT_CERTIFICATE_PATH) to the certificate that is", c.certificate, app, code)
	case graph.CauseCertificateExpired:
		return fmt.Sprintf("the certificate %s has expired or is not valid yet%s: create a new one, upload its public part to app %s's Certificates & secrets, "+
			"and point --certificate (AZURE_CLIENT_CERTIFICATE_PATH) to it", c.certificate, code, app)
	case graph.CauseClockSkew:
		return fmt.Sprintf("Entra refused the signed sign-in request as outside its valid time%s: set this machine's clock right (synchronise it with a time server)", code)
	case graph.CauseAppNotConsented:
		return fmt.Sprintf("app %s is not consented in tenant %s, or not found there%s: check --client-id (AZURE_CLIENT_ID) and %s; "+
			"an administrator of that tenant must grant the app admin consent (App registrations or Enterprise applications, API permissions, Grant admin consent)",
			app, tenant, code, tenantSetting)
	case graph.CauseAppDisabled:
		return fmt.Sprintf("app %s is disabled in tenant %s%s: an administrator enables it (Enterprise applications, the app, Properties, Enabled for users to sign-in)", app, tenant, code)
	case graph.CauseTenantNotFound:
		return fmt.Sprintf("tenant %s was not found%s: check %s, and that the tenant is in the cloud --cloud names", tenant, code, tenantSetting)
	case graph.CauseInvalidTenant:
		return fmt.Sprintf("%q is neither a tenant id nor a domain%s: set %s to the tenant's id (a GUID) or one of its domains, such as contoso.onmicrosoft.com", tenant, code, tenantSetting)
	case graph.CauseGraphUnavailable:
		return fmt.Sprintf("Microsoft Graph is not available to the app in tenant %s%s", tenant, code)
	case graph.CauseConditionalAccess:
		return fmt.Sprintf("a Conditional Access policy of tenant %s blocks the app's sign-in%s: exclude the app (or this location) from the policy", tenant, code)
	case graph.CauseManagedIdentityUnavailable:
		return "no managed identity endpoint answered: --auth managed-identity works on an Azure VM, Arc-enabled server, App Service or Functions host with a managed identity; " +
			"elsewhere use an app registration (--auth client-secret or certificate)"
	case graph.CauseManagedIdentityNotAssigned:
		what := "no managed identity is assigned to this Azure host"
		if c.clientID != "" {
			what = fmt.Sprintf("no managed identity is assigned to this Azure host, or not the one --client-id (AZURE_CLIENT_ID) names (%s)", c.clientID)
		}
		return what + ": assign one (the resource's Identity page) and give it the Graph permissions and role, or use an app registration (--auth client-secret or certificate)"
	}
	return ""
}

// signInError is a failed sign-in said as what to set or do: its message
// is that line; it wraps the credential's error (which wraps
// graph.ErrAuthentication).
type signInError struct {
	msg string
	err error
}

func (e *signInError) Error() string { return "authentication failed: " + e.msg }
func (e *signInError) Unwrap() error { return e.err }

// explainSignIn returns err, a failed sign-in, as a *signInError when its
// cause is known (else err itself), and logs the credential's own error,
// its secrets masked, at debug level: the log file always has it.
func explainSignIn(err error, c signInContext, logger *slog.Logger) error {
	if errors.As(err, new(*signInError)) {
		return err // explained where it happened (a tenant's lane)
	}
	var te *graph.TokenError
	if errors.As(err, &te) {
		logger.Debug("sign-in failed: the credential's own error", "credential_error", te.Detail())
	}
	f, ok := graph.DiagnoseSignIn(err)
	if !ok {
		return err
	}
	msg := signInMessage(f, c)
	if msg == "" {
		return err
	}
	return &signInError{msg: msg, err: err}
}
