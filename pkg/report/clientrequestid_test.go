package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The client_request_id column comes after every other optional column;
// the first 12 columns stay byte for byte, and files with and without it
// (older runs) read back.
func TestClientRequestIDColumn(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewResultsColumns(&buf, Columns{Blocked: true, Tenant: true, ClientRequestID: true})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSuffix(resultsHeaderLine, "\n") + ",blocked,tenant,client_request_id\n"
	if got, _, _ := strings.Cut(buf.String(), "\n"); got+"\n" != want {
		t.Fatalf("header = %q, want %q", got, want)
	}
	crid := "6f0c1c8e-2d3b-4a5c-9e8f-7a6b5c4d3e2f"
	yes := true
	in := Result{Line: 2, User: "a@contoso.com", Outcome: Succeeded, HTTPStatus: 204, Attempts: 1, Blocked: &yes,
		Tenant: "contoso.onmicrosoft.com", ClientRequestID: crid, FinishedAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	if err := w.Write(in); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	got, err := ReadResults(bytes.NewReader(buf.Bytes()))
	if err != nil || len(got) != 1 {
		t.Fatalf("ReadResults: %v, %d rows", err, len(got))
	}
	if got[0].ClientRequestID != crid || got[0].Tenant != in.Tenant || got[0].Blocked == nil || !*got[0].Blocked {
		t.Errorf("read back %+v", got[0])
	}

	// Only the client request id: the column right after finished_at.
	buf.Reset()
	w, err = NewResultsColumns(&buf, Columns{ClientRequestID: true})
	if err != nil {
		t.Fatal(err)
	}
	in.Blocked, in.Tenant = nil, ""
	if err := w.Write(in); err != nil {
		t.Fatal(err)
	}
	_ = w.Flush()
	if !strings.HasPrefix(buf.String(), strings.TrimSuffix(resultsHeaderLine, "\n")+",client_request_id\n") {
		t.Errorf("file:\n%s", buf.String())
	}
	rd := NewResultsReader(bytes.NewReader(buf.Bytes()))
	if cols, err := rd.Columns(); err != nil || !cols.ClientRequestID || cols.Tenant || cols.Blocked {
		t.Errorf("Columns() = %+v, %v", cols, err)
	}
	if r, err := rd.Read(); err != nil || r.ClientRequestID != crid {
		t.Errorf("Read() = %+v, %v", r, err)
	}

	// An older run's file has no such column: its rows have none.
	old, err := ReadResults(strings.NewReader(resultsHeaderLine + "2,a@contoso.com,,succeeded,,204,,,1,,,\n"))
	if err != nil || len(old) != 1 || old[0].ClientRequestID != "" {
		t.Errorf("older file: %+v, %v", old, err)
	}
}

// Resuming a run whose results file was written before the column existed
// appends rows without it: the file keeps one header.
func TestClientRequestIDResumeOlderFile(t *testing.T) {
	dir := t.TempDir()
	results := filepath.Join(dir, "results.csv")
	if err := os.WriteFile(results, []byte(resultsHeaderLine+"2,a@contoso.com,,succeeded,,204,,,1,,,2025-01-02T03:04:05.000Z\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := OpenOutputs(OutputOptions{Results: results, Resume: true, Columns: Columns{ClientRequestID: true}}, &Summary{})
	if err != nil {
		t.Fatalf("OpenOutputs: %v", err)
	}
	if err := out.Results.Write(Result{Line: 3, User: "b@contoso.com", Outcome: Succeeded, Attempts: 1, ClientRequestID: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	rs, err := ReadResults(bytes.NewReader(mustRead(t, results)))
	if err != nil || len(rs) != 2 {
		t.Fatalf("ReadResults: %v (%d rows)", err, len(rs))
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
