package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// oldResultsHeader is the results header of every run before issue 14,
// byte for byte: a run that does not block sign-in keeps it.
const oldResultsHeader = "line,user,object_id,outcome,reason,http_status,error_code,error_message,attempts,revoked,request_id,finished_at\n"

// actionsTenant is a tenant of n members, an administrator the app may
// not reset, and a member whose reset keeps failing with 503; the input
// lists them all (members first), and a user that does not exist.
func actionsTenant(t *testing.T, n int) (tn *tenant, in string, admin, failing graphsim.User, missing string) {
	t.Helper()
	users := graphsim.GenerateUsers(n, testDomain)
	admin = graphsim.User{UPN: "global.admin@" + testDomain, Kind: graphsim.KindAdmin}
	failing = graphsim.User{UPN: "unlucky@" + testDomain}
	users = append(users, admin, failing)
	tn = startTenant(t, graphsim.Options{}, users)
	if err := tn.sim.FailWrite(failing.UPN, graphsim.WriteReset, 503); err != nil {
		t.Fatal(err)
	}
	missing = "nobody.here@" + testDomain
	return tn, writeUsers(t, t.TempDir(), users, missing), admin, failing, missing
}

// writeUsers writes an input of the users' UPNs, then of extra, to dir.
func writeUsers(t *testing.T, dir string, users []graphsim.User, extra ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("UserPrincipalName\n")
	for _, u := range users {
		b.WriteString(u.UPN + "\n")
	}
	for _, upn := range extra {
		b.WriteString(upn + "\n")
	}
	return writeFile(t, dir, "users.csv", b.String())
}

// cellOf is an action column: true, false or empty.
func cellOf(b *bool) string {
	if b == nil {
		return ""
	}
	return fmt.Sprint(*b)
}

// byUser indexes results by user, lower case.
func byUser(rs map[int]report.Result) map[string]report.Result {
	out := map[string]report.Result{}
	for _, r := range rs {
		out[strings.ToLower(r.User)] = r
	}
	return out
}

