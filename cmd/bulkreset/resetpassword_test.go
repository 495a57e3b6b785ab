package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// resetPasswordTenant is a tenant of cloud members and users synced from
// on-premises AD, whose resetPassword operations run for two polls.
func resetPasswordTenant(t *testing.T, noWriteback bool) (*tenant, string) {
	t.Helper()
	var users []graphsim.User
	var csv strings.Builder
	csv.WriteString("UserPrincipalName\n")
	for i := range 12 {
		kind := graphsim.KindMember
		if i%3 == 0 {
			kind = graphsim.KindSynced
		}
		u := graphsim.User{ID: fmt.Sprintf("5e1d0000-0000-4000-8000-%012d", i), UPN: fmt.Sprintf("user%02d@%s", i, testDomain), Kind: kind}
		users = append(users, u)
		csv.WriteString(u.UPN + "\n")
	}
	// Short-lived tokens: the run renews its delegated token with the
	// refresh token, as a long run signed in by an administrator does.
	tn := startTenant(t, graphsim.Options{OperationPolls: 2, NoWriteback: noWriteback, TokenLifetime: 2 * time.Second}, users)
	return tn, csv.String()
}

// delegatedArgs sign an administrator in with the device code flow,
// through azidentity's DeviceCodeCredential against graphsim.
func (tn *tenant) delegatedArgs() []string {
	return []string{"--auth", "device-code", "--graph-url", tn.srv.URL, "--authority-host", tn.srv.URL}
}

// TestSyncedResetPassword: with --synced resetpassword and an administrator
// signed in, synced users are reset through the resetPassword action and
// its long-running operation; a row succeeds only after the operation
// reported it succeeded; cloud users are reset with the usual PATCH.
func TestSyncedResetPassword(t *testing.T) {
	tn, csv := resetPasswordTenant(t, false)
	dir := t.TempDir()
	in, results, secrets := writeFile(t, dir, "in.csv", csv), filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	args := append([]string{"reset", "-i", in, "-o", results, "--secrets", secrets, "--yes", "--synced", "resetpassword", "--revoke-sessions"}, tn.delegatedArgs()...)
	res := runCLI(t, t.Context(), tn.getenv(nil), args...)
	if res.code != exitOK {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitOK, res.stderr)
	}
	if !strings.Contains(res.stderr, "devicelogin") {
		t.Errorf("stderr does not show the device code sign-in instruction:\n%s", res.stderr)
	}
	rows := readResults(t, results)
	pws := readSecrets(t, secrets)
	changes := map[string]graphsim.Change{}
	for _, c := range tn.sim.Changes() {
		if _, twice := changes[c.UPN]; twice {
			t.Errorf("%s was given a password twice", c.UPN)
		}
		changes[c.UPN] = c
	}
	if len(rows) != 12 {
		t.Fatalf("%d result rows, want 12", len(rows))
	}
	for line, r := range rows {
		u, _ := tn.sim.User(r.User)
		if r.Outcome != report.Succeeded || r.Revoked == nil || !*r.Revoked {
			t.Errorf("line %d (%s, %s): %s/%s revoked %v (%s), want succeeded and revoked", line, r.User, u.Kind, r.Outcome, r.Reason, r.Revoked, r.ErrorMessage)
			continue
		}
		if pws[strings.ToLower(r.User)] == "" || u.Password != pws[strings.ToLower(r.User)] {
			t.Errorf("line %d: %s's password in force is not the one in the secrets file", line, r.User)
		}
		if !u.ForceChangePasswordNextSignIn || u.SessionsRevoked != 1 {
			t.Errorf("line %d: %s: force change %v, sessions revoked %d; want true and 1", line, r.User, u.ForceChangePasswordNextSignIn, u.SessionsRevoked)
		}
		c := changes[u.UPN]
		if u.Kind == graphsim.KindSynced {
			// The password took effect when a poll found the operation
			// done; the row was written after that, never on the 202.
			if r.HTTPStatus != 202 {
				t.Errorf("line %d: synced user reset with status %d, want 202 (resetPassword accepted)", line, r.HTTPStatus)
			}
			if r.FinishedAt.Before(c.At.Truncate(time.Millisecond)) { // the file keeps milliseconds
				t.Errorf("line %d: the row finished at %v, before the operation applied the password at %v", line, r.FinishedAt, c.At)
			}
		} else if r.HTTPStatus != 204 {
			t.Errorf("line %d: cloud user reset with status %d, want 204 (PATCH)", line, r.HTTPStatus)
		}
	}
	if st := tn.sim.Stats(); st.TokensIssued < 2 {
		t.Errorf("%d tokens issued: the delegated token was never renewed", st.TokensIssued)
	}
	if got := tn.sim.Stats().OperationsStarted; got != 4 {
		t.Errorf("%d resetPassword operations started, want 4 (one per synced user)", got)
	}
	checkNoSecrets(t, tn, secrets, map[string]string{"stdout": res.stdout, "stderr": res.stderr, "results": readFile(t, results)})
}

