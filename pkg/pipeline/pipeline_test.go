package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/bulkreset/bulkreset/pkg/secret"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/bulkreset/bulkreset/pkg/csvin"
	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/pipeline"
	"github.com/bulkreset/bulkreset/pkg/report"
	"github.com/bulkreset/bulkreset/pkg/worker"
)

// The pipeline's invariants, without the CLI or the emulator: an in-memory
// source, stages that are plain functions, and an in-memory results file.

// source gives rows from memory.
type source struct {
	rows []csvin.Row
	next int
}

func (s *source) Read() (csvin.Row, error) {
	if s.next == len(s.rows) {
		return csvin.Row{}, io.EOF
	}
	s.next++
	return s.rows[s.next-1], nil
}

// validRows are n rows that can be sent, on lines first, first+1, …
func validRows(first, n int) []csvin.Row {
	rows := make([]csvin.Row, n)
	for i := range rows {
		rows[i] = csvin.Row{Line: first + i, UPN: fmt.Sprintf("user%d@contoso.com", first+i)}
	}
	return rows
}

var errDisk = errors.New("no space left on device")

// memResults is a results file in memory: a result is in file only once
// flushed. With failAt > 0, the flush that would put more than failAt rows
// in the file fails, and so does everything after it.
type memResults struct {
	buf, file []report.Result
	failAt    int
	err       error
	maxBuf    int // the most results ever waiting for a flush
}

func (m *memResults) Write(r report.Result) error {
	if m.err != nil {
		return m.err
	}
	m.buf = append(m.buf, r)
	m.maxBuf = max(m.maxBuf, len(m.buf))
	return nil
}

func (m *memResults) Flush() error {
	if m.err != nil {
		return m.err
	}
	if m.failAt > 0 && len(m.file)+len(m.buf) > m.failAt {
		m.err = errDisk
		return m.err
	}
	m.file = append(m.file, m.buf...)
	m.buf = m.buf[:0]
	return nil
}

func (m *memResults) Flushes() int64 { return 0 }

