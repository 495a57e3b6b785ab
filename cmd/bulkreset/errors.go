package main

import (
	"errors"
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
