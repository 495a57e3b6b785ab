package graph

import (
	"errors"
	"fmt"
	"strings"
)

// Setting is one of the authentication settings in AuthOptions. Errors of
// this package name a setting by its String, never by a flag or an
// environment variable: a command line names its own (see ConfigError.Text).
type Setting int

// The settings NewCredential may find missing or wrong.
const (
	SettingKind               Setting = iota + 1 // AuthOptions.Kind
	SettingTenant                                // AuthOptions.TenantID
	SettingClientID                              // AuthOptions.ClientID
	SettingClientSecret                          // AuthOptions.ClientSecret
	SettingCertificate                           // AuthOptions.CertificatePath
	SettingFederatedTokenFile                    // AuthOptions.FederatedTokenFile
	SettingAuthorityHost                         // AuthOptions.AuthorityHost
	SettingDeviceCodePrompt                      // AuthOptions.DeviceCodeMessage
)

// String names s as an error of this package does.
func (s Setting) String() string {
	switch s {
	case SettingKind:
		return "auth kind"
	case SettingTenant:
		return "the tenant"
	case SettingClientID:
		return "the client id"
	case SettingClientSecret:
		return "the client secret"
	case SettingCertificate:
		return "the certificate"
	case SettingFederatedTokenFile:
		return "the federated token file"
	case SettingAuthorityHost:
		return "authority host"
	case SettingDeviceCodePrompt:
		return "a way to show the sign-in message"
	}
	return fmt.Sprintf("setting %d", int(s))
}

// Sentinels matched by errors.Is on a *ConfigError: one for each setting a
// kind may need and not be given, and one for a kind that does not exist.
var (
	ErrMissingTenant             = errors.New("missing tenant")
	ErrMissingClientID           = errors.New("missing client id")
	ErrMissingClientSecret       = errors.New("missing client secret")
	ErrMissingCertificate        = errors.New("missing certificate")
	ErrMissingFederatedTokenFile = errors.New("missing federated token file")
	ErrMissingDeviceCodePrompt   = errors.New("missing device-code prompt")
	ErrUnknownAuthKind           = errors.New("unknown auth kind")
)

// missingErrs maps a setting to its ErrMissing sentinel.
var missingErrs = map[Setting]error{
	SettingTenant:             ErrMissingTenant,
	SettingClientID:           ErrMissingClientID,
	SettingClientSecret:       ErrMissingClientSecret,
	SettingCertificate:        ErrMissingCertificate,
	SettingFederatedTokenFile: ErrMissingFederatedTokenFile,
	SettingDeviceCodePrompt:   ErrMissingDeviceCodePrompt,
}

// ConfigError is an authentication setting NewCredential found missing or
// wrong. Exactly one of its forms is used:
//
//   - Missing lists the settings Kind needs and was not given;
//   - Setting is SettingKind and Value an auth kind that does not exist;
//   - Setting is the setting whose value Err refuses (SettingKind: the
//     credential of Kind refused the values it was given).
//
// Every form but the last wraps ErrAuthConfig.
type ConfigError struct {
	Kind    string    // the auth kind being built, lower case
	Missing []Setting // settings Kind needs and was not given
	Setting Setting   // the setting at fault, when Missing is empty
	Value   string    // the unknown auth kind
	Err     error     // the cause, if any
}

// Error names the settings as Setting.String does.
func (e *ConfigError) Error() string { return e.Text(Setting.String) }

// Text is the error's message with each setting named by name, so that a
// command line can name its flags and environment variables instead.
func (e *ConfigError) Text(name func(Setting) string) string {
	switch {
	case len(e.Missing) > 0:
		names := make([]string, len(e.Missing))
		for i, s := range e.Missing {
			names[i] = name(s)
		}
		return fmt.Sprintf("%v: %s %s needs %s", ErrAuthConfig, name(SettingKind), e.Kind, strings.Join(names, " and "))
	case e.Setting == SettingKind && e.Err == nil:
		return fmt.Sprintf("%v: unknown %s %q: valid kinds are %s", ErrAuthConfig, name(SettingKind), e.Value, strings.Join(AuthKinds(), ", "))
	case e.Setting == SettingKind:
		return fmt.Sprintf("%s %s: %v", name(SettingKind), e.Kind, e.Err)
	default:
		return fmt.Sprintf("%v: %s: %v", ErrAuthConfig, name(e.Setting), e.Err)
	}
}

// Unwrap returns ErrAuthConfig (but for a credential's own refusal), the
// ErrMissing sentinel of each missing setting, ErrUnknownAuthKind for an
// unknown kind, and the cause.
func (e *ConfigError) Unwrap() []error {
	var errs []error
	if e.Setting != SettingKind || e.Err == nil {
		errs = append(errs, ErrAuthConfig)
	}
	for _, s := range e.Missing {
		if sentinel, ok := missingErrs[s]; ok {
			errs = append(errs, sentinel)
		}
	}
	if len(e.Missing) == 0 && e.Setting == SettingKind && e.Err == nil {
		errs = append(errs, ErrUnknownAuthKind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}
