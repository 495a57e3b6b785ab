package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bulkreset/bulkreset/internal/guid"
	"github.com/bulkreset/bulkreset/pkg/csvin"
	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// SyncedPolicy is the --synced choice: what to do with a user synchronised
// from on-premises Active Directory.
type SyncedPolicy string

// The synced-user policies.
const (
	// SyncedSkip leaves synced users alone (skipped / synced_user): a
	// passwordProfile PATCH does not write back to on-premises AD.
	SyncedSkip SyncedPolicy = "skip"
	// SyncedAttempt sends the reset anyway and reports Graph's answer.
	SyncedAttempt SyncedPolicy = "attempt"
	// SyncedResetPassword resets synced users through the
	// authentication-methods resetPassword action, which password
	// writeback carries to on-premises AD; it needs delegated sign-in.
	SyncedResetPassword SyncedPolicy = "resetpassword"
)

// SyncedAdvice is the error_message of a synced user skipped by preflight.
const SyncedAdvice = "the user is synchronised from on-premises Active Directory: a password set in the cloud would not reach it. " +
	"Reset it on-premises, in the Entra admin center with password writeback enabled, " +
	"or rerun with --synced resetpassword signed in as an administrator (--auth device-code)"

// PreflightOptions configure a Preflight.
type PreflightOptions struct {
	// BatchSize is the number of lookups per $batch, 1 to 20.
	BatchSize int
	// Concurrency is the number of lookup batches in flight.
	Concurrency int
	// MaxAttempts bounds the lookups per row across throttling and
	// transient errors.
	MaxAttempts int
	// Synced is the policy for on-premises synced users; SyncedSkip when empty.
	Synced SyncedPolicy
	// SkipDisabled and SkipGuests skip disabled accounts and guests.
	SkipDisabled, SkipGuests bool
	// IncludeGuests resets external guests (a #EXT# user principal name:
	// they sign in at their home organisation, so a password set here is
	// not theirs); otherwise their reset is skipped (external_guest).
	IncludeGuests bool
	// KeepPasswords says the run resets no password (--password-mode
	// keep, a lockdown): the rules about how a password can be set (a
	// synced user, an external guest, a federated user) do not apply, so
	// those users are passed on for the actions like any other, and the
	// tenant's domains are not read. The rules the administrator chose
	// (SkipDisabled, SkipGuests) still apply.
	KeepPasswords bool
	// Actions says the run revokes or blocks every user found: a user
	// whose reset the preflight skips is passed on all the same, with
	// Item.Skipped set, so that the pool sends it the actions.
	Actions bool
	// Logger receives retries; never a secret.
	Logger *slog.Logger
	// Jitter returns a number in [0,1) that spreads backoffs; math/rand when nil.
	Jitter func() float64
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// ObjectIDs, when set, is shared with the preflights of other
	// tenants' lanes (see ObjectIDs); otherwise the Preflight has its own.
	ObjectIDs *ObjectIDs
}

// ObjectIDs remembers the object ids passed on to be reset, safely for the
// preflights of several lanes at once. Object ids are unique across
// tenants, so a user whose tenant is named two ways in one input (its id on
// one line, a domain on another) is still reset once.
type ObjectIDs struct {
	mu   sync.Mutex
	seen *csvin.Dedup
}

// NewObjectIDs returns an empty set.
func NewObjectIDs() *ObjectIDs { return &ObjectIDs{seen: csvin.NewDedup()} }

// Seen records id and reports whether it was recorded before.
func (o *ObjectIDs) Seen(id string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.seen.Seen(id)
}

// PreflightStats counts what a Preflight found. Safe for concurrent reads.
type PreflightStats struct {
	Reads     atomic.Int64 // GET sub-requests sent, retries included
	Throttled atomic.Int64 // 429 answers to lookups
	NotFound  atomic.Int64 // users that do not exist
	Synced    atomic.Int64 // on-premises synced users
	Disabled  atomic.Int64 // disabled accounts (skipped or passed on)
	Guests    atomic.Int64 // guests without #EXT# (skipped or passed on)
	// ExternalGuests are #EXT# users: skipped, or passed on with
	// IncludeGuests.
	ExternalGuests atomic.Int64
	// Federated are users of a federated domain (skipped).
	Federated atomic.Int64
	Passed    atomic.Int64 // items passed on to be reset
	// PassedSkipped are the items passed on with Item.Skipped set (their
	// reset skipped, the run's actions still to send); Passed counts them too.
	PassedSkipped atomic.Int64
}

