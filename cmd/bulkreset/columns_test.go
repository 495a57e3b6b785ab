package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/internal/xlsxtest"
	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// hrTenant is a tenant of n staff and their manager, and an HR export of
// the staff in dir (see hrExport).
func hrTenant(t *testing.T, n int) (tn *tenant, staff []graphsim.User, manager graphsim.User, dir, in string) {
	t.Helper()
	staff = graphsim.GenerateUsers(n, testDomain)
	manager = graphsim.User{UPN: "the.manager@" + testDomain}
	tn = startTenant(t, graphsim.Options{}, append(staff, manager))
	dir = t.TempDir()
	return tn, staff, manager, dir, hrExport(t, dir, staff, manager)
}

// hrExport writes an HR export whose users are in "Employee Email" and
// whose UserPrincipalName column names each one's manager, a user of the
// tenant too: a reset of the wrong column would reset the managers.
func hrExport(t *testing.T, dir string, staff []graphsim.User, manager graphsim.User) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("Employee Name,Employee Email,UserPrincipalName,Department\n")
	for i, u := range staff {
		fmt.Fprintf(&b, "Employee %d,%s,%s,Sales\n", i, u.UPN, manager.UPN)
	}
	return writeFile(t, dir, "hr.csv", b.String())
}

// TestUserColumnReset: reset --user-column "Employee Email" resets exactly
// the users of that column (each holds the password recorded for it), and
// none of the UserPrincipalName column beside it; plan predicts the same;
// check shows which column is used and which is not.
func TestUserColumnReset(t *testing.T) {
	tn, staff, manager, dir, in := hrTenant(t, 30)

	res := runCheckCLI(t, "", "-i", in, "--user-column", "employee email")
	if res.code != exitOK {
		t.Errorf("check: exit %d, want 0; stderr:\n%s", res.code, res.stderr)
	}
	for _, w := range []string{
		`Columns    userPrincipalName <- "Employee Email" (column 2); named by --user-column` + "\n",
		`           not used: "UserPrincipalName" (column 3): with --user-column, only the named column identifies users` + "\n",
		`           not found: id, password, forceChangePasswordNextSignIn, forceChangePasswordNextSignInWithMfa, tenantId` + "\n",
		`Ignored    "Employee Name", "UserPrincipalName", "Department"` + "\n",
		"Every row can be sent: 30 users to reset.",
	} {
		if !strings.Contains(res.stdout, w) {
			t.Errorf("check does not say %q:\n%s", w, res.stdout)
		}
	}

	planPath := filepath.Join(dir, "plan.csv")
	res = runCLI(t, t.Context(), tn.getenv(nil), append([]string{"plan", "-i", in, "-o", planPath, "--user-column", "Employee Email"}, tn.authArgs()...)...)
	if res.code != exitOK {
		t.Fatalf("plan: exit %d; stderr:\n%s", res.code, res.stderr)
	}
	plan := readResults(t, planPath)
	for i, u := range staff {
		if r := plan[i+2]; r.User != u.UPN || r.Outcome != report.Succeeded || r.Reason != report.ReasonWouldReset {
			t.Errorf("plan line %d: %s %s/%s, want %s succeeded/would_reset", i+2, r.User, r.Outcome, r.Reason, u.UPN)
		}
	}

	results, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	res = runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", results, "--secrets", secrets,
		"--yes", "--user-column", "Employee Email"}, tn.authArgs()...)...)
	if res.code != exitOK {
		t.Fatalf("reset: exit %d; stderr:\n%s", res.code, res.stderr)
	}
	checkStaffReset(t, tn, staff, manager, results, secrets)
	checkNoSecrets(t, tn, secrets, map[string]string{"stdout": res.stdout, "stderr": res.stderr, "results": readFile(t, results)})
}

// checkStaffReset asserts that every staff user has exactly one password,
// the one the secrets file records, with a succeeded row, and that the
// manager was never changed.
func checkStaffReset(t *testing.T, tn *tenant, staff []graphsim.User, manager graphsim.User, results, secrets string) {
	t.Helper()
	rows, pws, passwords := readResults(t, results), readSecrets(t, secrets), passwordsPerUser(tn)
	if len(rows) != len(staff) {
		t.Errorf("%d result rows, want %d", len(rows), len(staff))
	}
	for i, u := range staff {
		got, _ := tn.sim.User(u.UPN)
		if r := rows[i+2]; r.User != u.UPN || r.Outcome != report.Succeeded {
			t.Errorf("line %d: %s %s/%s, want %s succeeded", i+2, r.User, r.Outcome, r.Reason, u.UPN)
		}
		if len(passwords[u.UPN]) != 1 || pws[strings.ToLower(u.UPN)] == "" || pws[strings.ToLower(u.UPN)] != got.Password {
			t.Errorf("%s: %d passwords set; the one in force is the recorded one: %v", u.UPN, len(passwords[u.UPN]), pws[strings.ToLower(u.UPN)] == got.Password)
		}
	}
	if n := len(passwords[manager.UPN]); n != 0 {
		t.Errorf("the manager (UserPrincipalName column) was reset %d times, want never", n)
	}
}

