package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// The users of the unresettable scenario: an external guest, a user of a
// federated domain and a member, in that order in the input (lines 2-4).
var (
	unresettableGuest  = "ann_partner.example#EXT#@" + testDomain
	unresettableFed    = "megan@federated.example"
	unresettableMember = "lee.gu@" + testDomain
)

// startUnresettable is a tenant where federated.example is federated, with
// the three users of the scenario, and the input that lists them.
func startUnresettable(t *testing.T, opts graphsim.Options) (*tenant, string) {
	t.Helper()
	opts.Domains = append(opts.Domains, graphsim.Domain{ID: "federated.example", AuthenticationType: graphsim.AuthFederated})
	tn := startTenant(t, opts, []graphsim.User{
		{UPN: unresettableGuest, Kind: graphsim.KindGuest},
		{UPN: unresettableFed, Kind: graphsim.KindMember},
		{UPN: unresettableMember, Kind: graphsim.KindMember},
	})
	in := writeFile(t, t.TempDir(), "users.csv", "UserPrincipalName\n"+unresettableGuest+"\n"+unresettableFed+"\n"+unresettableMember+"\n")
	return tn, in
}

// runUnresettable runs cmd (reset or plan) over the scenario's input with
// extra flags, fails the test unless it exits with code, and returns the
// run, its results by line, and the secrets file's path.
func runUnresettable(t *testing.T, tn *tenant, in string, code int, cmd string, extra ...string) (runResult, map[int]report.Result, string) {
	t.Helper()
	dir := t.TempDir()
	results, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	args := append([]string{cmd, "-i", in, "-o", results, "--secrets", secrets, "--yes"}, extra...)
	res := runCLI(t, t.Context(), tn.getenv(nil), append(args, tn.authArgs()...)...)
	if res.code != code {
		t.Fatalf("%s %v: exit code %d, want %d; stderr:\n%s", cmd, extra, res.code, code, res.stderr)
	}
	return res, readResults(t, results), secrets
}

// checkRows fails unless the results have, for lines 2, 3 and 4, these
// outcome/reason pairs.
func checkRows(t *testing.T, got map[int]report.Result, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d result rows, want %d", len(got), len(want))
	}
	for i, w := range want {
		r := got[i+2]
		if s := string(r.Outcome) + "/" + string(r.Reason); s != w {
			t.Errorf("line %d (%s): %s (%s), want %s", i+2, r.User, s, r.ErrorMessage, w)
		}
	}
}

// checkPasswordSets fails unless the tenant's users had these numbers of
// passwords set: the guest, the federated user, the member.
func checkPasswordSets(t *testing.T, tn *tenant, guest, fed, member int) {
	t.Helper()
	for upn, want := range map[string]int{unresettableGuest: guest, unresettableFed: fed, unresettableMember: member} {
		if u, _ := tn.sim.User(upn); u.PasswordSets != want {
			t.Errorf("%s: %d password sets, want %d", upn, u.PasswordSets, want)
		}
	}
}

// checkSaid fails unless stderr says every one of notes.
func checkSaid(t *testing.T, stderr string, notes ...string) {
	t.Helper()
	for _, note := range notes {
		if !strings.Contains(stderr, note) {
			t.Errorf("stderr does not say %q:\n%s", note, stderr)
		}
	}
}

// TestExternalGuestAndFederatedUserSkipped: by default the preflight skips
// the reset of an external guest (skipped/external_guest) and of a user of
// a federated domain (skipped/federated_user), each with what to do
// instead; the member is reset; the run exits 0 (a skip is not a failure);
// the emulator shows only the member's password changed, the secrets file
// only its password, and the log counts the skips. plan shows the same.
func TestExternalGuestAndFederatedUserSkipped(t *testing.T) {
	tn, in := startUnresettable(t, graphsim.Options{})
	res, got, secrets := runUnresettable(t, tn, in, exitOK, "reset")
	checkRows(t, got, "skipped/external_guest", "skipped/federated_user", "succeeded/")
	if m := got[2].ErrorMessage; !strings.Contains(m, "home organisation") || !strings.Contains(m, "--include-guests") {
		t.Errorf("external guest: message %q does not say why and what to do", m)
	}
	if m := got[3].ErrorMessage; !strings.Contains(m, "identity provider") || !strings.Contains(strings.ToLower(m), "reset it there") {
		t.Errorf("federated user: message %q does not say why and what to do", m)
	}
	for line, upn := range map[int]string{2: unresettableGuest, 3: unresettableFed} {
		if u, _ := tn.sim.User(upn); got[line].ObjectID != u.ID {
			t.Errorf("line %d: object_id %q, want %q from the lookup", line, got[line].ObjectID, u.ID)
		}
	}
	checkPasswordSets(t, tn, 0, 0, 1)
	if pw := readSecrets(t, secrets); len(pw) != 1 || pw[unresettableMember] == "" {
		t.Errorf("secrets file lists %d passwords, want the member's only", len(pw))
	}
	checkSaid(t, res.stderr, "1 external guest (#EXT#) was skipped", "1 user of a federated domain was skipped", "federated.example")
	checkNoSecrets(t, tn, secrets, map[string]string{"stdout": res.stdout, "stderr": res.stderr})

	plan, got, _ := runUnresettable(t, tn, in, exitOK, "plan")
	checkRows(t, got, "skipped/external_guest", "skipped/federated_user", "succeeded/would_reset")
	checkSaid(t, plan.stderr, "1 external guest (#EXT#) would be skipped")
}

