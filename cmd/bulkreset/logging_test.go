package main

import (
	"context"
	"encoding/json"
	"github.com/bulkreset/bulkreset/internal/syncbuf"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// plan200 is a smaller scenario than plan1000: 200 rows, of which one
// user does not exist, one UPN is invalid and one row is a duplicate.
func plan200(t *testing.T) (users []graphsim.User, csv string, rows []expect) {
	t.Helper()
	users = graphsim.GenerateUsers(210, testDomain)
	var b strings.Builder
	b.WriteString("UserPrincipalName\n")
	add := func(user string, e expect) {
		b.WriteString(user + "\n")
		e.line, e.user = len(rows)+2, user
		rows = append(rows, e)
	}
	for _, u := range users[:197] {
		add(u.UPN, expect{outcome: report.Succeeded, reset: true, upn: u.UPN})
	}
	add("nobody.here@"+testDomain, expect{outcome: report.Failed, reason: "not_found"})
	add("not-an-upn", expect{outcome: report.Invalid, reason: "invalid_upn"})
	add(strings.ToUpper(users[3].UPN), expect{outcome: report.Duplicate, upn: users[3].UPN})
	return users, b.String(), rows
}

// jsonLines parses every line of out as a JSON object, failing the test on
// any line that is not one.
func jsonLines(t *testing.T, name, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("%s line %d is not a JSON object (%v): %q", name, i+1, err, line)
			continue
		}
		recs = append(recs, rec)
	}
	return recs
}

// summaryOf is the last record, which must be the summary.
func summaryOf(t *testing.T, recs []map[string]any) (outcomes map[string]any, rec map[string]any) {
	t.Helper()
	if len(recs) == 0 {
		t.Fatal("no JSON records")
	}
	rec = recs[len(recs)-1]
	if rec["msg"] != "summary" {
		t.Fatalf("the last record is not the summary: %v", rec)
	}
	outcomes, _ = rec["outcomes"].(map[string]any)
	return outcomes, rec
}

// TestJSONLogsEndToEnd is acceptance 3: with --log-format json every line
// of standard error is a JSON object, and the last one is the summary with
// the counts; retries and throttles, each with its row's line and Graph's
// request-id, are in the log file (always at debug level), and not on
// standard error at the default level.
func TestJSONLogsEndToEnd(t *testing.T) {
	users, csv, rows := plan200(t)
	tn := startTenant(t, graphsim.Options{
		Faults: graphsim.Faults{InnerThrottleFractional: 0.05, Outer503: 0.1},
		Seed:   11,
	}, users)
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", csv)
	results, secrets, logFile := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv"), filepath.Join(dir, "run.log")
	res := runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", results, "--secrets", secrets,
		"--yes", "--max-attempts", "20", "--log-format", "json", "--log-file", logFile}, tn.authArgs()...)...)
	if res.code != exitRowsFailed {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitRowsFailed, res.stderr)
	}
	checkRun(t, tn, rows, results, secrets)

	recs := jsonLines(t, "stderr", res.stderr)
	outcomes, sum := summaryOf(t, recs)
	want := map[report.Outcome]int{}
	for _, e := range rows {
		want[e.outcome]++
	}
	for _, o := range []report.Outcome{report.Succeeded, report.Failed, report.Skipped, report.Invalid, report.Duplicate} {
		if got := outcomes[string(o)]; got != float64(want[o]) {
			t.Errorf("summary: %s = %v, want %d", o, got, want[o])
		}
	}
	st := tn.sim.Stats()
	if sum["rows"] != float64(len(rows)) || sum["exit_code"] != float64(exitRowsFailed) || sum["results_path"] != results ||
		sum["secrets_path"] != secrets || sum["throttled"] != float64(st.Throttled) || st.Throttled == 0 {
		t.Errorf("summary %v; want %d rows, exit code 3, the paths, throttled = the tenant's %d 429s", sum, len(rows), st.Throttled)
	}
	reasons, _ := sum["reasons"].([]any)
	if len(reasons) != 2 { // not_found, invalid_upn
		t.Errorf("summary reasons %v, want 2", reasons)
	}
	for _, r := range recs {
		if r["msg"] == "retrying row" {
			t.Errorf("a debug record on standard error without --verbose: %v", r)
		}
	}

	// The log file: the same records plus debug ones, the summary last.
	fileRecs := jsonLines(t, "log file", readFile(t, logFile))
	summaryOf(t, fileRecs)
	var throttled, batchFailed, notReset int
	for _, r := range fileRecs {
		switch r["msg"] {
		case "retrying row":
			if r["status"] == 429.0 {
				throttled++
			}
			if r["line"] == nil || r["request_id"] == "" || r["request_id"] == nil {
				t.Errorf("retry record without the row's line or Graph's request-id: %v", r)
			}
		case "batch failed; retrying its rows", "user lookup batch failed; retrying it":
			// A failed write batch, or a failed batch of preflight lookups.
			batchFailed++
			if e, _ := r["error"].(string); r["first_line"] == nil || !strings.Contains(e, "request-id") {
				t.Errorf("batch failure without its first line or Graph's request-id: %v", r)
			}
		case "row not reset":
			notReset++
			if r["line"] == nil || r["reason"] == "" {
				t.Errorf("row record without line or reason: %v", r)
			}
		}
	}
	if throttled == 0 || batchFailed == 0 {
		t.Errorf("log file: %d throttled retries and %d failed batches logged, want some of each", throttled, batchFailed)
	}
	if notReset != 2 {
		t.Errorf("log file: %d rows not reset logged, want 2", notReset)
	}
	if st.Faults[graphsim.FaultOuter503] == 0 || st.Faults[graphsim.FaultInnerThrottleFractional] == 0 {
		t.Errorf("faults injected %v: the test does not exercise failed batches and throttled rows", st.Faults)
	}
	checkNoSecrets(t, tn, secrets, map[string]string{"stderr": res.stderr, "log file": readFile(t, logFile)})
}

