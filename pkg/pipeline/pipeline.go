// Package pipeline is the path of a row from input to result: a Source of
// input rows, the stages an item goes through (prepare, resume, preflight,
// send) and the sink, the only writer of the results file, with its flush
// and loss policy. docs/architecture.md draws the path once.
//
// The invariant every caller relies on: each row read gets exactly one
// result, in the results file or, when that file fails, in the log; a row
// that has neither is counted in Outcome.Unfinished.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"

	"github.com/bulkreset/bulkreset/pkg/csvin"
	"github.com/bulkreset/bulkreset/pkg/report"
	"github.com/bulkreset/bulkreset/pkg/worker"
)

// Source gives the input rows one by one, then io.EOF; *csvin.Reader is
// one.
type Source interface {
	Read() (csvin.Row, error)
}

// Preparer turns an input row into an item to send, or into its final
// result (an invalid row, a duplicate); *worker.Preparer is one.
type Preparer interface {
	Prepare(row csvin.Row) (worker.Item, *report.Result, error)
}

// Filter is a stage between the reader and the sender: it finishes some
// items itself (emit, which stages call from several goroutines) and
// passes the others on to out. The preflight's
// Run is one. It must not close out.
type Filter func(ctx context.Context, in <-chan worker.Item, out chan<- worker.Item, emit func(report.Result)) error

// Sender is the last stage: it finishes every item it receives and emits
// its result, until in is closed or ctx is cancelled. The worker pool's Run
// (reset), Plan (plan) and the Router's Run (many tenants) are Senders.
type Sender func(ctx context.Context, in <-chan worker.Item, emit func(report.Result)) error

// ResultWriter is the results file; *report.Results is one. Flushes counts
// the flushes Write did on its own, when its buffer filled.
type ResultWriter interface {
	Write(report.Result) error
	Flush() error
	Flushes() int64
}

// Config is what a run is made of. Source, Prepare, Send and Results are
// required.
type Config struct {
	Source  Source
	Prepare Preparer
	// Prior is what an interrupted run finished (--resume); nil otherwise.
	Prior *report.Prior
	// Preflight, when not nil, sits between the reader and Send.
	Preflight Filter
	Send      Sender
	Results   ResultWriter
	// Observe sees every result, in the order they are written, from the
	// sink's goroutine (the summary, the progress display, the log).
	Observe func(report.Result)
	// Logger gets the results the file could not take.
	Logger *slog.Logger
}

// Outcome is how a run ended.
type Outcome struct {
	// Fatal stops the run: the input could not be read, a stage failed, or
	// the results file could not be written.
	Fatal error
	// Interrupted is set when ctx was cancelled before every row had its
	// result.
	Interrupted bool
	// Read counts the rows read (rows skipped by a resume are not read
	// again); Written those whose result is in the results file; Lost
	// those whose result the file could not take (they are logged).
	Read, Written, Lost int64
	// Unfinished counts the rows read that have no result in the file:
	// Read - Written.
	Unfinished int64
	// Refused are the lines whose reset Graph refused for good, in this
	// run or the one resumed: their recorded password was never set.
	Refused map[int]bool
}

// Complete reports whether every row read has its result: the run was
// neither interrupted nor stopped.
func (o Outcome) Complete() bool { return o.Fatal == nil && !o.Interrupted }

// ResultQueue is how many results may wait for the results file's writer.
// When that file fails (a full disk), the results still queued are logged
// instead ("result not written to the results file"), with the line, user,
// outcome and Graph's request-id.
const ResultQueue = 1024

// ResultsFlushRows bounds the rows the results writer holds in memory: at
// most these many results are lost to the file (and logged instead) when
// it fails, however busy the run.
const ResultsFlushRows = 64

// itemQueue is how many prepared items may wait for the next stage.
const itemQueue = 256