// TestRevokeReachesEveryUserFound is acceptance 2 for the users whose
// reset fails: under --revoke-sessions an administrator the app may not
// reset (403) and a user whose reset failed (503 until the attempts ran
// out) are revoked all the same, and the emulator shows their sessions
// revoked; their rows keep the reset's outcome, and the exit code is 3. A
// user that does not exist is not revoked. The results header is the one
// of every earlier version, then client_request_id (issue 15): this run
// does not block.
func TestRevokeReachesEveryUserFound(t *testing.T) {
	tn, in, admin, failing, missing := actionsTenant(t, 20)
	// One user's revoke is refused after its reset succeeded: the row
	// stays succeeded, revoked=false, and its password stays in the
	// secrets file when the refused ones are dropped.
	revokeRefused := graphsim.GenerateUsers(20, testDomain)[7]
	if err := tn.sim.FailWrite(revokeRefused.UPN, graphsim.WriteRevoke, 403); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	results, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	res := runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", results, "--secrets", secrets, "--yes", "--quiet",
		"--revoke-sessions", "--max-attempts", "2"}, tn.authArgs()...)...)
	if res.code != exitRowsFailed {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitRowsFailed, res.stderr)
	}
	if got, _, _ := strings.Cut(readFile(t, results), "\n"); got != strings.TrimSuffix(oldResultsHeader, "\n")+",client_request_id" {
		t.Errorf("results header %q, want the old one byte for byte %q, then client_request_id (issue 15)", got, oldResultsHeader)
	}
	rows := byUser(readResults(t, results))
	kept := readSecrets(t, secrets)
	for _, u := range tn.sim.Users() {
		r := rows[strings.ToLower(u.UPN)]
		want := struct {
			outcome report.Outcome
			reason  report.Reason
		}{report.Succeeded, ""}
		switch u.UPN {
		case admin.UPN:
			want.outcome, want.reason = report.Failed, report.ReasonInsufficientPrivileges
		case failing.UPN:
			want.outcome, want.reason = report.Failed, report.ReasonServiceError
		}
		wantRevoked := u.UPN != revokeRefused.UPN
		if r.Outcome != want.outcome || r.Reason != want.reason || cellOf(r.Revoked) != fmt.Sprint(wantRevoked) || r.Blocked != nil {
			t.Errorf("%s: %s/%s revoked %q blocked %q, want %s/%s revoked %v, no blocked", u.UPN, r.Outcome, r.Reason, cellOf(r.Revoked), cellOf(r.Blocked), want.outcome, want.reason, wantRevoked)
		}
		if !wantRevoked {
			if u.SessionsRevoked != 0 || r.ErrorCode != "Authorization_RequestDenied" || kept[strings.ToLower(u.UPN)] != u.Password {
				t.Errorf("%s: revoke refused: sessions revoked %d, code %q, password kept in the secrets file %v", u.UPN, u.SessionsRevoked, r.ErrorCode, kept[strings.ToLower(u.UPN)] == u.Password)
			}
			continue
		}
		if u.SessionsRevoked != 1 || u.SessionsRevokedAt.IsZero() {
			t.Errorf("%s: sessions revoked %d times (at %v), want once", u.UPN, u.SessionsRevoked, u.SessionsRevokedAt)
		}
		if (u.UPN == admin.UPN || u.UPN == failing.UPN) != (u.PasswordSets == 0) {
			t.Errorf("%s: %d password sets", u.UPN, u.PasswordSets)
		}
	}
	if r := rows[missing]; r.Outcome != report.Failed || r.Reason != report.ReasonNotFound || r.Revoked != nil {
		t.Errorf("missing user: %s/%s revoked %q, want failed/not_found, not revoked", r.Outcome, r.Reason, cellOf(r.Revoked))
	}
	// The refused administrator's password was never set: the secrets file
	// drops it; the failed reset's may be in force: it keeps it.
	if _, ok := kept[strings.ToLower(admin.UPN)]; ok {
		t.Error("the secrets file keeps the password of the refused administrator")
	}
	if _, ok := kept[strings.ToLower(failing.UPN)]; !ok {
		t.Error("the secrets file dropped the password of a reset whose outcome is unknown")
	}
	if !strings.Contains(res.stderr, "Sessions revoked: 21, not revoked: 1") {
		t.Errorf("the summary does not count the revokes:\n%s", res.stderr)
	}
	checkNoSecrets(t, tn, secrets, map[string]string{"stdout": res.stdout, "stderr": res.stderr, "results file": readFile(t, results)})
}

// TestRevokeOnlyIfReset: with --revoke-only-if-reset, the administrator
// whose reset was refused at once is not revoked (revoked empty).
func TestRevokeOnlyIfReset(t *testing.T) {
	tn, in, admin, _, _ := actionsTenant(t, 5)
	dir := t.TempDir()
	results := filepath.Join(dir, "results.csv")
	res := runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", results, "--discard-passwords", "--yes", "--quiet",
		"--revoke-sessions", "--revoke-only-if-reset", "--max-attempts", "2"}, tn.authArgs()...)...)
	if res.code != exitRowsFailed {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitRowsFailed, res.stderr)
	}
	rows := byUser(readResults(t, results))
	if r := rows[strings.ToLower(admin.UPN)]; r.Outcome != report.Failed || r.Revoked != nil {
		t.Errorf("refused administrator: %s/%s revoked %q, want failed, revoked empty", r.Outcome, r.Reason, cellOf(r.Revoked))
	}
	if u, _ := tn.sim.User(admin.UPN); u.SessionsRevoked != 0 {
		t.Errorf("the administrator's sessions were revoked %d times, want never", u.SessionsRevoked)
	}
	for _, u := range graphsim.GenerateUsers(5, testDomain) {
		if r := rows[strings.ToLower(u.UPN)]; r.Outcome != report.Succeeded || cellOf(r.Revoked) != "true" {
			t.Errorf("%s: %s revoked %q, want succeeded and revoked", u.UPN, r.Outcome, cellOf(r.Revoked))
		}
	}
}

