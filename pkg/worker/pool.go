// Package worker sends password resets to Microsoft Graph: it groups rows
// into $batch requests, paces them with one pacer shared by every worker,
// retries throttled and transient failures with the same password, and turns
// every row it finishes into exactly one report.Result.
package worker

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// Sender sends one $batch; *graph.Client implements it.
type Sender interface {
	Batch(ctx context.Context, reqs []graph.Request) (*graph.BatchResult, error)
}

// Recorder makes passwords durable before the requests that set them are
// sent; *report.Secrets implements it. Record returns only once the rows are
// on disk.
type Recorder interface {
	Record(ctx context.Context, rows []report.SecretRow) error
}

// Item is one user to reset.
type Item struct {
	// Line is the input line, for the results file.
	Line int
	// User is the results file's user column (the UPN, or the id).
	User string
	// Target is what is sent to Graph: the object id or the UPN.
	Target string
	// ObjectID is the user's object id when known.
	ObjectID string
	// Password is the password to set; empty in --password-mode none.
	Password string
	// ForceChange and ForceChangeMFA are the passwordProfile flags.
	ForceChange, ForceChangeMFA bool
	// Recorded reports that Password is already durable in the secrets
	// file (a resumed run).
	Recorded bool
	// Resumed marks an item an interrupted run may have sent already: its
	// outcome is unknown, so that attempt counts, and the password may be
	// in force whatever the next answer is.
	Resumed bool
	// ResetPassword sends the authentication-methods resetPassword action
	// instead of a passwordProfile PATCH (a synced user, --synced
	// resetpassword), and follows its operation until Graph reports it
	// succeeded or failed.
	ResetPassword bool
	// Tenant is the tenant of the user, for an input with a TenantId
	// column; "" otherwise. A Router sends the item through its tenant's
	// lane.
	Tenant string

	attempts int
	// paced counts the attempts of the current request (reset or revoke)
	// throttled while the tenant accepted writes: the pacer's, not faults,
	// they do not count against MaxAttempts.
	paced   int
	unknown bool // an attempt's outcome is unknown: the password may be set
	// revoking is set once the password is reset and the sign-in sessions
	// are to be revoked (Options.RevokeSessions); revokeAttempts counts
	// those requests, and resetStatus and resetRequestID keep the reset's
	// answer for the result.
	revoking       bool
	revokeAttempts int
	resetStatus    int
	resetRequestID string
	// polling is set once Graph accepted a resetPassword: opPath is the
	// operation to poll, polls counts the polls.
	polling bool
	opPath  string
	polls   int
	// failedReset is the final result of a reset that failed while an
	// earlier attempt may have set the password: with RevokeSessions, the
	// user's sessions are revoked before it is emitted.
	failedReset *report.Result
	notBefore   time.Time
	lastErr     *graph.Error // the last Graph error, for the final result
	lastNet     string       // the last network-level failure, for the final result
	requestID   string
}

// Options configure a Pool.
type Options struct {
	// BatchSize is the number of requests per $batch, 1 to 20.
	BatchSize int
	// Concurrency is the number of batches in flight.
	Concurrency int
	// MaxAttempts bounds the attempts per row.
	MaxAttempts int
	// MaxRate caps writes per second; 0 lets the pacer adapt.
	MaxRate float64
	// App, when set, is the application's write limit across tenants,
	// shared with the pools of the other tenants.
	App *AppLimit
	// RevokeSessions revokes each user's sign-in sessions after its
	// password is reset (POST /users/{id}/revokeSignInSessions), so that
	// an attacker holding a refresh token is signed out too. A revoke that
	// fails does not undo the reset: the row stays succeeded, with
	// revoked=false and the error.
	RevokeSessions bool
	// Grace is how long batches already sent may run on after ctx is
	// cancelled (an interrupt) before they are abandoned.
	Grace time.Duration
	// Logger receives retries and throttles; never a secret.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Jitter returns a number in [0,1) that spreads backoffs; math/rand when nil.
	Jitter func() float64
}

