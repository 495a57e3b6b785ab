package main

import (
	"crypto/x509"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulkreset/bulkreset/internal/certtest"
	"github.com/bulkreset/bulkreset/pkg/graphsim"
)

// signInCase is one sign-in failure an administrator meets: the tenant it
// happens in, the flags and environment of the run, and what the one line
// on standard error must say.
type signInCase struct {
	name  string
	opts  graphsim.Options
	setup func(t *testing.T, tn *tenant) (args []string, env map[string]string)
	want  []string // each is in the one line
	debug string   // the log file's debug record of the raw error has it
	// textOnly runs the case with text logs only: azidentity retries a
	// silent endpoint for seconds, and the JSON record is the same line.
	textOnly bool
}

// secretArgs sign in with the client secret of the environment.
func secretArgs(tn *tenant) []string {
	return []string{"--auth", "client-secret", "--authority-host", tn.srv.URL}
}

// certArgs sign in with the certificate file.
func certArgs(tn *tenant, file string) []string {
	return []string{"--auth", "certificate", "--certificate", file, "--authority-host", tn.srv.URL}
}

// hermeticChain keeps azidentity's default chain to what is on this
// machine and in the test's environment: no AZURE_* variable of the
// developer's, no managed-identity endpoint, no az or azd on PATH (the
// developer half of the chain, which probes no network).
func hermeticChain(t *testing.T) {
	for _, v := range []string{"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
		"AZURE_FEDERATED_TOKEN_FILE", "AZURE_USERNAME", "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT",
		"MSI_ENDPOINT", "IMDS_ENDPOINT", "AZURE_TOKEN_CREDENTIALS"} {
		t.Setenv(v, "")
		_ = os.Unsetenv(v)
	}
	t.Setenv("AZURE_TOKEN_CREDENTIALS", "dev")
	t.Setenv("PATH", t.TempDir())
}

// managedIdentityHost makes this process an App Service host whose
// managed-identity endpoint is at url.
func managedIdentityHost(t *testing.T, url string) {
	hermeticChain(t)
	t.Setenv("IDENTITY_ENDPOINT", url)
	t.Setenv("IDENTITY_HEADER", "identity-header-of-the-host")
}