// TestLockdown is acceptance 2's lockdown: --password-mode keep
// --revoke-sessions --block-sign-in needs no --secrets, changes no
// password, blocks and revokes every user (a guest and a disabled account
// too), each row succeeded, exit 0, and writes no secrets file.
func TestLockdown(t *testing.T) {
	users := graphsim.GenerateUsers(30, testDomain)
	users = append(users,
		graphsim.User{UPN: "ann_partner.example#EXT#@" + testDomain, Kind: graphsim.KindGuest},
		graphsim.User{UPN: "left.company@" + testDomain, Kind: graphsim.KindDisabled})
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	in := writeUsers(t, dir, users)
	before := tn.sim.Users()
	results := filepath.Join(dir, "lockdown.csv")
	res := runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", results, "--yes", "--quiet",
		"--password-mode", "keep", "--revoke-sessions", "--block-sign-in"}, tn.authArgs()...)...)
	if res.code != exitOK {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", res.code, res.stderr)
	}
	after := tn.sim.Users()
	for i, u := range after {
		if u.Password != before[i].Password || u.PasswordSets != 0 || u.ForceChangePasswordNextSignIn != before[i].ForceChangePasswordNextSignIn {
			t.Errorf("%s: the password changed (sets %d)", u.UPN, u.PasswordSets)
		}
		if u.AccountEnabled() || u.SessionsRevoked != 1 {
			t.Errorf("%s: enabled %v, sessions revoked %d times; want blocked and revoked once", u.UPN, u.AccountEnabled(), u.SessionsRevoked)
		}
	}
	if n := len(tn.sim.Changes()); n != 0 {
		t.Errorf("%d password changes, want none", n)
	}
	if got, _, _ := strings.Cut(readFile(t, results), "\n"); got != strings.TrimSuffix(oldResultsHeader, "\n")+",blocked,client_request_id" {
		t.Errorf("results header %q, want the blocked column after finished_at", got)
	}
	rows := readResults(t, results)
	if len(rows) != len(users) {
		t.Errorf("%d rows, want %d", len(rows), len(users))
	}
	for line, r := range rows {
		if r.Outcome != report.Succeeded || r.Reason != "" || cellOf(r.Blocked) != "true" || cellOf(r.Revoked) != "true" || r.Attempts != 2 {
			t.Errorf("line %d: %s/%s blocked %q revoked %q after %d attempts; want succeeded, both true, 2 attempts",
				line, r.Outcome, r.Reason, cellOf(r.Blocked), cellOf(r.Revoked), r.Attempts)
		}
	}
	entries, err := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{"lockdown.csv", "lockdown.csv.run.json", "users.csv"}; err != nil || !slices.Equal(names, want) {
		t.Errorf("the run left %q (%v), want %q: the input, the results and its settings, no secrets file", names, err, want)
	}
	if !strings.Contains(res.stderr, "Sign-in blocked: 32, not blocked: 0") || !strings.Contains(res.stderr, "Sessions revoked: 32, not revoked: 0") {
		t.Errorf("the summary does not count the actions:\n%s", res.stderr)
	}
	// check takes the lockdown's command line too.
	if res := runCLI(t, t.Context(), tn.getenv(nil), "check", "-i", in, "--password-mode", "keep"); res.code != exitOK {
		t.Errorf("check --password-mode keep: exit %d, stderr %q", res.code, res.stderr)
	}
	// --secrets with keep is a usage error: there is nothing to write.
	res = runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", filepath.Join(dir, "again.csv"), "--secrets", filepath.Join(dir, "s.csv"), "--yes",
		"--password-mode", "keep", "--block-sign-in"}, tn.authArgs()...)...)
	if res.code != exitUsage || !strings.Contains(res.stderr, "leave out --secrets") {
		t.Errorf("keep with --secrets: exit %d, stderr %q; want a usage error", res.code, res.stderr)
	}
}

