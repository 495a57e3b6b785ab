package progress

import (
	"bytes"
	"context"
	"fmt"
	"github.com/bulkreset/bulkreset/internal/syncbuf"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulkreset/bulkreset/pkg/csvin"
	"github.com/bulkreset/bulkreset/pkg/report"
)

func TestChooseProgress(t *testing.T) {
	tests := []struct {
		name     string
		quiet    bool
		format   string
		terminal bool
		term     string
		want     Mode
	}{
		{"terminal", false, "text", true, "xterm-256color", Bar},
		{"terminal, TERM unset (Windows)", false, "text", true, "", Bar},
		{"dumb terminal cannot redraw", false, "text", true, "dumb", Status},
		{"redirected to a file", false, "text", false, "xterm", Status},
		{"quiet on a terminal", true, "text", true, "xterm", None},
		{"quiet redirected", true, "text", false, "", None},
		{"json on a terminal: every line stays JSON", false, "json", true, "xterm", None},
		{"json redirected", false, "json", false, "", None},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Choose(tt.quiet, tt.format, tt.terminal, tt.term); got != tt.want {
				t.Errorf("Choose(quiet=%v, %s, terminal=%v, TERM=%q) = %d, want %d", tt.quiet, tt.format, tt.terminal, tt.term, got, tt.want)
			}
		})
	}
}

func TestETA(t *testing.T) {
	tests := []struct {
		done, total int64
		rate        float64
		want        time.Duration
	}{
		{done: 0, total: -1, rate: 20, want: -1},  // total unknown
		{done: 10, total: 100, rate: 0, want: -1}, // no rate yet
		{done: 100, total: 100, rate: 0, want: 0}, // finished
		{done: 120, total: 100, rate: 5, want: 0}, // more than counted (the file grew)
		{done: 0, total: 3000, rate: 20, want: 150 * time.Second},
		{done: 999, total: 1000, rate: 3, want: time.Second}, // rounded up, never "0s" before the end
		{done: 0, total: 1_000_000, rate: 0.001, want: -1},   // a rate too low to mean anything
	}
	for _, tt := range tests {
		if got := eta(tt.done, tt.total, tt.rate); got != tt.want {
			t.Errorf("eta(%d, %d, %g) = %v, want %v", tt.done, tt.total, tt.rate, got, tt.want)
		}
	}
}

func TestShortDuration(t *testing.T) {
	tests := map[time.Duration]string{
		0:                      "0s",
		400 * time.Millisecond: "0s",
		45 * time.Second:       "45s",
		185 * time.Second:      "3m05s",
		2*time.Hour + 7*time.Minute + 59*time.Second: "2h07m",
	}
	for d, want := range tests {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// fakeClock is a clock the test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func addResults(tr *progressTracker, n int, o report.Outcome) {
	for range n {
		tr.add(report.Result{Outcome: o})
	}
}

func TestProgressTrackerSnapshot(t *testing.T) {
	clock := &fakeClock{t: time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)}
	throttled := int64(0)
	tr := newProgressTracker(clock.now, func() int64 { return throttled })

	s := tr.snapshot()
	if s.Done != 0 || s.Total != -1 || s.Rate != 0 || s.ETA != -1 {
		t.Errorf("at the start: %+v, want nothing done, total and ETA unknown", s)
	}
	if got := s.counts(); got != "0 rows" {
		t.Errorf("counts() = %q, want %q while the total is unknown", got, "0 rows")
	}

	// 20 rows per second for 10 s, with the total counted meanwhile.
	for range 10 {
		clock.add(time.Second)
		addResults(tr, 20, report.Succeeded)
		tr.snapshot()
	}
	tr.setTotal(1000)
	addResults(tr, 2, report.Failed)
	addResults(tr, 1, report.Invalid)
	addResults(tr, 1, report.Duplicate)
	throttled = 7
	s = tr.snapshot()
	if s.Done != 204 || s.Total != 1000 || s.Failed != 3 || s.Throttled != 7 || s.Elapsed != 10*time.Second {
		t.Errorf("after 10 s: %+v", s)
	}
	if s.Rate < 20 || s.Rate > 20.5 {
		t.Errorf("rate %.2f rows/s, want about 20", s.Rate)
	}
	if got, want := s.counts(), "204/1000 rows"; got != want {
		t.Errorf("counts() = %q, want %q", got, want)
	}
	if got := s.details(); !regexp.MustCompile(`^20\.\d/s  ETA (39|40)s  throttled 7  failed 3$`).MatchString(got) {
		t.Errorf("details() = %q, want rate, ETA about 40s, throttled 7, failed 3", got)
	}

	// Throttled hard: 2 rows per second for the next 30 s. The rate follows
	// within the window instead of averaging over the whole run.
	for range 30 {
		clock.add(time.Second)
		addResults(tr, 2, report.Succeeded)
		tr.snapshot()
	}
	s = tr.snapshot()
	if s.Rate < 1.9 || s.Rate > 2.1 {
		t.Errorf("rate %.2f rows/s after 30 s at 2/s, want about 2 (the last %v, not the whole run)", s.Rate, rateWindow)
	}
	if want := time.Duration(1000-264) * time.Second / 2; s.ETA < want-2*time.Second || s.ETA > want+2*time.Second {
		t.Errorf("ETA %v, want about %v", s.ETA, want)
	}
	if len(tr.samples) > int(rateWindow/time.Second)+2 {
		t.Errorf("%d rate samples kept: the window does not bound them", len(tr.samples))
	}
}