// closedPort is a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func signInCases(t *testing.T) []signInCase {
	now := time.Now()
	_, registered := certtest.WritePEM(t, now)
	expiredFile, expired := certtest.WritePEM(t, now.Add(-72*time.Hour))
	otherFile, _ := certtest.WritePEM(t, now)
	noSecret := map[string]string{"AZURE_CLIENT_SECRET": ""}
	const otherApp = "0f9e8d7c-6b5a-4c3d-8e2f-000000000bad"
	const otherTenant = "8a1f3e2b-6c4d-4e5f-9a0b-000000000bad"
	return []signInCase{
		{name: "no credential found", setup: func(t *testing.T, tn *tenant) ([]string, map[string]string) {
			hermeticChain(t)
			return []string{"--authority-host", tn.srv.URL}, map[string]string{"AZURE_CLIENT_SECRET": "", "AZURE_TENANT_ID": "", "AZURE_CLIENT_ID": ""}
		}, want: []string{"no credential to sign in with", "AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "--auth device-code", "--sandbox"},
			debug: "AzureCLICredential"},
		{name: "wrong client secret", setup: func(t *testing.T, tn *tenant) ([]string, map[string]string) {
			return secretArgs(tn), map[string]string{"AZURE_CLIENT_SECRET": "wrong-secret-value-7Hq~d.Zk3_Lm9-Rt6pWx0a"}
		}, want: []string{"AZURE_CLIENT_SECRET is not a valid secret of app " + testClient, "AADSTS7000215", "Value"}, debug: "AADSTS7000215"},
		{name: "expired client secret", opts: graphsim.Options{Refuse: graphsim.RefuseSecretExpired}, setup: func(t *testing.T, tn *tenant) ([]string, map[string]string) {
			return secretArgs(tn), nil
		}, want: []string{"client secret of app " + testClient + " has expired", "AADSTS7000222", "new client secret", "AZURE_CLIENT_SECRET"}, debug: "AADSTS7000222"},
		{name: "certificate not registered", opts: graphsim.Options{ClientCertificates: []*x509.Certificate{registered}}, setup: func(t *testing.T, tn *tenant) ([]string, map[string]string) {
			return certArgs(tn, otherFile), noSecret
		}, want: []string{"certificate " + otherFile + " is not registered on app " + testClient, "AADSTS700027", "Certificates & secrets"}, debug: "AADSTS700027"},
		{name: "certificate expired", opts: graphsim.Options{ClientCertificates: []*x509.Certificate{registered, expired}}, setup: func(t *testing.T, tn *tenant) ([]string, map[string]string) {
			return certArgs(tn, expiredFile), noSecret
		}, want: []string{"certificate " + expiredFile + " has expired", "AADSTS1000502", "--certificate"}, debug: "AADSTS1000502"},
		{name: "app not found", setup: func(t *testing.T, tn *tenant) ([]string, map[string]string) {
			return append(secretArgs(tn), "--client-id", otherApp), nil
		}, want: []string{"app " + otherApp + " is not consented in tenant " + testTenant + ", or not found there", "AADSTS700016", "--client-id", "admin consent"}, debug: "AADSTS700016"},
		{name: "app without service principal", opts: graphsim.Options{Refuse: graphsim.RefuseNoServicePrincipal}, setup: func(t *testing.T, tn *tenant) ([]string, map[string]string) {
			return secretArgs(tn), nil
		}, want: []string{"app " + testClient + " is not consented in tenant " + testTenant + ", or not found there", "AADSTS7000229", "admin consent"}, debug: "AADSTS7000229"},
		{name: "app not consented", opts: graphsim.Options{Refuse: graphsim.RefuseNotConsented}, setup: func(t *testing.T, tn *tenant) ([]string, map[string]string) {
			return secretArgs(tn), nil
		}, want: []string{"app " + testClient + " is not consented in tenant " + testTenant + ", or not found there", "AADSTS65001", "admin consent"}, debug: "AADSTS65001"},
		{name: "tenant not found", setup: func(t *testing.T, tn *tenant) ([]string, map[string]string) {
			return append(secretArgs(tn), "--tenant", otherTenant), nil
		}, want: []string{"tenant " + otherTenant + " was not found", "AADSTS90002", "--tenant", "--cloud"}, debug: "AADSTS90002"},
		{name: "invalid tenant identifier", setup: func(t *testing.T, tn *tenant) ([]string, map[string]string) {
			return append(secretArgs(tn), "--tenant", "contoso"), nil
		}, want: []string{`"contoso" is neither a tenant id nor a domain`, "AADSTS900023", "contoso.onmicrosoft.com"}, debug: "AADSTS900023"},
		{name: "managed identity not available", setup: func(t *testing.T, tn *tenant) ([]string, map[string]string) {
			managedIdentityHost(t, "http://"+closedPort(t)+"/msi/token")
			return []string{"--auth", "managed-identity"}, noSecret
		}, want: []string{"no managed identity endpoint answered", "Azure VM", "--auth client-secret"}, debug: "ManagedIdentityCredential", textOnly: true},
		{name: "managed identity not assigned", setup: func(t *testing.T, tn *tenant) ([]string, map[string]string) {
			managedIdentityHost(t, tn.srv.URL+graphsim.ManagedIdentityPath)
			return []string{"--auth", "managed-identity"}, noSecret
		}, want: []string{"no managed identity is assigned to this Azure host", "--client-id"}, debug: "Unable to load the proper Managed Identity"},
	}
}

