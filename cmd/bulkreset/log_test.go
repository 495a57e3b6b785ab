package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bulkreset/bulkreset/pkg/report"
)

func TestWantsJSONLogs(t *testing.T) {
	tests := []struct {
		args []string
		want bool
	}{
		{[]string{"reset", "-i", "u.csv"}, false},
		{[]string{"reset", "--log-format", "json", "--bogus"}, true},
		{[]string{"reset", "--bogus", "--log-format=json"}, true},
		{[]string{"reset", "--log-format", "text"}, false},
		{[]string{"reset", "--log-format"}, false},
		{[]string{"reset", "--", "--log-format=json"}, false},
	}
	for _, tt := range tests {
		if got := wantsJSONLogs(tt.args); got != tt.want {
			t.Errorf("wantsJSONLogs(%q) = %v, want %v", tt.args, got, tt.want)
		}
	}
}

func TestPrintError(t *testing.T) {
	var text, js bytes.Buffer
	err := errors.New(`--input is required`)
	printError(&text, false, err, exitUsage)
	if got, want := text.String(), "bulkreset: --input is required\nRun 'bulkreset --help' for usage.\n"; got != want {
		t.Errorf("text: %q, want %q", got, want)
	}
	printError(&js, true, err, exitUsage)
	var rec map[string]any
	if err := json.Unmarshal(js.Bytes(), &rec); err != nil {
		t.Fatalf("JSON error record does not parse: %v\n%s", err, js.String())
	}
	if rec["level"] != "ERROR" || rec["msg"] != "--input is required" || rec["exit_code"] != 2.0 || rec["hint"] == nil {
		t.Errorf("JSON error record %v", rec)
	}
}

func TestSummaryRecord(t *testing.T) {
	s := &report.Summary{Started: time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC), Writes: 12, Throttled: 2,
		ResultsPath: "results.csv", SecretsPath: "secrets.csv"}
	s.Finished = s.Started.Add(3 * time.Second)
	for range 10 {
		s.Add(report.Result{Outcome: report.Succeeded})
	}
	s.Add(report.Result{Outcome: report.Failed, Reason: "not_found"})
	for _, code := range []int{exitRowsFailed, exitFatal} {
		line, err := summaryRecord(s, code, s.Finished)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Count(line, []byte("\n")) != 1 || !bytes.HasSuffix(line, []byte("\n")) {
			t.Errorf("not one line: %q", line)
		}
		var rec struct {
			Time     time.Time      `json:"time"`
			Level    string         `json:"level"`
			Msg      string         `json:"msg"`
			Rows     int            `json:"rows"`
			Outcomes map[string]int `json:"outcomes"`
			Reasons  []struct {
				Outcome, Reason string
				Count           int
			} `json:"reasons"`
			Writes      int    `json:"writes"`
			Throttled   int    `json:"throttled"`
			ResultsPath string `json:"results_path"`
			ExitCode    int    `json:"exit_code"`
		}
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Fatalf("does not parse: %v\n%s", err, line)
		}
		if !rec.Time.Equal(s.Finished) || rec.Level != "INFO" || rec.Msg != "summary" || rec.Rows != 11 ||
			rec.Outcomes["succeeded"] != 10 || rec.Outcomes["failed"] != 1 || rec.Outcomes["invalid"] != 0 ||
			len(rec.Reasons) != 1 || rec.Reasons[0].Reason != "not_found" || rec.Writes != 12 || rec.Throttled != 2 ||
			rec.ResultsPath != "results.csv" || rec.ExitCode != code {
			t.Errorf("summary record %+v\nfrom %s", rec, line)
		}
		if !strings.HasPrefix(string(line), `{"time":`) {
			t.Errorf("time is not the first key, as in slog's records: %s", line)
		}
	}
}

func TestResumeCommand(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		output  string
		windows bool
		want    string
	}{
		{"default results name made explicit", []string{"reset", "-i", "users.csv", "--secrets", "s.csv", "--yes"},
			"bulkreset-results-20250601-090000.csv", false,
			"reset -i users.csv --secrets s.csv --yes -o bulkreset-results-20250601-090000.csv --resume"},
		{"results named already", []string{"reset", "-i", "users.csv", "--output=r.csv"}, "r.csv", false,
			"reset -i users.csv --output=r.csv --resume"},
		{"spaces and quotes, POSIX", []string{"reset", "-i", "HR list (Jan).csv", "-o", "it's.csv"}, "it's.csv", false,
			`reset -i 'HR list (Jan).csv' -o 'it'\''s.csv' --resume`},
		{"spaces and quotes, PowerShell", []string{"reset", "-i", `C:\HR\Jan list.csv`, "-o", "it's.csv", "--yes"}, "it's.csv", true,
			`reset -i 'C:\HR\Jan list.csv' -o 'it''s.csv' --yes --resume`},
		{"already resuming", []string{"reset", "-i", "u.csv", "-o", "r.csv", "--resume"}, "r.csv", false,
			"reset -i u.csv -o r.csv --resume"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := quoteArgs(resumeArgs(tt.args, tt.output), tt.windows); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
	// The POSIX quoting survives a real shell.
	if sh, err := exec.LookPath("sh"); err == nil {
		args := []string{"a b", "it's", `back\slash`, "$HOME", "`x`", "", "ok-1.csv"}
		out, err := exec.Command(sh, "-c", "for a in "+quoteArgs(args, false)+`; do printf '[%s]\n' "$a"; done`).Output()
		if err != nil {
			t.Fatalf("sh: %v", err)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSuffix(string(out), "\n"), "\n") {
			got = append(got, strings.TrimSuffix(strings.TrimPrefix(l, "["), "]"))
		}
		if !slices.Equal(got, args) {
			t.Errorf("sh read %q, want %q", got, args)
		}
	}
}