// TestBlockSignInWithReset: --block-sign-in with a reset blocks every user
// (accountEnabled false) and resets it; the blocked column is there and
// true. A block refused for one user leaves blocked=false, the reset still
// done and the row succeeded with the block's error, exit 3, and the
// summary counts it.
func TestBlockSignInWithReset(t *testing.T) {
	users := graphsim.GenerateUsers(12, testDomain)
	tn := startTenant(t, graphsim.Options{}, users)
	refused := users[4]
	if err := tn.sim.FailWrite(refused.UPN, graphsim.WriteBlock, 403); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := writeUsers(t, dir, users)
	results, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	logFile := filepath.Join(dir, "run.log")
	res := runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", results, "--secrets", secrets, "--yes",
		"--block-sign-in", "--log-file", logFile}, tn.authArgs()...)...)
	if res.code != exitRowsFailed {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitRowsFailed, res.stderr)
	}
	if got, _, _ := strings.Cut(readFile(t, results), "\n"); got != strings.TrimSuffix(oldResultsHeader, "\n")+",blocked,client_request_id" {
		t.Errorf("results header %q, want the blocked column", got)
	}
	rows := byUser(readResults(t, results))
	kept := readSecrets(t, secrets)
	for _, u := range tn.sim.Users() {
		r := rows[strings.ToLower(u.UPN)]
		wantBlocked := u.UPN != refused.UPN
		if r.Outcome != report.Succeeded || cellOf(r.Blocked) != fmt.Sprint(wantBlocked) || r.Revoked != nil {
			t.Errorf("%s: %s/%s blocked %q revoked %q; want succeeded, blocked %v, revoked empty", u.UPN, r.Outcome, r.Reason, cellOf(r.Blocked), cellOf(r.Revoked), wantBlocked)
		}
		if u.AccountEnabled() == wantBlocked || u.PasswordSets != 1 || kept[strings.ToLower(u.UPN)] != u.Password {
			t.Errorf("%s: enabled %v, %d password sets, recorded password in force %v", u.UPN, u.AccountEnabled(), u.PasswordSets, kept[strings.ToLower(u.UPN)] == u.Password)
		}
	}
	if r := rows[strings.ToLower(refused.UPN)]; r.ErrorCode != "Authorization_RequestDenied" || !strings.Contains(r.ErrorMessage, "the password was reset, but blocking sign-in failed") {
		t.Errorf("refused block: code %q message %q", r.ErrorCode, r.ErrorMessage)
	}
	if !strings.Contains(res.stderr, "Sign-in blocked: 11, not blocked: 1") {
		t.Errorf("the summary does not count the refused block:\n%s", res.stderr)
	}
	if !strings.Contains(res.stderr, "sign-in blocked for 11 users; not for 1 user: see the rows with blocked=false") {
		t.Errorf("the log does not say how many were not blocked:\n%s", res.stderr)
	}
	// The log file has the row whose action failed, though it succeeded.
	if log := readFile(t, logFile); !strings.Contains(log, "an action failed for this row") || !strings.Contains(log, "user="+refused.UPN) || !strings.Contains(log, "blocked=false") {
		t.Errorf("the log file does not name the row whose block failed:\n%s", log)
	}
	checkNoSecrets(t, tn, secrets, map[string]string{"stdout": res.stdout, "stderr": res.stderr, "results file": readFile(t, results), "log file": readFile(t, logFile)})
}

// TestPlanPredictsActions: plan's file has the blocked column when the
// run blocks, and true in revoked and blocked for each user the actions
// would reach; a lockdown's plan rows are succeeded/would_apply. Nothing
// is written to the tenant.
func TestPlanPredictsActions(t *testing.T) {
	tn, in, _, _, missing := actionsTenant(t, 4)
	dir := t.TempDir()
	for _, c := range []struct {
		name   string
		flags  []string
		reason report.Reason
	}{
		{"offboarding", []string{"--discard-passwords", "--revoke-sessions", "--block-sign-in"}, report.ReasonWouldReset},
		{"lockdown", []string{"--password-mode", "keep", "--revoke-sessions", "--block-sign-in"}, report.ReasonWouldApply},
	} {
		plan := filepath.Join(dir, c.name+".csv")
		res := runCLI(t, t.Context(), tn.getenv(nil), append(append([]string{"plan", "-i", in, "-o", plan, "--yes", "--quiet"}, c.flags...), tn.authArgs()...)...)
		if res.code != exitRowsFailed { // the missing user would fail
			t.Fatalf("%s: exit code %d, want %d; stderr:\n%s", c.name, res.code, exitRowsFailed, res.stderr)
		}
		if got, _, _ := strings.Cut(readFile(t, plan), "\n"); got != strings.TrimSuffix(oldResultsHeader, "\n")+",blocked" {
			t.Errorf("%s: plan header %q, want the blocked column", c.name, got)
		}
		for _, r := range readResults(t, plan) {
			if strings.EqualFold(r.User, missing) {
				if r.Outcome != report.Failed || r.Blocked != nil || r.Revoked != nil {
					t.Errorf("%s: missing user %s/%s blocked %q revoked %q, want failed and no action", c.name, r.Outcome, r.Reason, cellOf(r.Blocked), cellOf(r.Revoked))
				}
				continue
			}
			if r.Outcome != report.Succeeded || r.Reason != c.reason || cellOf(r.Blocked) != "true" || cellOf(r.Revoked) != "true" {
				t.Errorf("%s: %s: %s/%s blocked %q revoked %q, want succeeded/%s, both true", c.name, r.User, r.Outcome, r.Reason, cellOf(r.Blocked), cellOf(r.Revoked), c.reason)
			}
		}
	}
	if st := tn.sim.Stats(); st.Writes != 0 {
		t.Errorf("plan sent %d writes", st.Writes)
	}
}