// batchLinger is how long a partial batch waits for more input.
const batchLinger = 5 * time.Millisecond

// MaxBatchSize is Graph's limit on requests in one $batch
// (https://learn.microsoft.com/graph/json-batching).
const MaxBatchSize = graph.MaxBatchSize

// Stats counts what a Pool did. Safe for concurrent reads.
type Stats struct {
	Batches    atomic.Int64 // $batch requests sent
	Writes     atomic.Int64 // write sub-requests sent
	Throttled  atomic.Int64 // 429 answers seen, inside batches or outer
	Retries    atomic.Int64 // rows queued for another attempt
	Received   atomic.Int64 // items taken from the input
	Finished   atomic.Int64 // items given a final result
	Succeeded  atomic.Int64 // items reset
	Unfinished atomic.Int64 // items left without a result when the run stopped
	Revoked    atomic.Int64 // users whose sessions were revoked
	NotRevoked atomic.Int64 // users reset whose sessions could not be revoked
}

// Pool sends items to Graph.
type Pool struct {
	opts  Options
	send  Sender
	rec   Recorder
	pacer *Pacer
	stats Stats
	// unauthorized counts batches refused with 401 in a row.
	unauthorized atomic.Int64
}

// maxUnauthorized is how many batches in a row may be refused with 401,
// each after a fresh token, before the run stops as unauthenticated.
const maxUnauthorized = 2

