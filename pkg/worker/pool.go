// Package worker sends password resets to Microsoft Graph: it groups rows
// into $batch requests, paces them with one pacer shared by every worker,
// retries throttled and transient failures with the same password, and turns
// every row it finishes into exactly one report.Result.
package worker

import (
	"context"
	"errors"
	"github.com/bulkreset/bulkreset/pkg/secret"
	"log/slog"
	"math/rand/v2"
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
	Password secret.Value
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
	// Skipped, when not nil, is the result the preflight gave the reset
	// (skipped: a synced user, an external guest, a federated user...)
	// of a user found in the tenant, passed on all the same because the
	// run revokes or blocks every user found: no reset is sent, the
	// actions are, and the row ends with this outcome and reason and the
	// actions' columns.
	Skipped *report.Result
	// Extra are the input cells copied into the secrets file with the
	// password (csvin.Row.Extra, --secrets-columns).
	Extra []string

	// phase is the item's stage; it changes only through advance, along
	// route.
	phase phase
	route route
	// base is the row's result before the actions' columns: the reset's
	// once it ended, the preflight's skip (Skipped), or the not_found of a
	// user a write found missing; the zero Result until then, and in a
	// run that keeps passwords, where the actions make the outcome.
	base report.Result
	// found says a write for this user was answered 2xx, or the preflight
	// found it: a 404 afterwards is the failure of that write, not a user
	// that does not exist.
	found    bool
	attempts int
	// paced counts the attempts of the current phase's request throttled
	// while the tenant accepted writes: the pacer's, not faults, they do
	// not count against MaxAttempts.
	paced   int
	unknown bool // an attempt of the reset had an unknown outcome: the password may be set
	// block and revoke are the two actions' states; resetStatus and
	// resetRequestID keep the reset's answer for the result.
	block, revoke  action
	resetStatus    int
	resetRequestID string
	// clientRequestID is the client-request-id of the last write sent;
	// resetClientRequestID that of the reset Graph accepted.
	clientRequestID, resetClientRequestID string
	// opPath is the resetPassword operation to poll (phasePoll), polls
	// counts the polls.
	opPath    string
	polls     int
	notBefore time.Time
	lastErr   *graph.Error // the last Graph error, for the final result
	lastNet   string       // the last network-level failure, for the final result
	requestID string
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
	// RevokeSessions revokes the sign-in sessions of every user found
	// (POST /users/{id}/revokeSignInSessions), after its reset whatever
	// happened to it (succeeded, refused, failed, skipped), so that an
	// attacker holding a refresh token is signed out too. A revoke that
	// fails does not undo the reset: the row stays succeeded, with
	// revoked=false and the error.
	RevokeSessions bool
	// RevokeOnlyIfReset limits RevokeSessions to the users whose password
	// this run reset; otherwise every user found in the tenant is revoked,
	// whatever happened to its reset (skipped, refused, failed).
	RevokeOnlyIfReset bool
	// BlockSignIn sets accountEnabled to false for every user found in the
	// tenant (PATCH /users/{id}), before its reset.
	BlockSignIn bool
	// KeepPasswords sends no reset at all: the run only revokes and/or
	// blocks (--password-mode keep, a lockdown run).
	KeepPasswords bool
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
	Succeeded  atomic.Int64 // items succeeded: reset, or in a run that keeps passwords every action done
	Unfinished atomic.Int64 // items left without a result when the run stopped
	Revoked    atomic.Int64 // users whose sessions were revoked
	NotRevoked atomic.Int64 // users whose sessions could not be revoked
	Blocked    atomic.Int64 // users whose sign-in was blocked
	NotBlocked atomic.Int64 // users whose sign-in could not be blocked
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
	// deny stops the run when Graph refuses every write of a kind
	// (denied.go).
	deny *denyGuard
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
		deny:  newDenyGuard(DenyThreshold),
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
// error occurs (a password could not be recorded, or authentication failed),
// or Graph refuses the first writes of a kind for lack of a permission: then
// no new batch is started, the batches in flight finish, and Run returns a
// *PermissionError (denied.go); the rows so refused get no result.
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
	p.dispatch(ctx, gctx, items, batches, back, emit)
	if err := g.Wait(); err != nil {
		return err
	}
	return p.deny.err() // a *PermissionError, or nil
}

// batchDone is a worker's report to the dispatcher: n items are no longer
// in flight, and retry of them want another attempt.
type batchDone struct {
	n     int
	retry []*Item
}

// record writes the passwords of b that are not yet durable to the secrets
// file, and waits until they are on disk.
func (p *Pool) record(ctx context.Context, b []*Item) error {
	if p.rec == nil {
		return nil
	}
	var rows []report.SecretRow
	for _, it := range b {
		if it.phase.resets() && !it.Password.Empty() && !it.Recorded {
			rows = append(rows, report.SecretRow{Line: it.Line, User: it.User, Password: it.Password, Extra: it.Extra})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	if err := p.rec.Record(ctx, rows); err != nil {
		return err
	}
	for _, it := range b {
		if it.phase.resets() {
			it.Recorded = true
		}
	}
	return nil
}

// received prepares an item taken from the input: its route, from the
// run's options and the item, and the first phase of that route.
func (p *Pool) received(it Item) *Item {
	if it.Resumed {
		it.attempts, it.unknown = 1, true
	}
	it.route = p.opts.route(&it)
	if it.Skipped != nil {
		it.base, it.found = *it.Skipped, true
	}
	it.phase = first(it.route)
	return &it
}

func (it *Item) target() string {
	if it.ObjectID != "" {
		return it.ObjectID
	}
	return it.Target
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
