package worker

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graph"
)

// Pacing. Graph's identity write quota is a token bucket per app and tenant
// (https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits):
// 3,000 writes that refill over 150 s, so a burst of 3,000 and then 20 per
// second. No client can reset N users faster than (N - burst) / refill, and
// one gets there by spending the burst as fast as it can, then sending
// exactly as fast as the bucket refills: a full bucket wastes refill, an
// empty one answers 429, and throttled attempts still count against the
// quota (https://learn.microsoft.com/graph/throttling), so a client that
// keeps the bucket empty spirals down to a fraction of its quota.
//
// The pacer keeps a mirror of Graph's bucket. While Graph says nothing about
// the quota, every batch goes as fast as the workers send it: the burst.
// Once the quota is near, a batch goes when the mirror holds as many tokens
// as it has writes; the mirror refills at the estimated refill rate, and is
// set to Graph's own level whenever an answer tells it:
//   - x-ms-throttle-limit-percentage, which Graph sends once more than 80%
//     of a limit is used, is the level as a share of the bucket. While the
//     rest of the burst is spent (usage rising fast) these observations
//     give the bucket's size; afterwards, since the level plus the writes
//     accepted grows at the refill rate while the bucket is not full, they
//     give the refill rate. Until then the rate is a guess, and no batch
//     waits longer than the burst took to spend half the bucket, so that
//     a low guess cannot let the bucket fill up unseen. The mirror keeps
//     the level at a small margin: nothing throttled, nothing wasted. An
//     answer without the header means more than a fifth of the quota is
//     left: it is spent at full speed.
//   - a 429 that names its limit in x-ms-throttle-scope says the bucket
//     holds less than a token, and its Retry-After when it will hold one
//     again: the mirror restarts from that level. Without the usage header
//     these are the only measures: the refill rate is first read from the
//     spread of Retry-Afters in a wave of 429s (each throttled write that
//     still took a token adds 1/rate; a wave too small to tell lets the
//     burst go on), then fitted to the times at which successive waves
//     said the bucket would recover, and raised slowly while nothing is
//     throttled, to find quota that was freed.
//   - any Retry-After (a 429 without a scope, an outer 503) pauses every
//     worker until it has passed.
//
// The policy (pacerState) is deterministic and takes time as a parameter;
// Pacer wraps it with a clock, a lock and waiting.

const (
	// sustainedWriteRate is the documented refill rate (3,000 per 150 s),
	// the pacer's first guess until it has measured Graph's.
	sustainedWriteRate = 20.0
	// minRate is the floor below which the pacer never slows down.
	minRate = 0.5
	// usageVisible is the share of a limit above which Graph sends
	// x-ms-throttle-limit-percentage.
	usageVisible = 0.8
	// marginShare of the estimated bucket size (and at least one batch) is
	// kept in the bucket, against rounding of the header and latency.
	marginShare = 0.01
	// maxPoints bounds the level observations the fit uses: the latest ones.
	maxPoints = 64
	// The bucket's size is fitted from at least minTail observations whose
	// usage spreads over at least minCapacitySpread (half of what is
	// visible between 80% and 100%).
	minTail           = 4
	minCapacitySpread = 0.1
	// probeAfter without a 429 (when Graph sends no usage header), the rate
	// grows by probeGrowth per second, to find quota that was freed.
	probeAfter  = time.Second
	probeGrowth = 0.02
	// recoverySpacing is the least number of batches accepted between two
	// recovery points.
	recoverySpacing = 10
	// A wave of 429s measures the refill rate when it has at least minWave
	// 429s whose Retry-After spread over at least minWaveSpread (ten times
	// the millisecond rounding of a fractional Retry-After).
	minWave       = 10
	minWaveSpread = 10 * time.Millisecond
	// maxFarWaves small waves of 429s are let pass before the quota is
	// taken as near without a measured rate.
	maxFarWaves = 3
	// minRatePoints usage observations made while the level is held are
	// needed to fit the refill rate.
	minRatePoints = 3
)

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
	// Accepted counts the requests Graph evaluated without throttling them
	// (any answer but 429 and 5xx): each took a write from the quota.
	Accepted int
	// Succeeded counts the 2xx answers among them.
	Succeeded int
	// Throttled counts the 429 answers of a quota: those Graph marks with
	// x-ms-throttle-scope.
	Throttled int
	// RetryAfter and MinRetryAfter are the longest and shortest
	// Retry-After of those 429s, when HasRetryAfter.
	RetryAfter, MinRetryAfter time.Duration
	HasRetryAfter             bool
	// Pause is the longest Retry-After of the answer, whatever it came
	// with (any 429, an outer 503): every worker waits for it.
	Pause time.Duration
	// Usage is the highest x-ms-throttle-limit-percentage of the batch's
	// 2xx answers (a share: 0.85 for 85%); 0 when none carried it.
	Usage float64
	// Lost reports that nothing came back (a network failure): the pacer
	// learns nothing.
	Lost bool
}

