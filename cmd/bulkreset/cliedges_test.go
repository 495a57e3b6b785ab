package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// TestPlanHelpExampleRuns: the first example of `plan --help` works as
// printed (plan makes no password, so it needs no --secrets); only its
// paths are moved to the test's directories.
func TestPlanHelpExampleRuns(t *testing.T) {
	var line string
	for _, l := range strings.Split(newPlanCmd(&env{}).Example, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "bulkreset plan --sandbox") {
			line = strings.TrimSpace(l)
			break
		}
	}
	if line == "" {
		t.Fatal("no sandbox example in plan --help")
	}
	plan := filepath.Join(t.TempDir(), "plan.csv")
	var args []string
	for _, w := range strings.Fields(line)[1:] {
		switch w {
		case "testdata/demo.csv":
			w = filepath.Join("..", "..", "testdata", "demo.csv")
		case "plan.csv":
			w = plan
		}
		args = append(args, w)
	}
	res := runCLI(t, t.Context(), func(string) string { return "" }, args...)
	if res.code != exitOK && res.code != exitRowsFailed {
		t.Fatalf("%q: exit %d, want 0 or 3; stderr:\n%s", line, res.code, res.stderr)
	}
	if rows := readResults(t, plan); len(rows) == 0 {
		t.Errorf("%q wrote no plan rows", line)
	}
}

// TestSandboxTenantFileForms: --sandbox FILE (with a space), --sandbox=FILE
// and --sandbox-tenant FILE all run against the tenant in FILE; a bare
// --sandbox before another flag is the built-in tenant; a missing file or
// two different files are usage errors.
func TestSandboxTenantFileForms(t *testing.T) {
	dir := t.TempDir()
	tenantFile := writeFile(t, dir, "tenant.json", `{"users":[{"userPrincipalName":"ann@tenantfile.example"}]}`)
	in := writeFile(t, dir, "users.csv", "UserPrincipalName\nann@tenantfile.example\n")
	noEnv := func(string) string { return "" }
	for name, form := range map[string][]string{
		"space":          {"--sandbox", tenantFile},
		"equals":         {"--sandbox=" + tenantFile},
		"sandbox-tenant": {"--sandbox-tenant", tenantFile},
		"both, the same": {"--sandbox", "--sandbox-tenant", tenantFile},
	} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "r.csv")
			args := append([]string{"reset", "-i", in, "-o", out, "--discard-passwords", "--yes"}, form...)
			res := runCLI(t, t.Context(), noEnv, args...)
			if res.code != exitOK {
				t.Fatalf("%q: exit %d, want 0; stderr:\n%s", form, res.code, res.stderr)
			}
			if r := readResults(t, out)[2]; r.Outcome != report.Succeeded {
				t.Errorf("%q: ann is %s/%s, want succeeded (the tenant of the file)", form, r.Outcome, r.Reason)
			}
		})
	}
	// A bare --sandbox followed by a flag is the built-in tenant: ann is
	// not in it.
	out := filepath.Join(t.TempDir(), "r.csv")
	res := runCLI(t, t.Context(), noEnv, "reset", "--sandbox", "-i", in, "-o", out, "--discard-passwords", "--yes")
	if r := readResults(t, out)[2]; res.code != exitRowsFailed || r.Reason != report.ReasonNotFound {
		t.Errorf("bare --sandbox: exit %d, ann %s/%s; want 3 and not_found in the built-in tenant; stderr:\n%s", res.code, r.Outcome, r.Reason, res.stderr)
	}
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"missing file":    {[]string{"--sandbox-tenant", filepath.Join(dir, "none.json")}, "--sandbox-tenant"},
		"two files":       {[]string{"--sandbox=" + tenantFile, "--sandbox-tenant", writeFile(t, dir, "other.json", `{"users":[]}`)}, "--sandbox-tenant"},
		"not a json file": {[]string{"--sandbox", in}, "unknown command"},
	} {
		res := runCLI(t, t.Context(), noEnv, append([]string{"reset", "-i", in, "-o", filepath.Join(t.TempDir(), "r.csv"), "--discard-passwords", "--yes"}, c.args...)...)
		if res.code != exitUsage || !strings.Contains(res.stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d saying %q", name, res.code, res.stderr, exitUsage, c.want)
		}
	}
}

// TestCloudCheckedWithSandbox: an unknown --cloud is a usage error with the
// sandbox too.
func TestCloudCheckedWithSandbox(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", "UserPrincipalName\nadele.vance@"+graphsim.SandboxDomain+"\n")
	res := runCLI(t, t.Context(), func(string) string { return "" }, "reset", "--sandbox", "--cloud", "mars", "-i", in,
		"-o", filepath.Join(dir, "r.csv"), "--discard-passwords", "--yes")
	if res.code != exitUsage || !strings.Contains(res.stderr, "--cloud") {
		t.Errorf("exit %d, stderr %q; want %d naming --cloud", res.code, res.stderr, exitUsage)
	}
	if _, err := os.Stat(filepath.Join(dir, "r.csv")); err == nil {
		t.Error("a results file was made")
	}
}

