package worker

import (
	"math"
	"time"
)

// Estimating the refill rate from the moments Graph's bucket was empty.

const (
	// sustainedWriteRate is the documented refill rate (3,000 per 150 s),
	// the least first guess of the refill rate.
	sustainedWriteRate = 20.0
	// minRate is the floor below which the pacer never slows down.
	minRate = 0.5
	// maxEmpties bounds the empty moments the fit uses: the latest ones,
	// so that a refill that changes (another application starts or stops
	// writing) is followed.
	maxEmpties = 6
	// minSpanBatches is how many batches Graph must have accepted between
	// the first and the last empty moment for the fit to be trusted; with
	// fewer, a 429 halves the rate instead.
	minSpanBatches = 5
	// backoffShare is how much slower than the measured refill the pacer
	// sends after a wave of 429s, so that the bucket holds a little and
	// the next 429 comes only once the probe has gone past the refill.
	backoffShare = 0.08
	// The probe raises the rate by probeGrowth (in natural log) per write
	// accepted, multiplied by 1 + calm/probeAccel for calm writes accepted
	// since the last wave: slowly at first, so that 429s stay rare, then
	// faster and faster, so that quota that was freed is found.
	probeGrowth = 1.0 / 8000
	probeAccel  = 2000.0
	// maxHold bounds how many times slower than its rate the pacer sends
	// while the bucket stays empty.
	maxHold = 1024.0
	// shareWindow is how many writes the moving throttled share averages
	// over.
	shareWindow = 100.0
)

// point is one moment the bucket was empty.
type point struct {
	T float64 // seconds since rateEstimate.Origin
	A float64 // writes Graph had accepted by then
	H float64 // writes Graph had throttled by then
}

// rateEstimate learns the refill rate. Its methods take the time as a
// parameter and never read a clock.
type rateEstimate struct {
	// Rate is the rate the pacer sends at while the quota is near: the
	// measured refill, less the backoff, raised by the probe; 0 until the
	// first 429.
	Rate float64
	// Fit is the refill rate last measured; 0 until one is.
	Fit float64
	// Accepted counts the writes Graph accepted (took from the quota), and
	// LastAccepted is when the last one was answered.
	Accepted     float64
	LastAccepted time.Time
	// Throttled counts the writes Graph answered 429.
	Throttled float64
	// Origin is time zero of the empty moments, the first batch's sending.
	Origin time.Time
	// Empties are the latest moments the bucket was empty: the first 429 of
	// each wave.
	Empties []point
	// WaveSeen is when the current wave of 429s was first seen: a 429 of a
	// batch sent before then belongs to it.
	WaveSeen time.Time
	// Calm counts the writes accepted since the last wave.
	Calm float64
	// Share is the share of writes answered 429, averaged over about the
	// last shareWindow writes.
	Share float64
	// Run tells whether the latest waves of 429s were the bucket's
	// (pacer_run.go); Noise is the share of writes Graph answers 429
	// whatever the send rate, once a run showed some (0: none).
	Run   waveRun
	Noise float64
	// Hold divides the rate while the bucket stays empty: it doubles with
	// each wave that found nothing accepted since the one before, and is
	// back to 1 once Graph accepts a write (0 means 1).
	Hold float64
}

// rate is the rate to send at while the quota is near.
func (e *rateEstimate) rate() float64 { return max(e.Rate/max(e.Hold, 1), minRate) }