// Run streams the rows of c.Source through the stages and writes every
// result through one goroutine, the sink, that owns the results file. It
// returns once every stage has returned and the sink has flushed; the
// reader alone may still be blocked in a read (of a pipe), and stops at
// its next step.
func Run(ctx context.Context, c Config) Outcome {
	runCtx, stopRun := context.WithCancelCause(ctx)
	defer stopRun(nil)
	logger := c.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := newSink(c.Results, c.Observe, logger, stopRun)
	go s.run()

	readCtx, stopRead := context.WithCancel(runCtx)
	defer stopRead()
	rd := &reader{c: c, stopRun: stopRun, results: s.queue, items: make(chan worker.Item, itemQueue), end: make(chan readEnd, 1)}
	go rd.run(readCtx)

	stageErr := sendAll(runCtx, stopRun, c, rd.items, s.emit)
	stopRead()
	var end readEnd
	select {
	case end = <-rd.end:
	default: // still blocked in a read: it ends at its next step
	}
	s.stop()

	if c.Prior != nil {
		for line := range c.Prior.RefusedLines() {
			s.refused[line] = true
		}
	}
	read := rd.read.Load()
	out := Outcome{Read: read, Written: s.written, Lost: s.lost, Unfinished: read - s.written, Refused: s.refused}
	switch {
	case stageErr != nil:
		out.Fatal = stageErr
	case end.err != nil:
		out.Fatal = end.err
	case s.err != nil:
		out.Fatal = fmt.Errorf("writing the results file: %w", s.err)
	case ctx.Err() != nil && (!end.eof || out.Unfinished > 0):
		out.Interrupted = true
	}
	if out.Complete() && (out.Unfinished != 0 || !end.eof) {
		// Every row read must have a result when nothing stopped the run.
		out.Fatal = fmt.Errorf("internal error: %d rows have no result (input read to the end: %v)", out.Unfinished, end.eof)
	}
	return out
}

// sendAll runs the preflight, when there is one, and the sender, and
// returns the first error of either once both have returned.
func sendAll(ctx context.Context, stopRun context.CancelCauseFunc, c Config, items <-chan worker.Item, emit func(report.Result)) error {
	if c.Preflight == nil {
		return c.Send(ctx, items, emit)
	}
	resolved := make(chan worker.Item, itemQueue)
	preDone := make(chan error, 1)
	go func() {
		err := c.Preflight(ctx, items, resolved, emit)
		if err != nil {
			stopRun(err)
		}
		preDone <- err
	}()
	err := c.Send(ctx, resolved, emit)
	if err != nil {
		stopRun(err) // the preflight stops too
	}
	if perr := <-preDone; perr != nil && err == nil {
		err = perr
	}
	return err
}

// readEnd is how the reader stopped.
type readEnd struct {
	err error
	eof bool
}

// reader turns input rows into items, or straight into results when a row
// cannot be sent. It stops with its context; it may be blocked reading a
// pipe, so nothing waits for it once the run has stopped.
type reader struct {
	c       Config
	stopRun context.CancelCauseFunc
	results chan<- report.Result
	items   chan worker.Item
	end     chan readEnd
	read    atomic.Int64
}

func (rd *reader) run(ctx context.Context) {
	end := readEnd{}
	defer func() {
		rd.end <- end // before close(items): the senders' return implies it is there
		close(rd.items)
	}()
	for ctx.Err() == nil {
		row, err := rd.c.Source.Read()
		if errors.Is(err, io.EOF) {
			end.eof = true
			return
		}
		if err != nil {
			end.err = fmt.Errorf("reading the input: %w", err)
			rd.stopRun(end.err)
			return
		}
		it, r, skip, err := rd.prepare(row)
		if err != nil {
			end.err = err
			rd.stopRun(err)
			return
		}
		if skip {
			continue
		}
		rd.read.Add(1)
		if r != nil {
			select {
			case rd.results <- *r:
			case <-ctx.Done():
			}
			continue
		}
		select {
		case rd.items <- it:
		case <-ctx.Done():
		}
	}
}

// prepare makes the item or the result of row, and applies what a resumed
// run finished: skip is set for a row that has its result already.
func (rd *reader) prepare(row csvin.Row) (it worker.Item, r *report.Result, skip bool, err error) {
	it, r, err = rd.c.Prepare.Prepare(row)
	if err != nil || rd.c.Prior == nil {
		return it, r, false, err
	}
	skip, err = Resume(rd.c.Prior, row, &it, &r)
	return it, r, skip, err
}