// TestMaxUsers: an input with more users than --max-users is refused with
// exit 2 before anything is sent; as many as --max-users runs.
func TestMaxUsers(t *testing.T) {
	users := graphsim.GenerateUsers(3, testDomain)
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", "UserPrincipalName\n"+users[0].UPN+"\n"+users[1].UPN+"\n"+users[2].UPN+"\n")
	out := filepath.Join(dir, "r.csv")
	res := runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", out, "--discard-passwords", "--yes", "--max-users", "2"}, tn.authArgs()...)...)
	if want := "has 3 users, more than --max-users 2: nothing was sent"; res.code != exitUsage || !strings.Contains(res.stderr, want) {
		t.Errorf("exit %d, stderr %q; want %d saying %q", res.code, res.stderr, exitUsage, want)
	}
	if st := tn.sim.Stats(); st.TokensIssued+st.Batches+st.DirectRequests != 0 {
		t.Errorf("the refused run sent requests: %+v", st)
	}
	for _, p := range []string{out, report.RunSettingsPath(out)} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("the refused run made %s", p)
		}
	}
	res = runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", out, "--discard-passwords", "--yes", "--max-users", "3"}, tn.authArgs()...)...)
	if res.code != exitOK || len(readResults(t, out)) != 3 {
		t.Errorf("--max-users 3 with 3 users: exit %d; stderr:\n%s", res.code, res.stderr)
	}
	res = runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", "-", "-o", filepath.Join(dir, "r2.csv"), "--discard-passwords", "--yes", "--max-users", "3"}, tn.authArgs()...)...)
	if res.code != exitUsage || !strings.Contains(res.stderr, "--max-users needs an input file") {
		t.Errorf("--max-users with standard input: exit %d, stderr %q; want 2", res.code, res.stderr)
	}
}

// TestRunSettingsGuards: a settings file beside -o without --resume is a
// usage error like an existing results file; a resume whose input changed
// since the run began is exit 2 and sends nothing; a results file without
// settings (an older version) is resumed with the flags given, after a
// warning.
func TestRunSettingsGuards(t *testing.T) {
	users := graphsim.GenerateUsers(2, testDomain)
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", "UserPrincipalName\n"+users[0].UPN+"\n"+users[1].UPN+"\n")
	out := filepath.Join(dir, "results.csv")
	args := append([]string{"reset", "-i", in, "-o", out, "--discard-passwords", "--yes"}, tn.authArgs()...)
	if res := runCLI(t, t.Context(), tn.getenv(nil), args...); res.code != exitOK {
		t.Fatalf("first run: exit %d; stderr:\n%s", res.code, res.stderr)
	}
	if s := readFile(t, report.RunSettingsPath(out)); !strings.Contains(s, `"discard_passwords": true`) || !strings.Contains(s, `"sha256": "`) {
		t.Errorf("the settings file does not record the run:\n%s", s)
	}
	os.Remove(out)
	res := runCLI(t, t.Context(), tn.getenv(nil), args...)
	if want := report.RunSettingsPath(out) + " already exists"; res.code != exitUsage || !strings.Contains(res.stderr, want) {
		t.Errorf("a settings file without --resume: exit %d, stderr %q; want %d saying %q", res.code, res.stderr, exitUsage, want)
	}

	// AZURE_TENANT_ID fills --tenant: another tenant there is a difference;
	// --tenant with the run's value beats it.
	os.WriteFile(out, []byte(strings.Join(report.ResultsHeader, ",")+"\n"), 0o600)
	other := tn.getenv(map[string]string{"AZURE_TENANT_ID": "contoso.example"})
	res = runCLI(t, t.Context(), other, "reset", "--resume", "-o", out, "--yes", "--auth", "client-secret")
	if want := "AZURE_TENANT_ID (give --tenant " + testTenant + " to resume the run): this run used " + testTenant + ", the resume says contoso.example"; res.code != exitUsage || !strings.Contains(res.stderr, want) {
		t.Errorf("another AZURE_TENANT_ID: exit %d, stderr %q; want %d saying %q", res.code, res.stderr, exitUsage, want)
	}
	res = runCLI(t, t.Context(), other, "reset", "--resume", "-o", out, "--yes", "--auth", "client-secret", "--tenant", testTenant)
	if res.code != exitOK {
		t.Errorf("--tenant with the run's value over another AZURE_TENANT_ID: exit %d; stderr:\n%s", res.code, res.stderr)
	}

	// The same size, another user: the content is what counts.
	writeFile(t, dir, "users.csv", "UserPrincipalName\n"+users[1].UPN+"\n"+users[0].UPN+"\n")
	before := tn.sim.Stats()
	res = runCLI(t, t.Context(), tn.getenv(nil), "reset", "--resume", "-o", out, "--yes", "--auth", "client-secret")
	if want := "the input file changed since the run began"; res.code != exitUsage || !strings.Contains(res.stderr, want) {
		t.Errorf("changed input: exit %d, stderr %q; want %d saying %q", res.code, res.stderr, exitUsage, want)
	}
	if after := tn.sim.Stats(); after.TokensIssued != before.TokensIssued || after.Batches != before.Batches {
		t.Errorf("the refused resume sent requests")
	}

	// No settings file: resumed as before, with a warning.
	os.Remove(report.RunSettingsPath(out))
	writeFile(t, dir, "users.csv", "UserPrincipalName\n"+users[0].UPN+"\n"+users[1].UPN+"\n")
	res = runCLI(t, t.Context(), tn.getenv(nil), append(args, "--resume")...)
	if res.code != exitOK || !strings.Contains(res.stderr, "the results file has no settings beside it") {
		t.Errorf("resume without a settings file: exit %d, want 0 and a warning; stderr:\n%s", res.code, res.stderr)
	}
}

