package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/internal/certtest"
	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// The identity the end-to-end tests sign in with: the real azidentity
// client-secret flow against graphsim's token endpoint.
const (
	testTenant = "8a1f3e2b-6c4d-4e5f-9a0b-1c2d3e4f5a6b"
	testClient = "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"
	testSecret = "e2e-client-secret~Q8v.Zk3_Lm9-Rt6pWx"
	testDomain = "fabrikam.example"
)

// tenant is an emulated tenant on loopback with a planned input file.
type tenant struct {
	sim    *graphsim.Sim
	srv    *graphsim.Server
	caFile string
}

func startTenant(t *testing.T, opts graphsim.Options, users []graphsim.User) *tenant {
	t.Helper()
	sim := newSim(t, opts, users)
	srv, err := sim.Start()
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(srv.Close)
	return &tenant{sim: sim, srv: srv, caFile: certtest.WriteCA(t, srv.Certificate)}
}

// newSim is an emulated tenant of users in which the test app
// (testClient, testSecret) is registered.
func newSim(t *testing.T, opts graphsim.Options, users []graphsim.User) *graphsim.Sim {
	t.Helper()
	opts.TenantID, opts.ClientID, opts.ClientSecret = testTenant, testClient, testSecret
	sim := graphsim.New(opts)
	if err := sim.AddUsers(users); err != nil {
		t.Fatalf("AddUsers: %v", err)
	}
	return sim
}

// getenv is the environment of a scheduled task: the client secret in
// AZURE_CLIENT_SECRET, and the emulator's certificate trusted through
// SSL_CERT_FILE.
func (tn *tenant) getenv(extra map[string]string) func(string) string {
	env := map[string]string{
		"AZURE_CLIENT_SECRET": testSecret,
		"AZURE_TENANT_ID":     testTenant,
		"AZURE_CLIENT_ID":     testClient,
		"SSL_CERT_FILE":       tn.caFile,
	}
	for k, v := range extra {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

// authArgs point the tool at the emulator with client-secret auth.
func (tn *tenant) authArgs() []string {
	return []string{"--auth", "client-secret", "--graph-url", tn.srv.URL, "--authority-host", tn.srv.URL}
}

// runResult is what one in-process run of the CLI produced.
type runResult struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, ctx context.Context, getenv func(string) string, args ...string) runResult {
	t.Helper()
	return runCLIStdin(t, ctx, "", getenv, args...)
}

// runCLIStdin is runCLI with stdin as standard input (a pipe's).
func runCLIStdin(t *testing.T, ctx context.Context, stdin string, getenv func(string) string, args ...string) runResult {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, strings.NewReader(stdin), &stdout, &stderr, getenv)
	return runResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// expect is the planned outcome of one input row.
type expect struct {
	line    int
	user    string
	outcome report.Outcome
	reason  report.Reason
	reset   bool   // the tenant's user must end with the recorded password
	upn     string // the tenant user this row targets, when reset or checked
}

// plan1000 builds the acceptance scenario: 1,000 input rows for a tenant of
// members, guests, a UPN beginning with $, one with an apostrophe, a synced
// user, an admin the app may not reset, a disabled account, plus rows for a
// user that does not exist, a duplicate and an invalid UPN. Users of the
// tenant not in the input must stay untouched.
func plan1000(t *testing.T) (users []graphsim.User, csv string, rows []expect) {
	t.Helper()
	return planRows(t, 1000)
}

// planRows is plan1000 with n input rows.
func planRows(t *testing.T, n int) (users []graphsim.User, csv string, rows []expect) {
	t.Helper()
	users = graphsim.GenerateUsers(n+100, testDomain) // 100 are never listed
	special := []graphsim.User{
		{UPN: "ann_partner.example#EXT#@" + testDomain, Kind: graphsim.KindGuest},
		{UPN: "bob_contractor.example#EXT#@" + testDomain, Kind: graphsim.KindGuest},
		{UPN: "$svc-backup@" + testDomain, Kind: graphsim.KindMember},
		{UPN: "dana.o'neil@" + testDomain, Kind: graphsim.KindMember},
		{UPN: "sync.user@" + testDomain, Kind: graphsim.KindSynced},
		{UPN: "global.admin@" + testDomain, Kind: graphsim.KindAdmin},
		{UPN: "left.company@" + testDomain, Kind: graphsim.KindDisabled},
	}
	for i := range special {
		special[i].ID = fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1)
	}
	users = append(users, special...)

	var b strings.Builder
	b.WriteString("UserPrincipalName,DisplayName,Department\n")
	line := 1
	add := func(user string, e expect) {
		line++
		fmt.Fprintf(&b, "%s,Name %d,Dept\n", user, line)
		e.line, e.user = line, user
		rows = append(rows, e)
	}
	for _, u := range special {
		switch u.Kind {
		case graphsim.KindSynced:
			// The preflight finds it synced: no write is sent (--synced skip).
			add(u.UPN, expect{outcome: report.Skipped, reason: "synced_user", upn: u.UPN})
		case graphsim.KindAdmin:
			add(u.UPN, expect{outcome: report.Failed, reason: "insufficient_privileges", upn: u.UPN})
		case graphsim.KindGuest:
			// An external guest (#EXT#): the preflight skips its reset.
			add(u.UPN, expect{outcome: report.Skipped, reason: "external_guest", upn: u.UPN})
		default:
			add(u.UPN, expect{outcome: report.Succeeded, reset: true, upn: u.UPN})
		}
	}
	add("nobody.here@"+testDomain, expect{outcome: report.Failed, reason: "not_found"})
	add("not-an-upn", expect{outcome: report.Invalid, reason: "invalid_upn"})
	for i := 0; len(rows) < n-1; i++ {
		add(users[i].UPN, expect{outcome: report.Succeeded, reset: true, upn: users[i].UPN})
	}
	// The same user again, in other letter case: reset once.
	add(strings.ToUpper(users[5].UPN), expect{outcome: report.Duplicate, upn: users[5].UPN})
	if len(rows) != n {
		t.Fatalf("planned %d rows, want %d", len(rows), n)
	}
	return users, b.String(), rows
}