// TestRevokeReachesSkippedUsers is acceptance 2 for the users whose reset
// the preflight skips: under --revoke-sessions a user synced from
// on-premises AD (--synced skip), an external guest and a disabled account
// (--skip-disabled) keep their skip as the row's outcome and reason, get
// no password (none is set, none is in the secrets file), and are revoked:
// revoked=true, and the emulator shows their sessions revoked.
func TestRevokeReachesSkippedUsers(t *testing.T) {
	users := graphsim.GenerateUsers(5, testDomain)
	synced := graphsim.User{UPN: "sync.user@" + testDomain, Kind: graphsim.KindSynced}
	guest := graphsim.User{UPN: "alex_fabrikam.com#EXT#@" + testDomain, Kind: graphsim.KindGuest}
	disabled := graphsim.User{UPN: "gone.user@" + testDomain, Kind: graphsim.KindDisabled}
	users = append(users, synced, guest, disabled)
	tn := startTenant(t, graphsim.Options{}, users)
	in := writeUsers(t, t.TempDir(), users)
	dir := t.TempDir()
	results, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	res := runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", results, "--secrets", secrets, "--yes", "--quiet",
		"--revoke-sessions", "--skip-disabled"}, tn.authArgs()...)...)
	if res.code != exitOK {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitOK, res.stderr)
	}
	rows := byUser(readResults(t, results))
	kept := readSecrets(t, secrets)
	skips := map[string]report.Reason{
		strings.ToLower(synced.UPN):   report.ReasonSynced,
		strings.ToLower(guest.UPN):    report.ReasonExternalGuest,
		strings.ToLower(disabled.UPN): report.ReasonDisabled,
	}
	for _, u := range tn.sim.Users() {
		key := strings.ToLower(u.UPN)
		r := rows[key]
		reason, skipped := skips[key]
		wantOutcome := report.Succeeded
		if skipped {
			wantOutcome = report.Skipped
		}
		if r.Outcome != wantOutcome || r.Reason != reason || cellOf(r.Revoked) != "true" {
			t.Errorf("%s: %s/%s revoked %q, want %s/%s revoked true", u.UPN, r.Outcome, r.Reason, cellOf(r.Revoked), wantOutcome, reason)
		}
		if u.SessionsRevoked != 1 || u.SessionsRevokedAt.IsZero() {
			t.Errorf("%s: sessions revoked %d times (at %v), want once", u.UPN, u.SessionsRevoked, u.SessionsRevokedAt)
		}
		_, inSecrets := kept[key]
		if skipped && (u.PasswordSets != 0 || inSecrets) {
			t.Errorf("%s: skipped, yet %d password sets, in the secrets file: %v", u.UPN, u.PasswordSets, inSecrets)
		}
		if !skipped && (u.PasswordSets != 1 || kept[key] != u.Password) {
			t.Errorf("%s: %d password sets, the secrets file's is the one in force: %v", u.UPN, u.PasswordSets, kept[key] == u.Password)
		}
	}
	if !strings.Contains(res.stderr, "Sessions revoked: 8") || strings.Contains(res.stderr, "not revoked: 1") {
		t.Errorf("the summary does not count the revokes:\n%s", res.stderr)
	}
	checkNoSecrets(t, tn, secrets, map[string]string{"stdout": res.stdout, "stderr": res.stderr, "results file": readFile(t, results)})
}
