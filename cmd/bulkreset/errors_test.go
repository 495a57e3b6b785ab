package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// TestAuthErrorsNameFlags: pkg/graph names the settings it misses; the
// command line tells the user which flag or environment variable sets
// each one, and the exit code stays that of a usage error.
func TestAuthErrorsNameFlags(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", "UserPrincipalName\na@contoso.example\n")
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"client-secret without secret", map[string]string{"AZURE_TENANT_ID": testTenant, "AZURE_CLIENT_ID": testClient},
			[]string{"--auth", "client-secret"}, "--auth client-secret needs AZURE_CLIENT_SECRET"},
		{"client-secret without ids", map[string]string{"AZURE_CLIENT_SECRET": testSecret},
			[]string{"--auth", "client-secret"}, "--auth client-secret needs --tenant (or AZURE_TENANT_ID) and --client-id (or AZURE_CLIENT_ID)"},
		{"certificate without path", map[string]string{"AZURE_TENANT_ID": testTenant, "AZURE_CLIENT_ID": testClient},
			[]string{"--auth", "certificate"}, "--auth certificate needs --certificate (or AZURE_CLIENT_CERTIFICATE_PATH)"},
		{"workload-identity without file", map[string]string{"AZURE_TENANT_ID": testTenant, "AZURE_CLIENT_ID": testClient},
			[]string{"--auth", "workload-identity"}, "--auth workload-identity needs AZURE_FEDERATED_TOKEN_FILE"},
		{"bad tenant", map[string]string{"AZURE_CLIENT_ID": testClient, "AZURE_CLIENT_SECRET": testSecret},
			[]string{"--auth", "client-secret", "--tenant", "bad tenant/.."}, "--auth client-secret: invalid tenantID"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			args := append([]string{"reset", "-i", in, "-o", filepath.Join(dir, "results.csv"), "--discard-passwords", "--yes",
				"--graph-url", "https://127.0.0.1:9"}, tt.args...)
			res := runCLI(t, t.Context(), getenv, args...)
			if res.code != exitUsage || !strings.Contains(res.stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d saying %q", res.code, res.stderr, exitUsage, tt.want)
			}
		})
	}
}

// TestFlagErrorKeepsTheChain: the message names flags, and what the error
// wraps is still found by errors.Is and errors.As, so that exit codes and
// callers that test for a sentinel see the same error.
func TestFlagErrorKeepsTheChain(t *testing.T) {
	_, err := graph.NewCredential(graph.AuthOptions{Kind: graph.AuthDeviceCode})
	err = flagError(usagef("authentication: %w", err))
	const want = "authentication: authentication settings: --auth device-code needs a way to show the sign-in message"
	if err.Error() != want {
		t.Errorf("flagError = %q, want %q", err, want)
	}
	var ue usageError
	if !errors.Is(err, graph.ErrMissingDeviceCodePrompt) || !errors.Is(err, graph.ErrAuthConfig) || !errors.As(err, &ue) {
		t.Errorf("flagError(%v) lost what it wraps", err)
	}
	_, err = graph.NewCredential(graph.AuthOptions{Kind: "password"})
	if got := flagError(err).Error(); got != `authentication settings: unknown --auth "password": valid kinds are `+strings.Join(graph.AuthKinds(), ", ") {
		t.Errorf("flagError(unknown kind) = %q", got)
	}
	_, err = graph.NewCredential(graph.AuthOptions{Kind: graph.AuthClientSecret, TenantID: testTenant, ClientID: testClient,
		ClientSecret: testSecret, AuthorityHost: "http://login.example.test"})
	if got := flagError(err).Error(); !strings.HasPrefix(got, "authentication settings: --authority-host: invalid endpoint") {
		t.Errorf("flagError(http authority) = %q", got)
	}
	if flagError(nil) != nil {
		t.Error("flagError(nil) != nil")
	}
	plain := errors.New("no setting here")
	if flagError(plain) != plain {
		t.Error("flagError changed an error that names no setting")
	}
}

// TestResumeErrorsNameFlag: a results file that one run of this input
// cannot have written stops --resume before anything is sent, and the
// message names --resume.
func TestResumeErrorsNameFlag(t *testing.T) {
	users := graphsim.GenerateUsers(1, testDomain)
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", "UserPrincipalName\n"+users[0].UPN+"\n")
	row := "2," + users[0].UPN + ",,succeeded,,204,,,1,false,,\n"
	results := writeFile(t, dir, "results.csv", strings.Join(report.ResultsHeader, ",")+"\n"+row+row)
	res := runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", results, "--discard-passwords",
		"--yes", "--resume"}, tn.authArgs()...)...)
	want := "--resume: results file " + results + " has line 2 twice"
	if res.code != exitUsage || !strings.Contains(res.stderr, want) {
		t.Errorf("exit %d, stderr %q; want %d saying %q", res.code, res.stderr, exitUsage, want)
	}
	if u, _ := tn.sim.User(users[0].UPN); u.PasswordSets != 0 {
		t.Errorf("the user's password was set %d times, want 0", u.PasswordSets)
	}

	// The input changed: its line 2 is not the user the earlier run wrote.
	other := writeFile(t, dir, "other.csv", strings.Join(report.ResultsHeader, ",")+"\n2,someone.else@"+testDomain+",,succeeded,,204,,,1,false,,\n")
	res = runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", other, "--discard-passwords",
		"--yes", "--resume"}, tn.authArgs()...)...)
	want = "--resume: line 2 of the input is not the user the earlier run wrote for it"
	if res.code != exitFatal || !strings.Contains(res.stderr, want) {
		t.Errorf("input changed: exit %d, stderr %q; want %d saying %q", res.code, res.stderr, exitFatal, want)
	}
	if u, _ := tn.sim.User(users[0].UPN); u.PasswordSets != 0 {
		t.Errorf("the user's password was set %d times, want 0", u.PasswordSets)
	}
}

// TestLogFileNamesFlags: an error that stops a run before any row is sent
// reaches the log file with the same flag names as standard error.
func TestLogFileNamesFlags(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", "UserPrincipalName\na@contoso.example\n")
	logFile := filepath.Join(dir, "run.log")
	getenv := func(k string) string {
		return map[string]string{"AZURE_TENANT_ID": testTenant, "AZURE_CLIENT_ID": testClient}[k]
	}
	res := runCLI(t, t.Context(), getenv, "reset", "-i", in, "-o", filepath.Join(dir, "results.csv"), "--discard-passwords", "--yes",
		"--graph-url", "https://127.0.0.1:9", "--auth", "client-secret", "--log-file", logFile)
	const want = "--auth client-secret needs AZURE_CLIENT_SECRET"
	if res.code != exitUsage || !strings.Contains(res.stderr, want) {
		t.Errorf("exit %d, stderr %q; want %d saying %q", res.code, res.stderr, exitUsage, want)
	}
	if got := readFile(t, logFile); !strings.Contains(got, want) {
		t.Errorf("log file %q does not say %q", got, want)
	}
}
