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

// incidentRow is one planned row of the preflight scenario.
type incidentRow struct {
	line    int
	user    string // as written in the input
	upn     string // the tenant user it names; "" for none
	outcome report.Outcome
	reason  report.Reason
	// planOnly marks what only the write can tell: an administrator the
	// app may not reset looks like any user to a GET.
	planOutcome report.Outcome
	planReason  report.Reason
}

// incident2000 is 2,000 rows of every kind: members, guests, synced users,
// disabled accounts, administrators the app may not reset, users that do
// not exist, users listed a second time by object id, and invalid rows.
// The flags used with it are --revoke-sessions --skip-disabled.
func incident2000(t *testing.T) (users []graphsim.User, csv string, rows []incidentRow) {
	t.Helper()
	members := graphsim.GenerateUsers(1820, testDomain)
	users = append(users, members...)
	var b strings.Builder
	b.WriteString("UserPrincipalName,Id\n")
	line := 1
	add := func(upn, id string, r incidentRow) {
		line++
		fmt.Fprintf(&b, "%s,%s\n", upn, id)
		r.line = line
		r.user = upn
		if upn == "" {
			r.user = id
		}
		if r.planOutcome == "" {
			r.planOutcome, r.planReason = r.outcome, r.reason
			if r.outcome == report.Succeeded {
				r.planReason = report.ReasonWouldReset
			}
		}
		rows = append(rows, r)
	}
	kinds := 0
	kind := func(k graphsim.Kind, n int, name string) []graphsim.User {
		var out []graphsim.User
		kinds++
		for i := range n {
			upn := fmt.Sprintf("%s%02d@%s", name, i, testDomain)
			if k == graphsim.KindGuest {
				upn = fmt.Sprintf("%s%02d_partner.example#EXT#@%s", name, i, testDomain)
			}
			out = append(out, graphsim.User{UPN: upn, Kind: k, ID: fmt.Sprintf("%08d-0000-4000-8000-%012d", kinds, i)})
		}
		users = append(users, out...)
		return out
	}
	guests := kind(graphsim.KindGuest, 40, "guest")
	synced := kind(graphsim.KindSynced, 40, "synced")
	disabled := kind(graphsim.KindDisabled, 40, "left")
	admins := kind(graphsim.KindAdmin, 10, "admin")
	for i, u := range members[:1800] {
		add(u.UPN, "", incidentRow{upn: u.UPN, outcome: report.Succeeded})
		switch i % 200 {
		case 50:
			add("", guests[i/200].ID, incidentRow{upn: guests[i/200].UPN, outcome: report.Succeeded})
		case 100:
			add("ghost"+fmt.Sprint(i)+"@"+testDomain, "", incidentRow{outcome: report.Failed, reason: "not_found"})
		case 150:
			// The same user again, by object id: the later row is the duplicate.
			add("", members[i-100].ID, incidentRow{upn: members[i-100].UPN, outcome: report.Duplicate})
		}
	}
	for _, u := range guests[10:] {
		add(u.UPN, "", incidentRow{upn: u.UPN, outcome: report.Succeeded})
	}
	for _, u := range synced {
		add(u.UPN, "", incidentRow{upn: u.UPN, outcome: report.Skipped, reason: "synced_user"})
	}
	for _, u := range disabled {
		add(u.UPN, "", incidentRow{upn: u.UPN, outcome: report.Skipped, reason: "disabled"})
	}
	for _, u := range admins {
		add(u.UPN, "", incidentRow{upn: u.UPN, outcome: report.Failed, reason: "insufficient_privileges",
			planOutcome: report.Succeeded, planReason: report.ReasonWouldReset})
	}
	for len(rows) < 1995 {
		add(fmt.Sprintf("missing%d@%s", line, testDomain), "", incidentRow{outcome: report.Failed, reason: "not_found"})
	}
	for len(rows) < 2000 {
		add(fmt.Sprintf("not an upn %d", line), "", incidentRow{outcome: report.Invalid, reason: "invalid_upn"})
	}
	return users, b.String(), rows
}

