package report

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func sampleSummary() *Summary {
	s := &Summary{
		Started: t0, Finished: t0.Add(2*time.Minute + 5*time.Second),
		Writes: 250, Throttled: 7,
		ResultsPath: "results.csv", SecretsPath: "secrets.csv",
	}
	add := func(n int, o Outcome, reason Reason) {
		for range n {
			s.Add(Result{Outcome: o, Reason: reason})
		}
	}
	add(200, Succeeded, "")
	add(3, Failed, "throttled")
	add(5, Failed, "not_found")
	add(5, Failed, "insufficient_privileges")
	add(2, Skipped, "synced_user")
	add(1, Invalid, "invalid_upn")
	add(1, Duplicate, "duplicate")
	return s
}

func TestSummaryWriteText(t *testing.T) {
	tests := []struct {
		name string
		s    func() *Summary
		want string
	}{
		{name: "finished", s: sampleSummary, want: `Summary: 217 rows
  succeeded                  200
  failed                     13
    insufficient_privileges  5
    not_found                5
    throttled                3
  skipped                    2
    synced_user              2
  invalid                    1
    invalid_upn              1
  duplicate                  1
    duplicate                1
Elapsed: 2m5s
Writes: 250 (2.0/s), throttled (429): 7
Results: results.csv
Secrets: secrets.csv
`},
		{name: "interrupted, still running", s: func() *Summary {
			s := &Summary{Started: t0, Now: func() time.Time { return t0.Add(1500 * time.Millisecond) }, Writes: 3,
				ResultsPath: "-", Interrupted: true, ResumeCommand: "bulkreset reset -i users.csv -o r.csv --resume"}
			s.Add(Result{Outcome: Succeeded})
			return s
		}, want: `Summary: 1 row
  succeeded  1
Elapsed: 1.5s
Writes: 3 (2.0/s), throttled (429): 0
Results: -
Interrupted: not every row was processed.
To finish the run: bulkreset reset -i users.csv -o r.csv --resume
`},
		{name: "under a second", s: func() *Summary {
			s := &Summary{Started: t0, Finished: t0.Add(37*time.Millisecond + 400*time.Microsecond), Writes: 23}
			s.Add(Result{Outcome: Succeeded})
			return s
		}, want: `Summary: 1 row
  succeeded  1
Elapsed: 37ms
Writes: 23 (615.0/s), throttled (429): 0
`},
		{name: "nothing", s: func() *Summary { return &Summary{} }, want: `Summary: 0 rows
Elapsed: 0s
Writes: 0 (0.0/s), throttled (429): 0
`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := tt.s().WriteText(&b); err != nil {
				t.Fatalf("WriteText: %v", err)
			}
			if got := b.String(); got != tt.want {
				t.Errorf("WriteText wrote\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestSummaryWriteTextError(t *testing.T) {
	boom := errors.New("stderr closed")
	if err := sampleSummary().WriteText(&failingWriter{n: 40, err: boom}); !errors.Is(err, boom) {
		t.Errorf("got %v, want an error wrapping %v", err, boom)
	}
}

func TestSummaryJSON(t *testing.T) {
	s := sampleSummary()
	data, err := s.JSON()
	if err != nil {
		t.Fatalf("JSON: %v", err)
	}
	viaMarshal, err := json.Marshal(s)
	if err != nil || string(viaMarshal) != string(data) {
		t.Errorf("json.Marshal(s) = %s, %v, want the same as JSON(): %s", viaMarshal, err, data)
	}
	var got map[string]any
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("JSON() is not valid JSON: %v\n%s", err, data)
	}
	want := map[string]any{
		"rows":     217.0,
		"outcomes": map[string]any{"succeeded": 200.0, "failed": 13.0, "skipped": 2.0, "invalid": 1.0, "duplicate": 1.0},
		"reasons": []any{
			map[string]any{"outcome": "failed", "reason": "insufficient_privileges", "count": 5.0},
			map[string]any{"outcome": "failed", "reason": "not_found", "count": 5.0},
			map[string]any{"outcome": "failed", "reason": "throttled", "count": 3.0},
			map[string]any{"outcome": "skipped", "reason": "synced_user", "count": 2.0},
			map[string]any{"outcome": "invalid", "reason": "invalid_upn", "count": 1.0},
			map[string]any{"outcome": "duplicate", "reason": "duplicate", "count": 1.0},
		},
		"actions":           map[string]any{"revoked": 0.0, "not_revoked": 0.0, "blocked": 0.0, "not_blocked": 0.0},
		"started":           "2025-06-01T12:00:00Z",
		"finished":          "2025-06-01T12:02:05Z",
		"elapsed_seconds":   125.0,
		"writes":            250.0,
		"writes_per_second": 2.0,
		"throttled":         7.0,
		"results_path":      "results.csv",
		"secrets_path":      "secrets.csv",
		"interrupted":       false,
		"exit_code":         3.0,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("JSON() =\n%v\nwant\n%v", got, want)
	}
}

func TestSummaryJSONEmpty(t *testing.T) {
	data, err := (&Summary{}).JSON()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"rows":0,"outcomes":{"duplicate":0,"failed":0,"invalid":0,"skipped":0,"succeeded":0},"reasons":[],"actions":{"revoked":0,"not_revoked":0,"blocked":0,"not_blocked":0},"elapsed_seconds":0,"writes":0,"writes_per_second":0,"throttled":0,"interrupted":false,"exit_code":0}`
	if string(data) != want {
		t.Errorf("JSON() of an empty summary =\n%s\nwant\n%s", data, want)
	}
}

func TestSummaryExitCode(t *testing.T) {
	tests := []struct {
		name        string
		outcomes    []Outcome
		interrupted bool
		want        int
	}{
		{name: "no rows", want: 0},
		{name: "all succeeded", outcomes: []Outcome{Succeeded, Succeeded}, want: 0},
		{name: "skipped and duplicate are fine", outcomes: []Outcome{Succeeded, Skipped, Duplicate}, want: 0},
		{name: "one failed", outcomes: []Outcome{Succeeded, Failed}, want: 3},
		{name: "one invalid", outcomes: []Outcome{Invalid, Skipped}, want: 3},
		{name: "interrupted", outcomes: []Outcome{Succeeded}, interrupted: true, want: 130},
		{name: "interrupted wins over failures", outcomes: []Outcome{Failed}, interrupted: true, want: 130},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Summary{Interrupted: tt.interrupted}
			for _, o := range tt.outcomes {
				s.Add(Result{Outcome: o})
			}
			if got := s.ExitCode(); got != tt.want {
				t.Errorf("ExitCode() for %v (interrupted %v) = %d, want %d", tt.outcomes, tt.interrupted, got, tt.want)
			}
		})
	}
}

// TestSummaryActions: the summary counts each action's true and false
// cells (text and JSON), and a requested action that failed anywhere,
// on a skipped row too, makes the exit code 3.
func TestSummaryActions(t *testing.T) {
	yes, no := true, false
	s := &Summary{Started: t0, Finished: t0.Add(time.Second), Writes: 6}
	s.Add(Result{Outcome: Succeeded, Revoked: &yes, Blocked: &yes})
	s.Add(Result{Outcome: Skipped, Reason: ReasonSynced, Revoked: &yes, Blocked: &no})
	s.Add(Result{Outcome: Succeeded, Revoked: &no})
	if got := s.ExitCode(); got != ExitRowsFailed {
		t.Errorf("ExitCode() = %d, want %d: two requested actions failed", got, ExitRowsFailed)
	}
	var b strings.Builder
	if err := s.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	want := `Summary: 3 rows
  succeeded      2
  skipped        1
    synced_user  1
Sign-in blocked: 1, not blocked: 1
Sessions revoked: 2, not revoked: 1
Elapsed: 1s
Writes: 6 (6.0/s), throttled (429): 0
`
	if got := b.String(); got != want {
		t.Errorf("WriteText wrote\n%s\nwant\n%s", got, want)
	}
	data, err := s.JSON()
	if err != nil || !strings.Contains(string(data), `"actions":{"revoked":2,"not_revoked":1,"blocked":1,"not_blocked":1}`) {
		t.Errorf("JSON() = %s (%v), want the counts per action", data, err)
	}
	for _, r := range []Result{{Outcome: Skipped, Blocked: &no}, {Outcome: Duplicate, Revoked: &no}} {
		one := &Summary{}
		one.Add(Result{Outcome: Succeeded, Revoked: &yes})
		one.Add(r)
		if got := one.ExitCode(); got != ExitRowsFailed {
			t.Errorf("a %s row with a failed action: exit code %d, want %d", r.Outcome, got, ExitRowsFailed)
		}
	}
	ok := &Summary{}
	ok.Add(Result{Outcome: Skipped, Revoked: &yes, Blocked: &yes})
	ok.Add(Result{Outcome: Succeeded})
	if got := ok.ExitCode(); got != ExitOK {
		t.Errorf("every action done: exit code %d, want 0", got)
	}
}

func TestSummaryCounts(t *testing.T) {
	s := sampleSummary()
	if got := s.Rows(); got != 217 {
		t.Errorf("Rows() = %d, want 217", got)
	}
	if got := s.Count(Failed); got != 13 {
		t.Errorf("Count(Failed) = %d, want 13", got)
	}
	if got := s.Elapsed(); got != 125*time.Second {
		t.Errorf("Elapsed() = %v, want 2m5s", got)
	}
	if got := (&Summary{Started: t0, Finished: t0.Add(-time.Second)}).Elapsed(); got != 0 {
		t.Errorf("Elapsed() with Finished before Started = %v, want 0", got)
	}
}
