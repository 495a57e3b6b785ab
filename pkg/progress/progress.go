// Package progress shows a run's progress on standard error: a live bar on
// a terminal, a status record every few seconds otherwise, nothing with
// --quiet or JSON logs; and it counts the input's rows for the total.
package progress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/bulkreset/bulkreset/internal/plural"
	"github.com/bulkreset/bulkreset/pkg/csvin"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// Mode is how a run shows its progress on standard error (docs/files.md,
// "The log file", and README "Progress, summary and logs").
type Mode int

// The modes.
const (
	None   Mode = iota // --quiet, or JSON logs: nothing but log records
	Bar                // standard error is a terminal: a live bar
	Status             // text logs, no terminal: a status record every statusInterval
)

// statusInterval is how often a run without a terminal logs a status line.
const statusInterval = 10 * time.Second

// barRefresh is how often the bar is redrawn.
const barRefresh = 200 * time.Millisecond

// rateWindow is how far back the rate, and so the ETA, looks: long enough to
// smooth over the pacer's bursts, short enough to follow a throttled tenant.
const rateWindow = 20 * time.Second

// Choose decides how progress is shown. A bar needs a terminal that
// can move its cursor (TERM=dumb cannot); JSON logs keep every line of
// standard error a JSON object, so they get neither bar nor status lines.
func Choose(quiet bool, logFormat string, stderrIsTerminal bool, term string) Mode {
	switch {
	case quiet || logFormat == "json":
		return None
	case stderrIsTerminal && term != "dumb":
		return Bar
	default:
		return Status
	}
}

// progressTracker counts finished rows for the progress display. The
// reporter goroutine adds results; the display reads snapshots from another
// goroutine.
type progressTracker struct {
	done, failed atomic.Int64
	total        atomic.Int64 // -1 while unknown
	throttled    func() int64 // 429s seen so far (worker.Pool's counter)
	started      time.Time
	now          func() time.Time

	mu      sync.Mutex
	samples []rateSample // (time, done) over the last rateWindow
}

type rateSample struct {
	at   time.Time
	done int64
}

// newProgressTracker returns a tracker whose clock starts now. now is the
// clock (time.Now when nil); throttled may be nil.
func newProgressTracker(now func() time.Time, throttled func() int64) *progressTracker {
	if now == nil {
		now = time.Now
	}
	if throttled == nil {
		throttled = func() int64 { return 0 }
	}
	t := &progressTracker{throttled: throttled, now: now, started: now()}
	t.total.Store(-1)
	return t
}

// add counts one finished row. It is safe on a nil tracker.
func (t *progressTracker) add(r report.Result) {
	if t == nil {
		return
	}
	t.done.Add(1)
	if r.Outcome == report.Failed || r.Outcome == report.Invalid {
		t.failed.Add(1)
	}
}

// setTotal records the number of rows of the input, once counted.
func (t *progressTracker) setTotal(n int64) { t.total.Store(n) }

// progressSnapshot is the state of a run at one moment.
type progressSnapshot struct {
	Done, Total, Failed, Throttled int64 // Total is -1 while unknown
	Elapsed                        time.Duration
	Rate                           float64       // rows per second; 0 while unknown
	ETA                            time.Duration // -1 while unknown
}

// snapshot samples the counters and computes the rate and the ETA.
func (t *progressTracker) snapshot() progressSnapshot {
	now := t.now()
	s := progressSnapshot{
		Done:      t.done.Load(),
		Total:     t.total.Load(),
		Failed:    t.failed.Load(),
		Throttled: t.throttled(),
		Elapsed:   max(now.Sub(t.started), 0),
	}
	t.mu.Lock()
	t.samples = append(t.samples, rateSample{now, s.Done})
	cut := 0
	for cut < len(t.samples)-1 && now.Sub(t.samples[cut+1].at) >= rateWindow {
		cut++
	}
	t.samples = t.samples[cut:]
	oldest := t.samples[0]
	t.mu.Unlock()
	if oldest.at.Equal(now) || now.Sub(oldest.at) < time.Second {
		// Too short a window: the average since the start is all we know.
		oldest = rateSample{t.started, 0}
	}
	s.Rate = rowRate(s.Done-oldest.done, now.Sub(oldest.at))
	s.ETA = eta(s.Done, s.Total, s.Rate)
	return s
}

// rowRate is rows per second, 0 when there is not a second of data yet.
func rowRate(rows int64, over time.Duration) float64 {
	if over < time.Second || rows < 0 {
		return 0
	}
	return float64(rows) / over.Seconds()
}