// Preflight looks every user up before anything is written, so that
// missing users cost no write quota, synced users are not sent a reset that
// would not reach on-premises AD, and each write addresses the user by
// object id (which avoids every UPN-encoding case). Lookups are GETs in
// $batch requests: they spend Graph's resource-unit quota, not the write
// quota (https://learn.microsoft.com/graph/throttling-limits).
//
// Items leave in the order they arrived, so that when two rows name the
// same user (once by UPN, once by object id) the later one is the duplicate.
type Preflight struct {
	opts  PreflightOptions
	send  Sender
	seen  *ObjectIDs // object ids passed on or finished
	stats PreflightStats
	// federated are the tenant's federated domains, in lower case: read
	// by Run before the first lookup, then only read.
	federated map[string]bool
}

// NewPreflight returns a Preflight that sends its lookups through send.
func NewPreflight(send Sender, opts PreflightOptions) *Preflight {
	if opts.BatchSize <= 0 || opts.BatchSize > MaxBatchSize {
		opts.BatchSize = MaxBatchSize
	}
	opts.Concurrency = max(opts.Concurrency, 1)
	opts.MaxAttempts = max(opts.MaxAttempts, 1)
	if opts.Synced == "" {
		opts.Synced = SyncedSkip
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Jitter == nil {
		opts.Jitter = rand.Float64
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	seen := opts.ObjectIDs
	if seen == nil {
		seen = NewObjectIDs()
	}
	return &Preflight{opts: opts, send: send, seen: seen}
}

// Stats returns the preflight's counters.
func (p *Preflight) Stats() *PreflightStats { return &p.stats }

// orderedWindow is the least number of lookup batches the preflight holds
// ahead of the oldest unanswered one.
const orderedWindow = 64

// Lookups without a Retry-After back off faster than writes: a failed read
// spent no write quota, and the rows behind it in input order wait for it.
const (
	lookupBackoffBase = 250 * time.Millisecond
	lookupBackoffMax  = 4 * time.Second
)

// lookupDelay is retryDelay for lookups.
func lookupDelay(attempt int, retryAfter time.Duration, hasRetryAfter bool, jitter float64) time.Duration {
	return backoff(lookupBackoffBase, lookupBackoffMax, attempt, retryAfter, hasRetryAfter, jitter)
}

// lookup is one item being looked up.
type lookup struct {
	it       *Item
	attempts int
	info     *graph.UserInfo // set when found
	final    *report.Result  // set when the lookup ended the row
	lastErr  *graph.Error
	lastNet  string
	// status and requestID are those of the answer that found the user.
	status    int
	requestID string
}

// lookupBatch is up to BatchSize lookups sent together; done is closed
// when every lookup in it has an answer (or the run stopped).
type lookupBatch struct {
	items []*lookup
	done  chan struct{}
}

// Run reads the tenant's federated domains, then looks up every item
// received from in until in is closed, passes the items to reset on to
// out, in input order, and calls emit with the final result of every other
// item (from one goroutine at a time). With Actions, an item found in the
// tenant whose reset is skipped is passed on too, its skip result in
// Item.Skipped. It closes out when it returns. When ctx is cancelled it
// stops: items not yet passed on get no result. An error (authentication
// failed) is fatal for the run.
func (p *Preflight) Run(ctx context.Context, in <-chan Item, out chan<- Item, emit func(report.Result)) error {
	defer close(out)
	federated, err := p.loadDomains(ctx)
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return nil // the run stopped: every item stays unfinished
	}
	p.federated = federated
	g, gctx := errgroup.WithContext(ctx)
	work := make(chan *lookupBatch)
	// ordered holds the batches in input order; its capacity, with the
	// batches in flight, bounds how many rows the preflight holds. It is
	// wide (about 1,300 rows, a minute of writes at Graph's quota) so that
	// a batch waiting out a Retry-After does not starve the writes behind it.
	ordered := make(chan *lookupBatch, max(p.opts.Concurrency*4, orderedWindow))
	for range p.opts.Concurrency {
		g.Go(func() error {
			for b := range work {
				err := p.lookupBatch(gctx, b)
				close(b.done)
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(work)
		defer close(ordered)
		for {
			b := p.collect(gctx, in)
			if b == nil {
				return nil
			}
			select {
			case ordered <- b:
			case <-gctx.Done():
				return nil
			}
			select {
			case work <- b:
			case <-gctx.Done():
				return nil
			}
		}
	})
	g.Go(func() error {
		for b := range ordered {
			select {
			case <-b.done:
			case <-gctx.Done():
				return nil
			}
			if gctx.Err() != nil {
				return nil // the run stopped: what is left stays unfinished
			}
			for _, l := range b.items {
				r, skip := p.decide(l)
				switch {
				case r == nil:
				case skip && p.opts.Actions:
					// Found in the tenant, its reset skipped: the
					// run's revoke or block still reach it.
					l.it.Skipped = r
				default:
					emit(*r)
					continue
				}
				select {
				case out <- *l.it:
					p.stats.Passed.Add(1)
					if l.it.Skipped != nil {
						p.stats.PassedSkipped.Add(1)
					}
				case <-gctx.Done():
					return nil
				}
			}
		}
		return nil
	})
	return g.Wait()
}

// collect takes the next batch from in: it waits for one item, then takes
// what is waiting, up to BatchSize, lingering briefly for a reader a little
// slower than the lookups. It returns nil when in is closed and empty or
// ctx is done.
func (p *Preflight) collect(ctx context.Context, in <-chan Item) *lookupBatch {
	var items []*lookup
	add := func(it Item) { items = append(items, &lookup{it: &it}) }
	select {
	case it, ok := <-in:
		if !ok {
			return nil
		}
		add(it)
	case <-ctx.Done():
		return nil
	}
	var linger <-chan time.Time
	for len(items) < p.opts.BatchSize {
		select {
		case it, ok := <-in:
			if !ok {
				return &lookupBatch{items: items, done: make(chan struct{})}
			}
			add(it)
			continue
		default:
		}
		if linger == nil {
			t := time.NewTimer(batchLinger)
			defer t.Stop()
			linger = t.C
		}
		select {
		case it, ok := <-in:
			if !ok {
				return &lookupBatch{items: items, done: make(chan struct{})}
			}
			add(it)
		case <-linger:
			return &lookupBatch{items: items, done: make(chan struct{})}
		case <-ctx.Done():
			return nil
		}
	}
	return &lookupBatch{items: items, done: make(chan struct{})}
}

// lookupBatch looks up every item of b, retrying throttled and transient
// failures after Graph's Retry-After (or a backoff) until each has an
// answer or its attempts are spent. It returns an error only when the run
// must stop (authentication failed); when ctx ends it returns nil, leaving
// lookups unanswered.
func (p *Preflight) lookupBatch(ctx context.Context, b *lookupBatch) error {
	pending := b.items
	unauthorized := 0
	for len(pending) > 0 {
		reqs := make([]graph.Request, len(pending))
		for i, l := range pending {
			l.attempts++
			reqs[i] = graph.LookupRequest(strconv.Itoa(i), l.it.target())
		}
		p.stats.Reads.Add(int64(len(reqs)))
		res, err := p.send.Batch(ctx, reqs)
		var retry []*lookup
		var delay time.Duration
		switch {
		case err != nil && ctx.Err() != nil:
			return nil
		case err != nil:
			if retry, delay, err = p.lookupsFailed(pending, err, &unauthorized); err != nil {
				return err
			}
		default:
			retry, delay = p.lookupsAnswered(pending, res, p.opts.Now())
			unauthorized = 0
		}
		pending = retry
		if len(pending) == 0 {
			return nil
		}
		p.opts.Logger.Debug("retrying user lookups", "rows", len(pending), "first_line", pending[0].it.Line, "after", delay)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil
		}
	}
	return nil
}

// lookupsFailed handles a lookup $batch that got no per-row answers (err):
// it returns the lookups to send again and when, or an error when the run
// must stop (authentication failed). unauthorized counts the batches
// refused with 401 in a row.
func (p *Preflight) lookupsFailed(pending []*lookup, err error, unauthorized *int) (retry []*lookup, delay time.Duration, fatal error) {
	if errors.Is(err, graph.ErrAuthentication) {
		return nil, 0, fmt.Errorf("%w: %w", ErrAuth, err)
	}
	var gerr *graph.Error
	if errors.As(err, &gerr) {
		if gerr.Status == http.StatusUnauthorized {
			// The client already retried with a fresh token.
			if *unauthorized++; *unauthorized > maxUnauthorized {
				return nil, 0, fmt.Errorf("%w: %w", ErrAuth, err)
			}
		} else if !retryable(gerr.Status) {
			for _, l := range pending {
				l.fail(gerr)
			}
			return nil, 0, nil
		}
		if gerr.Status == http.StatusTooManyRequests {
			p.stats.Throttled.Add(1)
		}
		delay = lookupDelay(pending[0].attempts, gerr.RetryAfter, gerr.HasRetryAfter, p.opts.Jitter())
	} else {
		delay = lookupDelay(pending[0].attempts, 0, false, p.opts.Jitter())
	}
	p.opts.Logger.Warn("user lookup batch failed; retrying it", "rows", len(pending), "first_line", pending[0].it.Line, "error", err)
	for _, l := range pending {
		l.lastErr, l.lastNet = gerr, ""
		if gerr == nil {
			l.lastNet = err.Error()
		}
		retry = p.again(retry, l)
	}
	return retry, delay, nil
}

// lookupsAnswered sorts the lookups of an answered $batch into answered
// (l.info set), failed for good (l.final set) and to be sent again
// (returned, with the longest delay any of them asks for).
func (p *Preflight) lookupsAnswered(pending []*lookup, res *graph.BatchResult, now time.Time) (retry []*lookup, delay time.Duration) {
	for i, l := range pending {
		resp, ok := res.Responses[strconv.Itoa(i)]
		if !ok {
			l.lastErr, l.lastNet = nil, "no response for this lookup in the $batch answer"
			retry = p.again(retry, l)
			delay = max(delay, lookupDelay(l.attempts, 0, false, p.opts.Jitter()))
			continue
		}
		gerr := resp.Err(now)
		if gerr == nil {
			info, perr := graph.ParseUserInfo(resp.Body)
			if perr != nil {
				l.lastErr, l.lastNet = nil, perr.Error()
				retry = p.again(retry, l)
				delay = max(delay, lookupDelay(l.attempts, 0, false, p.opts.Jitter()))
				continue
			}
			l.info, l.status = &info, resp.Status
			l.requestID = firstNonEmpty(resp.Header("request-id"), res.RequestID)
			continue
		}
		if gerr.RequestID == "" {
			gerr.RequestID = firstNonEmpty(resp.Header("request-id"), res.RequestID)
		}
		if !retryable(gerr.Status) {
			l.fail(gerr)
			continue
		}
		if gerr.Status == http.StatusTooManyRequests {
			p.stats.Throttled.Add(1)
		}
		l.lastErr, l.lastNet = gerr, ""
		retry = p.again(retry, l)
		delay = max(delay, lookupDelay(l.attempts, gerr.RetryAfter, gerr.HasRetryAfter, p.opts.Jitter()))
	}
	return retry, delay
}

// again keeps l for another lookup, or ends it when its attempts are spent.
func (p *Preflight) again(retry []*lookup, l *lookup) []*lookup {
	if l.attempts < p.opts.MaxAttempts {
		return append(retry, l)
	}
	var r report.Result
	if l.lastErr != nil {
		r = failedResult(l.lastErr)
		r.ErrorMessage = fmt.Sprintf("looking the user up: gave up after %d attempts: %s", l.attempts, l.lastErr.Message)
	} else {
		r = report.Result{Outcome: report.Failed, Reason: report.ReasonNetworkError,
			ErrorMessage: fmt.Sprintf("looking the user up: gave up after %d attempts: %s", l.attempts, l.lastNet)}
	}
	l.final = &r
	return retry
}

// fail ends l with Graph's final answer to its lookup.
func (l *lookup) fail(e *graph.Error) {
	r := failedResult(e)
	switch {
	case e.Status == http.StatusNotFound:
		r.ErrorMessage = "no such user in the tenant: " + e.Message
	case e.Status == http.StatusForbidden:
		r.ErrorMessage = "looking the user up was refused (the app needs User.Read.All, or run with --preflight=false): " + e.Message
	default:
		r.ErrorMessage = "looking the user up: " + e.Message
	}
	l.final = &r
}

// decide returns the result of a looked-up item that is not to be reset,
// or nil to pass it on (its ObjectID then set). skip is true for a user
// found in the tenant whose reset is skipped (synced, disabled, guest,
// external guest, federated): with Actions it is passed on all the same.
// It runs in input order, on one goroutine.
func (p *Preflight) decide(l *lookup) (r *report.Result, skip bool) {
	it := l.it
	result := func(r report.Result) *report.Result {
		r.Line, r.User, r.Attempts = it.Line, it.User, l.attempts
		if r.ObjectID == "" {
			r.ObjectID = it.ObjectID
		}
		// An interrupted run may have set the password recorded for a
		// resumed row: the secrets file keeps it, whatever the lookup
		// says now (a user renamed since, a 403).
		r = withMaybeSetNote(it, r)
		r.FinishedAt = p.opts.Now()
		return &r
	}
	if l.final != nil {
		if l.final.Reason == report.ReasonNotFound {
			p.stats.NotFound.Add(1)
		}
		return result(*l.final), false
	}
	if l.info == nil {
		// Not reachable: every lookup ends with an answer or a final result.
		return result(report.Result{Outcome: report.Failed, Reason: report.ReasonNetworkError, ErrorMessage: "looking the user up: no answer"}), false
	}
	u := *l.info
	if !guid.Valid(u.ID) {
		// The id goes into the URL of the write: anything but a GUID ("..",
		// a path, a query) could address another resource.
		return result(report.Result{Outcome: report.Failed, Reason: report.ReasonInvalidObjectID, HTTPStatus: l.status,
			RequestID: l.requestID, ErrorMessage: fmt.Sprintf("Graph's lookup answered an object id that is not a GUID (%d characters); nothing was sent for this user", len(u.ID))}), false
	}
	id := strings.ToLower(u.ID)
	if p.seen.Seen(id) {
		return result(report.Result{Outcome: report.Duplicate, ObjectID: id,
			ErrorMessage: "this user (object id " + id + ") is listed on another line under another name (or its tenant under another name); it is reset once"}), false
	}
	it.ObjectID = id
	if reason, message := p.skipReason(u, it); reason != "" {
		return result(report.Result{Outcome: report.Skipped, Reason: reason, ErrorMessage: message}), true
	}
	return nil, false
}

// skipReason says why the reset of a user found in the tenant is skipped,
// or "" to reset it; it counts what it sees and may set it.ResetPassword.
// A user may be several of these at once (a disabled guest): the first
// rule that applies skips it, and what is counted is what was seen up to
// that rule.
func (p *Preflight) skipReason(u graph.UserInfo, it *Item) (report.Reason, string) {
	if u.Synced() {
		p.stats.Synced.Add(1)
		switch {
		case p.opts.KeepPasswords:
		case p.opts.Synced == SyncedSkip:
			return report.ReasonSynced, SyncedAdvice
		case p.opts.Synced == SyncedResetPassword:
			it.ResetPassword = true
		}
	}
	if u.Disabled() {
		p.stats.Disabled.Add(1)
		if p.opts.SkipDisabled {
			return report.ReasonDisabled, "the account is disabled (--skip-disabled)"
		}
	}
	external := u.ExternalGuest()
	switch {
	case external:
		p.stats.ExternalGuests.Add(1)
	case u.Guest():
		p.stats.Guests.Add(1)
	}
	if u.Guest() && p.opts.SkipGuests {
		return report.ReasonGuest, "the user is a guest (--skip-guests)"
	}
	if p.opts.KeepPasswords {
		return "", ""
	}
	if external && !p.opts.IncludeGuests {
		return report.ReasonExternalGuest, ExternalGuestAdvice
	}
	// A synced user sent the resetPassword action (--synced resetpassword)
	// is the administrator's choice of the writeback path, which sets the
	// password on-premises, where AD FS reads it; the passwordProfile
	// PATCH is what Graph refuses for a federated user.
	if !it.ResetPassword && p.federated[u.Domain()] {
		p.stats.Federated.Add(1)
		return report.ReasonFederatedUser, FederatedAdvice
	}
	return "", ""
}
