package main

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
)

// passwordWorkbook writes users as an .xlsx workbook with a Password
// column, with excelize's stream writer, and returns its path and the
// passwords.
func passwordWorkbook(t *testing.T, dir string, users []graphsim.User) (string, []string) {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	if err := sw.SetRow("A1", []any{"UserPrincipalName", "Password"}); err != nil {
		t.Fatal(err)
	}
	var passwords []string
	for i, u := range users {
		pw := fmt.Sprintf("Kettle-%05d-Blue!", i)
		passwords = append(passwords, pw)
		if err := sw.SetRow(fmt.Sprintf("A%d", i+2), []any{u.UPN, pw}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "users.xlsx")
	if err := f.SaveAs(path); err != nil {
		t.Fatal(err)
	}
	return path, passwords
}

// damageWorkbook rewrites the workbook at path with old replaced by new in
// its first worksheet, as a damaged file would have it.
func damageWorkbook(t *testing.T, path, old, new string) string {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if f.Name == "xl/worksheets/sheet1.xml" {
			if !bytes.Contains(data, []byte(old)) {
				t.Fatalf("the sheet has no %q", old)
			}
			data = bytes.Replace(data, []byte(old), []byte(new), 1)
		}
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	damaged := strings.TrimSuffix(path, ".xlsx") + "-damaged.xlsx"
	if err := os.WriteFile(damaged, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
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
