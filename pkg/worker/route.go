package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bulkreset/bulkreset/pkg/report"
)

// Lane is the path of one tenant's users: its own preflight (nil for none)
// and its own sender (a Pool's Run, or plan's sink), each with the tenant's
// own token and pacer, because Graph's quotas are per application and
// tenant (https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits).
type Lane struct {
	// Preflight looks the tenant's users up first; nil for none.
	Preflight *Preflight
	// Send finishes the items it receives, like Pool.Run.
	Send func(ctx context.Context, items <-chan Item, emit func(report.Result)) error
	// Stats are the lane's Pool's counters; nil when Send is not a Pool.
	Stats *Stats
}

// OpenLane makes the lane of a tenant, signing in to it. A *TenantError
// fails that tenant's rows and not the run; any other error is fatal.
type OpenLane func(ctx context.Context, tenant string) (*Lane, error)

// TenantError is a failure to open one tenant's lane that concerns that
// tenant only, such as an application not consented in it (AADSTS700016)
// or a tenant that does not exist (AADSTS90002): every row of the tenant
// fails with Message, and the other tenants go on.
type TenantError struct {
	Tenant string
	// Code is Entra's error code, such as "AADSTS700016"; may be empty.
	Code string
	// Message says what is wrong, for the results file; never a secret.
	Message string
	Err     error
}

// Error describes the failure.
func (e *TenantError) Error() string {
	return fmt.Sprintf("tenant %s: %s", e.Tenant, e.Message)
}

// Unwrap returns the cause.
func (e *TenantError) Unwrap() error { return e.Err }