// TestStatusLoop checks the status line of a run without a terminal: one
// record every 10 s, with the counts, in a synctest bubble (fake time).
func TestStatusLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var buf bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&buf, nil))
		tr := newProgressTracker(nil, func() int64 { return 4 })
		tr.setTotal(600)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			statusLoop(ctx, logger, statusInterval, tr)
			close(done)
		}()
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if buf.Len() != 0 {
			t.Errorf("a status line before 10 s:\n%s", buf.String())
		}
		addResults(tr, 200, report.Succeeded)
		time.Sleep(5 * time.Second)
		synctest.Wait()
		addResults(tr, 200, report.Succeeded)
		time.Sleep(10 * time.Second)
		synctest.Wait()
		cancel()
		<-done
		lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
		if len(lines) != 2 {
			t.Fatalf("%d status lines in 20 s, want 2:\n%s", len(lines), buf.String())
		}
		for i, want := range []string{
			`level=INFO msg=progress done=200 total=600 rows_per_second=20 eta=20s throttled=4 failed=0 elapsed=10s`,
			`level=INFO msg=progress done=400 total=600 rows_per_second=20 eta=10s throttled=4 failed=0 elapsed=20s`,
		} {
			if !strings.Contains(lines[i], want) {
				t.Errorf("status line %d:\n%s\nwant it to contain\n%s", i+1, lines[i], want)
			}
		}
	})
}

func TestCountRows(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("UserPrincipalName,Note\r\n")
	for i := range 2500 {
		fmt.Fprintf(&b, "user%d@contoso.example,\"two\nlines\"\r\n", i)
		if i%100 == 0 {
			b.WriteString("\r\n") // blank lines are not rows
		}
	}
	b.WriteString("not-an-upn,bad\r\n") // an invalid row still gets a result
	path := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	n, err := countRows(t.Context(), path, csvin.Options{Name: path})
	if err != nil || n != 2501 {
		t.Errorf("countRows = %d, %v; want 2501 (every row that gets a result)", n, err)
	}

	// It agrees with the reader the run uses.
	in, err := csvin.Open(path, csvin.Options{Name: path})
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	read := 0
	for {
		if _, err := in.Read(); err != nil {
			break
		}
		read++
	}
	if int64(read) != n {
		t.Errorf("countRows = %d, the run's reader reads %d rows", n, read)
	}

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := countRows(ctx, path, csvin.Options{Name: path}); err == nil {
		t.Error("countRows with a cancelled context: no error")
	}
	if _, err := countRows(t.Context(), filepath.Join(dir, "missing.csv"), csvin.Options{}); err == nil {
		t.Error("countRows of a missing file: no error")
	}
}

// TestBarDisplay draws the bar into a buffer (mpb renders the same frames
// to any writer) and prints a log line through it.
func TestBarDisplay(t *testing.T) {
	var out syncbuf.Buffer
	tr := newProgressTracker(nil, func() int64 { return 2 })
	tr.setTotal(50)
	d := startBar(&out, tr)
	addResults(tr, 49, report.Succeeded)
	if _, err := d.Write([]byte("level=WARN msg=\"batch failed; retrying its rows\"\n")); err != nil {
		t.Fatalf("writing a log line through the bar: %v", err)
	}
	addResults(tr, 1, report.Failed)
	d.finish(true)
	got := out.String()
	for _, want := range []string{"Resetting 50/50 rows", "throttled 2", "failed 1", "[", "]", "batch failed; retrying its rows"} {
		if !strings.Contains(got, want) {
			t.Errorf("bar output does not contain %q:\n%q", want, got)
		}
	}
}

// TestCountsPlural: one row is "1 row", not "1 rows".
func TestCountsPlural(t *testing.T) {
	for _, c := range []struct {
		s    progressSnapshot
		want string
	}{
		{progressSnapshot{Done: 1, Total: -1}, "1 row"},
		{progressSnapshot{Done: 2, Total: -1}, "2 rows"},
		{progressSnapshot{Done: 0, Total: 1}, "0/1 row"},
		{progressSnapshot{Done: 1, Total: 3}, "1/3 rows"},
	} {
		if got := c.s.counts(); got != c.want {
			t.Errorf("counts(%+v) = %q, want %q", c.s, got, c.want)
		}
	}
}
