//go:build unix

package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
	"github.com/bulkreset/bulkreset/pkg/worker"
)

// deniedRun is an input of n users of the tenant, with the files of a run.
type deniedRun struct {
	tn                    *tenant
	users                 []graphsim.User
	dir, in, out, secrets string
}

func newDeniedRun(t *testing.T, n int, opts graphsim.Options, kinds map[int]graphsim.Kind) *deniedRun {
	t.Helper()
	users := graphsim.GenerateUsers(n, testDomain)
	for i, k := range kinds {
		users[i].Kind = k
	}
	r := &deniedRun{tn: startTenant(t, opts, users), users: users, dir: t.TempDir()}
	var b strings.Builder
	b.WriteString("UserPrincipalName\n")
	for _, u := range users {
		b.WriteString(u.UPN + "\n")
	}
	r.in = writeFile(t, r.dir, "users.csv", b.String())
	r.out, r.secrets = filepath.Join(r.dir, "results.csv"), filepath.Join(r.dir, "secrets.csv")
	return r
}

// run runs bulkreset reset on the input with extra flags.
func (r *deniedRun) run(t *testing.T, extra ...string) runResult {
	t.Helper()
	args := append([]string{"reset", "-i", r.in, "-o", r.out, "--secrets", r.secrets, "--yes"}, extra...)
	return runCLI(t, t.Context(), r.tn.getenv(nil), append(args, r.tn.authArgs()...)...)
}

// resume runs the resume command the stopped run printed.
func (r *deniedRun) resume(t *testing.T, stderr string) runResult {
	t.Helper()
	return resumePrinted(t, stderr, r.tn.getenv(nil))
}

// resumePrinted runs the resume command printed in stderr, with getenv.
func resumePrinted(t *testing.T, stderr string, getenv func(string) string) runResult {
	t.Helper()
	return runCLI(t, t.Context(), getenv, resumeWords(t, stderr)[1:]...)
}

// checkDone asserts that every input row has exactly one result, succeeded,
// and that every user was given exactly one password, the one in the
// secrets file, and set exactly once.
func (r *deniedRun) checkDone(t *testing.T, setsPerUser int) {
	t.Helper()
	results := readResults(t, r.out)
	secrets := readSecrets(t, r.secrets)
	if len(results) != len(r.users) {
		t.Errorf("%d result rows, want %d (one per input row)", len(results), len(r.users))
	}
	for i, u := range r.users {
		res, ok := results[i+2]
		if !ok || res.Outcome != report.Succeeded || res.User != u.UPN {
			t.Errorf("line %d: %+v, want %s succeeded", i+2, res, u.UPN)
		}
	}
	perUser := map[string]map[string]bool{}
	for _, c := range r.tn.sim.Changes() {
		if perUser[c.UPN] == nil {
			perUser[c.UPN] = map[string]bool{}
		}
		perUser[c.UPN][c.Password] = true
	}
	for _, u := range r.tn.sim.Users() {
		pw, ok := secrets[strings.ToLower(u.UPN)]
		switch {
		case u.PasswordSets != setsPerUser:
			t.Errorf("%s: password set %d times, want %d", u.UPN, u.PasswordSets, setsPerUser)
		case !ok || u.Password != pw:
			t.Errorf("%s: the password in force is not the one in the secrets file (recorded: %v)", u.UPN, ok)
		case len(perUser[u.UPN]) != 1:
			t.Errorf("%s was given %d different passwords, want 1", u.UPN, len(perUser[u.UPN]))
		}
	}
}