// eta is the time left at rate rows per second, -1 when unknown: no total,
// or no rate yet.
func eta(done, total int64, rate float64) time.Duration {
	switch {
	case total < 0:
		return -1
	case done >= total:
		return 0
	case rate <= 0:
		return -1
	}
	sec := float64(total-done) / rate
	if sec > (100 * 24 * time.Hour).Seconds() {
		return -1 // a rate too low to mean anything
	}
	return time.Duration(math.Ceil(sec)) * time.Second
}

// counts is "523/1000 rows", or "523 rows" while the total is unknown.
func (s progressSnapshot) counts() string {
	if s.Total < 0 {
		return plural.N(s.Done, "row")
	}
	return fmt.Sprintf("%d/%d %s", s.Done, s.Total, plural.Word(s.Total, "row", "rows"))
}

// details is the rate, the ETA, and the throttled and failed counts.
func (s progressSnapshot) details() string {
	var b strings.Builder
	if s.Rate > 0 {
		fmt.Fprintf(&b, "%.1f/s", s.Rate)
	} else {
		b.WriteString("-/s")
	}
	if s.ETA >= 0 {
		b.WriteString("  ETA " + shortDuration(s.ETA))
	} else {
		b.WriteString("  ETA -")
	}
	fmt.Fprintf(&b, "  throttled %d", s.Throttled)
	if s.Failed > 0 {
		fmt.Fprintf(&b, "  failed %d", s.Failed)
	}
	return b.String()
}

// logAttrs are the snapshot as the attributes of a status record.
func (s progressSnapshot) logAttrs() []any {
	attrs := []any{"done", s.Done}
	if s.Total >= 0 {
		attrs = append(attrs, "total", s.Total)
	}
	attrs = append(attrs, "rows_per_second", math.Round(s.Rate*10)/10)
	if s.ETA >= 0 {
		attrs = append(attrs, "eta", shortDuration(s.ETA))
	}
	return append(attrs, "throttled", s.Throttled, "failed", s.Failed, "elapsed", shortDuration(s.Elapsed))
}

// shortDuration is d to the second as a person reads it: 45s, 3m05s, 2h07m.
func shortDuration(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d/time.Hour), int(d%time.Hour/time.Minute), int(d%time.Minute/time.Second)
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

// statusLoop logs a status record every interval until ctx is done: the
// progress of a run whose standard error is a log file or a pipe.
func statusLoop(ctx context.Context, logger *slog.Logger, interval time.Duration, t *progressTracker) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			logger.Info("progress", t.snapshot().logAttrs()...)
		}
	}
}

// barDisplay is the live progress bar on a terminal. While it runs, log
// records are printed above it through its writer, so they never tear it.
type barDisplay struct {
	p    *mpb.Progress
	bar  *mpb.Bar
	stop chan struct{}
	done chan struct{}
}

// startBar draws the bar on w (a terminal) until finish is called.
func startBar(w io.Writer, t *progressTracker) *barDisplay {
	p := mpb.New(mpb.WithOutput(w), mpb.WithRefreshRate(barRefresh), mpb.WithAutoRefresh())
	var (
		mu   sync.Mutex
		last = t.snapshot()
	)
	latest := func() progressSnapshot { mu.Lock(); defer mu.Unlock(); return last }
	bar := p.New(0, mpb.BarStyle().Lbound("[").Filler("=").Tip(">").Padding(" ").Rbound("]"),
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string { return "Resetting " + latest().counts() })),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return latest().details() })),
	)
	d := &barDisplay{p: p, bar: bar, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(d.done)
		tick := time.NewTicker(barRefresh)
		defer tick.Stop()
		update := func() {
			s := t.snapshot()
			mu.Lock()
			last = s
			mu.Unlock()
			if s.Total >= 0 {
				bar.SetTotal(max(s.Total, s.Done), false)
			}
			bar.SetCurrent(s.Done)
		}
		for {
			update()
			select {
			case <-d.stop:
				update() // the final counts
				return
			case <-tick.C:
			}
		}
	}()
	return d
}

// Write prints p (whole log lines) above the bar.
func (d *barDisplay) Write(p []byte) (int, error) { return d.p.Write(p) }

// finish draws the bar a last time and stops it: complete when the run
// finished, else left as it stood (interrupted, or stopped by an error).
func (d *barDisplay) finish(complete bool) {
	close(d.stop)
	<-d.done
	if complete {
		d.bar.SetTotal(-1, true) // the total is what was done
	} else {
		d.bar.Abort(false)
	}
	d.p.Wait()
}

// CountRows counts the data rows of the input file at path, read with the
// run's reader and options (the sheet of an .xlsx, the named columns), so
// that it counts exactly the rows the results file will have: invalid and
// duplicate rows included.
func CountRows(ctx context.Context, path string, opts csvin.Options) (int64, error) {
	return countRows(ctx, path, opts)
}