// TestSyncedResetPasswordOperationFails: when Graph reports the operation
// failed (no password writeback), the row fails with Graph's reason, and
// its password stays in the secrets file (the cloud part may have been set).
func TestSyncedResetPasswordOperationFails(t *testing.T) {
	tn, csv := resetPasswordTenant(t, true)
	dir := t.TempDir()
	in, results, secrets := writeFile(t, dir, "in.csv", csv), filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	args := append([]string{"reset", "-i", in, "-o", results, "--secrets", secrets, "--yes", "--synced", "resetpassword"}, tn.delegatedArgs()...)
	res := runCLI(t, t.Context(), tn.getenv(nil), args...)
	if res.code != exitRowsFailed {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitRowsFailed, res.stderr)
	}
	pws := readSecrets(t, secrets)
	for line, r := range readResults(t, results) {
		u, _ := tn.sim.User(r.User)
		if u.Kind != graphsim.KindSynced {
			if r.Outcome != report.Succeeded {
				t.Errorf("line %d: cloud user %s/%s, want succeeded", line, r.Outcome, r.Reason)
			}
			continue
		}
		if r.Outcome != report.Failed || r.Reason != report.ReasonOperationFailed || !strings.Contains(r.ErrorMessage, "writeback") {
			t.Errorf("line %d: synced user %s/%s (%s), want failed/%s saying why", line, r.Outcome, r.Reason, r.ErrorMessage, report.ReasonOperationFailed)
		}
		if u.PasswordSets != 0 {
			t.Errorf("line %d: the failed operation changed the password", line)
		}
		if pws[strings.ToLower(r.User)] == "" {
			t.Errorf("line %d: the password sent is not in the secrets file", line)
		}
	}
}

// TestSyncedResetPasswordNeedsDelegatedSignIn: the action supports delegated
// permissions only, so an application identity is a usage error that says
// which --auth to use; nothing is sent.
func TestSyncedResetPasswordNeedsDelegatedSignIn(t *testing.T) {
	tn, csv := resetPasswordTenant(t, false)
	dir := t.TempDir()
	in := writeFile(t, dir, "in.csv", csv)
	noApp := map[string]string{"AZURE_CLIENT_ID": ""}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"client secret", append([]string{"--secrets", filepath.Join(dir, "s1.csv")}, tn.authArgs()...), nil, "--auth device-code"},
		{"auto", []string{"--secrets", filepath.Join(dir, "s2.csv"), "--graph-url", tn.srv.URL, "--authority-host", tn.srv.URL}, nil, "delegated"},
		{"no preflight", append([]string{"--secrets", filepath.Join(dir, "s3.csv"), "--preflight=false"}, tn.delegatedArgs()...), nil, "--preflight"},
		{"no password", append([]string{"--password-mode", "none"}, tn.delegatedArgs()...), nil, "--password-mode none"},
		// azidentity's default public client is the Azure CLI's app, whose
		// tokens never carry UserAuthenticationMethod.ReadWrite.All.
		{"device code without an app", append([]string{"--secrets", filepath.Join(dir, "s5.csv")}, tn.delegatedArgs()...), noApp,
			"--client-id (or AZURE_CLIENT_ID) of an app registration with the delegated permission UserAuthenticationMethod.ReadWrite.All"},
		{"browser without an app", []string{"--secrets", filepath.Join(dir, "s6.csv"), "--auth", "browser"}, noApp, "--client-id (or AZURE_CLIENT_ID)"},
		{"azure cli", []string{"--secrets", filepath.Join(dir, "s7.csv"), "--auth", "azure-cli"}, nil, "--auth azure-cli"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"reset", "-i", in, "-o", filepath.Join(dir, tc.name+".csv"), "--yes", "--synced", "resetpassword"}, tc.args...)
			res := runCLI(t, t.Context(), tn.getenv(tc.env), args...)
			if res.code != exitUsage || !strings.Contains(res.stderr, tc.want) {
				t.Errorf("exit code %d, want %d with %q; stderr:\n%s", res.code, exitUsage, tc.want, res.stderr)
			}
		})
	}
	if st := tn.sim.Stats(); st.Batches != 0 || st.TokensIssued != 0 {
		t.Errorf("a usage error signed in or sent requests: %+v", st)
	}
}