// TestJSONLogsEveryMessage: the sandbox's own messages, a usage error, a
// fatal error and --verbose are JSON lines too.
func TestJSONLogsEveryMessage(t *testing.T) {
	users := graphsim.GenerateUsers(30, testDomain)
	tn := startTenant(t, graphsim.Options{Faults: graphsim.Faults{InnerThrottle: 0.2}, Seed: 3}, users)
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("UserPrincipalName,Password\n") // a Password column in random mode: a warning
	for _, u := range users {
		b.WriteString(u.UPN + ",Ignored-Pass-123\n")
	}
	in := writeFile(t, dir, "users.csv", b.String())
	out := func(name string) string { return filepath.Join(t.TempDir(), name) }

	tests := []struct {
		name     string
		getenv   func(string) string
		args     []string
		code     int
		wantMsgs []string // messages that must be among the records
	}{
		{"sandbox", func(string) string { return "" },
			[]string{"reset", "--sandbox", "-i", filepath.Join("..", "..", "testdata", "demo.csv"), "-o", out("r.csv"), "--secrets", out("s.csv"), "--yes", "--log-format", "json"},
			exitRowsFailed, []string{"using the sandbox tenant: an in-process Graph emulator; nothing leaves this machine", "sandbox finished", "reset started"}},
		{"verbose shows each retry", tn.getenv(nil),
			append([]string{"reset", "-i", in, "-o", out("r.csv"), "--secrets", out("s.csv"), "--yes", "--log-format", "json", "--verbose", "--max-attempts", "30"}, tn.authArgs()...),
			exitOK, []string{"retrying row", "the input has a Password column; it is ignored in --password-mode random (use --password-mode column to set those passwords)"}},
		{"usage error", tn.getenv(nil),
			[]string{"reset", "--log-format", "json", "--no-such-flag"}, exitUsage, []string{"unknown flag: --no-such-flag"}},
		{"usage error found by the command", tn.getenv(nil),
			[]string{"reset", "-i", in, "--log-format=json", "--yes"}, exitUsage, nil},
		{"fatal: wrong client secret", tn.getenv(map[string]string{"AZURE_CLIENT_SECRET": "wrong-secret-value-7Hq~d"}),
			append([]string{"reset", "-i", in, "-o", out("r.csv"), "--secrets", out("s.csv"), "--yes", "--log-format", "json"}, tn.authArgs()...),
			exitFatal, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(t, t.Context(), tt.getenv, tt.args...)
			if res.code != tt.code {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, tt.code, res.stderr)
			}
			recs := jsonLines(t, "stderr", res.stderr)
			msgs := map[string]bool{}
			for _, r := range recs {
				m, _ := r["msg"].(string)
				msgs[m] = true
			}
			for _, m := range tt.wantMsgs {
				if !msgs[m] {
					t.Errorf("no record %q in:\n%s", m, res.stderr)
				}
			}
			last := recs[len(recs)-1]
			switch tt.code {
			case exitOK, exitRowsFailed:
				summaryOf(t, recs)
			default:
				if last["level"] != "ERROR" || last["exit_code"] != float64(tt.code) {
					t.Errorf("last record %v, want an ERROR with exit_code %d", last, tt.code)
				}
			}
			if strings.Contains(res.stderr, "wrong-secret-value") || strings.Contains(res.stderr, testSecret) {
				t.Error("the client secret appears on standard error")
			}
		})
	}
}