// RouterOptions configure a Router.
type RouterOptions struct {
	// MaxQueued bounds the items read ahead of their lanes, all tenants
	// together (DefaultMaxQueued when 0). An input sorted by tenant still
	// keeps every tenant busy as long as a tenant's rows fit; beyond, the
	// reader waits for the slowest lane it is feeding.
	MaxQueued int
	// Logger receives a record per tenant opened or failed.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// DefaultMaxQueued is the default RouterOptions.MaxQueued: 50,000 items of
// a few hundred bytes each, some 15 MB at most.
const DefaultMaxQueued = 50_000

// Router sends each item through the lane of its tenant, opened on the
// first item of that tenant, so that the tenants run at once, each within
// its own quota. One lane is kept per distinct tenant for the whole run: a
// partner's list names tens to a few hundred tenants, and a lane is a few
// goroutines and idle connections; a lane is not closed early because the
// input may name its tenant again on its last line.
type Router struct {
	open OpenLane
	opts RouterOptions

	mu    sync.Mutex
	lanes map[string]*Lane // opened lanes, for Stats
	order []string
}

// NewRouter returns a Router opening lanes with open.
func NewRouter(open OpenLane, opts RouterOptions) *Router {
	if opts.MaxQueued <= 0 {
		opts.MaxQueued = DefaultMaxQueued
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Router{open: open, opts: opts, lanes: make(map[string]*Lane)}
}

// Lanes returns the lanes opened so far, by tenant, in the order opened.
func (r *Router) Lanes() (tenants []string, lanes []*Lane) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.order {
		tenants = append(tenants, t)
		lanes = append(lanes, r.lanes[t])
	}
	return tenants, lanes
}

// Writes returns the write sub-requests sent, all lanes together.
func (r *Router) Writes() int64 {
	_, lanes := r.Lanes()
	var n int64
	for _, l := range lanes {
		if l.Stats != nil {
			n += l.Stats.Writes.Load()
		}
	}
	return n
}

// Throttled returns the 429 answers seen by every lane's pool and
// preflight.
func (r *Router) Throttled() int64 {
	_, lanes := r.Lanes()
	var n int64
	for _, l := range lanes {
		if l.Stats != nil {
			n += l.Stats.Throttled.Load()
		}
		if l.Preflight != nil {
			n += l.Preflight.Stats().Throttled.Load()
		}
	}
	return n
}

// Run routes every item received from items to its tenant's lane until
// items is closed and every lane has finished, or ctx is cancelled, or a
// lane fails fatally (which stops the others). emit is called for every
// item that reaches a final outcome, from several goroutines at once, with
// the result's Tenant set. Like Pool.Run, items left unfinished when it
// stops get no result.
func (r *Router) Run(ctx context.Context, items <-chan Item, emit func(report.Result)) error {
	g, gctx := errgroup.WithContext(ctx)
	slots := make(chan struct{}, r.opts.MaxQueued)
	queues := make(map[string]*laneQueue)
	for {
		var it Item
		var ok bool
		select {
		case it, ok = <-items:
		case <-gctx.Done():
			for _, q := range queues {
				q.close()
			}
			return g.Wait()
		}
		if !ok {
			break
		}
		q := queues[it.Tenant]
		if q == nil {
			q = newLaneQueue()
			queues[it.Tenant] = q
			tenant := it.Tenant
			in := make(chan Item)
			g.Go(func() error { q.pump(gctx, in, slots); return nil })
			g.Go(func() error { return r.runLane(gctx, tenant, in, emit) })
		}
		select {
		case slots <- struct{}{}:
		case <-gctx.Done():
			for _, q := range queues {
				q.close()
			}
			return g.Wait()
		}
		q.push(it)
	}
	for _, q := range queues {
		q.close()
	}
	return g.Wait()
}

// runLane opens the lane of tenant and runs its items through it. A
// TenantError fails every item of the tenant instead.
func (r *Router) runLane(ctx context.Context, tenant string, in <-chan Item, emit func(report.Result)) error {
	emitT := func(res report.Result) {
		res.Tenant = tenant
		emit(res)
	}
	lane, err := r.open(ctx, tenant)
	var te *TenantError
	switch {
	case errors.As(err, &te):
		r.opts.Logger.Error("cannot sign in to a tenant: its rows fail", "tenant", tenant, "code", te.Code, "error", te.Message)
		for it := range in {
			emitT(tenantFailed(it, te, r.opts.Now()))
		}
		return nil
	case err != nil:
		if ctx.Err() != nil {
			return nil // the run stopped: the tenant's items stay unfinished
		}
		return fmt.Errorf("tenant %s: %w", tenant, err)
	}
	r.mu.Lock()
	r.lanes[tenant] = lane
	r.order = append(r.order, tenant)
	r.mu.Unlock()
	r.opts.Logger.Info("tenant signed in", "tenant", tenant)
	err = runLane(ctx, lane, in, emitT)
	if pe := (*PermissionError)(nil); errors.As(err, &pe) {
		pe.Tenant = tenant // the whole run stops, naming the tenant (denied.go)
	}
	return err
}

// runLane runs items through the lane's preflight, when it has one, and
// its sender; a fatal error of either stops both.
func runLane(ctx context.Context, lane *Lane, in <-chan Item, emit func(report.Result)) error {
	if lane.Preflight == nil {
		return lane.Send(ctx, in, emit)
	}
	lctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	resolved := make(chan Item, 256)
	preDone := make(chan error, 1)
	go func() {
		err := lane.Preflight.Run(lctx, in, resolved, emit)
		if err != nil {
			stop(err)
		}
		preDone <- err
	}()
	err := lane.Send(lctx, resolved, emit)
	if err != nil {
		stop(err)
	}
	if perr := <-preDone; perr != nil && err == nil {
		err = perr
	}
	return err
}

// TenantRecorder records through rec with the tenant on every row, for
// a secrets file with the tenant column. It returns nil for a nil rec.
func TenantRecorder(rec Recorder, tenant string) Recorder {
	if rec == nil {
		return nil
	}
	return tenantRecorder{rec: rec, tenant: tenant}
}

type tenantRecorder struct {
	rec    Recorder
	tenant string
}

func (t tenantRecorder) Record(ctx context.Context, rows []report.SecretRow) error {
	for i := range rows {
		rows[i].Tenant = t.tenant
	}
	return t.rec.Record(ctx, rows)
}

// tenantFailed is the result of an item whose tenant could not be signed
// in to. Nothing reached Graph, so there is no HTTP status: a password an
// interrupted run recorded for the row stays in the secrets file.
func tenantFailed(it Item, te *TenantError, now time.Time) report.Result {
	return withMaybeSetNote(&it, report.Result{
		Line: it.Line, User: it.User, ObjectID: it.ObjectID,
		Outcome: report.Failed, Reason: report.ReasonAuthenticationFailed,
		ErrorCode: te.Code, ErrorMessage: te.Message, FinishedAt: now,
	})
}

// laneQueue holds the items of one tenant read ahead of its lane. The
// router pushes without waiting for the lane (a shared budget of slots
// bounds the total), so that one tenant's slow lane does not hold back the
// others.
type laneQueue struct {
	mu     sync.Mutex
	items  []Item
	head   int
	closed bool
	wake   chan struct{} // capacity 1: something was pushed, or the queue closed
}

func newLaneQueue() *laneQueue { return &laneQueue{wake: make(chan struct{}, 1)} }

func (q *laneQueue) push(it Item) {
	q.mu.Lock()
	if q.head >= 1024 && q.head*2 >= len(q.items) {
		// Half of the array is items already sent: move the rest down, so
		// that a queue that never drains does not grow with the input.
		n := copy(q.items, q.items[q.head:])
		clear(q.items[n:])
		q.items, q.head = q.items[:n], 0
	}
	q.items = append(q.items, it)
	q.mu.Unlock()
	q.signal()
}

func (q *laneQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *laneQueue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// pop returns the next item, or ok false when there is none now; done is
// set when the queue is closed and empty.
func (q *laneQueue) pop() (it Item, ok, done bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.items) {
		// Drained: start over, so that the backing array is reused and
		// does not hold on to items already sent.
		q.items, q.head = q.items[:0], 0
		return Item{}, false, q.closed
	}
	it = q.items[q.head]
	q.items[q.head] = Item{} // no password left behind
	q.head++
	return it, true, false
}

// pump feeds the queue's items to in, freeing a slot for each, and closes
// in when the queue is closed and empty, or ctx is done.
func (q *laneQueue) pump(ctx context.Context, in chan<- Item, slots <-chan struct{}) {
	defer close(in)
	for {
		it, ok, done := q.pop()
		if done {
			return
		}
		if !ok {
			select {
			case <-q.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		select {
		case in <- it:
			<-slots
		case <-ctx.Done():
			return
		}
	}
}
