package pipeline

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/bulkreset/bulkreset/pkg/report"
)

// sink is the only writer of the results file. Its policy:
//   - a result is in the file only once the file is flushed: pending holds
//     those written since the last flush, at most ResultsFlushRows;
//   - the file is flushed when the queue is empty, so that a slow run
//     keeps its file current, and every ResultsFlushRows results;
//   - when a write or flush fails, the run stops: the pending results and
//     every one that arrives afterwards are logged ("result not written to
//     the results file") and counted in lost, never dropped silently.
type sink struct {
	results ResultWriter
	observe func(report.Result)
	logger  *slog.Logger
	stopRun context.CancelCauseFunc

	queue   chan report.Result
	stopCh  chan struct{}
	done    chan struct{}
	written int64
	lost    int64
	err     error // the results file's first failure
	refused map[int]bool
	pending []report.Result
}

func newSink(w ResultWriter, observe func(report.Result), logger *slog.Logger, stopRun context.CancelCauseFunc) *sink {
	if observe == nil {
		observe = func(report.Result) {}
	}
	return &sink{results: w, observe: observe, logger: logger, stopRun: stopRun,
		queue: make(chan report.Result, ResultQueue), stopCh: make(chan struct{}), done: make(chan struct{}),
		refused: map[int]bool{}}
}

// emit queues a result. The sink runs until every stage has returned, so
// this send never blocks for good.
func (s *sink) emit(r report.Result) { s.queue <- r }

// run takes results until stop, then writes what is queued and flushes.
func (s *sink) run() {
	defer close(s.done)
	for {
		select {
		case r := <-s.queue:
			s.handle(r)
		case <-s.stopCh:
			for {
				select {
				case r := <-s.queue:
					s.handle(r)
				default:
					if s.err == nil {
						s.settle(s.results.Flush())
					}
					return
				}
			}
		}
	}
}

// stop ends run once the queue is empty and waits for it. Every stage must
// have returned: nothing emits afterwards.
func (s *sink) stop() {
	close(s.stopCh)
	<-s.done
}

// handle writes one result, after the observers have seen it.
func (s *sink) handle(r report.Result) {
	s.observe(r)
	if report.RefusedForGood(r) {
		s.refused[r.Line] = true
	}
	if s.err != nil {
		s.notWritten(r)
		return
	}
	s.pending = append(s.pending, r)
	before := s.results.Flushes()
	switch err := s.results.Write(r); {
	case err != nil:
		s.settle(err)
	case s.results.Flushes() != before:
		s.settle(nil)
	case len(s.queue) == 0 || len(s.pending) >= ResultsFlushRows:
		s.settle(s.results.Flush())
	}
}

// settle accounts for the pending results after a flush that returned err:
// they are written, or, on a failure, logged and the run stopped.
func (s *sink) settle(err error) {
	if err != nil {
		s.err = err
		for _, p := range s.pending {
			s.notWritten(p)
		}
		s.stopRun(fmt.Errorf("writing the results file: %w", err))
	} else {
		s.written += int64(len(s.pending))
	}
	s.pending = s.pending[:0]
}

// notWritten logs a result the results file could not take, so that the
// log holds every result the file lacks.
func (s *sink) notWritten(r report.Result) {
	s.lost++
	s.logger.Error("result not written to the results file", "line", r.Line, "user", r.User,
		"outcome", r.Outcome, "reason", r.Reason, "request_id", r.RequestID)
}
