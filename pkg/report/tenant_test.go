package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"github.com/bulkreset/bulkreset/pkg/secret"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The tenant column is optional: without it every header is the fixed one, byte
// for byte; with it, one trailing "tenant" column, and the readers accept
// both.
func TestTenantColumnResults(t *testing.T) {
	var plain, multi bytes.Buffer
	if _, err := NewResults(&plain); err != nil {
		t.Fatal(err)
	}
	if got := plain.String(); got != resultsHeaderLine {
		t.Errorf("header without tenant = %q, want SPEC's %q", got, resultsHeaderLine)
	}
	w, err := NewResultsColumns(&multi, Columns{Tenant: true})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSuffix(resultsHeaderLine, "\n") + ",tenant\n"
	if got := multi.String(); got != want {
		t.Fatalf("header with tenant = %q, want %q", got, want)
	}
	in := []Result{
		{Line: 2, User: "a@contoso.com", Outcome: Succeeded, HTTPStatus: 204, Attempts: 1, Tenant: "contoso.onmicrosoft.com", FinishedAt: time.Date(2025, 1, 2, 3, 4, 5, 6e6, time.UTC)},
		{Line: 3, User: "a@contoso.com", Outcome: Failed, Reason: "not_found", HTTPStatus: 404, Attempts: 1, Tenant: "-starts-with-a-dash"},
	}
	for _, r := range in {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(multi.String(), ",'-starts-with-a-dash\n") {
		t.Errorf("tenant cell not escaped against formulas:\n%s", multi.String())
	}
	rd := NewResultsReader(bytes.NewReader(multi.Bytes()))
	cols, err := rd.Columns()
	if err != nil || !cols.Tenant {
		t.Fatalf("Columns() = %+v, %v; want Tenant", cols, err)
	}
	got, err := ReadResults(bytes.NewReader(multi.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if got[i].Tenant != in[i].Tenant {
			t.Errorf("row %d tenant = %q, want %q", i, got[i].Tenant, in[i].Tenant)
		}
	}
	// Plain files read back with no tenant, and report no tenant column.
	rd = NewResultsReader(strings.NewReader(resultsHeaderLine))
	if cols, err := rd.Columns(); err != nil || cols.Tenant {
		t.Errorf("plain Columns() = %+v, %v", cols, err)
	}
	// A row with the tenant cell in a file without the column is an error.
	_, err = ReadResults(strings.NewReader(resultsHeaderLine + "2,a,,failed,,,,,1,,,,x\n"))
	if !errors.Is(err, csv.ErrFieldCount) {
		t.Errorf("extra cell: err = %v, want ErrFieldCount", err)
	}
	// Another trailing column is not the tenant column.
	_, err = ReadResults(strings.NewReader(strings.TrimSuffix(resultsHeaderLine, "\n") + ",other\n"))
	if !errors.Is(err, ErrHeader) {
		t.Errorf("other trailing column: err = %v, want ErrHeader", err)
	}
}

func TestTenantColumnResultsAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results.csv")
	f, err := CreateResultsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewResultsColumns(f, Columns{Tenant: true})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(Result{Line: 2, User: "a@x.com", Outcome: Succeeded, Attempts: 1, Tenant: "x.onmicrosoft.com"})
	w.Flush()
	f.Close()
	if _, err := OpenResultsAppend(path); !errors.Is(err, ErrHeader) {
		t.Errorf("OpenResultsAppend without tenant on a tenant file: err = %v, want ErrHeader", err)
	}
	f, err = OpenResultsAppendColumns(path, Columns{Tenant: true})
	if err != nil {
		t.Fatal(err)
	}
	w = AppendResultsColumns(f, Columns{Tenant: true})
	w.Write(Result{Line: 3, User: "b@y.com", Outcome: Succeeded, Attempts: 1, Tenant: "y.onmicrosoft.com"})
	w.Flush()
	f.Close()
	b, _ := os.ReadFile(path)
	got, err := ReadResults(bytes.NewReader(b))
	if err != nil || len(got) != 2 || got[1].Tenant != "y.onmicrosoft.com" {
		t.Fatalf("after append: %+v, %v", got, err)
	}
}

func TestTenantColumnSecrets(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secrets.csv")
	s, err := CreateSecretsColumns(path, Columns{Tenant: true})
	if err != nil {
		t.Fatal(err)
	}
	rows := []SecretRow{
		{Line: 2, User: "a@x.com", Password: secret.New("Pw-1aaaaaaa"), Tenant: "x.onmicrosoft.com"},
		{Line: 3, User: "a@x.com", Password: secret.New("Pw-2bbbbbbb"), Tenant: "y.onmicrosoft.com"},
		{Line: 4, User: "c@x.com", Password: secret.New("Pw-3ccccccc"), Tenant: "y.onmicrosoft.com"},
	}
	if err := s.Record(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), "line,user,password,tenant\n") {
		t.Fatalf("secrets header: %q", b)
	}
	got, err := ReadSecrets(bytes.NewReader(b))
	if err != nil || len(got) != 3 || got[1].Tenant != "y.onmicrosoft.com" || got[1].Password.Reveal() != "Pw-2bbbbbbb" {
		t.Fatalf("ReadSecrets: %v, %v", got, err)
	}
	// Compaction keeps the column.
	if _, err := CompactSecrets(path, func(r SecretRow) bool { return r.Line != 3 }); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(path)
	got, err = ReadSecrets(bytes.NewReader(b))
	if err != nil || len(got) != 2 || got[1].Tenant != "y.onmicrosoft.com" || !strings.HasPrefix(string(b), "line,user,password,tenant\n") {
		t.Fatalf("after compaction: %q %v", b, err)
	}
	// Resume: the file opens for appending with the same columns only.
	if _, err := OpenSecretsAppend(path); !errors.Is(err, ErrHeader) {
		t.Errorf("OpenSecretsAppend without tenant: err = %v, want ErrHeader", err)
	}
	s, err = OpenSecretsAppendColumns(path, Columns{Tenant: true})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Without the column the header is SPEC's.
	plain := filepath.Join(dir, "plain.csv")
	s, err = CreateSecrets(plain)
	if err != nil {
		t.Fatal(err)
	}
	s.Record(context.Background(), rows[:1])
	s.Close()
	b, _ = os.ReadFile(plain)
	if !strings.HasPrefix(string(b), "line,user,password\n2,a@x.com,Pw-1aaaaaaa\n") {
		t.Errorf("plain secrets file: %q", b)
	}
}
