package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// verifyCLI runs bulkreset verify on results against tn, writing out.
func verifyCLI(t *testing.T, tn *tenant, results, out string, extra ...string) runResult {
	t.Helper()
	args := append([]string{"verify", "-i", results, "-o", out, "--poll-interval", "1s"}, extra...)
	return runCLI(t, t.Context(), tn.getenv(nil), append(args, tn.authArgs()...)...)
}

// readVerifyFile reads a verify file by line of the input.
func readVerifyFile(t *testing.T, path string) map[int]report.VerifyRow {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("verify file: %v", err)
	}
	defer f.Close()
	rows, err := report.ReadVerify(f)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]report.VerifyRow{}
	for _, r := range rows {
		if _, dup := out[r.Line]; dup {
			t.Errorf("verify file: line %d twice", r.Line)
		}
		out[r.Line] = r
	}
	return out
}

// TestVerifyAfterReset is issue 15's acceptance 1: 2,000 rows of every kind
// reset, revoked and blocked on the emulator; verify --wait confirms every
// reset row from the user object and from the audit log (paged: 100
// records a page), and exits 0. Then, one at a time: a password changed
// again out of band, a lost audit record, a --password-mode none row:
// verify says so for that row only, and exits 3. Without the audit
// permission it stops with a one-line error naming it, exit 1.
func TestVerifyAfterReset(t *testing.T) {
	users := graphsim.GenerateUsers(1995, testDomain)
	synced := graphsim.User{UPN: "sync.user@" + testDomain, Kind: graphsim.KindSynced}
	admin := graphsim.User{UPN: "global.admin@" + testDomain, Kind: graphsim.KindAdmin}
	users = append(users, synced, admin)
	tn := startTenant(t, graphsim.Options{AuditDelay: time.Hour, AuditPageSize: 100}, users)
	dir := t.TempDir()
	in := writeUsers(t, dir, users, "nobody.here@"+testDomain, "not-an-upn", users[7].UPN)
	results, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	res := runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", results, "--secrets", secrets, "--yes", "--quiet",
		"--revoke-sessions", "--block-sign-in"}, tn.authArgs()...)...)
	if res.code != exitRowsFailed { // the admin, the missing user, the invalid row
		t.Fatalf("reset: exit code %d, want 3; stderr:\n%s", res.code, res.stderr)
	}
	rows := readResults(t, results)
	if len(rows) != 2000 {
		t.Fatalf("results: %d rows, want 2000", len(rows))
	}
	checked := map[int]bool{}
	for line, r := range rows {
		if r.Outcome == report.Succeeded || (r.Revoked != nil && *r.Revoked) || (r.Blocked != nil && *r.Blocked) {
			checked[line] = true
		}
		if r.Outcome == report.Succeeded && r.ClientRequestID == "" {
			t.Errorf("line %d succeeded without a client_request_id", line)
		}
	}
	// 1,995 resets, and the admin's revoke (its reset refused); the synced
	// user's actions, the missing user, the invalid and the duplicate row
	// are whatever issue 14 makes of them.
	succeeded := 0
	for _, r := range rows {
		if r.Outcome == report.Succeeded {
			succeeded++
		}
		if strings.EqualFold(r.User, admin.UPN) && !checked[r.Line] {
			t.Errorf("the admin's row (%s/%s, revoked %s) is not one to check", r.Outcome, r.Reason, cellOf(r.Revoked))
		}
	}
	if succeeded != 1995 {
		t.Fatalf("%d rows succeeded, want 1995", succeeded)
	}

	// The audit log lags an hour: the user objects agree, no reset is
	// in the log.
	out := filepath.Join(dir, "verify-early.csv")
	v := verifyCLI(t, tn, results, out)
	if v.code != exitRowsFailed {
		t.Fatalf("verify before the audit log has them: exit %d, want 3; stderr:\n%s", v.code, v.stderr)
	}
	for line, r := range readVerifyFile(t, out) {
		want := report.NotInAuditLog
		if rows[line].Outcome != report.Succeeded {
			want = report.Confirmed // revoke only: no audit record needed
		}
		if r.Status != want {
			t.Errorf("early: line %d: %s (%s), want %s", line, r.Status, r.Detail, want)
		}
	}

	// A few seconds' lag: --wait polls until every reset is found.
	tn.sim.SetAuditDelay(2 * time.Second)
	out = filepath.Join(dir, "verify.csv")
	v = verifyCLI(t, tn, results, out, "--wait", "1m")
	if v.code != exitOK {
		t.Fatalf("verify --wait: exit %d, want 0; stderr:\n%s", v.code, v.stderr)
	}
	got := readVerifyFile(t, out)
	if len(got) != len(checked) {
		t.Errorf("verify file: %d rows, want one per checked row (%d)", len(got), len(checked))
	}
	for line := range checked {
		r, ok := got[line]
		switch {
		case !ok:
			t.Errorf("line %d: not in the verify file", line)
		case r.Status != report.Confirmed:
			t.Errorf("line %d: %s (%s), want confirmed", line, r.Status, r.Detail)
		case rows[line].Outcome == report.Succeeded && (r.AuditID == "" || r.Activity != graphsim.ActivityResetUserPassword ||
			r.MatchedBy != "correlation_id" || !strings.Contains(r.Initiator, testClient) || r.Checked != "block+reset+revoke"):
			t.Errorf("line %d: audit %q %q matched by %q, initiator %q, checked %q", line, r.AuditID, r.Activity, r.MatchedBy, r.Initiator, r.Checked)
		}
	}
	checkNoSecrets(t, tn, secrets, map[string]string{"stdout": v.stdout, "stderr": v.stderr, "verify file": readFile(t, out)})
	if !strings.Contains(v.stderr, fmt.Sprintf("%d confirmed", len(checked))) {
		t.Errorf("summary:\n%s", v.stderr)
	}

	// Changed again out of band, an hour later: that row only.
	lineOf := func(upn string) int {
		for line, r := range rows {
			if strings.EqualFold(r.User, upn) {
				return line
			}
		}
		t.Fatalf("no row for %s", upn)
		return 0
	}
	changed, lost := users[10], users[20]
	if err := tn.sim.ChangePassword(changed.UPN, "Helpdesk#Set-9", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	expectOnly := func(name string, want map[int]report.VerifyStatus, detail map[int]string) {
		t.Helper()
		out := filepath.Join(dir, "verify-"+name+".csv")
		v := verifyCLI(t, tn, results, out)
		if v.code != exitRowsFailed {
			t.Fatalf("%s: exit %d, want 3; stderr:\n%s", name, v.code, v.stderr)
		}
		for line, r := range readVerifyFile(t, out) {
			st, ok := want[line]
			if !ok {
				st = report.Confirmed
			}
			if r.Status != st || (ok && !strings.Contains(r.Detail, detail[line])) {
				t.Errorf("%s: line %d: %s (%s), want %s (%s)", name, line, r.Status, r.Detail, st, detail[line])
			}
		}
	}
	want := map[int]report.VerifyStatus{lineOf(changed.UPN): report.NotConfirmed}
	detail := map[int]string{lineOf(changed.UPN): "password changed again after the run"}
	expectOnly("changed", want, detail)

	// An audit record lost: that row is not in the audit log.
	if n := tn.sim.DropAudit(lost.UPN); n == 0 {
		t.Fatal("DropAudit removed nothing")
	}
	want[lineOf(lost.UPN)], detail[lineOf(lost.UPN)] = report.NotInAuditLog, "no audit record of the reset"
	expectOnly("dropped", want, detail)

	// Without AuditLog.Read.All: one line naming it and the roles; exit 1.
	tn.sim.DenyAuditLog(true)
	out = filepath.Join(dir, "verify-denied.csv")
	v = verifyCLI(t, tn, results, out, "--quiet")
	if v.code != exitFatal || strings.Count(strings.TrimSpace(v.stderr), "\n") != 0 ||
		!strings.Contains(v.stderr, "AuditLog.Read.All") || !strings.Contains(v.stderr, "Reports Reader") {
		t.Errorf("denied: exit %d, stderr %q; want exit 1 and one line naming AuditLog.Read.All and Reports Reader", v.code, v.stderr)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("denied: a verify file was left behind (%v)", err)
	}
	tn.sim.DenyAuditLog(false)

	// The verify file is never overwritten.
	if v := verifyCLI(t, tn, results, filepath.Join(dir, "verify.csv")); v.code != exitUsage {
		t.Errorf("existing verify file: exit %d, want 2", v.code)
	}
}