// levelPoint is one observation of Graph's usage of the quota.
type levelPoint struct {
	T float64 // seconds since pacerState.Origin (the answer's evaluation time)
	U float64 // usage, a share of the bucket
	A float64 // writes Graph had accepted, this batch's included
}

// pacerState is the pacing policy. Its methods take the time as a
// parameter and never read a clock.
type pacerState struct {
	// Near reports that the quota is nearly spent: batches wait for the
	// mirror. While false, batches go as fast as the workers send them
	// (unless MaxRate caps them).
	Near bool
	// Spending reports that the pacer has been near since the mirror last
	// had tokens for every batch: what was left of the burst is being spent.
	Spending bool
	// UsageSeen reports that Graph has sent x-ms-throttle-limit-percentage.
	UsageSeen bool
	// Rate is the estimated refill rate in writes per second; 0 until the
	// quota is near.
	Rate float64
	// Capacity is the estimated size of Graph's bucket; 0 while unknown.
	Capacity float64
	// Tokens is what the mirror lets through at At: Graph's level, less the
	// writes in flight, less the margin. It may be negative.
	Tokens float64
	At     time.Time
	// PauseUntil is when every worker may send again after a Retry-After.
	PauseUntil time.Time
	// LastThrottle is when the last 429 was seen.
	LastThrottle time.Time
	// Wave sums up the current wave of 429s: how many, and the earliest
	// and latest time at which their Retry-After said the bucket would
	// hold a token again.
	WaveThrottled      int
	WaveFirst, WaveEnd time.Time
	WaveWhole          bool      // a Retry-After of the wave was whole seconds
	WaveUntil          time.Time // when the wave's Retry-After ends
	// Accepted counts the writes Graph accepted (took from the quota).
	Accepted float64
	// FirstSent is when the first batch went; BurstRate the writes accepted
	// per second from then until the quota was near: more than the refill
	// rate, since the bucket emptied meanwhile.
	FirstSent time.Time
	BurstRate float64
	// Measured reports that the refill rate was measured, not guessed.
	Measured bool
	// ProbeAt, while the refill rate is still a guess and the mirror was
	// last set from the usage header, is when the next batch goes even if
	// the mirror is short (see delay).
	ProbeAt time.Time
	// FromUsage reports that the mirror was last set from the usage header
	// (rather than from a 429).
	FromUsage bool
	// FarWaves counts the waves of 429s seen before the quota was near.
	FarWaves int
	// Flights are the batches sent and not answered.
	Flights []flight
	NextID  uint64
	// Origin is time zero of the observations below.
	Origin time.Time
	// Tail holds the usage observations made while the burst was being
	// spent (usage rising fast), from which the bucket's size is fitted.
	Tail []levelPoint
	// Points holds the latest usage observations made while holding the
	// level, from which the refill rate is fitted.
	Points []levelPoint
	// Recoveries are the latest times at which a 429's Retry-After said the
	// bucket would hold one token again (T), with the writes accepted by
	// then (A): the refill rate's measure when Graph sends no usage header.
	Recoveries []levelPoint
}

// limit is the rate the mirror refills at now; 0 means no limit.
func (s *pacerState) limit(cfg pacerConfig) float64 {
	r := 0.0
	if s.Near {
		r = max(s.Rate, minRate)
	}
	if cfg.MaxRate > 0 && (r == 0 || r > cfg.MaxRate) {
		r = cfg.MaxRate
	}
	return r
}

