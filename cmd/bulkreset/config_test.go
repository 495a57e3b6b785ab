package main

import (
	"crypto/x509"
	"path/filepath"
	"testing"
	"time"

	"github.com/bulkreset/bulkreset/internal/certtest"
	"github.com/bulkreset/bulkreset/pkg/graphsim"
)

// TestConfigPrecedence: a flag beats its environment variable, which beats
// the default (README "Configuration"). A --cloud given on the command line
// beats $AZURE_AUTHORITY_HOST, and the sandbox ignores it.
func TestConfigPrecedence(t *testing.T) {
	vars := map[string]string{
		"AZURE_TENANT_ID":               "env-tenant",
		"AZURE_CLIENT_ID":               "env-client",
		"AZURE_CLIENT_CERTIFICATE_PATH": "/env/app.pem",
		"AZURE_AUTHORITY_HOST":          "https://login.env.example",
	}
	type settings struct{ tenant, clientID, certificate, authorityHost string }
	tests := []struct {
		name  string
		flags resetOptions // the flags given
		env   map[string]string
		want  settings
	}{
		{name: "defaults: nothing set", env: map[string]string{}, want: settings{}},
		{name: "environment over defaults", env: vars,
			want: settings{"env-tenant", "env-client", "/env/app.pem", "https://login.env.example"}},
		{name: "flags over environment", env: vars,
			flags: resetOptions{tenant: "flag-tenant", clientID: "flag-client", certificate: "/flag/app.pfx", authorityHost: "https://login.flag.example"},
			want:  settings{"flag-tenant", "flag-client", "/flag/app.pfx", "https://login.flag.example"}},
		{name: "one flag, the rest from the environment", env: vars, flags: resetOptions{tenant: "flag-tenant"},
			want: settings{"flag-tenant", "env-client", "/env/app.pem", "https://login.env.example"}},
		{name: "--cloud given beats AZURE_AUTHORITY_HOST", env: vars, flags: resetOptions{cloud: "usgov", cloudSet: true},
			want: settings{"env-tenant", "env-client", "/env/app.pem", ""}},
		{name: "--authority-host beats --cloud's host", env: vars, flags: resetOptions{cloud: "usgov", cloudSet: true, authorityHost: "https://login.flag.example"},
			want: settings{"env-tenant", "env-client", "/env/app.pem", "https://login.flag.example"}},
		{name: "the sandbox ignores AZURE_AUTHORITY_HOST", env: vars, flags: resetOptions{sandbox: sandboxBuiltin},
			want: settings{"env-tenant", "env-client", "/env/app.pem", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.flags
			o.input, o.passwordMode, o.passwordLength, o.batchSize, o.concurrency, o.maxAttempts = "users.csv", "none", 16, 20, 4, 8
			o.logFormat, o.output, o.requestTimeout = "text", filepath.Join(t.TempDir(), "r.csv"), 100*time.Second
			if o.cloud == "" {
				o.cloud = "global"
			}
			e := &env{getenv: func(k string) string { return tt.env[k] }}
			if err := o.validate(e, time.Now()); err != nil {
				t.Fatalf("validate: %v", err)
			}
			if got := (settings{o.tenant, o.clientID, o.certificate, o.authorityHost}); got != tt.want {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestConfigPrecedenceEndToEnd signs in to the emulator, whose token
// endpoint accepts one tenant, one app and one certificate: a run succeeds
// only with the values precedence must pick.
func TestConfigPrecedenceEndToEnd(t *testing.T) {
	certFile, cert := certtest.WritePEM(t, time.Now())
	users := graphsim.GenerateUsers(2, testDomain)
	tn := startTenant(t, graphsim.Options{ClientCertificates: []*x509.Certificate{cert}}, users)
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", "UserPrincipalName\n"+users[0].UPN+"\n")
	wrongCert, _ := certtest.WritePEM(t, time.Now()) // a certificate the app does not have
	const deadHost = "https://127.0.0.1:9"           // the discard port: nothing answers there

	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
	}{
		{"tenant and app from the environment", nil, []string{"--auth", "client-secret", "--authority-host", tn.srv.URL}, exitOK},
		{"flags beat a wrong environment",
			map[string]string{"AZURE_TENANT_ID": "11111111-2222-3333-4444-555555555555", "AZURE_CLIENT_ID": "66666666-7777-8888-9999-000000000000"},
			[]string{"--auth", "client-secret", "--authority-host", tn.srv.URL, "--tenant", testTenant, "--client-id", testClient}, exitOK},
		{"a wrong flag beats the right environment", nil,
			[]string{"--auth", "client-secret", "--authority-host", tn.srv.URL, "--client-id", "66666666-7777-8888-9999-000000000000"}, exitFatal},
		{"AZURE_AUTHORITY_HOST when no flag", map[string]string{"AZURE_AUTHORITY_HOST": tn.srv.URL},
			[]string{"--auth", "client-secret"}, exitOK},
		{"--authority-host beats AZURE_AUTHORITY_HOST", map[string]string{"AZURE_AUTHORITY_HOST": deadHost},
			[]string{"--auth", "client-secret", "--authority-host", tn.srv.URL}, exitOK},
		{"certificate from AZURE_CLIENT_CERTIFICATE_PATH", map[string]string{"AZURE_CLIENT_CERTIFICATE_PATH": certFile, "AZURE_CLIENT_SECRET": ""},
			[]string{"--auth", "certificate", "--authority-host", tn.srv.URL}, exitOK},
		{"--certificate beats AZURE_CLIENT_CERTIFICATE_PATH", map[string]string{"AZURE_CLIENT_CERTIFICATE_PATH": wrongCert, "AZURE_CLIENT_SECRET": ""},
			[]string{"--auth", "certificate", "--authority-host", tn.srv.URL, "--certificate", certFile}, exitOK},
		{"a wrong --certificate beats the right environment", map[string]string{"AZURE_CLIENT_CERTIFICATE_PATH": certFile, "AZURE_CLIENT_SECRET": ""},
			[]string{"--auth", "certificate", "--authority-host", tn.srv.URL, "--certificate", wrongCert}, exitFatal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := t.TempDir()
			args := append([]string{"reset", "-i", in, "-o", filepath.Join(out, "r.csv"), "--secrets", filepath.Join(out, "s.csv"),
				"--yes", "--quiet", "--graph-url", tn.srv.URL}, tt.args...)
			res := runCLI(t, t.Context(), tn.getenv(tt.env), args...)
			if res.code != tt.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", res.code, tt.code, res.stderr)
			}
		})
	}
}