// TestSignInErrors: each sign-in failure, met through the real azidentity
// code against the emulator's token endpoint (or its App Service
// managed-identity endpoint), ends the run before anything is read or
// written with exit 1 and one line that says what to set or do, in text
// and as the JSON error record; the raw error is in the log file at debug
// level; no secret is anywhere.
func TestSignInErrors(t *testing.T) {
	users := graphsim.GenerateUsers(2, testDomain)
	for _, tc := range signInCases(t) {
		formats := []string{"text", "json"}
		if tc.textOnly {
			formats = formats[:1]
		}
		for _, format := range formats {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				tn := startTenant(t, tc.opts, users)
				args, env := tc.setup(t, tn)
				dir := t.TempDir()
				in := writeFile(t, dir, "users.csv", "UserPrincipalName\n"+users[0].UPN+"\n")
				logFile := filepath.Join(dir, "run.log")
				res := runCLI(t, t.Context(), tn.getenv(env), append([]string{"reset", "-i", in, "-o", filepath.Join(dir, "r.csv"),
					"--secrets", filepath.Join(dir, "s.csv"), "--yes", "--graph-url", tn.srv.URL, "--log-file", logFile, "--log-format", format}, args...)...)
				if res.code != exitFatal {
					t.Fatalf("exit code %d, want %d (sign-in failed); stderr:\n%s", res.code, exitFatal, res.stderr)
				}
				line := signInLine(t, res.stderr, format)
				for _, w := range tc.want {
					if !strings.Contains(line, w) {
						t.Errorf("the error line does not say %q:\n%s", w, line)
					}
				}
				for _, noise := range []string{"169.254", "DefaultAzureCredential", "RESPONSE", "Trace ID", "getting an access token"} {
					if strings.Contains(res.stderr, noise) {
						t.Errorf("standard error holds the SDK's raw error (%q):\n%s", noise, res.stderr)
					}
				}
				log := readFile(t, logFile)
				if !strings.Contains(log, "DEBUG") || !strings.Contains(log, tc.debug) {
					t.Errorf("the log file has no debug record of the raw error with %q:\n%s", tc.debug, log)
				}
				secrets := append([]string{testSecret, "identity-header-of-the-host"}, tn.sim.IssuedTokens()...)
				for name, out := range map[string]string{"stdout": res.stdout, "stderr": res.stderr, "log file": log} {
					for _, s := range secrets {
						if strings.Contains(out, s) {
							t.Errorf("%s contains a secret", name)
						}
					}
				}
				if st := tn.sim.Stats(); st.Batches != 0 || st.TokensIssued != 0 {
					t.Errorf("a run that could not sign in got a token or sent requests: %+v", st)
				}
			})
		}
	}
}

// signInLine is the error the run printed on standard error: the one
// line after "bulkreset: ", or the message of the last JSON record, which
// must be an error record with the exit code.
func signInLine(t *testing.T, stderr, format string) string {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	last := lines[len(lines)-1]
	if format == "text" {
		if len(lines) != 1 || !strings.HasPrefix(last, "bulkreset: ") {
			t.Fatalf("standard error is not one line \"bulkreset: …\":\n%s", stderr)
		}
		return strings.TrimPrefix(last, "bulkreset: ")
	}
	var rec struct {
		Level    string `json:"level"`
		Msg      string `json:"msg"`
		ExitCode int    `json:"exit_code"`
	}
	if err := json.Unmarshal([]byte(last), &rec); err != nil || rec.Level != "ERROR" || rec.ExitCode != exitFatal || strings.Contains(rec.Msg, "\n") {
		t.Fatalf("the last line of standard error is not a one-line JSON error record with exit_code %d (%v):\n%s", exitFatal, err, stderr)
	}
	return rec.Msg
}

// TestSecretExpiresMidRun: a token that cannot be renewed in the middle
// of a run (the secret expired since the run signed in) stops it with
// exit 1 and the same one line, and the command that finishes the run.
func TestSecretExpiresMidRun(t *testing.T) {
	users := graphsim.GenerateUsers(300, testDomain)
	// One-second tokens and a write quota that makes the run last several
	// seconds: the first renewal of the token is refused.
	tn := startTenant(t, graphsim.Options{Refuse: graphsim.RefuseSecretExpired, RefuseAfter: 1, TokenLifetime: time.Second,
		WriteBurst: 20, WriteRate: 40}, users)
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("UserPrincipalName\n")
	for _, u := range users {
		csv.WriteString(u.UPN + "\n")
	}
	in, results, logFile := writeFile(t, dir, "users.csv", csv.String()), filepath.Join(dir, "r.csv"), filepath.Join(dir, "run.log")
	res := runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", results, "--secrets", filepath.Join(dir, "s.csv"),
		"--yes", "--quiet", "--graph-url", tn.srv.URL, "--log-file", logFile, "--preflight=false"}, secretArgs(tn)...)...)
	if res.code != exitFatal {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitFatal, res.stderr)
	}
	want := "the client secret of app " + testClient + " has expired (AADSTS7000222)"
	if !strings.Contains(res.stderr, want) || !strings.Contains(res.stderr, "--resume") {
		t.Errorf("standard error does not say %q and how to resume:\n%s", want, res.stderr)
	}
	if strings.Contains(res.stderr, "getting an access token") {
		t.Errorf("standard error holds the SDK's raw error:\n%s", res.stderr)
	}
	if n := len(readResults(t, results)); n == 0 || n == len(users) {
		t.Errorf("%d rows finished, want some but not all (the run stopped at the renewal)", n)
	}
	log := readFile(t, logFile)
	for _, s := range append([]string{testSecret}, tn.sim.IssuedTokens()...) {
		if strings.Contains(res.stderr+res.stdout+log, s) {
			t.Error("the output or the log contains a secret")
		}
	}
}