// margin is how many tokens the pacer leaves in Graph's bucket.
func (s *pacerState) margin(cfg pacerConfig) float64 {
	return max(float64(cfg.Batch), marginShare*s.Capacity)
}

// ceiling bounds the mirror: while the quota is near, Graph's bucket holds
// at most a fifth of its size (beyond that the usage header stops and the
// pacer is no longer near). Without a size, the mirror holds two batches.
func (s *pacerState) ceiling(cfg pacerConfig) float64 {
	switch {
	case !s.Near:
		return float64(cfg.Batch) // only MaxRate limits
	case s.Capacity > 0:
		return max(float64(cfg.Batch), (1-usageVisible)*s.Capacity)
	}
	return 2 * float64(cfg.Batch)
}

// refill brings the mirror to now.
func (s *pacerState) refill(cfg pacerConfig, now time.Time) {
	r := s.limit(cfg)
	if r > 0 && now.After(s.At) {
		dt := now.Sub(s.At).Seconds()
		if s.Near && !s.UsageSeen && cfg.MaxRate == 0 {
			// Only 429s measure the quota: probe upward while none come.
			if calm := now.Sub(s.LastThrottle); calm > probeAfter {
				s.Rate *= 1 + probeGrowth*min(dt, (calm-probeAfter).Seconds())
				r = s.limit(cfg)
			}
		}
		s.Tokens = min(s.Tokens+r*dt, max(s.Tokens, s.ceiling(cfg)))
	}
	if now.After(s.At) {
		s.At = now
	}
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
	s.Spending = false
	d := time.Duration(math.Ceil((need - s.Tokens) / r * float64(time.Second)))
	if !s.Measured && s.FromUsage && s.Capacity > 0 && s.BurstRate > 0 {
		// The refill rate is a guess until the usage has been seen while
		// the level is held. Waiting as long as a low guess asks would let
		// the bucket fill up unseen (Graph reports only above 80%) and
		// waste its refill. So a batch goes at the latest after the time
		// the burst took to spend half the bucket, which the refill,
		// slower than the burst, cannot fill.
		if s.ProbeAt.IsZero() {
			s.ProbeAt = now.Add(time.Duration(0.5 * s.Capacity / s.BurstRate * float64(time.Second)))
		}
		if !now.Before(s.ProbeAt) {
			return 0
		}
		d = min(d, s.ProbeAt.Sub(now))
	}
	return d
}

// take records n writes sent at now and returns their flight. Call it when
// delay is 0.
func (s *pacerState) take(cfg pacerConfig, now time.Time, n int) flight {
	s.refill(cfg, now)
	if s.limit(cfg) > 0 {
		s.Tokens -= float64(n)
	}
	if s.FirstSent.IsZero() {
		s.FirstSent = now
	}
	s.ProbeAt = time.Time{}
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
	// Every worker honours a Retry-After, whatever it came with.
	if until := now.Add(a.Pause); a.Pause > 0 && until.After(s.PauseUntil) {
		s.PauseUntil = until
	}
	if a.Lost {
		return
	}
	s.Accepted += float64(a.Accepted)
	// Graph evaluated the batch about halfway through its round trip.
	te := f.SentAt.Add(now.Sub(f.SentAt) / 2)
	// A 429 after the pause of the last ones has ended starts a new wave.
	wave := a.Throttled > 0 && (s.LastThrottle.IsZero() || !now.Before(s.WaveUntil))
	if a.Throttled > 0 && a.HasRetryAfter {
		s.WaveUntil = latest(s.WaveUntil, now.Add(a.RetryAfter))
	}
	if a.Usage > 0 {
		s.UsageSeen = true
		if !s.Near {
			s.approach(cfg, now, sustainedWriteRate)
		}
		p := s.point(te, a.Usage)
		if s.Spending {
			s.Tail = appendPoint(s.Tail, p)
		} else {
			s.Points = appendPoint(s.Points, p)
		}
		if s.Capacity == 0 {
			// A first guess, as if the bucket was full at the start.
			s.Capacity = s.Accepted / a.Usage
		}
		s.fitCapacity(cfg)
		s.fitRate(cfg)
	}
	switch {
	case a.Throttled > 0:
		s.LastThrottle = now
		s.addToWave(wave, te, a)
		if wave && !s.Near {
			s.FarWaves++
		}
		r, ok := s.waveRate()
		switch {
		case !s.Near && ok:
			s.approach(cfg, now, r)
			s.Measured = true
		case !s.Near && !s.UsageSeen && !s.WaveWhole && s.FarWaves < maxFarWaves:
			// A few 429s with a fractional Retry-After: the next wave will
			// be large enough to measure the refill rate. Until then every
			// worker honours the Retry-After, and the burst goes on.
			return
		case !s.Near:
			s.approach(cfg, now, s.fallbackRate())
		case ok && (!s.Measured || len(s.Recoveries) < 3 && !s.UsageSeen):
			// Still the first waves: the more 429s, the better the guess.
			s.setRate(cfg, r)
			s.Measured = true
		}
		// Graph's level at te was one token short of what it would be
		// Retry-After later.
		level := 0.0
		if a.HasRetryAfter {
			if wave && !s.UsageSeen && s.farFromLastRecovery(cfg) {
				// The first 429 of a wave came when the bucket had just
				// run dry: one token short, MinRetryAfter before recovery.
				s.Recoveries = appendPoint(s.Recoveries, levelPoint{T: s.since(te.Add(a.MinRetryAfter)), A: s.Accepted})
				s.fitRecoveries(cfg)
			}
			level = 1 - a.RetryAfter.Seconds()*s.limit(cfg)
		}
		s.sync(cfg, now, te, f, level)
		s.FromUsage = false
	case a.Usage > 0:
		s.sync(cfg, now, te, f, s.Capacity*(1-a.Usage)-s.margin(cfg))
		s.FromUsage = true
	case a.Succeeded > 0 && s.UsageSeen && s.Near:
		// Graph no longer reports the usage: more than a fifth of the
		// quota is left, to be spent as fast as the workers go.
		s.Near, s.Spending = false, false
	}
}