// TestSyncedResetPasswordInterruptedWhilePolling: a run interrupted after
// Graph accepted the resets leaves operations that end on their own (the
// passwords take effect); --resume sends the same recorded passwords again
// and finishes: one password per user, the one in force, every row once.
func TestSyncedResetPasswordInterruptedWhilePolling(t *testing.T) {
	var users []graphsim.User
	var csv strings.Builder
	csv.WriteString("UserPrincipalName\n")
	for i := range 6 {
		u := graphsim.User{ID: fmt.Sprintf("5e1d0000-0000-4000-8000-%012d", i), UPN: fmt.Sprintf("sync%02d@%s", i, testDomain), Kind: graphsim.KindSynced}
		users = append(users, u)
		csv.WriteString(u.UPN + "\n")
	}
	ctx, interrupt := context.WithCancel(t.Context())
	defer interrupt()
	var accepted int
	tn := startTenant(t, graphsim.Options{
		OperationDelay: 200 * time.Millisecond,
		// Interrupt once every synced user's reset was accepted: the run
		// is then waiting on the operations.
		OperationAccepted: func() {
			if accepted++; accepted == len(users) {
				interrupt()
			}
		},
	}, users)
	dir := t.TempDir()
	in, results, secrets := writeFile(t, dir, "in.csv", csv.String()), filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	args := append([]string{"reset", "-i", in, "-o", results, "--secrets", secrets, "--yes", "--synced", "resetpassword"}, tn.delegatedArgs()...)
	if res := runCLI(t, ctx, tn.getenv(nil), args...); res.code != exitInterrupted {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitInterrupted, res.stderr)
	}
	if n := len(readResults(t, results)); n != 0 {
		t.Errorf("%d rows written before their operations ended, want 0", n)
	}
	res := runCLI(t, t.Context(), tn.getenv(nil), append(args, "--resume")...)
	if res.code != exitOK {
		t.Fatalf("--resume: exit code %d, want %d; stderr:\n%s", res.code, exitOK, res.stderr)
	}
	rows, pws := readResults(t, results), readSecrets(t, secrets)
	perUser := passwordsPerUser(tn)
	for _, u := range users {
		got, _ := tn.sim.User(u.UPN)
		if len(perUser[u.UPN]) != 1 || pws[strings.ToLower(u.UPN)] != got.Password {
			t.Errorf("%s: %d passwords set; the one in force is the recorded one: %v", u.UPN, len(perUser[u.UPN]), pws[strings.ToLower(u.UPN)] == got.Password)
		}
	}
	if len(rows) != len(users) {
		t.Errorf("%d result rows, want %d", len(rows), len(users))
	}
	for line, r := range rows {
		if r.Outcome != report.Succeeded || r.Attempts != 2 {
			t.Errorf("line %d: %s/%s after %d attempts, want succeeded after 2 (the interrupted one counts)", line, r.Outcome, r.Reason, r.Attempts)
		}
	}
	if st := tn.sim.Stats(); st.OperationsStarted != 2*len(users) {
		t.Errorf("%d operations, want %d (each user once per run)", st.OperationsStarted, 2*len(users))
	}
}