// TestNotesInTheRightNumber: one synced user, one disabled account and one
// guest are "1 user … was", not "1 users … were".
func TestNotesInTheRightNumber(t *testing.T) {
	users := []graphsim.User{
		{UPN: "sync@" + testDomain, Kind: graphsim.KindSynced},
		{UPN: "off@" + testDomain, Kind: graphsim.KindDisabled},
		{UPN: "guest@" + testDomain, Kind: graphsim.KindGuest},
	}
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", "UserPrincipalName\nsync@"+testDomain+"\noff@"+testDomain+"\nguest@"+testDomain+"\n")
	res := runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", filepath.Join(dir, "r.csv"), "--discard-passwords", "--yes"}, tn.authArgs()...)...)
	for _, want := range []string{
		"1 user synced from on-premises AD was skipped",
		"1 disabled account was reset too",
		"Summary: 3 rows",
	} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, res.stderr)
		}
	}
	if strings.Contains(res.stderr, "1 users") || strings.Contains(res.stderr, "1 rows") {
		t.Errorf("a count of 1 with a plural noun:\n%s", res.stderr)
	}
	// plan says what reset would do.
	res = runCLI(t, t.Context(), tn.getenv(nil), append([]string{"plan", "-i", in, "-o", filepath.Join(dir, "p.csv"), "--yes"}, tn.authArgs()...)...)
	if want := "1 user synced from on-premises AD would be skipped"; !strings.Contains(res.stderr, want) {
		t.Errorf("plan: stderr does not say %q:\n%s", want, res.stderr)
	}
}

// upnCSV is an input of users' UPNs, one a row.
func upnCSV(users []graphsim.User) string {
	var b strings.Builder
	b.WriteString("UserPrincipalName\n")
	for _, u := range users {
		b.WriteString(u.UPN + "\n")
	}
	return b.String()
}

// passwordsPerUser returns, by UPN, the distinct passwords the tenant was
// ever given: one per user when a resume sent the recorded password again.
func passwordsPerUser(tn *tenant) map[string]map[string]bool {
	perUser := map[string]map[string]bool{}
	for _, c := range tn.sim.Changes() {
		if perUser[c.UPN] == nil {
			perUser[c.UPN] = map[string]bool{}
		}
		perUser[c.UPN][c.Password] = true
	}
	return perUser
}

// TestSandboxFileArgs: only "--sandbox" followed by an existing .json file
// is joined into one argument; nothing after "--" is touched.
func TestSandboxFileArgs(t *testing.T) {
	dir := t.TempDir()
	tenant := writeFile(t, dir, "t.JSON", "{}")
	csv := writeFile(t, dir, "u.csv", "x")
	for _, c := range []struct{ in, want []string }{
		{[]string{"reset", "--sandbox", tenant, "-i", csv}, []string{"reset", "--sandbox=" + tenant, "-i", csv}},
		{[]string{"reset", "--sandbox", "-i", csv}, []string{"reset", "--sandbox", "-i", csv}},
		{[]string{"reset", "--sandbox", csv}, []string{"reset", "--sandbox", csv}},
		{[]string{"reset", "--sandbox", filepath.Join(dir, "none.json")}, []string{"reset", "--sandbox", filepath.Join(dir, "none.json")}},
		{[]string{"reset", "--sandbox"}, []string{"reset", "--sandbox"}},
		{[]string{"reset", "--", "--sandbox", tenant}, []string{"reset", "--", "--sandbox", tenant}},
	} {
		if got := sandboxFileArgs(c.in); strings.Join(got, "\x00") != strings.Join(c.want, "\x00") {
			t.Errorf("sandboxFileArgs(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