// TestStopOnMissingPermission is acceptance 3: the tenant refuses every
// write for lack of a role. A 10,000-user run stops after at most
// worker.MaxWritesBeforeDenyStop(4, 20) = 119 writes (the default 4
// batches of 20 in flight, the threshold of 20, and one batch handed on
// while it was counted), exits 1 naming the permission and the role, and
// prints the resume command. Once the role is granted, that command
// finishes the run: every user reset exactly once, with the password in the
// secrets file, one result row per input row, exit 0.
func TestStopOnMissingPermission(t *testing.T) {
	const n = 10_000
	r := newDeniedRun(t, n, graphsim.Options{Latency: 5 * time.Millisecond}, nil)
	r.tn.sim.DenyWrites(graphsim.AllWrites)

	res := r.run(t)
	if res.code != exitFatal {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitFatal, res.stderr)
	}
	bound := worker.MaxWritesBeforeDenyStop(4, worker.MaxBatchSize)
	st := r.tn.sim.Stats()
	t.Logf("writes received by the tenant before the stop: %d (bound %d), denied %d", st.Writes, bound, st.Denied)
	if st.Writes > bound || st.Writes < worker.DenyThreshold || st.Denied != st.Writes || st.WritesApplied != 0 {
		t.Errorf("the tenant received %d writes (%d denied, %d applied), want %d to %d, all denied",
			st.Writes, st.Denied, st.WritesApplied, worker.DenyThreshold, bound)
	}
	for _, want := range []string{"User-PasswordProfile.ReadWrite.All", "User Administrator", "Privileged Authentication Administrator",
		"Authorization_RequestDenied", "To finish the run: bulkreset reset"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("the message does not say %q:\n%s", want, res.stderr)
		}
	}
	if got := readResults(t, r.out); len(got) != 0 {
		t.Errorf("%d result rows after the stop, want none: the refused rows are unfinished", len(got))
	}
	checkNoSecretsIn(t, r, res)

	r.tn.sim.GrantWrites()
	again := r.resume(t, res.stderr)
	if again.code != exitOK {
		t.Fatalf("resume: exit code %d, want 0; stderr:\n%s", again.code, again.stderr)
	}
	r.checkDone(t, 1)
}

// checkNoSecretsIn checks that no password the run recorded is in its
// outputs.
func checkNoSecretsIn(t *testing.T, r *deniedRun, res runResult) {
	t.Helper()
	secrets := readSecrets(t, r.secrets)
	if len(secrets) == 0 {
		t.Fatal("no password recorded before the writes were sent")
	}
	for _, pw := range secrets {
		if strings.Contains(res.stderr, pw) || strings.Contains(res.stdout, pw) || strings.Contains(readFile(t, r.out), pw) {
			t.Fatal("a password is in the run's output")
		}
	}
}

// TestStopOnMissingPermissionFewUsers: a run of 5 users, all refused,
// stops too (every write of the run was refused), with the JSON summary
// carrying the resume command and the unfinished rows.
func TestStopOnMissingPermissionFewUsers(t *testing.T) {
	r := newDeniedRun(t, 5, graphsim.Options{}, nil)
	r.tn.sim.DenyWrites(graphsim.WriteReset)
	res := r.run(t, "--log-format", "json")
	if res.code != exitFatal {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitFatal, res.stderr)
	}
	if st := r.tn.sim.Stats(); st.Denied != 5 || st.Writes != 5 {
		t.Errorf("%d writes, %d denied; want 5 and 5", st.Writes, st.Denied)
	}
	_, sum := summaryOf(t, jsonLines(t, "stderr", res.stderr))
	if rc, _ := sum["resume_command"].(string); !strings.Contains(rc, "--resume") {
		t.Errorf("resume_command %q, want the command with --resume", rc)
	}
	if sum["unfinished"] != float64(5) || sum["exit_code"] != float64(exitFatal) {
		t.Errorf("JSON summary %v, want 5 unfinished and exit code 1", sum)
	}
	if !strings.Contains(res.stderr, "User-PasswordProfile.ReadWrite.All") {
		t.Errorf("no permission named:\n%s", res.stderr)
	}
}