// approach marks the quota as near at now, with rate as the first guess of
// the refill rate.
func (s *pacerState) approach(cfg pacerConfig, now time.Time, rate float64) {
	s.Near, s.Spending, s.Tail = true, true, s.Tail[:0]
	if s.BurstRate == 0 && now.After(s.FirstSent) {
		s.BurstRate = s.Accepted / now.Sub(s.FirstSent).Seconds()
	}
	if s.Rate == 0 {
		s.setRate(cfg, rate)
	}
}

// fallbackRate is the first guess of the refill rate when 429s cannot
// measure it: with a fractional Retry-After Graph would have told it in a
// larger wave, so the guess errs high (half the burst's rate: more 429s
// follow, which measure it); with whole seconds they never will, and the
// documented rate is the best guess.
func (s *pacerState) fallbackRate() float64 {
	if s.WaveWhole || s.BurstRate == 0 {
		return sustainedWriteRate
	}
	return max(sustainedWriteRate, s.BurstRate/2)
}

// sync sets the mirror from Graph's level at te, as seen by the answer to f.
func (s *pacerState) sync(cfg pacerConfig, now, te time.Time, f flight, level float64) {
	after := 0
	for _, g := range s.Flights {
		if g.ID > f.ID {
			after += g.N
		}
	}
	s.Tokens = level + s.limit(cfg)*now.Sub(te).Seconds() - float64(after)
	s.At = now
}

// since is t in seconds since Origin, which it sets on first use.
func (s *pacerState) since(t time.Time) float64 {
	if s.Origin.IsZero() {
		s.Origin = t
	}
	return t.Sub(s.Origin).Seconds()
}

func (s *pacerState) point(te time.Time, u float64) levelPoint {
	return levelPoint{T: s.since(te), U: u, A: s.Accepted}
}

// appendPoint appends p, dropping the oldest point beyond maxPoints.
func appendPoint(ps []levelPoint, p levelPoint) []levelPoint {
	if len(ps) == maxPoints {
		ps = slices.Delete(ps, 0, 1)
	}
	return append(ps, p)
}