// withoutPreflight changes the planned outcomes of rows for a run with
// --preflight=false: nothing tells a synced user or an external guest
// before the write, so Graph refuses the synced user's reset and the
// guest is reset like any user.
func withoutPreflight(rows []expect) {
	for i := range rows {
		switch rows[i].reason {
		case "synced_user":
			rows[i].outcome = report.Failed
		case "external_guest":
			rows[i].outcome, rows[i].reason, rows[i].reset = report.Succeeded, "", true
		}
	}
}

// readResults parses a results file and indexes it by line, failing on a
// line given twice.
func readResults(t *testing.T, path string) map[int]report.Result {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("results file: %v", err)
	}
	defer f.Close()
	return resultsFrom(t, f)
}

// resultsFrom is readResults of the results in r (standard output's).
func resultsFrom(t *testing.T, r io.Reader) map[int]report.Result {
	t.Helper()
	rs, err := report.ReadResults(r)
	if err != nil {
		t.Fatalf("ReadResults: %v", err)
	}
	byLine := map[int]report.Result{}
	for _, r := range rs {
		if _, dup := byLine[r.Line]; dup {
			t.Errorf("results: line %d appears twice", r.Line)
		}
		byLine[r.Line] = r
	}
	return byLine
}

// readSecrets parses a secrets file by user (lower case).
func readSecrets(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("secrets file: %v", err)
	}
	defer f.Close()
	rows, err := report.ReadSecrets(f)
	if err != nil {
		t.Fatalf("ReadSecrets: %v", err)
	}
	out := map[string]string{}
	for _, r := range rows {
		k := strings.ToLower(r.User)
		if _, dup := out[k]; dup {
			t.Errorf("secrets: %s has two passwords", r.User)
		}
		out[k] = r.Password.Reveal()
	}
	return out
}