// skipPrefixed is a preflight that skips the users whose name begins with
// "skip", and passes the others on.
func skipPrefixed(ctx context.Context, in <-chan worker.Item, out chan<- worker.Item, emit func(report.Result)) error {
	defer close(out)
	for it := range in {
		if strings.HasPrefix(it.User, "skip") {
			emit(report.Result{Line: it.Line, User: it.User, Outcome: report.Skipped, Reason: "synced_user"})
			continue
		}
		select {
		case out <- it:
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}

// logged are the lines of the "result not written" records in a JSON log.
func logged(t *testing.T, log *bytes.Buffer) []int {
	t.Helper()
	var lines []int
	for _, rec := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		if rec == "" {
			continue
		}
		var r struct {
			Msg  string `json:"msg"`
			Line int    `json:"line"`
		}
		if err := json.Unmarshal([]byte(rec), &r); err != nil {
			t.Fatalf("log record %q: %v", rec, err)
		}
		if r.Msg == "result not written to the results file" {
			lines = append(lines, r.Line)
		}
	}
	return lines
}

// byLine indexes results by line, failing on a line given twice.
func byLine(t *testing.T, where string, rs []report.Result) map[int]report.Result {
	t.Helper()
	m := map[int]report.Result{}
	for _, r := range rs {
		if _, dup := m[r.Line]; dup {
			t.Errorf("line %d has two results in the %s", r.Line, where)
		}
		m[r.Line] = r
	}
	return m
}

// Every row read gets exactly one result: rows sent, refused as invalid,
// duplicated, skipped by the input (an example row) and by the preflight,
// across more rows than one flush holds.
func TestEveryRowReadGetsOneResult(t *testing.T) {
	rows := []csvin.Row{
		{Line: 2, UPN: "ann@contoso.com"},
		{Line: 3, UPN: "not a upn", Reason: report.ReasonInvalidUPN, Problem: "not a UPN"},
		{Line: 4, UPN: "ann@contoso.com"}, // a duplicate of line 2
		{Line: 5, UPN: "someone@example.com", Example: true, Reason: report.ReasonExampleRow},
		{Line: 6, UPN: "skip-synced@contoso.com"},
	}
	rows = append(rows, validRows(7, 3*pipeline.ResultsFlushRows)...)
	want := map[int]report.Outcome{2: report.Succeeded, 3: report.Invalid, 4: report.Duplicate, 5: report.Skipped, 6: report.Skipped}
	for _, r := range rows[5:] {
		want[r.Line] = report.Succeeded
	}
	file := &memResults{}
	var observed []report.Result
	out := pipeline.Run(t.Context(), pipeline.Config{
		Source:    &source{rows: rows},
		Prepare:   worker.NewPreparer(worker.PrepareOptions{Mode: worker.ModeNone}),
		Preflight: skipPrefixed,
		Send:      pipeline.Plan(worker.Options{}), // finishes every item it receives
		Results:   file,
		Observe:   func(r report.Result) { observed = append(observed, r) },
	})
	if out.Fatal != nil || out.Interrupted {
		t.Fatalf("run ended with fatal %v, interrupted %v", out.Fatal, out.Interrupted)
	}
	got := byLine(t, "results file", file.file)
	for line, o := range want {
		if r, ok := got[line]; !ok {
			t.Errorf("line %d has no result", line)
		} else if r.Outcome != o {
			t.Errorf("line %d: outcome %s, want %s", line, r.Outcome, o)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d results for %d rows", len(got), len(want))
	}
	n := int64(len(rows))
	if out.Read != n || out.Written != n || out.Unfinished != 0 || out.Lost != 0 {
		t.Errorf("read %d, written %d, unfinished %d, lost %d; want %d, %d, 0, 0", out.Read, out.Written, out.Unfinished, out.Lost, n, n)
	}
	// However busy the run, few results wait in memory for the file: those
	// are the ones a failing disk would lose.
	if file.maxBuf > pipeline.ResultsFlushRows {
		t.Errorf("%d results waited for a flush, more than %d", file.maxBuf, pipeline.ResultsFlushRows)
	}
	if len(observed) != len(rows) {
		t.Errorf("the observers saw %d results for %d rows", len(observed), len(rows))
	}
}

// An interrupt while a batch is in flight: that batch still gets its
// results, no other row is sent, and the rows read without a result are
// counted as unfinished.
func TestInterruptMidBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const rows, batch = 10, 3
		ctx, interrupt := context.WithCancel(t.Context())
		defer interrupt()
		inFlight := make(chan struct{})
		var sent []int
		// send takes one batch, and answers it only once the run is
		// interrupted, as the pool does with a batch on the wire.
		send := func(ctx context.Context, in <-chan worker.Item, emit func(report.Result)) error {
			var b []worker.Item
			for it := range in {
				b = append(b, it)
				if len(b) == batch {
					break
				}
			}
			close(inFlight)
			<-ctx.Done()
			for _, it := range b {
				sent = append(sent, it.Line)
				emit(report.Result{Line: it.Line, User: it.User, Outcome: report.Succeeded})
			}
			return nil
		}
		go func() {
			<-inFlight
			synctest.Wait() // every row is read and queued
			interrupt()
		}()
		file := &memResults{}
		out := pipeline.Run(ctx, pipeline.Config{
			Source:  &source{rows: validRows(2, rows)},
			Prepare: worker.NewPreparer(worker.PrepareOptions{Mode: worker.ModeNone}),
			Send:    send,
			Results: file,
		})
		if !out.Interrupted || out.Fatal != nil || out.Complete() {
			t.Fatalf("interrupted %v, fatal %v: want an interrupted run", out.Interrupted, out.Fatal)
		}
		got := slices.Sorted(maps.Keys(byLine(t, "results file", file.file)))
		if !slices.Equal(got, sent) {
			t.Errorf("results for lines %v, want those of the batch in flight %v", got, sent)
		}
		if out.Read != rows || out.Written != batch || out.Unfinished != rows-batch {
			t.Errorf("read %d, written %d, unfinished %d; want %d, %d, %d", out.Read, out.Written, out.Unfinished, rows, batch, rows-batch)
		}
	})
}

