package worker

import (
	"container/heap"
	"context"
	"time"

	"github.com/bulkreset/bulkreset/pkg/report"
)

// dispatcher is the state of the single goroutine that assembles batches
// (see Pool.dispatch).
type dispatcher struct {
	p         *Pool
	items     <-chan Item
	batches   chan<- []*Item
	back      <-chan batchDone
	next      []*Item // the batch being assembled
	retries   retryHeap
	inflight  int // items in batches handed to the workers
	inputDone bool
	lingerEnd time.Time // when a partial batch may go while input is idle
	paused    bool      // no batch goes: a kind of write may be denied (denied.go)
	timer     *time.Timer
	// emit ends an item that has nothing to send (see take).
	emit func(report.Result)
}

// dispatch is the single goroutine that assembles batches: rows due for a
// retry first, then fresh rows, up to BatchSize; a partial batch goes out
// only when no input is waiting and a worker is idle.
func (p *Pool) dispatch(ctx, gctx context.Context, items <-chan Item, batches chan<- []*Item, back <-chan batchDone, emit func(report.Result)) {
	d := &dispatcher{p: p, items: items, batches: batches, back: back, timer: time.NewTimer(time.Hour), emit: emit}
	d.timer.Stop()
	defer d.timer.Stop()
	for {
		if ctx.Err() != nil || gctx.Err() != nil {
			d.stop()
			return
		}
		now := p.opts.Now()
		inputIdle := d.fill(now)
		if d.deniedStop() {
			return
		}
		if d.inputDone && len(d.next) == 0 && d.retries.Len() == 0 && d.inflight == 0 {
			close(d.batches)
			return
		}
		if !d.step(ctx, gctx, now, inputIdle) {
			return
		}
	}
}

// fill moves the retries due by now, then the input waiting, into the
// batch being assembled, up to BatchSize. It reports whether the input had
// nothing waiting.
func (d *dispatcher) fill(now time.Time) (inputIdle bool) {
	size := d.p.opts.BatchSize
	for d.retries.Len() > 0 && len(d.next) < size && !d.retries[0].notBefore.After(now) {
		d.next = append(d.next, heap.Pop(&d.retries).(*Item))
	}
	for !d.inputDone && len(d.next) < size {
		select {
		case it, ok := <-d.items:
			if !ok {
				d.inputDone = true
				return false
			}
			d.take(it)
		default:
			return true
		}
	}
	return false
}

// take adds an item received from the input to the batch. An item with
// nothing to send (a skip passed on to a run whose actions do not reach
// it) ends at once with its result.
func (d *dispatcher) take(it Item) {
	d.p.stats.Received.Add(1)
	item := d.p.received(it)
	if item.phase == phaseDone {
		d.p.finish(d.emit, item, d.p.opts.Now())
		return
	}
	d.next = append(d.next, item)
}

// plan returns the channel to hand the batch on (nil: not yet) and when to
// wake up if nothing else happens (zero: no timer). A partial batch waits
// up to batchLinger for more input, so that a reader a little slower than
// the dispatcher does not cause a stream of tiny batches.
func (d *dispatcher) plan(now time.Time, inputIdle bool) (sendCh chan<- []*Item, wake time.Time) {
	n, size := len(d.next), d.p.opts.BatchSize
	if n > 0 && inputIdle && d.lingerEnd.IsZero() {
		d.lingerEnd = now.Add(batchLinger)
	}
	switch {
	case n == size, n > 0 && d.inputDone:
		sendCh = d.batches
	case n > 0 && inputIdle:
		if !now.Before(d.lingerEnd) {
			sendCh = d.batches
		} else {
			wake = d.lingerEnd
		}
	}
	if d.retries.Len() > 0 && n < size {
		if due := d.retries[0].notBefore; wake.IsZero() || due.Before(wake) {
			wake = due
		}
	}
	return sendCh, wake
}

// step waits for one thing to happen: the batch handed on, an input item,
// a worker's report, the timer, or the end of the run. It returns false
// when the run stopped.
func (d *dispatcher) step(ctx, gctx context.Context, now time.Time, inputIdle bool) bool {
	sendCh, wake := d.plan(now, inputIdle)
	if d.paused {
		sendCh = nil
	}
	var inCh <-chan Item
	if !d.inputDone && len(d.next) < d.p.opts.BatchSize {
		inCh = d.items
	}
	var timerC <-chan time.Time
	if !wake.IsZero() {
		d.timer.Reset(wake.Sub(now))
		timerC = d.timer.C
		defer d.timer.Stop() // since Go 1.23 a stopped timer delivers no stale value
	}
	select {
	case sendCh <- d.next:
		d.inflight += len(d.next)
		d.next = nil
		d.lingerEnd = time.Time{}
	case it, ok := <-inCh:
		if !ok {
			d.inputDone = true
		} else {
			d.take(it)
		}
	case b := <-d.back:
		d.inflight -= b.n
		for _, it := range b.retry {
			heap.Push(&d.retries, it)
		}
	case <-timerC:
	case <-ctx.Done():
		d.stop()
		return false
	case <-gctx.Done():
		d.stop()
		return false
	}
	return true
}

// stop ends the dispatch: no batch is handed on any more, the workers'
// batches are waited for, and the items taken but not finished are
// counted in Stats.Unfinished. Items still queued in the input channel
// were never taken: the caller accounts for them.
func (d *dispatcher) stop() {
	close(d.batches)
	unfinished := len(d.next) + d.retries.Len() + d.p.deny.heldCount()
	for d.inflight > 0 {
		b := <-d.back
		d.inflight -= b.n
		unfinished += len(b.retry)
	}
	d.p.stats.Unfinished.Add(int64(unfinished))
}