// checkRun asserts the acceptance properties of a finished run: one result
// row per input row with the planned outcome, and in the tenant every
// resettable user holding exactly the recorded password with force-change
// set, every password change of a user being that one password, and no
// other user changed.
func checkRun(t *testing.T, tn *tenant, rows []expect, resultsPath, secretsPath string) {
	t.Helper()
	results := readResults(t, resultsPath)
	secrets := readSecrets(t, secretsPath)
	if len(results) != len(rows) {
		t.Errorf("results: %d rows, want %d (one per input row)", len(results), len(rows))
	}
	listed := map[string]bool{}
	for _, e := range rows {
		r, ok := results[e.line]
		if !ok {
			t.Errorf("line %d (%s): no result row", e.line, e.user)
			continue
		}
		if r.Outcome != e.outcome || r.Reason != e.reason || r.User != e.user {
			t.Errorf("line %d: got %s %s/%s (%s), want %s %s/%s", e.line, r.User, r.Outcome, r.Reason, r.ErrorMessage, e.user, e.outcome, e.reason)
		}
		if r.Outcome == report.Succeeded && (r.Attempts < 1 || r.FinishedAt.IsZero()) {
			t.Errorf("line %d: attempts %d, finished_at %v", e.line, r.Attempts, r.FinishedAt)
		}
		if r.Outcome == report.Failed && (r.HTTPStatus == 0 || r.ErrorCode == "" || r.RequestID == "") {
			t.Errorf("line %d: failed without Graph's answer: status %d code %q request-id %q", e.line, r.HTTPStatus, r.ErrorCode, r.RequestID)
		}
		if e.upn != "" {
			listed[strings.ToLower(e.upn)] = true
		}
		if !e.reset {
			continue
		}
		u, ok := tn.sim.User(e.upn)
		if !ok {
			t.Fatalf("tenant has no %s", e.upn)
		}
		pw, ok := secrets[strings.ToLower(e.user)]
		switch {
		case !ok:
			t.Errorf("line %d: %s was reset but has no password in the secrets file", e.line, e.user)
		case u.Password != pw:
			t.Errorf("line %d: %s's password in force is not the one in the secrets file", e.line, e.user)
		}
		if !u.ForceChangePasswordNextSignIn {
			t.Errorf("line %d: %s: forceChangePasswordNextSignIn false, want true", e.line, e.user)
		}
	}
	// The secrets file lists the passwords in force: one per user reset,
	// plus only those of failed rows an earlier attempt may have set (an
	// answer was lost), which say so.
	for _, e := range rows {
		if _, ok := secrets[strings.ToLower(e.user)]; !ok || e.reset || e.outcome == report.Duplicate {
			continue
		}
		r := results[e.line]
		if r.Outcome != report.Failed || r.Attempts < 2 || !strings.Contains(r.ErrorMessage, "may have been set") {
			t.Errorf("line %d: %s has a password in the secrets file but was not reset (%s/%s after %d attempts)",
				e.line, e.user, r.Outcome, r.Reason, r.Attempts)
		}
	}
	// Each user was given one password only, however often it was sent.
	perUser := map[string]map[string]bool{}
	for _, c := range tn.sim.Changes() {
		k := strings.ToLower(c.UPN)
		if perUser[k] == nil {
			perUser[k] = map[string]bool{}
		}
		perUser[k][c.Password] = true
	}
	for upn, pws := range perUser {
		if len(pws) != 1 {
			t.Errorf("%s was given %d different passwords, want 1", upn, len(pws))
		}
	}
	for _, u := range tn.sim.Users() {
		if !listed[strings.ToLower(u.UPN)] && u.PasswordSets != 0 {
			t.Errorf("%s is not in the input but its password was changed", u.UPN)
		}
		if (u.Kind == graphsim.KindSynced || u.Kind == graphsim.KindAdmin) && u.PasswordSets != 0 {
			t.Errorf("%s (%s) was changed", u.UPN, u.Kind)
		}
	}
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestResetEndToEnd is the core acceptance run: 1,000 rows, client-secret
// auth through azidentity, $batch over TLS to the emulator, exit code 3.
func TestResetEndToEnd(t *testing.T) {
	users, csv, rows := plan1000(t)
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", csv)
	results, secrets, logFile := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv"), filepath.Join(dir, "run.log")

	res := runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", results, "--secrets", secrets,
		"--yes", "--log-file", logFile}, tn.authArgs()...)...)
	if res.code != exitRowsFailed {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitRowsFailed, res.stderr)
	}
	checkRun(t, tn, rows, results, secrets)
	checkSecretMode(t, secrets)
	checkNoSecrets(t, tn, secrets, map[string]string{
		"stdout": res.stdout, "stderr": res.stderr, "log file": readFile(t, logFile), "results file": readFile(t, results),
	})
	if tn.sim.Stats().TokensIssued < 1 {
		t.Errorf("no token was issued: the run did not go through azidentity")
	}
}

// TestResetEndToEndUnderFaults is the same run while the emulator throttles
// inside batches (whole and fractional Retry-After, and a real write quota),
// fails whole batches with 503, and drops connections after applying a
// batch: the same final state, each user given one password only.
func TestResetEndToEndUnderFaults(t *testing.T) {
	users, csv, rows := plan1000(t)
	tn := startTenant(t, graphsim.Options{
		WriteBurst: 400, WriteRate: 400, FractionalRetryAfter: true, ThrottledAccrue: 0.5,
		Faults: graphsim.Faults{
			InnerThrottle:           0.003,
			InnerThrottleFractional: 0.02,
			Outer503:                0.08,
			DropAfterApply:          0.03,
		},
		Seed: 7,
	}, users)
	// At these rates a run of about 60 batches met no dropped-after-apply
	// batch about one time in five (how many batches, and so which draws,
	// depends on the pacer's timing): one of each batch-wide fault is
	// forced, so that every run exercises them.
	tn.sim.ForceFaults(graphsim.FaultOuter503, graphsim.FaultDropAfterApply)
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", csv)
	results, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")

	res := runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", results, "--secrets", secrets,
		"--yes", "--max-attempts", "20", "--log-format", "json"}, tn.authArgs()...)...)
	if res.code != exitRowsFailed {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitRowsFailed, res.stderr)
	}
	checkRun(t, tn, rows, results, secrets)
	st := tn.sim.Stats()
	for _, k := range []graphsim.FaultKind{graphsim.FaultInnerThrottleFractional, graphsim.FaultOuter503, graphsim.FaultDropAfterApply} {
		if st.Faults[k] == 0 {
			t.Errorf("fault %s was never injected: the test does not exercise it", k)
		}
	}
	if st.Throttled == 0 {
		t.Error("nothing was throttled")
	}
	checkNoSecrets(t, tn, secrets, map[string]string{"stdout": res.stdout, "stderr": res.stderr, "results file": readFile(t, results)})
}

