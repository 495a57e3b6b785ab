package worker

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Pacing constants. Graph's write quota for one app in one tenant is about
// 3,000 writes per 150 s, i.e. 20 writes per second sustained after a burst
// (https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits).
const (
	// sustainedWriteRate is where the pacer starts when a window was
	// throttled before it had any measure of the rate Graph allows.
	sustainedWriteRate = 20.0
	// minRate is the floor below which the pacer never slows down.
	minRate = 0.5
	// pacerWindow is the period over which sends and throttles are counted.
	pacerWindow = time.Second
	// A window whose share of throttled writes is at most tolerableShare
	// does not lower the rate: 429s are honoured (Retry-After) but not taken
	// as a sign that the rate is too high, because a rate above the quota
	// shows as a large share (sending at twice the refill rate throttles
	// half), while throttles that come whatever the rate would otherwise
	// ratchet the rate down window after window. At most growShare, the rate
	// may still grow.
	tolerableShare = 0.2
	growShare      = 0.01
	// goodputMargin keeps the new rate a little under the rate that got
	// through, so that the quota's bucket can refill.
	goodputMargin = 0.95
	// After a window without a throttle the rate grows by increaseFactor,
	// and by at least increaseMin.
	increaseFactor = 1.05
	increaseMin    = 0.5
)

// pacerState is the pure state of the pacing policy: a cap on writes per
// second learned from Graph's answers, window by window.
type pacerState struct {
	// Rate is the current cap in writes per second; 0 means unlimited (the
	// burst of a fresh quota is spent as fast as the workers go).
	Rate float64
	// PauseUntil is when every worker may send again after a Retry-After.
	PauseUntil time.Time
	// WindowStart, Sent and Throttled count the current window's writes.
	WindowStart     time.Time
	Sent, Throttled int
}

// pacerConfig holds the user's limits.
type pacerConfig struct {
	// MaxRate caps the rate (writes per second); 0 means no cap.
	MaxRate float64
}

// sent records n writes sent at now.
func (s pacerState) sent(cfg pacerConfig, now time.Time, n int) pacerState {
	s = s.roll(cfg, now)
	s.Sent += n
	return s
}

// throttled records a 429 (or an outer 503 with Retry-After) seen at now:
// every worker pauses until its Retry-After has passed.
func (s pacerState) throttled(cfg pacerConfig, now time.Time, retryAfter time.Duration) pacerState {
	s = s.roll(cfg, now)
	s.Throttled++
	if until := now.Add(retryAfter); until.After(s.PauseUntil) {
		s.PauseUntil = until
	}
	return s
}

// roll closes the window when it is over and sets the rate for the next:
//   - throttled beyond tolerableShare: the rate becomes what got through
//     (the goodput: writes sent minus writes throttled, per second), less a
//     margin. Converging on the goodput in one step, rather than by repeated
//     halving, matters because throttled writes still count against the
//     quota (https://learn.microsoft.com/graph/throttling): a client that
//     keeps sending too fast keeps the bucket empty.
//   - throttled at most growShare: the rate grows, to find quota that was
//     freed.
//   - in between: the rate holds.
func (s pacerState) roll(cfg pacerConfig, now time.Time) pacerState {
	if s.WindowStart.IsZero() {
		s.WindowStart = now
		return s
	}
	elapsed := now.Sub(s.WindowStart)
	if elapsed < pacerWindow {
		return s
	}
	share := 0.0
	if s.Sent > 0 {
		share = float64(s.Throttled) / float64(s.Sent)
	}
	switch {
	case s.Throttled > 0 && (s.Sent == 0 || share > tolerableShare):
		goodput := float64(max(s.Sent-s.Throttled, 0)) / elapsed.Seconds()
		switch {
		case goodput > 0:
			s.Rate = goodput * goodputMargin
		case s.Rate > 0:
			s.Rate /= 2
		default:
			s.Rate = sustainedWriteRate
		}
		s.Rate = math.Max(s.Rate, minRate)
	case share <= growShare && s.Rate > 0:
		s.Rate = math.Max(s.Rate*increaseFactor, s.Rate+increaseMin)
	}
	if cfg.MaxRate > 0 && (s.Rate == 0 || s.Rate > cfg.MaxRate) {
		s.Rate = cfg.MaxRate
	}
	s.WindowStart, s.Sent, s.Throttled = now, 0, 0
	return s
}

// Pacer is the one rate limiter shared by every worker: when any request is
// throttled, every worker slows down (the rclone lib/pacer model).
type Pacer struct {
	cfg pacerConfig
	now func() time.Time
	lim *rate.Limiter

	mu sync.Mutex
	st pacerState
}

// NewPacer returns a pacer that lets batches of up to burst writes through.
// maxRate caps writes per second (0: adaptive, no cap).
func NewPacer(maxRate float64, burst int, now func() time.Time) *Pacer {
	if now == nil {
		now = time.Now
	}
	p := &Pacer{cfg: pacerConfig{MaxRate: maxRate}, now: now}
	p.st.Rate = maxRate
	p.lim = rate.NewLimiter(limitOf(p.st.Rate), max(burst, 1))
	return p
}

func limitOf(r float64) rate.Limit {
	if r <= 0 {
		return rate.Inf
	}
	return rate.Limit(r)
}

// Wait blocks until n writes may be sent, after any Retry-After pause and
// within the current rate, and counts them as sent.
func (p *Pacer) Wait(ctx context.Context, n int) error {
	for {
		p.mu.Lock()
		pause := p.st.PauseUntil.Sub(p.now())
		p.mu.Unlock()
		if pause <= 0 {
			break
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	if err := p.lim.WaitN(ctx, min(n, p.lim.Burst())); err != nil {
		return fmt.Errorf("pacer: %w", err)
	}
	p.update(func(s pacerState, now time.Time) pacerState { return s.sent(p.cfg, now, n) })
	return nil
}

// Throttled tells the pacer that a request was throttled with the given
// Retry-After.
func (p *Pacer) Throttled(retryAfter time.Duration) {
	p.update(func(s pacerState, now time.Time) pacerState { return s.throttled(p.cfg, now, retryAfter) })
}

// Tick lets the pacer close its window when nothing else happens.
func (p *Pacer) Tick() {
	p.update(func(s pacerState, now time.Time) pacerState { return s.roll(p.cfg, now) })
}

func (p *Pacer) update(f func(pacerState, time.Time) pacerState) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	old := p.st.Rate
	p.st = f(p.st, now)
	if p.st.Rate != old {
		p.lim.SetLimitAt(now, limitOf(p.st.Rate))
	}
}

// Rate reports the current cap in writes per second (0: unlimited).
func (p *Pacer) Rate() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.st.Rate
}