// When the results file fails, the run stops with a fatal error, and
// every result it could not take is logged and counted, never dropped: each
// result emitted is in the file or in the log, once.
func TestResultsFileFails(t *testing.T) {
	const rows = 5 * pipeline.ResultsFlushRows
	var (
		mu      sync.Mutex
		emitted []report.Result
	)
	send := func(ctx context.Context, in <-chan worker.Item, emit func(report.Result)) error {
		return pipeline.Plan(worker.Options{})(ctx, in, func(r report.Result) {
			mu.Lock()
			emitted = append(emitted, r)
			mu.Unlock()
			emit(r)
		})
	}
	var log bytes.Buffer
	file := &memResults{failAt: pipeline.ResultsFlushRows + 1}
	input := append(validRows(2, rows), csvin.Row{Line: rows + 2, Reason: report.ReasonMissingUser, Problem: "no user"})
	out := pipeline.Run(t.Context(), pipeline.Config{
		Source:  &source{rows: input},
		Prepare: worker.NewPreparer(worker.PrepareOptions{Mode: worker.ModeNone}),
		Send:    send,
		Results: file,
		Logger:  slog.New(slog.NewJSONHandler(&log, nil)),
	})
	if !errors.Is(out.Fatal, errDisk) || !strings.Contains(out.Fatal.Error(), "writing the results file") {
		t.Fatalf("fatal = %v, want the results file's error", out.Fatal)
	}
	inFile := byLine(t, "results file", file.file)
	inLog := map[int]bool{}
	for _, l := range logged(t, &log) {
		if inLog[l] {
			t.Errorf("line %d logged twice", l)
		}
		if _, ok := inFile[l]; ok {
			t.Errorf("line %d is both in the file and logged as not written", l)
		}
		inLog[l] = true
	}
	if len(inLog) == 0 {
		t.Fatal("no result was logged as not written")
	}
	for _, r := range emitted {
		if _, ok := inFile[r.Line]; !ok && !inLog[r.Line] {
			t.Errorf("line %d: its result is neither in the file nor in the log", r.Line)
		}
	}
	if out.Written != int64(len(inFile)) || out.Lost != int64(len(inLog)) || out.Unfinished != out.Read-out.Written {
		t.Errorf("written %d, lost %d, unfinished %d of %d read; the file has %d rows and the log %d",
			out.Written, out.Lost, out.Unfinished, out.Read, len(inFile), len(inLog))
	}
}

// A stage that fails stops the run with its error, and the rows read that
// have no result are unfinished.
func TestStageFails(t *testing.T) {
	errAuth := errors.New("authentication failed")
	send := func(ctx context.Context, in <-chan worker.Item, emit func(report.Result)) error {
		it := <-in
		emit(report.Result{Line: it.Line, User: it.User, Outcome: report.Succeeded})
		return errAuth
	}
	file := &memResults{}
	out := pipeline.Run(t.Context(), pipeline.Config{
		Source:  &source{rows: validRows(2, 50)},
		Prepare: worker.NewPreparer(worker.PrepareOptions{Mode: worker.ModeNone}),
		Send:    send,
		Results: file,
	})
	if !errors.Is(out.Fatal, errAuth) {
		t.Fatalf("fatal = %v, want the sender's error", out.Fatal)
	}
	if out.Written != 1 || len(file.file) != 1 || out.Unfinished != out.Read-1 {
		t.Errorf("written %d (file: %d rows), unfinished %d of %d read; want 1 written, the rest unfinished", out.Written, len(file.file), out.Unfinished, out.Read)
	}
}

// event is a step seen by the fakes of TestPasswordRecordedBeforeSent.
type event struct {
	kind     string // "recorded" or "sent"
	password string
}

// journal orders the steps of the secrets file and of Graph.
type journal struct {
	mu     sync.Mutex
	events []event
}

func (j *journal) add(kind, password string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.events = append(j.events, event{kind, password})
}

// recorder is a secrets file in memory: a password is durable once Record
// returns.
type recorder struct{ j *journal }

func (r recorder) Record(_ context.Context, rows []report.SecretRow) error {
	for _, row := range rows {
		r.j.add("recorded", row.Password.Reveal())
	}
	return nil
}

// graphFake answers every request 204 and notes each password sent.
type graphFake struct {
	t *testing.T
	j *journal
}

func (g graphFake) Batch(_ context.Context, reqs []graph.Request) (*graph.BatchResult, error) {
	res := &graph.BatchResult{Responses: map[string]graph.Response{}}
	for _, r := range reqs {
		b, err := r.BodyJSON()
		if err != nil {
			g.t.Errorf("request body: %v", err)
		}
		var body struct {
			PasswordProfile struct {
				Password string `json:"password"`
			} `json:"passwordProfile"`
		}
		if err := json.Unmarshal(b, &body); err != nil {
			g.t.Errorf("request body: %v", err)
		}
		g.j.add("sent", body.PasswordProfile.Password)
		res.Responses[r.ID] = graph.Response{ID: r.ID, Status: 204}
	}
	return res, nil
}