// TestRefusedAdminDoesNotStop: an administrator the app may not reset,
// refused first (batches of 1), among users whose reset is accepted: the
// run goes on, the admin's row fails insufficient_privileges, exit 3.
func TestRefusedAdminDoesNotStop(t *testing.T) {
	r := newDeniedRun(t, 30, graphsim.Options{}, map[int]graphsim.Kind{0: graphsim.KindAdmin})
	res := r.run(t, "--batch-size", "1", "--concurrency", "1")
	if res.code != exitRowsFailed {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitRowsFailed, res.stderr)
	}
	results := readResults(t, r.out)
	if len(results) != 30 {
		t.Errorf("%d result rows, want 30", len(results))
	}
	if a := results[2]; a.Outcome != report.Failed || a.Reason != report.ReasonInsufficientPrivileges || a.HTTPStatus != 403 {
		t.Errorf("admin row: %s/%s %d, want failed/insufficient_privileges 403", a.Outcome, a.Reason, a.HTTPStatus)
	}
	for line := 3; line <= 31; line++ {
		if results[line].Outcome != report.Succeeded {
			t.Errorf("line %d: %s/%s, want succeeded", line, results[line].Outcome, results[line].Reason)
		}
	}
}

// TestStopOnRevokeDenied: resets are allowed, every revoke is refused
// (--revoke-sessions without User.RevokeSessions.All). The run stops naming
// that permission; the rows whose reset succeeded have no result, so the
// resume sends them again with their recorded password (set twice, the
// same password) and then revokes their sessions.
func TestStopOnRevokeDenied(t *testing.T) {
	r := newDeniedRun(t, 300, graphsim.Options{Latency: 5 * time.Millisecond}, nil)
	r.tn.sim.DenyWrites(graphsim.WriteRevoke)
	res := r.run(t, "--revoke-sessions")
	if res.code != exitFatal {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitFatal, res.stderr)
	}
	if !strings.Contains(res.stderr, "User.RevokeSessions.All") || strings.Contains(res.stderr, "User-PasswordProfile.ReadWrite.All") {
		t.Errorf("the message does not name User.RevokeSessions.All alone:\n%s", res.stderr)
	}
	if got := readResults(t, r.out); len(got) != 0 {
		t.Errorf("%d result rows after the stop, want none", len(got))
	}
	reset := 0
	for _, u := range r.tn.sim.Users() {
		if u.PasswordSets > 0 {
			reset++
		}
	}
	t.Logf("%d users reset before the stop", reset)
	checkKnownPasswords(t, r.tn, r.secrets)

	r.tn.sim.GrantWrites()
	again := r.resume(t, res.stderr)
	if again.code != exitOK {
		t.Fatalf("resume: exit code %d, want 0; stderr:\n%s", again.code, again.stderr)
	}
	results := readResults(t, r.out)
	for line, res := range results {
		if res.Revoked == nil || !*res.Revoked {
			t.Errorf("line %d: revoked %v, want true", line, res.Revoked)
		}
	}
	perUser := map[string]map[string]bool{}
	for _, c := range r.tn.sim.Changes() {
		if perUser[c.UPN] == nil {
			perUser[c.UPN] = map[string]bool{}
		}
		perUser[c.UPN][c.Password] = true
	}
	secrets := readSecrets(t, r.secrets)
	for _, u := range r.tn.sim.Users() {
		if u.SessionsRevoked < 1 || u.PasswordSets < 1 || u.PasswordSets > 2 || len(perUser[u.UPN]) != 1 || u.Password != secrets[strings.ToLower(u.UPN)] {
			t.Errorf("%s: revoked %d, password set %d times with %d different passwords, want revoked, set once or twice with one password, the one recorded",
				u.UPN, u.SessionsRevoked, u.PasswordSets, len(perUser[u.UPN]))
		}
	}
	if len(results) != len(r.users) {
		t.Errorf("%d result rows, want %d", len(results), len(r.users))
	}
}

