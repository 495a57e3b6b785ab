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

// TestBlockedColumn: the blocked column follows finished_at and comes
// before the tenant column; a results file may have blocked, tenant, both
// in that order, or neither, and reads back its cells (true, false,
// empty); a secrets file never has it.
func TestBlockedColumn(t *testing.T) {
	yes, no := true, false
	fixed := strings.TrimSuffix(resultsHeaderLine, "\n")
	for _, c := range []struct {
		cols   Columns
		header string
	}{
		{Columns{}, fixed},
		{Columns{Blocked: true}, fixed + ",blocked"},
		{Columns{Tenant: true}, fixed + ",tenant"},
		{Columns{Blocked: true, Tenant: true}, fixed + ",blocked,tenant"},
	} {
		var b bytes.Buffer
		w, err := NewResultsColumns(&b, c.cols)
		if err != nil {
			t.Fatal(err)
		}
		in := []Result{
			{Line: 2, User: "a@contoso.com", Outcome: Succeeded, HTTPStatus: 204, Attempts: 1, Revoked: &yes, Blocked: &yes, Tenant: "t1"},
			{Line: 3, User: "b@contoso.com", Outcome: Skipped, Reason: ReasonSynced, Revoked: &yes, Blocked: &no, Tenant: "t2"},
			{Line: 4, User: "c@contoso.com", Outcome: Failed, Reason: ReasonNotFound, HTTPStatus: 404, Attempts: 1, Tenant: "t3"},
		}
		for _, r := range in {
			if err := w.Write(r); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := strings.Cut(b.String(), "\n"); got != c.header {
			t.Errorf("%+v: header %q, want %q", c.cols, got, c.header)
		}
		rd := NewResultsReader(bytes.NewReader(b.Bytes()))
		if cols, err := rd.Columns(); err != nil || cols != c.cols {
			t.Errorf("%+v: Columns() = %+v, %v", c.cols, cols, err)
		}
		got, err := ReadResults(bytes.NewReader(b.Bytes()))
		if err != nil || len(got) != len(in) {
			t.Fatalf("%+v: read back %d rows, %v", c.cols, len(got), err)
		}
		for i, r := range got {
			wantBlocked, wantTenant := "", ""
			if c.cols.Blocked {
				wantBlocked = cellOf(in[i].Blocked)
			}
			if c.cols.Tenant {
				wantTenant = in[i].Tenant
			}
			if cellOf(r.Blocked) != wantBlocked || r.Tenant != wantTenant || cellOf(r.Revoked) != cellOf(in[i].Revoked) {
				t.Errorf("%+v, row %d: blocked %q tenant %q revoked %q; want %q, %q, %q", c.cols, i,
					cellOf(r.Blocked), r.Tenant, cellOf(r.Revoked), wantBlocked, wantTenant, cellOf(in[i].Revoked))
			}
		}
	}
	for _, h := range []string{fixed + ",tenant,blocked", fixed + ",blocked,blocked", fixed + ",blocked,other"} {
		if _, err := ReadResults(strings.NewReader(h + "\n")); !errors.Is(err, ErrHeader) {
			t.Errorf("header %q: err = %v, want ErrHeader", h, err)
		}
	}
	if _, err := ReadResults(strings.NewReader(fixed + ",blocked\n2,a,,succeeded,,204,,,1,,,,yes\n")); err == nil || !strings.Contains(err.Error(), "column blocked") {
		t.Errorf("a blocked cell that is not true, false or empty: err = %v", err)
	}
	if _, err := ReadSecrets(strings.NewReader(strings.Join(SecretsHeader, ",") + ",blocked\n")); !errors.Is(err, ErrHeader) {
		t.Errorf("a secrets file with a blocked column: err = %v, want ErrHeader", err)
	}
	if got := strings.Join(SecretsHeaderFor(Columns{Blocked: true, Tenant: true}), ","); got != strings.Join(SecretsHeader, ",")+",tenant" {
		t.Errorf("secrets header with blocked and tenant = %q: the blocked column is the results file's only", got)
	}
}

// cellOf is an action cell: true, false or empty.
func cellOf(b *bool) string {
	if b == nil {
		return ""
	}
	if *b {
		return "true"
	}
	return "false"
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