// Each password is recorded in the secrets file before the request that
// sets it is sent: the pool's Run as the reset stage, with the preparer's
// random passwords.
func TestPasswordRecordedBeforeSent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := &journal{}
		pool := worker.New(graphFake{t, j}, recorder{j}, worker.Options{BatchSize: 5, Concurrency: 2, MaxAttempts: 3})
		file := &memResults{}
		const rows = 23
		out := pipeline.Run(t.Context(), pipeline.Config{
			Source:  &source{rows: validRows(2, rows)},
			Prepare: worker.NewPreparer(worker.PrepareOptions{Mode: worker.ModeRandom}),
			Send:    pool.Run,
			Results: file,
		})
		if out.Fatal != nil || out.Written != rows {
			t.Fatalf("fatal %v, %d written; want %d rows written", out.Fatal, out.Written, rows)
		}
		recorded := map[string]bool{}
		sent := 0
		for _, e := range j.events {
			switch {
			case e.password == "":
				t.Errorf("a request was %s without a password", e.kind)
			case e.kind == "recorded":
				recorded[e.password] = true
			case !recorded[e.password]:
				t.Errorf("a password was sent before it was recorded (event %d of %d)", sent, len(j.events))
				sent++
			default:
				sent++
			}
		}
		if sent != rows || len(recorded) != rows {
			t.Errorf("%d passwords sent and %d recorded, want %d each", sent, len(recorded), rows)
		}
	})
}

// A resumed run skips the rows the interrupted run finished (they are not
// read again), sends a row with a recorded password and no result again
// with that password, and stops on a row that has a recorded password but
// can no longer be sent: the input changed.
func TestResume(t *testing.T) {
	dir := t.TempDir()
	resultsPath, secretsPath := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	f, err := report.CreateResultsFile(resultsPath)
	if err != nil {
		t.Fatal(err)
	}
	w, err := report.NewResults(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(report.Result{Line: 2, User: "ann@contoso.com", Outcome: report.Succeeded}); err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(w.Flush(), f.Close()); err != nil {
		t.Fatal(err)
	}
	s, err := report.CreateSecrets(secretsPath)
	if err != nil {
		t.Fatal(err)
	}
	const bobs = "Recorded-Before-1"
	err = s.Record(t.Context(), []report.SecretRow{
		{Line: 2, User: "ann@contoso.com", Password: secret.New("Ann-Password-1")},
		{Line: 3, User: "bob@contoso.com", Password: secret.New(bobs)},
		{Line: 4, User: "cat@contoso.com", Password: secret.New("Cat-Password-1")},
	})
	if err := errors.Join(err, s.Close()); err != nil {
		t.Fatal(err)
	}
	prior, err := report.LoadPrior(resultsPath, secretsPath, &report.Summary{})
	if err != nil {
		t.Fatal(err)
	}

	var sent []worker.Item
	send := func(ctx context.Context, in <-chan worker.Item, emit func(report.Result)) error {
		for it := range in {
			sent = append(sent, it)
			emit(report.Result{Line: it.Line, User: it.User, Outcome: report.Succeeded})
		}
		return nil
	}
	file := &memResults{}
	out := pipeline.Run(t.Context(), pipeline.Config{
		Source: &source{rows: []csvin.Row{
			{Line: 2, UPN: "ann@contoso.com"},
			{Line: 3, UPN: "bob@contoso.com"},
		}},
		Prepare: worker.NewPreparer(worker.PrepareOptions{Mode: worker.ModeRandom}),
		Prior:   prior,
		Send:    send,
		Results: file,
	})
	if out.Fatal != nil || out.Read != 1 || out.Written != 1 {
		t.Fatalf("fatal %v, %d read, %d written; want line 3 alone read and written", out.Fatal, out.Read, out.Written)
	}
	if len(sent) != 1 || sent[0].Line != 3 || sent[0].Password.Reveal() != bobs || !sent[0].Recorded || !sent[0].Resumed {
		t.Errorf("sent %d items; want line 3 again, with its recorded password, marked recorded and resumed", len(sent))
	}

	// Line 4 has a recorded password, but is now invalid.
	row := csvin.Row{Line: 4, UPN: "cat@contoso.com", Reason: report.ReasonBadValue, Problem: "a bad value"}
	it, r, err := worker.NewPreparer(worker.PrepareOptions{Mode: worker.ModeRandom}).Prepare(row)
	if err != nil {
		t.Fatal(err)
	}
	var changed *pipeline.InputChangedError
	if _, err := pipeline.Resume(prior, row, &it, &r); !errors.As(err, &changed) || changed.Line != 4 {
		t.Errorf("Resume of a row now invalid: %v, want an InputChangedError for line 4", err)
	}
}