// TestResetPasswordColumn sets the passwords of the input's Password column;
// a password that breaks the policy is invalid and never sent.
func TestResetPasswordColumn(t *testing.T) {
	users := graphsim.GenerateUsers(5, testDomain)
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	csv := "UserPrincipalName,Password\n" +
		users[0].UPN + ",Blue-Kettle-42x\n" +
		users[1].UPN + ",short1A\n" + // 7 characters: breaks the policy
		users[2].UPN + ",alllowercaseletters\n" + // one category only
		users[3].UPN + ",Green Pond 7 \n" + // spaces are allowed and kept
		users[4].UPN + ",Ünïcödé-Pass-99\n" // characters outside the allowed set
	res, results, secrets := resetColumnMode(t, tn, dir, csv)
	got := readResults(t, results)
	want := map[int]struct {
		outcome report.Outcome
		reason  report.Reason
		pw      string
	}{
		2: {report.Succeeded, "", "Blue-Kettle-42x"},
		3: {report.Invalid, "password_policy", ""},
		4: {report.Invalid, "password_policy", ""},
		5: {report.Succeeded, "", "Green Pond 7 "},
		6: {report.Invalid, "password_policy", ""},
	}
	for line, w := range want {
		r := got[line]
		if r.Outcome != w.outcome || r.Reason != w.reason {
			t.Errorf("line %d: got %s/%s, want %s/%s", line, r.Outcome, r.Reason, w.outcome, w.reason)
		}
		u, _ := tn.sim.User(users[line-2].UPN)
		if w.pw == "" && u.PasswordSets != 0 {
			t.Errorf("line %d: a password that breaks the policy was sent", line)
		}
		if w.pw != "" && u.Password != w.pw {
			t.Errorf("line %d: the password in force is not the Password cell", line)
		}
	}
	checkNoSecrets(t, tn, secrets, map[string]string{"stdout": res.stdout, "stderr": res.stderr, "results file": readFile(t, results)})
}

// resetColumnMode runs reset --password-mode column on csv, written to dir,
// and expects exit code 3 (some rows invalid). It returns the run and the
// results and secrets files.
func resetColumnMode(t *testing.T, tn *tenant, dir, csv string) (res runResult, results, secrets string) {
	t.Helper()
	in := writeFile(t, dir, "users.csv", csv)
	results, secrets = filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	res = runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", results, "--secrets", secrets,
		"--yes", "--password-mode", "column"}, tn.authArgs()...)...)
	if res.code != exitRowsFailed {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitRowsFailed, res.stderr)
	}
	return res, results, secrets
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkNoSecrets fails when any password set, the client secret or an
// access token appears in any of outputs. secretsPath is the run's secrets
// file, "" for a run without one.
func checkNoSecrets(t *testing.T, tn *tenant, secretsPath string, outputs map[string]string) {
	t.Helper()
	var secrets []string
	for _, c := range tn.sim.Changes() {
		if c.Password != "" {
			secrets = append(secrets, c.Password)
		}
	}
	if secretsPath != "" {
		for _, pw := range readSecrets(t, secretsPath) {
			secrets = append(secrets, pw)
		}
	}
	if len(secrets) == 0 {
		t.Fatal("no password to look for: the run set and recorded none")
	}
	secrets = append(secrets, testSecret)
	secrets = append(secrets, tn.sim.IssuedTokens()...)
	for name, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s contains a secret (a password, the client secret or an access token)", name)
				break
			}
		}
	}
}

// requestCounts are the emulator's counts of every request it was sent:
// equal before and after a command means that command sent nothing.
func requestCounts(tn *tenant) [4]int {
	st := tn.sim.Stats()
	return [4]int{st.Batches, st.DirectRequests, st.TokensIssued, st.Unauthorized}
}