// TestVerifyPasswordModeNone: a --password-mode none update sets only the
// force-change flag: the password did not change, and verify says so for
// that row, while the row of the same file whose password was reset is
// confirmed.
func TestVerifyPasswordModeNone(t *testing.T) {
	users := graphsim.GenerateUsers(2, testDomain)
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	none, plain := filepath.Join(dir, "none.csv"), filepath.Join(dir, "plain.csv")
	for _, run := range []struct {
		out  string
		user graphsim.User
		args []string
	}{{none, users[0], []string{"--password-mode", "none"}}, {plain, users[1], []string{"--discard-passwords"}}} {
		in := writeFile(t, dir, "in-"+filepath.Base(run.out), "UserPrincipalName\n"+run.user.UPN+"\n")
		res := runCLI(t, t.Context(), tn.getenv(nil), append(append([]string{"reset", "-i", in, "-o", run.out, "--yes", "--quiet"}, run.args...), tn.authArgs()...)...)
		if res.code != exitOK {
			t.Fatalf("reset %v: exit %d; stderr:\n%s", run.args, res.code, res.stderr)
		}
	}
	// One results file of both rows, as a script would merge them.
	merged := readFile(t, none) + strings.SplitN(strings.Replace(readFile(t, plain), "\n2,", "\n3,", 1), "\n", 2)[1]
	results := writeFile(t, dir, "results.csv", merged)
	out := filepath.Join(dir, "verify.csv")
	v := verifyCLI(t, tn, results, out, "--wait", "30s")
	if v.code != exitRowsFailed {
		t.Fatalf("verify: exit %d, want 3; stderr:\n%s", v.code, v.stderr)
	}
	got := readVerifyFile(t, out)
	if r := got[2]; r.Status != report.NotConfirmed || !strings.Contains(r.Detail, "password not changed") || r.AuditID != "" {
		t.Errorf("--password-mode none row: %s (%s), audit %q; want not_confirmed, password not changed, no audit record", r.Status, r.Detail, r.AuditID)
	}
	if r := got[3]; r.Status != report.Confirmed {
		t.Errorf("reset row: %s (%s), want confirmed", r.Status, r.Detail)
	}
	if len(got) != 2 {
		t.Errorf("%d rows, want 2:\n%s", len(got), fmt.Sprint(got))
	}
}
