package worker

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graph"
)

// Pacing. Graph's identity write quota is a token bucket per app and tenant
// (https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits):
// documented as 3,000 writes that refill over 150 s, so a burst of 3,000
// and then 20 per second. No client can reset N users faster than
// (N - burst) / refill, and one gets there by spending the burst as fast as
// it can, then sending exactly as fast as the bucket refills: a full bucket
// wastes refill, an empty one answers 429, and throttled attempts still
// count against the quota (https://learn.microsoft.com/graph/throttling),
// so a client that keeps the bucket empty spirals down.
//
// The documented numbers are only a first guess: the tenant-wide write
// limit is shared with every other application writing to the tenant, a
// run may start with the bucket part spent, and Microsoft may change the
// limits. Nor can the pacer count on Graph's headers: a 429 inside a $batch
// may come without x-ms-throttle-scope, with a Retry-After that is always
// 1, or with no header at all. So the pacer learns the bucket from the one
// signal every throttled answer gives, its status:
//
//   - Until the first 429, batches go as fast as the workers send them:
//     that spends the burst, whatever is left of it.
//   - Every 429 on a write (inside a $batch, or a whole $batch answered
//     429 or 503) says Graph's bucket was empty when it evaluated the
//     request, about halfway through the round trip. The pacer keeps a
//     mirror of the bucket, set to empty then, refilled at the estimated
//     rate; a batch goes when the mirror holds its writes.
//   - The first 429 of a wave (from a batch sent after the previous wave
//     was seen) is a moment when the bucket was empty. Between two such
//     moments the bucket went from empty to empty, so the writes Graph
//     accepted are what refilled, with what the throttled attempts cost
//     (between nothing and a full write each; the pacer takes half): the
//     refill rate is the slope of these writes over the time of these
//     moments (pacer_rate.go). Before there is enough to fit, the first
//     guess is high and each wave halves it, but never to more than the
//     bucket can have refilled since the last wave.
//   - A wave that finds nothing accepted since the last one is not a new
//     empty moment: the bucket stayed empty, in debt for the throttled
//     attempts or far below the rate. The rate stays, and the pacer sends
//     half as fast with each such wave, until Graph accepts a write.
//   - After a wave the pacer sends a little slower than the measured rate,
//     then faster and faster while nothing is throttled (the probe), so
//     that it finds quota freed by another application and a bucket
//     faster than it thought; the next 429 measures again.
//   - 429s that are not the bucket's (another limit, a backend fault) come
//     at a share of writes that does not depend on the rate, and would cut
//     it wave after wave. A bucket throttles none at half the rate (or far
//     more if its refill fell); when a run of waves halved the rate and
//     the share throttled stayed, the pacer goes back to the rate before
//     and from then on takes that share for no wave (pacer_run.go).
//   - A Retry-After, whatever it came with, pauses every worker at least
//     that long: a floor, never a measure of the bucket (a constant 1 says
//     nothing about it); the mirror decides beyond. The Retry-After of
//     429s known to come whatever the rate pauses only its own rows.
//   - A whole batch answered 429 or 503 is one throttled answer, not one
//     per write: Graph refused the request, not each write in it.
//   - Headers refine: a 429 scoped to the Application is the app-wide
//     bucket's, which an AppLimit shared by the lanes learns (pacer_app.go).
//
// The policy (pacerState) is deterministic and takes time as a parameter;
// Pacer wraps it with a clock, a lock and waiting.

// pacerConfig holds the user's limits.
type pacerConfig struct {
	// MaxRate caps writes per second; 0 means no cap.
	MaxRate float64
	// Batch is the largest batch, in writes.
	Batch int
}

// flight is a batch sent and not yet answered.
type flight struct {
	ID     uint64
	SentAt time.Time
	N      int
}

// answer is what the pacer learns from the answer to one batch.
type answer struct {
	// Accepted counts the writes Graph evaluated without throttling them
	// (any answer but 429 and 5xx): each took a write from the quota.
	Accepted int
	// Throttled counts the writes answered 429 (the tenant's bucket was
	// empty), but for AppThrottled: those whose x-ms-throttle-scope named
	// the application's limit across tenants (its bucket was).
	Throttled, AppThrottled int
	// Pause is the longest Retry-After of the answer, whatever it came
	// with (any 429, a 503): every worker waits at least that long.
	Pause time.Duration
	// Lost reports that nothing came back (a network failure): the pacer
	// learns nothing.
	Lost bool
}