// TestLogFileKeepsErrors: an error that stops a run before any row is sent
// (here the sign-in) is in the log file as well as on standard error, so
// that a scheduled task whose standard error is lost still says why.
func TestLogFileKeepsErrors(t *testing.T) {
	users := graphsim.GenerateUsers(3, testDomain)
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", "UserPrincipalName\n"+users[0].UPN+"\n")
	logFile := filepath.Join(dir, "run.log")
	res := runCLI(t, t.Context(), tn.getenv(map[string]string{"AZURE_CLIENT_SECRET": "not-the-secret-4Tq"}),
		append([]string{"reset", "-i", in, "-o", filepath.Join(dir, "r.csv"), "--secrets", filepath.Join(dir, "s.csv"), "--yes",
			"--log-file", logFile}, tn.authArgs()...)...)
	if res.code != exitFatal {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitFatal, res.stderr)
	}
	log := readFile(t, logFile)
	if !strings.Contains(log, "level=ERROR") || !strings.Contains(log, "authentication") {
		t.Errorf("the log file does not record why the run stopped:\n%s", log)
	}
	if !strings.HasPrefix(res.stderr, "bulkreset: ") || strings.Count(res.stderr, "bulkreset: ") != 1 {
		t.Errorf("standard error should say it once, as bulkreset: …:\n%s", res.stderr)
	}
	if strings.Contains(log+res.stderr, "not-the-secret-4Tq") {
		t.Error("the client secret appears in the output")
	}
}

// cancelOn is standard error that cancels the run when a record with msg
// is written: an interrupt at a known point, without timing.
type cancelOn struct {
	syncbuf.Buffer
	msg    string
	cancel func()
}

func (c *cancelOn) Write(p []byte) (int, error) {
	if strings.Contains(string(p), c.msg) {
		c.cancel()
	}
	return c.Buffer.Write(p)
}

// TestInterruptedSummary: an interrupt (the first Ctrl-C cancels the
// context) ends in exit code 130 and a summary that says so, as text and
// as the last JSON record, with the resume command when the command has
// --resume.
func TestInterruptedSummary(t *testing.T) {
	users := graphsim.GenerateUsers(200, testDomain)
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("UserPrincipalName\n")
	for _, u := range users {
		b.WriteString(u.UPN + "\n")
	}
	in := writeFile(t, dir, "users.csv", b.String())
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			stderr := &cancelOn{msg: "reset started", cancel: cancel}
			var stdout strings.Builder
			out := filepath.Join(t.TempDir(), "results.csv")
			code := run(ctx, append([]string{"reset", "-i", in, "-o", out, "--secrets", filepath.Join(t.TempDir(), "s.csv"),
				"--yes", "--log-format", format}, tn.authArgs()...), strings.NewReader(""), &stdout, stderr, tn.getenv(nil))
			if code != exitInterrupted {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitInterrupted, stderr.String())
			}
			got := stderr.String()
			var sum map[string]any
			if format == "json" {
				_, sum = summaryOf(t, jsonLines(t, "stderr", got))
			}
			if format == "text" {
				if !strings.Contains(got, "Interrupted: not every row was processed.") || !strings.Contains(got, "Results: "+out) {
					t.Errorf("text summary does not say the run was interrupted:\n%s", got)
				}
				// The run's settings are recorded: the short form resumes it.
				if !strings.Contains(got, "To finish the run: bulkreset reset --resume -o "+out+" --auth client-secret --yes\n") {
					t.Errorf("no short resume command shown:\n%s", got)
				}
				if !strings.Contains(got, "The input has 200 rows: 200 remain to be done.") {
					t.Errorf("the summary does not say how many rows remain:\n%s", got)
				}
				return
			}
			if sum["input_rows"] != float64(200) || sum["remaining"] != float64(200) {
				t.Errorf("JSON summary input_rows %v, remaining %v; want 200 and 200", sum["input_rows"], sum["remaining"])
			}
			if sum["interrupted"] != true || sum["exit_code"] != float64(exitInterrupted) {
				t.Errorf("JSON summary %v, want interrupted and exit code 130", sum)
			}
			if rc, _ := sum["resume_command"].(string); !strings.Contains(rc, "--resume") {
				t.Errorf("resume_command %q, want the command with --resume", rc)
			}
		})
	}
}