// TestUserColumnResume: a run with --user-column records it; its resume
// with only -o reads the same column and finishes the run; a resume that
// names another column is exit 2 naming the difference, and sends nothing.
func TestUserColumnResume(t *testing.T) {
	tn, staff, manager, dir, in := hrTenant(t, 12)
	results, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	res := runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", results, "--secrets", secrets,
		"--yes", "--user-column", "Employee Email"}, tn.authArgs()...)...)
	if res.code != exitOK {
		t.Fatalf("reset: exit %d; stderr:\n%s", res.code, res.stderr)
	}
	if s := readFile(t, report.RunSettingsPath(results)); !strings.Contains(s, `"user_column": "Employee Email"`) {
		t.Errorf("the settings file does not record the user column:\n%s", s)
	}
	// The run as a crash would leave it: the results of the last rows
	// were never written (their passwords are in the secrets file).
	lines := strings.SplitAfter(readFile(t, results), "\n")
	if err := os.WriteFile(results, []byte(strings.Join(lines[:6], "")), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--user-column", "UserPrincipalName"}, "--user-column: this run used Employee Email, the resume says UserPrincipalName"},
		{[]string{"--id-column", "Department"}, "--id-column: this run used (none), the resume says Department"},
	} {
		before := requestCounts(tn)
		res := runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "--resume", "-o", results, "--yes"}, c.args...)...)
		if res.code != exitUsage || !strings.Contains(res.stderr, c.want) {
			t.Errorf("resume with %q: exit %d, want %d saying %q; stderr:\n%s", c.args, res.code, exitUsage, c.want, res.stderr)
		}
		if after := requestCounts(tn); after != before {
			t.Errorf("resume with %q sent requests: %v before, %v after", c.args, before, after)
		}
	}

	res = runCLI(t, t.Context(), tn.getenv(nil), "reset", "--resume", "-o", results, "--yes", "--auth", "client-secret")
	if res.code != exitOK {
		t.Fatalf("resume: exit %d; stderr:\n%s", res.code, res.stderr)
	}
	checkStaffReset(t, tn, staff, manager, results, secrets)
}

// TestUserColumnErrors: without --user-column, a file whose user column
// has an unknown name still says "no user column", and now names the
// flags; a name the header does not have is exit 2 listing its columns,
// in check and reset alike, and nothing is sent.
func TestUserColumnErrors(t *testing.T) {
	users := graphsim.GenerateUsers(2, testDomain)
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	in := writeFile(t, dir, "hr.csv", "Name;Benutzerprinzipalname\nAdele;"+users[0].UPN+"\n")
	wb := filepath.Join(dir, "hr.xlsx")
	xlsxtest.StreamRows(t, wb, []any{"Name", "Benutzerprinzipalname"}, 1, func(int) []any { return []any{"Adele", users[0].UPN} })
	for _, c := range []struct {
		name  string
		args  []string
		wants []string
	}{
		{"unknown header", []string{"-i", in}, []string{
			`no user column: found ["Name" "Benutzerprinzipalname"]; expected one of UserPrincipalName`,
			"name the user column with --user-column NAME (or the object id column with --id-column NAME)"}},
		{"missing named column", []string{"-i", in, "--user-column", "Employee Email"}, []string{
			`--user-column: no column "Employee Email" for the user: the header has "Name", "Benutzerprinzipalname"`}},
		{"missing named id column in a workbook", []string{"-i", wb, "--user-column", "benutzerprinzipalname", "--id-column", "Objekt-ID"}, []string{
			`--id-column: no column "Objekt-ID" for the object id: the header has "Name", "Benutzerprinzipalname"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := runCheckCLI(t, "", c.args...)
			if res.code != exitUsage {
				t.Errorf("check: exit %d, want %d; stderr:\n%s", res.code, exitUsage, res.stderr)
			}
			for _, w := range c.wants {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("check does not say %q:\n%s", w, res.stderr)
				}
			}
			out := t.TempDir()
			res = runCLI(t, t.Context(), tn.getenv(nil), append(append([]string{"reset", "-o", filepath.Join(out, "r.csv"), "--discard-passwords", "--yes"}, c.args...), tn.authArgs()...)...)
			if res.code != exitUsage {
				t.Errorf("reset: exit %d, want %d; stderr:\n%s", res.code, exitUsage, res.stderr)
			}
			for _, w := range c.wants {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("reset does not say %q:\n%s", w, res.stderr)
				}
			}
		})
	}
	if st := tn.sim.Stats(); st.TokensIssued+st.Batches+st.DirectRequests != 0 {
		t.Errorf("refused runs sent requests: %+v", st)
	}
	// Named, the workbook's German column is read, and so is the CSV
	// when it is counted for --max-users.
	res := runCheckCLI(t, "", "-i", wb, "--user-column", "Benutzerprinzipalname")
	if w := `userPrincipalName <- "Benutzerprinzipalname" (column B); named by --user-column`; res.code != exitOK || !strings.Contains(res.stdout, w) {
		t.Errorf("check of the workbook: exit %d, want 0 saying %q; stdout:\n%s\nstderr:\n%s", res.code, w, res.stdout, res.stderr)
	}
	plan := filepath.Join(dir, "plan.csv")
	res = runCLI(t, t.Context(), tn.getenv(nil), append([]string{"plan", "-i", in, "-o", plan, "--user-column", "Benutzerprinzipalname", "--max-users", "1"}, tn.authArgs()...)...)
	if r := readResults(t, plan)[2]; res.code != exitOK || r.User != users[0].UPN || r.Reason != report.ReasonWouldReset {
		t.Errorf("plan with --max-users: exit %d, line 2 %s %s/%s, want 0 and %s would_reset; stderr:\n%s", res.code, r.User, r.Outcome, r.Reason, users[0].UPN, res.stderr)
	}
}