// countRows counts the rows of the input file, for the progress total, by
// reading it a second time with the same reader as the run (so blank lines,
// multi-line cells and an Entra template's preamble count exactly as they
// do for results). It returns early with ctx's error when the run ends first.
func countRows(ctx context.Context, path string, opts csvin.Options) (int64, error) {
	in, err := csvin.Open(path, opts)
	if err != nil {
		return 0, err
	}
	defer in.Close()
	var n int64
	for {
		if n%1024 == 0 && ctx.Err() != nil {
			return 0, ctx.Err()
		}
		_, err := in.Read()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		n++
	}
}

// rereadable reports whether the input can be read a second time to count
// its rows: only a regular file can. Standard input, a pipe (/dev/stdin,
// bash's <(...)), a named pipe or a device would give the second reader part
// of a stream that is the run's, and the run would lose those rows; their
// progress has no total.
func rereadable(path string) bool {
	if path == "-" {
		return false
	}
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}

// SwitchWriter is standard error for a run's logger: plain while no bar is
// drawn, through the bar (above it) while one is.
type SwitchWriter struct {
	mu  sync.Mutex
	out io.Writer
	via io.Writer // nil when no bar is drawn
}

// NewSwitchWriter returns a SwitchWriter that writes to out.
func NewSwitchWriter(out io.Writer) *SwitchWriter { return &SwitchWriter{out: out} }

// Write writes p to standard error, above the bar while one is drawn.
func (w *SwitchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.via != nil {
		return w.via.Write(p)
	}
	return w.out.Write(p)
}

// route sends writes through via, or straight out when via is nil.
func (w *SwitchWriter) route(via io.Writer) {
	w.mu.Lock()
	w.via = via
	w.mu.Unlock()
}

// Config is what a run's display needs.
type Config struct {
	Mode Mode
	// Stderr is where the bar is drawn; Switch, standard error as the
	// run's logger writes it, is routed above the bar while it is drawn.
	Stderr io.Writer
	Switch *SwitchWriter
	// Logger gets the status records, and Debug notes of the display.
	Logger *slog.Logger
	// Input is the input file, Sheet its sheet: a regular file is read a
	// second time to count its rows for the total.
	Input, Sheet string
	// FinishedBefore rows of the input are not read into the run
	// (--resume skips them), so the total is the rest.
	FinishedBefore int
	// Throttled reads the pool's count of 429s; nil for none.
	Throttled func() int64
	// UserColumn and IDColumn are the input's named columns (see
	// csvin.Options): without them a header of other names has no user
	// column, and the count would fail.
	UserColumn, IDColumn string
}

// Display is the progress display of one run.
type Display struct {
	tracker *progressTracker // nil when nothing is shown
	bar     *barDisplay
	sw      *SwitchWriter
	stop    context.CancelFunc
	done    chan struct{}
}

// Start starts the display c.Mode chooses, and counts the input's rows for
// its total in the background. Finish stops it.
func Start(ctx context.Context, c Config) *Display {
	p := &Display{sw: c.Switch, done: make(chan struct{})}
	if c.Mode == None {
		close(p.done)
		return p
	}
	p.tracker = newProgressTracker(nil, c.Throttled)
	ctx, p.stop = context.WithCancel(ctx)
	var wg sync.WaitGroup
	if rereadable(c.Input) {
		wg.Go(func() {
			n, err := countRows(ctx, c.Input, csvin.Options{Name: c.Input, Sheet: c.Sheet, UserColumn: c.UserColumn, IDColumn: c.IDColumn})
			if err != nil {
				if ctx.Err() == nil {
					c.Logger.Debug("counting the input's rows for the progress total", "error", err)
				}
				return
			}
			p.tracker.setTotal(max(n-int64(c.FinishedBefore), 0))
		})
	}
	switch c.Mode {
	case Bar:
		p.bar = startBar(c.Stderr, p.tracker)
		if p.sw != nil {
			p.sw.route(p.bar)
		}
	case Status:
		wg.Go(func() { statusLoop(ctx, c.Logger, statusInterval, p.tracker) })
	}
	go func() {
		wg.Wait()
		close(p.done)
	}()
	return p
}

// Add counts one finished row.
func (p *Display) Add(r report.Result) { p.tracker.add(r) }

// Finish stops the display; complete reports that every row has a result.
func (p *Display) Finish(complete bool) {
	if p.tracker == nil {
		return
	}
	p.stop()
	<-p.done
	if p.bar != nil {
		if p.sw != nil {
			p.sw.route(nil)
		}
		p.bar.finish(complete)
	}
}