// TestIncludeGuestsResetsExternalGuests: --include-guests resets the
// external guest; the federated user is still skipped.
func TestIncludeGuestsResetsExternalGuests(t *testing.T) {
	tn, in := startUnresettable(t, graphsim.Options{})
	res, got, secrets := runUnresettable(t, tn, in, exitOK, "reset", "--include-guests")
	checkRows(t, got, "succeeded/", "skipped/federated_user", "succeeded/")
	checkPasswordSets(t, tn, 1, 0, 1)
	if u, _ := tn.sim.User(unresettableGuest); u.Password != readSecrets(t, secrets)[strings.ToLower(unresettableGuest)] {
		t.Error("the guest's password in force is not the recorded one")
	}
	checkSaid(t, res.stderr, "1 external guest (#EXT#) was reset too (--include-guests)")
}

// TestUnresettableWithoutPreflight: with --preflight=false nothing tells
// them apart: the guest is reset, and the federated user's reset fails as
// the emulator answers it (400 Request_BadRequest), exit 3.
func TestUnresettableWithoutPreflight(t *testing.T) {
	tn, in := startUnresettable(t, graphsim.Options{})
	_, got, _ := runUnresettable(t, tn, in, exitRowsFailed, "reset", "--preflight=false")
	checkRows(t, got, "succeeded/", "failed/bad_request", "succeeded/")
	if r := got[3]; r.HTTPStatus != 400 || r.ErrorCode != "Request_BadRequest" || r.RequestID == "" {
		t.Errorf("federated user: status %d code %q request-id %q, want Graph's 400 answer", r.HTTPStatus, r.ErrorCode, r.RequestID)
	}
	checkPasswordSets(t, tn, 1, 0, 1)
	if st := tn.sim.Stats(); st.DomainReads != 0 {
		t.Errorf("%d domains requests without the preflight, want none", st.DomainReads)
	}
}

// TestDomainsRefused: an app without Domain.Read.All gets one warning that
// names it, the run goes on, and the federated user fails as Graph
// answers its reset.
func TestDomainsRefused(t *testing.T) {
	tn, in := startUnresettable(t, graphsim.Options{DenyDomains: true})
	res, got, _ := runUnresettable(t, tn, in, exitRowsFailed, "reset")
	checkRows(t, got, "skipped/external_guest", "failed/bad_request", "succeeded/")
	if n := strings.Count(res.stderr, "Domain.Read.All"); n != 1 {
		t.Errorf("stderr names Domain.Read.All %d times, want one warning:\n%s", n, res.stderr)
	}
	checkPasswordSets(t, tn, 0, 0, 1)
}

// TestSkippedUsersOfAnActionRunGetNoReset: a run that revokes passes the
// users whose reset is skipped on for the actions (Item.Skipped); they
// keep their skip outcome and are sent no reset.
func TestSkippedUsersOfAnActionRunGetNoReset(t *testing.T) {
	tn, in := startUnresettable(t, graphsim.Options{})
	_, got, _ := runUnresettable(t, tn, in, exitOK, "reset", "--revoke-sessions")
	checkRows(t, got, "skipped/external_guest", "skipped/federated_user", "succeeded/")
	checkPasswordSets(t, tn, 0, 0, 1)
}

// TestIncludeGuestsUsage: --include-guests needs the preflight and
// contradicts --skip-guests.
func TestIncludeGuestsUsage(t *testing.T) {
	tn, in := startUnresettable(t, graphsim.Options{})
	for _, tc := range []struct {
		flags []string
		want  string
	}{
		{[]string{"--include-guests", "--preflight=false"}, "--include-guests needs --preflight"},
		{[]string{"--include-guests", "--skip-guests"}, "choose one"},
	} {
		dir := t.TempDir()
		args := append([]string{"reset", "-i", in, "-o", filepath.Join(dir, "r.csv"), "--secrets", filepath.Join(dir, "s.csv"), "--yes"}, tc.flags...)
		res := runCLI(t, t.Context(), tn.getenv(nil), append(args, tn.authArgs()...)...)
		if res.code != exitUsage || !strings.Contains(res.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d saying %q", tc.flags, res.code, res.stderr, exitUsage, tc.want)
		}
	}
	if st := tn.sim.Stats(); st.Batches != 0 {
		t.Errorf("%d batches sent by usage errors, want none", st.Batches)
	}
}