// TestPlanThenResetWithRevoke is acceptance 1: plan, then reset
// --revoke-sessions with the same flags, against 2,000 rows of every kind.
// The plan's outcomes match the reset's row by row (an administrator the
// app may not reset is the one thing only the write tells), and it
// predicts the revokes; plan sends no write and writes no secrets; reset
// revokes the sessions of every user it reset or was refused for (an
// administrator), once, and spends no write on a missing, synced or
// skipped user (the preflight passes none on in this branch).
func TestPlanThenResetWithRevoke(t *testing.T) {
	users, csv, rows := incident2000(t)
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", csv)
	flags := func(cmd, out, secrets string) []string {
		return append([]string{cmd, "-i", in, "-o", out, "--secrets", secrets, "--yes", "--quiet",
			"--revoke-sessions", "--skip-disabled"}, tn.authArgs()...)
	}

	planPath, planSecrets := filepath.Join(dir, "plan.csv"), filepath.Join(dir, "plan-secrets.csv")
	res := runCLI(t, t.Context(), tn.getenv(nil), flags("plan", planPath, planSecrets)...)
	if res.code != exitRowsFailed {
		t.Fatalf("plan: exit code %d, want %d; stderr:\n%s", res.code, exitRowsFailed, res.stderr)
	}
	st := tn.sim.Stats()
	if st.Writes != 0 || st.WritesApplied != 0 || len(tn.sim.Changes()) != 0 {
		t.Fatalf("plan sent %d writes (%d applied, %d changes), want none", st.Writes, st.WritesApplied, len(tn.sim.Changes()))
	}
	if st.Reads == 0 {
		t.Errorf("plan looked no user up")
	}
	if _, err := os.Stat(planSecrets); !os.IsNotExist(err) {
		t.Errorf("plan created a secrets file (%v): it sets no password", err)
	}
	plan := readResults(t, planPath)

	resultsPath, secretsPath := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	started := time.Now()
	res = runCLI(t, t.Context(), tn.getenv(nil), flags("reset", resultsPath, secretsPath)...)
	if res.code != exitRowsFailed {
		t.Fatalf("reset: exit code %d, want %d; stderr:\n%s", res.code, exitRowsFailed, res.stderr)
	}
	t.Logf("reset of %d rows took %v", len(rows), time.Since(started))
	results := readResults(t, resultsPath)
	secrets := readSecrets(t, secretsPath)
	if len(plan) != len(rows) || len(results) != len(rows) {
		t.Errorf("plan %d rows, results %d rows, want %d each", len(plan), len(results), len(rows))
	}

	resetUsers := 0
	for _, e := range rows {
		p, r := plan[e.line], results[e.line]
		if p.Outcome != e.planOutcome || p.Reason != e.planReason || p.User != e.user {
			t.Errorf("plan line %d: got %s %s/%s (%s), want %s %s/%s", e.line, p.User, p.Outcome, p.Reason, p.ErrorMessage, e.user, e.planOutcome, e.planReason)
		}
		if r.Outcome != e.outcome || r.Reason != e.reason || r.User != e.user {
			t.Errorf("reset line %d: got %s %s/%s (%s), want %s %s/%s", e.line, r.User, r.Outcome, r.Reason, r.ErrorMessage, e.user, e.outcome, e.reason)
		}
		if e.upn != "" && e.outcome != report.Invalid {
			u, _ := tn.sim.User(e.upn)
			if p.ObjectID != u.ID || r.ObjectID != u.ID {
				t.Errorf("line %d: object_id plan %q reset %q, want %q from the lookup", e.line, p.ObjectID, r.ObjectID, u.ID)
			}
		}
		// The plan predicts the revoke of every row it would send (true:
		// would be sent).
		wantPlan := ""
		if p.Outcome == report.Succeeded {
			wantPlan = "true"
		}
		if cellOf(p.Revoked) != wantPlan {
			t.Errorf("plan line %d: %s revoked %q, want %q: true only for a row reset would send", e.line, p.Outcome, cellOf(p.Revoked), wantPlan)
		}
		switch {
		case r.Outcome == report.Succeeded || r.Reason == report.ReasonInsufficientPrivileges:
			// Every user found is revoked, whatever happened to its
			// reset: an administrator the app may not reset too.
			if r.Revoked == nil || !*r.Revoked {
				t.Errorf("line %d: %s/%s but revoked %v, want true", e.line, r.Outcome, r.Reason, r.Revoked)
			}
			u, _ := tn.sim.User(e.upn)
			if u.SessionsRevoked != 1 {
				t.Errorf("line %d: %s's sessions revoked %d times, want once", e.line, e.upn, u.SessionsRevoked)
			}
			if r.Outcome != report.Succeeded {
				break
			}
			resetUsers++
			if pw, ok := secrets[strings.ToLower(e.user)]; !ok || pw != u.Password || u.PasswordSets != 1 {
				t.Errorf("line %d: %s: password in force is not the recorded one (recorded %v, sets %d)", e.line, e.upn, ok, u.PasswordSets)
			}
		case r.Revoked != nil:
			t.Errorf("line %d: %s but revoked %v, want empty", e.line, r.Outcome, *r.Revoked)
		}
	}
	for _, u := range tn.sim.Users() {
		if u.Kind != graphsim.KindMember && u.Kind != graphsim.KindGuest && u.PasswordSets != 0 {
			t.Errorf("%s (%s) was changed: %d password sets", u.UPN, u.Kind, u.PasswordSets)
		}
		if u.Kind != graphsim.KindMember && u.Kind != graphsim.KindGuest && u.Kind != graphsim.KindAdmin && u.SessionsRevoked != 0 {
			t.Errorf("%s (%s) was revoked %d times: the preflight passed on no skipped user", u.UPN, u.Kind, u.SessionsRevoked)
		}
	}
	// Every write is accounted for: a reset and a revoke per user reset,
	// and the refused reset and the revoke of each administrator. Nothing
	// for a missing, synced, disabled or duplicate user.
	admins := 10
	if got, want := tn.sim.Stats().Writes, 2*resetUsers+2*admins; got != want {
		t.Errorf("reset sent %d writes, want %d (2 for each of %d users reset, 2 for each of %d admins)", got, want, resetUsers, admins)
	}
	checkNoSecrets(t, tn, secretsPath, map[string]string{"stdout": res.stdout, "stderr": res.stderr, "results file": readFile(t, resultsPath)})
}