// pacerState is the pacing policy. Its methods take the time as a
// parameter and never read a clock.
type pacerState struct {
	// Near reports that Graph has throttled a write: batches wait for the
	// mirror. While false, batches go as fast as the workers send them
	// (unless MaxRate caps them).
	Near bool
	// Tokens is what the mirror lets through at At: Graph's level, less
	// the writes in flight. It may be negative.
	Tokens float64
	At     time.Time
	// PauseUntil is when every worker may send again after a Retry-After.
	PauseUntil time.Time
	// Flights are the batches sent and not answered.
	Flights []flight
	NextID  uint64
	// est is the refill rate's estimate (pacer_rate.go).
	est rateEstimate
}

// limit is the rate the mirror refills at now; 0 means no limit.
func (s *pacerState) limit(cfg pacerConfig) float64 {
	r := 0.0
	if s.Near {
		r = s.est.rate()
	}
	if cfg.MaxRate > 0 && (r == 0 || r > cfg.MaxRate) {
		r = cfg.MaxRate
	}
	return r
}

// ceiling bounds the mirror: at most two batches ahead, so that a
// bucket the pacer underestimated is not spent in one go.
func (s *pacerState) ceiling(cfg pacerConfig) float64 {
	if !s.Near {
		return float64(cfg.Batch) // only MaxRate limits
	}
	return 2 * float64(cfg.Batch)
}

// refill brings the mirror to now.
func (s *pacerState) refill(cfg pacerConfig, now time.Time) {
	if !now.After(s.At) {
		return
	}
	if r := s.limit(cfg); r > 0 {
		s.Tokens = min(s.Tokens+r*now.Sub(s.At).Seconds(), max(s.Tokens, s.ceiling(cfg)))
	}
	s.At = now
}

// delay is how long n writes must wait at now.
func (s *pacerState) delay(cfg pacerConfig, now time.Time, n int) time.Duration {
	if now.Before(s.PauseUntil) {
		return s.PauseUntil.Sub(now)
	}
	r := s.limit(cfg)
	if r == 0 {
		return 0
	}
	s.refill(cfg, now)
	need := min(float64(n), s.ceiling(cfg))
	if s.Tokens >= need {
		return 0
	}
	return time.Duration(math.Ceil((need - s.Tokens) / r * float64(time.Second)))
}

// take records n writes sent at now and returns their flight. Call it when
// delay is 0.
func (s *pacerState) take(cfg pacerConfig, now time.Time, n int) flight {
	s.refill(cfg, now)
	if s.limit(cfg) > 0 {
		s.Tokens -= float64(n)
	}
	s.NextID++
	f := flight{ID: s.NextID, SentAt: now, N: n}
	s.Flights = append(s.Flights, f)
	return f
}

// observe learns from the answer to flight f, received at now.
func (s *pacerState) observe(cfg pacerConfig, now time.Time, f flight, a answer) {
	s.refill(cfg, now)
	i := slices.IndexFunc(s.Flights, func(g flight) bool { return g.ID == f.ID })
	if i < 0 {
		return
	}
	s.Flights = slices.Delete(s.Flights, i, i+1)
	if a.Lost && a.Throttled == 0 {
		s.pause(now, a.Pause)
		return
	}
	// Graph evaluated the batch about halfway through its round trip.
	te := f.SentAt.Add(now.Sub(f.SentAt) / 2)
	newWave := s.est.observe(cfg, now, te, f.SentAt, a)
	noise := s.est.noise()
	if !noise {
		// Every worker honours a Retry-After, whatever it came with, but
		// that of the 429s known to come whatever the rate: those wait in
		// their own rows.
		s.pause(now, a.Pause)
	}
	if a.Throttled == 0 || noise {
		return // no more 429s than come whatever the rate: not the bucket's
	}
	s.Near = true
	// The bucket was empty at te: the mirror restarts from there, less
	// the writes sent since (the batches sent before f were evaluated
	// before it, or are counted in Graph's level). A 429 of a wave already
	// seen only ever lowers the mirror.
	after := 0
	for _, g := range s.Flights {
		if g.ID > f.ID {
			after += g.N
		}
	}
	tokens := s.limit(cfg)*now.Sub(te).Seconds() - float64(after)
	if newWave || tokens < s.Tokens {
		s.Tokens = tokens
	}
	s.At = now
}

// pause stops every worker until d after now.
func (s *pacerState) pause(now time.Time, d time.Duration) {
	if until := now.Add(d); d > 0 && until.After(s.PauseUntil) {
		s.PauseUntil = until
	}
}

// Pacer is the one pacer of a tenant, shared by every worker of its lane:
// when the quota is nearly spent every worker slows down, and a
// Retry-After pauses them all (the rclone lib/pacer model). The lanes of
// one application share an AppLimit as well.
type Pacer struct {
	cfg pacerConfig
	now func() time.Time
	app *AppLimit // nil: no limit across tenants

	mu      sync.Mutex
	st      pacerState
	changed chan struct{} // closed and replaced when waiters should look again
}