// New returns a Pool that sends through send and, when rec is not nil,
// records every password through rec before it is sent.
func New(send Sender, rec Recorder, opts Options) *Pool {
	if opts.BatchSize <= 0 || opts.BatchSize > MaxBatchSize {
		opts.BatchSize = MaxBatchSize
	}
	opts.Concurrency = max(opts.Concurrency, 1)
	opts.MaxAttempts = max(opts.MaxAttempts, 1)
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Jitter == nil {
		opts.Jitter = rand.Float64
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Grace <= 0 {
		opts.Grace = 30 * time.Second
	}
	p := &Pool{
		opts:  opts,
		send:  send,
		rec:   rec,
		pacer: NewPacer(opts.MaxRate, opts.BatchSize, opts.Now),
	}
	p.pacer.app = opts.App
	return p
}

// Stats returns the pool's counters.
func (p *Pool) Stats() *Stats { return &p.stats }

// ErrAuth wraps an authentication failure that a fresh token did not cure.
var ErrAuth = errors.New("authentication failed")

// Run sends every item received from items until items is closed and every
// item has a final result, or until ctx is cancelled (an interrupt: no new
// batch is started, batches already sent get Grace to finish) or a fatal
// error occurs (a password could not be recorded, or authentication failed).
// emit is called once for each item that reaches a final outcome, from
// several goroutines at once. Items still unfinished when Run stops get no
// result; Stats().Unfinished counts them.
func (p *Pool) Run(ctx context.Context, items <-chan Item, emit func(report.Result)) error {
	// Requests already on the wire are not cut off by an interrupt at once:
	// sendCtx outlives ctx by Grace.
	sendCtx, cancelSend := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSend()
	stopGrace := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(p.opts.Grace, cancelSend)
		context.AfterFunc(sendCtx, func() { t.Stop() })
	})
	defer stopGrace()

	g, gctx := errgroup.WithContext(sendCtx)
	// startCtx ends with the interrupt too: a batch not yet on the wire
	// (recording its passwords, or waiting for the pacer) is not sent.
	startCtx, stopStart := context.WithCancel(gctx)
	defer stopStart()
	stopOnInterrupt := context.AfterFunc(ctx, stopStart)
	defer stopOnInterrupt()
	batches := make(chan []*Item)
	back := make(chan batchDone, p.opts.Concurrency)
	for range p.opts.Concurrency {
		g.Go(func() error {
			for b := range batches {
				// A fatal error elsewhere (gctx) stops new batches, but
				// one already on the wire runs to its answer, so that its
				// rows get results: cancelling it would leave users reset
				// with no result.
				retry, err := p.sendBatch(startCtx, sendCtx, b, emit)
				back <- batchDone{n: len(b), retry: retry}
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	p.dispatch(ctx, gctx, items, batches, back)
	return g.Wait()
}

// batchDone is a worker's report to the dispatcher: n items are no longer
// in flight, and retry of them want another attempt.
type batchDone struct {
	n     int
	retry []*Item
}

// dispatch is the single goroutine that assembles batches: rows due for a
// retry first, then fresh rows, up to BatchSize; a partial batch goes out
// only when no input is waiting and a worker is idle.
func (p *Pool) dispatch(ctx, gctx context.Context, items <-chan Item, batches chan<- []*Item, back <-chan batchDone) {
	var (
		next      []*Item
		retries   retryHeap
		inflight  int
		inputDone bool
		lingerEnd time.Time // when a partial batch may go while input is idle
		timer     = time.NewTimer(time.Hour)
	)
	timer.Stop()
	defer timer.Stop()
	stop := func() {
		close(batches)
		unfinished := len(next) + retries.Len()
		for inflight > 0 {
			d := <-back
			inflight -= d.n
			unfinished += len(d.retry)
		}
		// Items still queued in the channel were never taken: the caller
		// accounts for them; only taken items count here.
		p.stats.Unfinished.Add(int64(unfinished))
	}
	for {
		if ctx.Err() != nil || gctx.Err() != nil {
			stop()
			return
		}
		now := p.opts.Now()
		for retries.Len() > 0 && len(next) < p.opts.BatchSize && !retries[0].notBefore.After(now) {
			next = append(next, heap.Pop(&retries).(*Item))
		}
		inputIdle := false
	fill:
		for !inputDone && len(next) < p.opts.BatchSize {
			select {
			case it, ok := <-items:
				if !ok {
					inputDone = true
					break fill
				}
				p.stats.Received.Add(1)
				next = append(next, received(it))
			default:
				inputIdle = true
				break fill
			}
		}
		if inputDone && len(next) == 0 && retries.Len() == 0 && inflight == 0 {
			close(batches)
			return
		}

		// A partial batch waits up to batchLinger for more input, so that a
		// reader a little slower than the dispatcher does not cause a stream
		// of tiny batches.
		var wake time.Time
		if len(next) > 0 && inputIdle && lingerEnd.IsZero() {
			lingerEnd = now.Add(batchLinger)
		}
		var sendCh chan<- []*Item
		switch {
		case len(next) == p.opts.BatchSize, len(next) > 0 && inputDone:
			sendCh = batches
		case len(next) > 0 && inputIdle:
			if !now.Before(lingerEnd) {
				sendCh = batches
			} else {
				wake = lingerEnd
			}
		}
		var inCh <-chan Item
		if !inputDone && len(next) < p.opts.BatchSize {
			inCh = items
		}
		if retries.Len() > 0 && len(next) < p.opts.BatchSize {
			if due := retries[0].notBefore; wake.IsZero() || due.Before(wake) {
				wake = due
			}
		}
		var timerC <-chan time.Time
		if !wake.IsZero() {
			timer.Reset(wake.Sub(now))
			timerC = timer.C
		}

		select {
		case sendCh <- next:
			inflight += len(next)
			next = nil
			lingerEnd = time.Time{}
		case it, ok := <-inCh:
			if !ok {
				inputDone = true
			} else {
				p.stats.Received.Add(1)
				next = append(next, received(it))
			}
		case d := <-back:
			inflight -= d.n
			for _, it := range d.retry {
				heap.Push(&retries, it)
			}
		case <-timerC:
		case <-ctx.Done():
			stop()
			return
		case <-gctx.Done():
			stop()
			return
		}
		if timerC != nil {
			timer.Stop() // since Go 1.23 a stopped timer delivers no stale value
		}
	}
}

// sendBatch records the batch's passwords, waits for the pacer, sends the
// batch and sorts its rows into finished (emitted) and to be retried
// (returned). An error is fatal for the run. Until the batch is on the
// wire, startCtx rules (an interrupt stops it); the request itself runs
// under ctx, which outlives an interrupt by Options.Grace.
func (p *Pool) sendBatch(startCtx, ctx context.Context, b []*Item, emit func(report.Result)) (retry []*Item, err error) {
	if startCtx.Err() != nil {
		return b, nil
	}
	if err := p.record(startCtx, b); err != nil {
		if startCtx.Err() != nil {
			return b, nil
		}
		return b, fmt.Errorf("recording passwords before sending them: %w", err)
	}
	// Polls of reset operations are reads (resource units, not the write
	// quota): the pacer neither counts them nor learns from their answers.
	writes := 0
	for _, it := range b {
		if !it.polling {
			writes++
		}
	}
	var ticket Ticket
	if writes > 0 {
		var err error
		if ticket, err = p.pacer.Wait(startCtx, writes); err != nil {
			return b, nil // cancelled: the items stay unfinished
		}
	}

	reqs := make([]graph.Request, len(b))
	for i, it := range b {
		id := strconv.Itoa(i)
		switch {
		case it.polling:
			it.polls++
			reqs[i] = graph.OperationRequest(id, it.opPath)
		case it.revoking:
			it.revokeAttempts++
			reqs[i] = graph.RevokeSessionsRequest(id, it.target())
		case it.ResetPassword:
			it.attempts++
			reqs[i] = graph.ResetPasswordRequest(id, it.target(), it.Password)
		default:
			it.attempts++
			reqs[i] = graph.PasswordRequest(id, it.target(), graph.PasswordProfile{
				Password:                             it.Password,
				ForceChangePasswordNextSignIn:        it.ForceChange,
				ForceChangePasswordNextSignInWithMfa: it.ForceChangeMFA,
			})
		}
	}
	p.stats.Batches.Add(1)
	p.stats.Writes.Add(int64(writes))
	res, err := p.send.Batch(ctx, reqs)
	now := p.opts.Now()
	if err != nil {
		if writes > 0 {
			p.pacer.Done(ticket, outerAnswer(err))
		}
		return p.batchFailed(ctx, b, err, now, emit)
	}
	if writes > 0 {
		p.pacer.Done(ticket, batchAnswer(writeAnswers(res, b), now))
	}

	for i, it := range b {
		resp, ok := res.Responses[strconv.Itoa(i)]
		if !ok {
			// No answer for this row: its outcome is unknown, and sending the
			// same password again is harmless.
			it.lastNet = "no response for this request in the $batch answer"
			it.lastErr = nil
			it.unknown = true
			it.requestID = res.RequestID
			retry = p.again(retry, it, retryDelay(it.attempts, 0, false, p.opts.Jitter()), now, emit)
			continue
		}
		it.requestID = firstNonEmpty(resp.Header("request-id"), res.RequestID)
		gerr := resp.Err(now)
		if gerr == nil {
			switch {
			case it.polling:
				retry = p.polled(emit, retry, it, resp, now)
			case it.ResetPassword && !it.revoking:
				retry = p.accepted(emit, retry, it, resp, now)
			case it.revoking:
				it.lastErr, it.lastNet = nil, ""
				p.finishRevoke(emit, it, nil, now)
			case p.opts.RevokeSessions:
				// The password is in force: now sign the user out
				// everywhere, in a later batch (it is a write too, paced
				// like the resets).
				it.revoking, it.resetStatus, it.resetRequestID, it.paced = true, resp.Status, it.requestID, 0
				it.lastErr, it.lastNet, it.notBefore = nil, "", now
				retry = append(retry, it)
			default:
				p.finish(emit, it, report.Result{Outcome: report.Succeeded, HTTPStatus: resp.Status}, now)
			}
			continue
		}
		it.requestID = firstNonEmpty(gerr.RequestID, it.requestID)
		it.lastErr, it.lastNet = gerr, ""
		if gerr.Status >= 500 {
			it.unknown = true // a server error does not say whether the change was made
		}
		if !retryable(gerr.Status) {
			switch {
			case it.polling:
				// The operation cannot be followed: whether it set the
				// password is unknown (it.unknown says so).
				r := failedResult(gerr)
				r.Reason, r.ErrorMessage = report.ReasonOperationUnknown, "following the password reset operation failed: "+gerr.Message
				retry = p.failReset(emit, retry, it, r, now)
			case it.revoking:
				p.finishRevoke(emit, it, gerr, now)
			default:
				retry = p.failReset(emit, retry, it, failedResult(gerr), now)
			}
			continue
		}
		delay := retryDelay(it.attempts, gerr.RetryAfter, gerr.HasRetryAfter, p.opts.Jitter())
		if gerr.Status == http.StatusTooManyRequests {
			p.stats.Throttled.Add(1)
			if !it.polling && p.pacer.Accepting() {
				// The tenant accepts writes at its refill rate: this
				// attempt was the pacer's to make, not a fault, and the
				// pacer alone decides when the row goes again.
				it.paced++
				delay = max(gerr.RetryAfter, 0)
			}
		}
		p.opts.Logger.Debug("retrying row", "line", it.Line, "status", gerr.Status, "code", gerr.Code,
			"retry_after", gerr.RetryAfter, "request_id", it.requestID, "attempt", it.attempts)
		retry = p.again(retry, it, delay, now, emit)
	}
	p.unauthorized.Store(0)
	return retry, nil
}

// batchFailed handles a $batch that got no per-row answers: the whole batch
// failed (outer 429 or 5xx), the network failed, or the answer was unreadable.
func (p *Pool) batchFailed(ctx context.Context, b []*Item, err error, now time.Time, emit func(report.Result)) ([]*Item, error) {
	if ctx.Err() != nil {
		// Cancelled: whether Graph applied the batch is unknown, so the rows
		// stay unfinished and a resumed run sends the same passwords again.
		return b, nil
	}
	if errors.Is(err, graph.ErrAuthentication) {
		return b, fmt.Errorf("%w: %w", ErrAuth, err)
	}
	var gerr *graph.Error
	if errors.As(err, &gerr) {
		if gerr.Status == http.StatusUnauthorized {
			// The client already got a fresh token and tried once more. A
			// token refused now and then (revoked, clock skew) is retried
			// like a transient failure; Graph refusing every fresh token
			// is an authentication failure that ends the run.
			if p.unauthorized.Add(1) > maxUnauthorized {
				return b, fmt.Errorf("%w: %w", ErrAuth, err)
			}
		}
		if !retryable(gerr.Status) && gerr.Status != http.StatusUnauthorized {
			// The batch itself was refused (a bad request, forbidden): every
			// row fails with Graph's answer.
			var retry []*Item
			for _, it := range b {
				it.lastErr, it.requestID = gerr, gerr.RequestID
				switch {
				case it.polling:
					r := failedResult(gerr)
					r.Reason = report.ReasonOperationUnknown
					retry = p.failReset(emit, retry, it, r, now)
				case it.revoking:
					p.finishRevoke(emit, it, gerr, now)
				default:
					retry = p.failReset(emit, retry, it, failedResult(gerr), now)
				}
			}
			return retry, nil
		}
		if gerr.Status == http.StatusTooManyRequests {
			p.stats.Throttled.Add(1)
		}
	}
	p.opts.Logger.Warn("batch failed; retrying its rows", "rows", len(b), "first_line", b[0].Line, "error", err)
	// The rows failed together, so they are retried together: one delay
	// for all of them keeps them in one batch.
	var delay time.Duration
	if gerr != nil {
		delay = retryDelay(b[0].attempts, gerr.RetryAfter, gerr.HasRetryAfter, p.opts.Jitter())
	} else {
		delay = retryDelay(b[0].attempts, 0, false, p.opts.Jitter())
	}
	var retry []*Item
	for _, it := range b {
		if gerr != nil {
			it.lastErr, it.lastNet, it.requestID = gerr, "", gerr.RequestID
		} else {
			it.lastErr, it.lastNet = nil, err.Error()
		}
		// A network failure or a server error does not say whether the
		// batch was applied; a 429 or a 401 says it was not.
		if gerr == nil || gerr.Status >= 500 {
			it.unknown = true
		}
		retry = p.again(retry, it, delay, now, emit)
	}
	return retry, nil
}

// again queues it for another attempt after delay, or finishes it when its
// attempts are spent.
func (p *Pool) again(retry []*Item, it *Item, delay time.Duration, now time.Time, emit func(report.Result)) []*Item {
	if it.polling {
		if it.polls >= maxOperationPolls {
			return p.failReset(emit, retry, it, report.Result{Outcome: report.Failed, Reason: report.ReasonOperationUnknown, HTTPStatus: it.resetStatus,
				RequestID: it.resetRequestID, ErrorMessage: fmt.Sprintf("the password reset operation gave no final state after %d polls", it.polls)}, now)
		}
		it.notBefore = now.Add(max(delay, pollDelay(it.polls, 0)))
		return append(retry, it)
	}
	if it.revoking && it.revokeAttempts-it.paced >= p.opts.MaxAttempts {
		p.finishRevoke(emit, it, it.lastErr, now)
		return retry
	}
	if !it.revoking && it.attempts-it.paced >= p.opts.MaxAttempts {
		return p.failReset(emit, retry, it, exhaustedResult(it), now)
	}
	it.notBefore = now.Add(delay)
	p.stats.Retries.Add(1)
	return append(retry, it)
}

// failReset ends a reset that failed. When an earlier attempt's outcome is
// unknown, the password it sent may be in force: with RevokeSessions the
// user's sign-in sessions are revoked first (a later batch; revoking is
// harmless), so that an incident run never leaves an attacker signed in
// behind a password it may have changed. Otherwise r is emitted now.
func (p *Pool) failReset(emit func(report.Result), retry []*Item, it *Item, r report.Result, now time.Time) []*Item {
	if !p.opts.RevokeSessions || !it.unknown || it.Password == "" || it.revoking {
		p.finish(emit, it, r, now)
		return retry
	}
	it.failedReset = &r
	it.polling, it.revoking = false, true
	it.lastErr, it.lastNet, it.notBefore = nil, "", now
	return append(retry, it)
}

// finish emits the final result of it.
func (p *Pool) finish(emit func(report.Result), it *Item, r report.Result, now time.Time) {
	r = withMaybeSetNote(it, r)
	r.Line = it.Line
	r.User = it.User
	r.ObjectID = it.ObjectID
	r.Attempts = it.attempts
	r.RequestID = firstNonEmpty(r.RequestID, it.requestID)
	r.FinishedAt = now
	p.stats.Finished.Add(1)
	if r.Outcome == report.Succeeded {
		p.stats.Succeeded.Add(1)
	}
	emit(r)
}

// finishRevoke emits the result of a user whose password was reset, once
// revoking its sessions succeeded (gerr nil and no network failure) or
// failed for good. A failed revoke does not undo the reset: the row is
// succeeded with revoked=false, and says what failed.
func (p *Pool) finishRevoke(emit func(report.Result), it *Item, gerr *graph.Error, now time.Time) {
	revoked := gerr == nil && it.lastNet == ""
	if it.failedReset != nil {
		// The reset failed, but an earlier attempt may have set the
		// password: its sessions were revoked all the same.
		r := *it.failedReset
		r.Revoked = &revoked
		if revoked {
			p.stats.Revoked.Add(1)
			r.ErrorMessage += " (the user's sign-in sessions were revoked, since that password may be in force)"
		} else {
			p.stats.NotRevoked.Add(1)
			r.ErrorMessage += " (revoking the user's sign-in sessions failed too)"
		}
		p.finish(emit, it, r, now)
		return
	}
	r := report.Result{Outcome: report.Succeeded, HTTPStatus: it.resetStatus, RequestID: it.resetRequestID, Revoked: &revoked}
	if revoked {
		p.stats.Revoked.Add(1)
	} else {
		p.stats.NotRevoked.Add(1)
		msg := it.lastNet
		if gerr != nil {
			msg = gerr.Message
			r.ErrorCode = gerr.Code
			r.RequestID = firstNonEmpty(gerr.RequestID, r.RequestID)
		}
		if it.revokeAttempts > 1 {
			msg = fmt.Sprintf("gave up after %d attempts: %s", it.revokeAttempts, msg)
		}
		r.ErrorMessage = "the password was reset, but revoking the sign-in sessions failed: " + msg
	}
	p.finish(emit, it, r, now)
}

// record writes the passwords of b that are not yet durable to the secrets
// file, and waits until they are on disk.
func (p *Pool) record(ctx context.Context, b []*Item) error {
	if p.rec == nil {
		return nil
	}
	var rows []report.SecretRow
	for _, it := range b {
		if it.Password != "" && !it.Recorded {
			rows = append(rows, report.SecretRow{Line: it.Line, User: it.User, Password: it.Password})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	if err := p.rec.Record(ctx, rows); err != nil {
		return err
	}
	for _, it := range b {
		it.Recorded = true
	}
	return nil
}

// received prepares an item taken from the input.
func received(it Item) *Item {
	if it.Resumed {
		it.attempts, it.unknown = 1, true
	}
	return &it
}

func (it *Item) target() string {
	if it.ObjectID != "" {
		return it.ObjectID
	}
	return it.Target
}

// withMaybeSetNote marks a failed result report.Result.MaybeSet, and begins
// its message with report.MaybeSetNote for people, when the item's
// password may have been set: an attempt's outcome is unknown, or an
// interrupted run may have sent it (Resumed). Every failed result passes
// here, because the secrets file keeps exactly the passwords of the rows
// so marked (report.RefusedForGood).
func withMaybeSetNote(it *Item, r report.Result) report.Result {
	if r.Outcome == report.Failed && it.Password != "" && (it.unknown || it.Resumed) {
		r.MaybeSet = true
		r.ErrorMessage = report.MaybeSetNote + r.ErrorMessage
	}
	return r
}

// failedResult is the final result of a row Graph refused.
func failedResult(e *graph.Error) report.Result {
	return report.Result{
		Outcome:      report.Failed,
		Reason:       graph.Reason(e),
		HTTPStatus:   e.Status,
		ErrorCode:    e.Code,
		ErrorMessage: e.Message,
		RequestID:    e.RequestID,
	}
}

// exhaustedResult is the final result of a row whose attempts ran out.
func exhaustedResult(it *Item) report.Result {
	if it.lastErr != nil {
		r := failedResult(it.lastErr) // throttled, or service_error for 5xx
		r.ErrorMessage = fmt.Sprintf("gave up after %d attempts: %s", it.attempts, it.lastErr.Message)
		return r
	}
	return report.Result{
		Outcome:      report.Failed,
		Reason:       report.ReasonNetworkError,
		ErrorMessage: fmt.Sprintf("gave up after %d attempts: %s", it.attempts, it.lastNet),
	}
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// retryHeap orders items waiting for a retry by when they are due.
type retryHeap []*Item

func (h retryHeap) Len() int           { return len(h) }
func (h retryHeap) Less(i, j int) bool { return h[i].notBefore.Before(h[j].notBefore) }
func (h retryHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *retryHeap) Push(x any)        { *h = append(*h, x.(*Item)) }
func (h *retryHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

// maxOperationPolls bounds the polls of one reset operation: with
// pollDelay, about ten minutes.
const maxOperationPolls = 70

// pollDelay is how long to wait before poll n+1 of an operation: Graph's
// Retry-After when it gave one, else half a second, doubling up to ten.
func pollDelay(polls int, retryAfter time.Duration) time.Duration {
	return backoff(500*time.Millisecond, 10*time.Second, polls+1, retryAfter, retryAfter > 0, 1)
}

// accepted handles Graph's 202 to a resetPassword: from now on the password
// may be in force, and the row succeeds only once the operation named by
// Location reports it succeeded.
func (p *Pool) accepted(emit func(report.Result), retry []*Item, it *Item, resp graph.Response, now time.Time) []*Item {
	it.unknown = true
	it.lastErr, it.lastNet = nil, ""
	it.resetStatus, it.resetRequestID = resp.Status, it.requestID
	path, err := graph.OperationPath(resp.Header("Location"))
	if err != nil {
		return p.failReset(emit, retry, it, report.Result{Outcome: report.Failed, Reason: report.ReasonOperationUnknown, HTTPStatus: resp.Status,
			ErrorMessage: "Graph accepted the password reset but named no operation to follow (" + err.Error() + ")"}, now)
	}
	retryAfter, _ := graph.ParseRetryAfter(resp.Header("Retry-After"), now)
	it.polling, it.opPath, it.polls = true, path, 0
	it.notBefore = now.Add(pollDelay(0, retryAfter))
	return append(retry, it)
}

// polled handles the answer to a poll of a reset operation.
func (p *Pool) polled(emit func(report.Result), retry []*Item, it *Item, resp graph.Response, now time.Time) []*Item {
	op, err := graph.ParseOperation(resp.Body)
	switch {
	case err != nil:
		it.lastNet = err.Error()
		return p.again(retry, it, 0, now, emit)
	case op.Status == graph.OperationSucceeded:
		it.polling, it.lastErr, it.lastNet = false, nil, ""
		if p.opts.RevokeSessions {
			it.revoking, it.notBefore = true, now
			return append(retry, it)
		}
		p.finish(emit, it, report.Result{Outcome: report.Succeeded, HTTPStatus: it.resetStatus, RequestID: it.resetRequestID}, now)
		return retry
	case op.Status == graph.OperationFailed:
		msg := "the password reset operation failed"
		if op.Detail != "" {
			msg += ": " + op.Detail
		}
		return p.failReset(emit, retry, it, report.Result{Outcome: report.Failed, Reason: report.ReasonOperationFailed, HTTPStatus: it.resetStatus,
			ErrorCode: "operationFailed", RequestID: it.resetRequestID, ErrorMessage: msg}, now)
	case op.Status != graph.OperationNotStarted && op.Status != graph.OperationRunning:
		// A state this tool does not know (skipped, unknownFutureValue):
		// the operation is not running, and did not say it succeeded.
		return p.failReset(emit, retry, it, report.Result{Outcome: report.Failed, Reason: report.ReasonOperationUnknown, HTTPStatus: it.resetStatus,
			RequestID: it.resetRequestID, ErrorMessage: fmt.Sprintf("the password reset operation ended in the state %q", op.Status)}, now)
	}
	p.opts.Logger.Debug("reset operation in progress", "line", it.Line, "status", op.Status, "poll", it.polls)
	retryAfter, _ := graph.ParseRetryAfter(resp.Header("Retry-After"), now)
	return p.again(retry, it, retryAfter, now, emit)
}

// writeAnswers is res without the answers to polls of reset operations, for
// the pacer, which paces writes.
func writeAnswers(res *graph.BatchResult, b []*Item) *graph.BatchResult {
	polls := false
	for _, it := range b {
		polls = polls || it.polling
	}
	if !polls {
		return res
	}
	w := *res
	w.Responses = make(map[string]graph.Response, len(res.Responses))
	for i, it := range b {
		id := strconv.Itoa(i)
		if r, ok := res.Responses[id]; ok && !it.polling {
			w.Responses[id] = r
		}
	}
	return &w
}