// TestManyTenantsOneDenied: in a partner's list of three tenants, one
// tenant refuses every write (the role was never assigned there). The whole
// run stops, exit 1, and the message names that tenant; once granted, the
// resume finishes every tenant: one result per row, each user reset once.
func TestManyTenantsOneDenied(t *testing.T) {
	const n = 60
	customers := partnerTenants(n)
	p := startPartner(t, graphsim.Options{Latency: 5 * time.Millisecond}, customers)
	denied := customers[1].domain
	p.sims[denied].DenyWrites(graphsim.AllWrites)
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("UserPrincipalName,TenantId\n")
	for i := range n {
		for _, c := range customers {
			b.WriteString(c.users[i].UPN + "," + c.domain + "\n")
		}
	}
	in := writeFile(t, dir, "in.csv", b.String())
	out, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	res := runCLI(t, t.Context(), p.getenv(""), p.args(in, out, secrets)...)
	if res.code != exitFatal {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitFatal, res.stderr)
	}
	if !strings.Contains(res.stderr, "in tenant "+denied) || !strings.Contains(res.stderr, "User-PasswordProfile.ReadWrite.All") {
		t.Errorf("the message does not name tenant %s and the permission:\n%s", denied, res.stderr)
	}
	if st := p.sims[denied].Stats(); st.WritesApplied != 0 || st.Writes > worker.MaxWritesBeforeDenyStop(4, worker.MaxBatchSize) {
		t.Errorf("denied tenant: %d writes, %d applied", st.Writes, st.WritesApplied)
	}

	p.sims[denied].GrantWrites()
	again := resumePrinted(t, res.stderr, p.getenv(""))
	if again.code != exitOK {
		t.Fatalf("resume: exit code %d, want 0; stderr:\n%s", again.code, again.stderr)
	}
	results := readResults(t, out)
	if len(results) != 3*n {
		t.Errorf("%d result rows, want %d", len(results), 3*n)
	}
	for line, r := range results {
		if r.Outcome != report.Succeeded {
			t.Errorf("line %d: %s/%s, want succeeded", line, r.Outcome, r.Reason)
		}
	}
	for _, c := range customers {
		for _, u := range p.sims[c.domain].Users() {
			if u.UPN == "shared.admin@partner.example" {
				continue
			}
			if u.PasswordSets != 1 {
				t.Errorf("%s: password set %d times, want once", u.UPN, u.PasswordSets)
			}
		}
	}
}

// TestStopOnBlockDenied: an app without User.EnableDisableAccount.All is
// refused every block; the block is the first write of each user, so the
// run stops before any password is set, naming that permission; once it is
// granted, the printed resume blocks and resets every user, once each.
func TestStopOnBlockDenied(t *testing.T) {
	r := newDeniedRun(t, 300, graphsim.Options{Latency: 5 * time.Millisecond}, nil)
	r.tn.sim.DenyWrites(graphsim.WriteBlock)
	res := r.run(t, "--block-sign-in")
	if res.code != exitFatal {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitFatal, res.stderr)
	}
	if !strings.Contains(res.stderr, "User.EnableDisableAccount.All") || strings.Contains(res.stderr, "User-PasswordProfile.ReadWrite.All") {
		t.Errorf("the message does not name User.EnableDisableAccount.All alone:\n%s", res.stderr)
	}
	if n := len(r.tn.sim.Changes()); n != 0 {
		t.Errorf("%d passwords set before the stop, want none: the block comes first", n)
	}
	if st := r.tn.sim.Stats(); st.Writes > worker.MaxWritesBeforeDenyStop(4, 20) {
		t.Errorf("%d writes before the stop, want at most %d", st.Writes, worker.MaxWritesBeforeDenyStop(4, 20))
	}
	r.tn.sim.GrantWrites()
	again := r.resume(t, res.stderr)
	if again.code != exitOK {
		t.Fatalf("resume: exit code %d, want 0; stderr:\n%s", again.code, again.stderr)
	}
	for line, res := range readResults(t, r.out) {
		if res.Outcome != report.Succeeded || res.Blocked == nil || !*res.Blocked {
			t.Errorf("line %d: %s/%s blocked %q, want succeeded and blocked", line, res.Outcome, res.Reason, cellOf(res.Blocked))
		}
	}
	for _, u := range r.tn.sim.Users() {
		if u.AccountEnabled() {
			t.Errorf("%s: sign-in not blocked", u.UPN)
		}
	}
	r.checkDone(t, 1)
}
