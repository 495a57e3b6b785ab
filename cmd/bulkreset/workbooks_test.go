package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/internal/xlsxtest"
	"github.com/bulkreset/bulkreset/pkg/graphsim"
)

// passwordWorkbook writes users as an .xlsx workbook with a Password
// column and returns its path and the passwords.
func passwordWorkbook(t *testing.T, dir string, users []graphsim.User) (string, []string) {
	t.Helper()
	path := filepath.Join(dir, "users.xlsx")
	passwords := make([]string, len(users))
	xlsxtest.StreamRows(t, path, []any{"UserPrincipalName", "Password"}, len(users), func(i int) []any {
		passwords[i] = fmt.Sprintf("Kettle-%05d-Blue!", i)
		return []any{users[i].UPN, passwords[i]}
	})
	return path, passwords
}

// damageWorkbook rewrites the workbook at path with old replaced by new in
// its first worksheet, as a damaged file would have it.
func damageWorkbook(t *testing.T, path, old, new string) string {
	t.Helper()
	damaged := strings.TrimSuffix(path, ".xlsx") + "-damaged.xlsx"
	xlsxtest.WriteParts(t, damaged, xlsxtest.Replace(t, xlsxtest.ReadParts(t, path), "xl/worksheets/sheet1.xml", old, new))
	return damaged
}

// TestDamagedWorkbookIsNotRead damages row 21 of a workbook of 40 users
// (an undefined XML entity, and in another file a repeated row number):
// check and reset both refuse the file, naming the file, sheet and row,
// and reset changes no password. Both used to read the 19 rows before the
// damage as the whole list, and reset them with exit code 0.
func TestDamagedWorkbookIsNotRead(t *testing.T) {
	users := graphsim.GenerateUsers(40, testDomain)
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	good, _ := passwordWorkbook(t, dir, users)
	for _, c := range []struct{ name, old, new, want string }{
		{"entity", `<row r="21">`, `<row r="21"><c r="C21" t="str"><v>&bogus;</v></c>`, `row 21`},
		{"repeated row", `<row r="22">`, `<row r="21">`, `row 21 comes after row 21`},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := damageWorkbook(t, good, c.old, c.new)
			wants := []string{in, `sheet "Sheet1"`, c.want, "re-save the workbook in Excel"}

			res := runCheckCLI(t, "", "-i", in)
			if res.code != exitUsage {
				t.Errorf("check: exit code %d, want %d; stdout:\n%s\nstderr:\n%s", res.code, exitUsage, res.stdout, res.stderr)
			}
			for _, w := range wants {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("check: standard error lacks %q:\n%s", w, res.stderr)
				}
			}

			out := t.TempDir()
			results, secrets := filepath.Join(out, "results.csv"), filepath.Join(out, "secrets.csv")
			res = runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", results, "--secrets", secrets,
				"--yes", "--password-mode", "column"}, tn.authArgs()...)...)
			if res.code != exitUsage {
				t.Errorf("reset: exit code %d, want %d; stderr:\n%s", res.code, exitUsage, res.stderr)
			}
			for _, w := range wants {
				if !strings.Contains(res.stderr, w) {
					t.Errorf("reset: standard error lacks %q:\n%s", w, res.stderr)
				}
			}
			if n := tn.sim.Stats().WritesApplied; n != 0 {
				t.Errorf("reset changed %d passwords from a damaged workbook, want none", n)
			}
			if strings.Contains(res.stderr, "Kettle-") {
				t.Errorf("a password is on standard error:\n%s", res.stderr)
			}
		})
	}
}