// observe learns from an answer evaluated at te, to a batch sent at sent,
// and reports whether it began a new wave of 429s.
func (e *rateEstimate) observe(cfg pacerConfig, now, te, sent time.Time, a answer) bool {
	if e.Origin.IsZero() || sent.Before(e.Origin) {
		e.Origin = sent
	}
	e.Accepted += float64(a.Accepted)
	e.Throttled += float64(a.Throttled)
	if a.Accepted > 0 {
		e.LastAccepted, e.Hold = now, 1
	}
	if n := a.Accepted + a.Throttled; n > 0 {
		d := math.Pow(1-1/shareWindow, float64(n))
		e.Share = e.Share*d + (1-d)*float64(a.Throttled)/float64(n)
		e.Run.count(e.Rate, sent, a)
	}
	if e.Noise > 0 && e.Share < e.Noise/4 {
		e.Noise = 0 // the other 429s are gone
	}
	if a.Throttled == 0 || e.noise() {
		// Nothing throttled, or no more than the 429s that come whatever
		// the rate: the probe goes on.
		if e.Rate > 0 && cfg.MaxRate == 0 {
			n := float64(a.Accepted)
			e.Rate *= math.Exp(probeGrowth * n * (1 + e.Calm/probeAccel))
			e.Calm += n
		}
		return false
	}
	if !e.WaveSeen.IsZero() && sent.Before(e.WaveSeen) {
		return false // the pacer did not know of the wave when it sent
	}
	calm := e.Calm
	e.WaveSeen, e.Calm = now, 0
	if n := len(e.Empties); n > 0 && e.Accepted == e.Empties[n-1].A {
		// Nothing accepted since the bucket was last seen empty: it never
		// refilled, because Graph took what it refilled for the attempts
		// it throttled (a debt), or the rate is far above the refill.
		// Either way this moment tells nothing of the refill: the rate
		// stays, and the pacer waits twice as long before the next try,
		// as an unpaced client would back off.
		e.Hold = min(max(e.Hold, 1)*2, maxHold)
		return true
	}
	if len(e.Empties) == maxEmpties {
		e.Empties = e.Empties[1:]
	}
	e.Empties = append(e.Empties, point{T: te.Sub(e.Origin).Seconds(), A: e.Accepted, H: e.Throttled})
	switch r, ok := e.fit(cfg); {
	case ok:
		e.Fit, e.Rate = r, r*(1-backoffShare)
	case e.Rate == 0:
		e.Rate = e.firstGuess()
	case e.Fit > 0:
		// Waves too close to measure, after a measure: the refill is
		// lower than it was, or the probe went past it. Each such wave
		// cuts the rate, but not below what Graph accepted over them:
		// answers bunched by a stall also come in close waves.
		e.Rate = max(min(e.Rate, e.Fit), e.accepted()) * (1 - backoffShare)
	default:
		r := e.Rate / 2
		if b := e.bound(); b > 0 {
			r = min(r, b)
		}
		e.Rate = max(r, e.upper())
	}
	if cfg.MaxRate > 0 {
		e.Rate = min(e.Rate, cfg.MaxRate)
	}
	e.Rate = max(e.Rate, minRate)
	if share, ok := e.Run.wave(now, e.Rate, calm); ok {
		// Halving the rate did not change the share throttled: these
		// 429s are not the bucket's. Back to the rate the run started
		// at, forgetting the moments the bucket seemed empty; from now
		// on, as many 429s as that (the most a run showed) are not a
		// wave.
		e.Noise, e.Rate, e.Fit, e.Empties = max(e.Noise, share), max(e.Rate, e.Run.Start), 0, nil
		e.Run = waveRun{}
		return false
	}
	return true
}

// noise reports whether the share of writes throttled lately is no more
// than that of the 429s that come whatever the rate: a margin above
// Noise, for the randomness of a share over shareWindow writes.
func (e *rateEstimate) noise() bool {
	return e.Noise > 0 && e.Share <= 1.5*e.Noise+0.05
}

// firstGuess is the rate at the first wave, before anything is measured:
// half the rate at which the burst was spent, and at least the documented
// refill. Erring high costs a few 429s, which measure the refill; erring
// low would let the bucket fill up unseen.
func (e *rateEstimate) firstGuess() float64 {
	p := e.Empties[len(e.Empties)-1]
	if p.T <= 0 {
		return sustainedWriteRate
	}
	return max(sustainedWriteRate, p.A/p.T/2)
}

// accepted is the rate at which Graph accepted writes over the latest
// empty moments: the refill, less what throttled attempts cost.
func (e *rateEstimate) accepted() float64 {
	first, last := e.Empties[0], e.Empties[len(e.Empties)-1]
	if last.T <= first.T {
		return 0
	}
	return (last.A - first.A) / (last.T - first.T)
}

// upper guesses the refill rate high while the fit cannot be trusted yet:
// the writes accepted since the first empty moment, plus half the
// throttled ones (which cost something, up to a full write, and right
// after the burst are many), are what refilled.
func (e *rateEstimate) upper() float64 {
	first, last := e.Empties[0], e.Empties[len(e.Empties)-1]
	if last.T <= first.T {
		return 0
	}
	return (last.A - first.A + (last.H-first.H)/2) / (last.T - first.T)
}

// bound is the most the bucket can have refilled between the last two
// empty moments, if every write Graph throttled cost a full write: the
// pacer need not send faster than that (0: no bound).
func (e *rateEstimate) bound() float64 {
	if len(e.Empties) < 2 {
		return 0
	}
	p, q := e.Empties[len(e.Empties)-2], e.Empties[len(e.Empties)-1]
	if q.T <= p.T {
		return 0
	}
	return (q.A - p.A + q.H - p.H) / (q.T - p.T)
}

// fit is the refill rate measured from the empty moments: between two of
// them the bucket went from empty to empty, so the writes accepted, and
// what the throttled attempts cost (between nothing and a full write each:
// half), are what refilled, A + H/2 = c + r·T. It is trusted once the moments span at least
// minSpanBatches batches accepted.
func (e *rateEstimate) fit(cfg pacerConfig) (float64, bool) {
	ps := e.Empties
	if len(ps) < 2 || ps[len(ps)-1].A-ps[0].A < minSpanBatches*float64(cfg.Batch) {
		return 0, false
	}
	n := float64(len(ps))
	var mx, my float64
	for _, p := range ps {
		mx, my = mx+p.T, my+p.A+p.H/2
	}
	mx, my = mx/n, my/n
	var sxx, sxy float64
	for _, p := range ps {
		sxx += (p.T - mx) * (p.T - mx)
		sxy += (p.T - mx) * (p.A + p.H/2 - my)
	}
	if sxx <= 0 || sxy <= 0 {
		return 0, false
	}
	return sxy / sxx, true
}