// fitCapacity estimates the bucket's size from the observations made while
// the burst was spent: as usage rose from u1 to u2, the writes accepted,
// less what refilled meanwhile, emptied (u2 - u1) of the bucket.
func (s *pacerState) fitCapacity(cfg pacerConfig) {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range s.Tail {
		lo, hi = min(lo, p.U), max(hi, p.U)
	}
	if len(s.Tail) < minTail || hi-lo < minCapacitySpread {
		return
	}
	if b, ok := slope(s.Tail, func(p levelPoint) float64 { return p.U },
		func(p levelPoint) float64 { return p.A - s.Rate*p.T }); ok && b > 0 {
		s.Capacity = max(b, float64(cfg.Batch))
	}
}

// fitRate estimates the refill rate from the observations made while the
// level was held: the level B(1-u) plus the writes accepted grows at the
// refill rate (the bucket is never full then), so r is the slope of A - B·u
// over time.
func (s *pacerState) fitRate(cfg pacerConfig) {
	if len(s.Points) < minRatePoints || s.Capacity == 0 {
		return
	}
	if r, ok := slope(s.Points, func(p levelPoint) float64 { return p.T },
		func(p levelPoint) float64 { return p.A - s.Capacity*p.U }); ok && r > 0 {
		s.setRate(cfg, r)
		s.Measured = true
	}
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// addToWave adds the 429s of an answer evaluated at te to the current
// wave, or starts a new one.
func (s *pacerState) addToWave(start bool, te time.Time, a answer) {
	if start {
		s.WaveThrottled, s.WaveFirst, s.WaveEnd, s.WaveWhole = 0, time.Time{}, time.Time{}, false
	}
	if !a.HasRetryAfter {
		return
	}
	first, end := te.Add(a.MinRetryAfter), te.Add(a.RetryAfter)
	if s.WaveThrottled == 0 || first.Before(s.WaveFirst) {
		s.WaveFirst = first
	}
	if s.WaveThrottled == 0 || end.After(s.WaveEnd) {
		s.WaveEnd = end
	}
	s.WaveThrottled += a.Throttled
	whole := func(d time.Duration) bool { return d%time.Second == 0 }
	s.WaveWhole = s.WaveWhole || whole(a.RetryAfter) || whole(a.MinRetryAfter)
}

// waveRate guesses the refill rate from the current wave of 429s. A
// Retry-After is the time until the bucket holds one token: at most 1/r
// for the first throttled write, and 1/r later for each throttled write
// that still took a token. Whole seconds, or a few 429s (whose Retry-After
// is rounded), say too little.
func (s *pacerState) waveRate() (float64, bool) {
	spread := s.WaveEnd.Sub(s.WaveFirst)
	if s.WaveThrottled < minWave || s.WaveWhole || spread < minWaveSpread {
		return 0, false
	}
	return float64(s.WaveThrottled-1) / spread.Seconds(), true
}

// farFromLastRecovery reports whether enough writes were accepted since the
// last recovery point for the next to measure the refill, rather than the
// throttled writes of a wave that may or may not have taken tokens.
func (s *pacerState) farFromLastRecovery(cfg pacerConfig) bool {
	n := len(s.Recoveries)
	return n == 0 || s.Accepted-s.Recoveries[n-1].A >= recoverySpacing*float64(cfg.Batch)
}

// fitRecoveries estimates the refill rate from the recovery times: between
// two of them the level went from one token back to one token, so the
// writes accepted in between are what refilled: A = c + r·t. (Throttled
// writes that took a token are not counted, which errs on the slow side.)
func (s *pacerState) fitRecoveries(cfg pacerConfig) {
	if len(s.Recoveries) < 3 {
		return
	}
	if r, ok := slope(s.Recoveries, func(p levelPoint) float64 { return p.T },
		func(p levelPoint) float64 { return p.A }); ok && r > 0 {
		s.setRate(cfg, r)
		s.Measured = true
	}
}

// slope is the least-squares slope of y over x.
func slope(ps []levelPoint, x, y func(levelPoint) float64) (float64, bool) {
	n := float64(len(ps))
	var mx, my float64
	for _, p := range ps {
		mx, my = mx+x(p), my+y(p)
	}
	mx, my = mx/n, my/n
	var sxx, sxy float64
	for _, p := range ps {
		dx := x(p) - mx
		sxx += dx * dx
		sxy += dx * (y(p) - my)
	}
	if sxx <= 0 {
		return 0, false
	}
	return sxy / sxx, true
}

func (s *pacerState) setRate(cfg pacerConfig, r float64) {
	if cfg.MaxRate > 0 {
		r = min(r, cfg.MaxRate)
	}
	s.Rate = max(r, minRate)
}

// Pacer is the one pacer shared by every worker: when the quota is nearly
// spent every worker slows down, and a Retry-After pauses them all (the
// rclone lib/pacer model).
type Pacer struct {
	cfg pacerConfig
	now func() time.Time

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
// quota) and counts them as sent; pass the ticket to Done with the answer.
func (p *Pacer) Wait(ctx context.Context, n int) (Ticket, error) {
	for {
		p.mu.Lock()
		now := p.now()
		d := p.st.delay(p.cfg, now, n)
		if d <= 0 {
			f := p.st.take(p.cfg, now, n)
			p.mu.Unlock()
			return Ticket{f}, nil
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
	p.st.observe(p.cfg, p.now(), t.f, a)
	close(p.changed)
	p.changed = make(chan struct{})
}

// Rate reports the pacer's current limit in writes per second (0: none).
func (p *Pacer) Rate() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.st.limit(p.cfg)
}

// throttleUsageHeader is Graph's report of how much of a limit is used,
// sent once more than 80% is
// (https://learn.microsoft.com/graph/throttling-limits#regular-responses-requests).
const throttleUsageHeader = "x-ms-throttle-limit-percentage"

// throttleScopeHeader names the limit a 429 comes from
// (https://learn.microsoft.com/graph/throttling-limits#throttled-responses-requests),
// e.g. Tenant_Application/Write/{app}/{tenant}.
const throttleScopeHeader = "x-ms-throttle-scope"

// batchAnswer sums up the answer to a batch for the pacer. Only the 429s
// that name a limit in x-ms-throttle-scope measure the quota; others (a
// service under load, a gateway) are honoured but say nothing about it.
func batchAnswer(res *graph.BatchResult, now time.Time) answer {
	var a answer
	for _, resp := range res.Responses {
		switch {
		case resp.Status == http.StatusTooManyRequests:
			// Only the Retry-After is needed: reading the header alone
			// spares parsing the error body, which the pool reads anyway.
			ra, ok := graph.ParseRetryAfter(resp.Header("Retry-After"), now)
			if !ok {
				if resp.Header(throttleScopeHeader) != "" {
					a.Throttled++
				}
				continue
			}
			a.Pause = max(a.Pause, ra)
			if resp.Header(throttleScopeHeader) == "" {
				continue
			}
			a.Throttled++
			if !a.HasRetryAfter || ra < a.MinRetryAfter {
				a.MinRetryAfter = ra
			}
			a.HasRetryAfter = true
			a.RetryAfter = max(a.RetryAfter, ra)
		case resp.Status >= 500:
			// Not evaluated against the quota; a Retry-After is honoured.
			if ra, ok := graph.ParseRetryAfter(resp.Header("Retry-After"), now); ok {
				a.Pause = max(a.Pause, ra)
			}
		default:
			a.Accepted++
			if resp.Status >= 200 && resp.Status <= 299 {
				a.Succeeded++
				a.Usage = max(a.Usage, parseUsage(resp.Header(throttleUsageHeader)))
			}
		}
	}
	return a
}

// outerAnswer is what a failed $batch tells the pacer: its Retry-After (an
// outer 429 or 503) pauses every worker; nothing about the quota, which
// Graph applies to each request inside the batch
// (https://learn.microsoft.com/graph/json-batching#throttling).
func outerAnswer(err error) answer {
	var gerr *graph.Error
	if !errors.As(err, &gerr) {
		return answer{Lost: true}
	}
	a := answer{Lost: true}
	if gerr.HasRetryAfter {
		a.Pause = max(gerr.RetryAfter, 0)
	}
	return a
}

// parseUsage reads x-ms-throttle-limit-percentage: documented as a share
// from 0.8 to 1.8; a value above 10 is taken as a percentage. Anything
// unreadable is 0 (no usage reported).
func parseUsage(v string) float64 {
	if v == "" {
		return 0
	}
	u, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || math.IsNaN(u) || math.IsInf(u, 0) || u <= 0 {
		return 0
	}
	if u > 10 {
		u /= 100
	}
	return u
}