// Ticket identifies a batch let through by Wait, for Done.
type Ticket struct{ f flight }

// NewPacer returns a pacer for batches of up to batch writes. maxRate caps
// writes per second (0: no cap, the pacer finds Graph's limit).
func NewPacer(maxRate float64, batch int, now func() time.Time) *Pacer {
	if now == nil {
		now = time.Now
	}
	return &Pacer{
		cfg:     pacerConfig{MaxRate: max(maxRate, 0), Batch: max(batch, 1)},
		now:     now,
		changed: make(chan struct{}),
	}
}

// Wait blocks until n writes may be sent (after any Retry-After, within the
// quota of the tenant and of the application) and counts them as sent;
// pass the ticket to Done with the answer. Deciding and counting are one
// step under the lock, so that workers woken together cannot all spend
// what the mirror holds for one batch.
func (p *Pacer) Wait(ctx context.Context, n int) (Ticket, error) {
	for {
		p.mu.Lock()
		now := p.now()
		d := p.st.delay(p.cfg, now, n)
		if d <= 0 {
			// The tenant's quota lets the batch go: now the application's.
			d = p.app.take(now, n)
		}
		if d <= 0 {
			t := Ticket{p.st.take(p.cfg, now, n)}
			p.mu.Unlock()
			return t, nil
		}
		changed := p.changed
		p.mu.Unlock()
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return Ticket{}, fmt.Errorf("pacer: %w", ctx.Err())
		case <-t.C:
		case <-changed:
			t.Stop()
		}
	}
}

// Done tells the pacer what Graph answered to the batch of t.
func (p *Pacer) Done(t Ticket, a answer) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	p.st.observe(p.cfg, now, t.f, a)
	close(p.changed)
	p.changed = make(chan struct{})
	p.app.observe(now, t.f.SentAt, a)
}

// Rate reports the pacer's current limit in writes per second (0: none).
func (p *Pacer) Rate() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.st.limit(p.cfg)
}

// Accepting reports whether Graph accepted a write from this pacer's lane
// within the last minute: while it does, a throttled attempt is pacing,
// not a fault.
func (p *Pacer) Accepting() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	last := p.st.est.LastAccepted
	return !last.IsZero() && p.now().Sub(last) < time.Minute
}

// throttleScopeHeader names the limit a 429 comes from
// (https://learn.microsoft.com/graph/throttling-limits#throttled-responses-requests),
// e.g. Tenant_Application/Write/{app}/{tenant}; an application's limit
// across tenants is scoped Application.
const throttleScopeHeader = "x-ms-throttle-scope"

// appWide reports whether an x-ms-throttle-scope names the application's
// limit across tenants.
func appWide(scope string) bool {
	s, _, _ := strings.Cut(scope, "/")
	return strings.EqualFold(strings.TrimSpace(s), "Application")
}

// batchAnswer sums up the answer to a batch for the pacer. Every 429 is the
// quota's, whatever headers it carries: the tenant's, unless its scope
// names the application's.
func batchAnswer(res *graph.BatchResult, now time.Time) answer {
	var a answer
	for _, resp := range res.Responses {
		if resp.Status == http.StatusTooManyRequests || resp.Status >= 500 {
			// Only the Retry-After is needed: reading the header alone
			// spares parsing the error body, which the pool reads anyway.
			if ra, ok := graph.ParseRetryAfter(resp.Header("Retry-After"), now); ok {
				a.Pause = max(a.Pause, ra)
			}
		}
		switch {
		case resp.Status == http.StatusTooManyRequests && appWide(resp.Header(throttleScopeHeader)):
			a.AppThrottled++
		case resp.Status == http.StatusTooManyRequests:
			a.Throttled++
		case resp.Status < 500:
			a.Accepted++
		}
	}
	return a
}

// outerAnswer is what a failed $batch tells the pacer: a whole batch
// answered 429 or 503 was throttled, once (one answer, not one per write:
// Graph refused the request, not each write in it), and its Retry-After
// pauses every worker; a network failure teaches nothing.
func outerAnswer(err error) answer {
	var gerr *graph.Error
	if !errors.As(err, &gerr) {
		return answer{Lost: true}
	}
	a := answer{Lost: true}
	if gerr.HasRetryAfter {
		a.Pause = max(gerr.RetryAfter, 0)
	}
	if gerr.Status == http.StatusTooManyRequests || gerr.Status == http.StatusServiceUnavailable {
		a.Throttled = 1
	}
	return a
}
