package worker

import (
	"math"
	"time"
)

// Telling the bucket's 429s from others. Graph may answer 429 for reasons
// other than the write bucket (another limit, a backend fault), at a share
// of writes that does not depend on the send rate. Each wave of them looks
// like an empty bucket whose refill is what Graph accepted, a little below
// what the pacer sent, so every fit cuts the rate a little more, and the
// pacer would crawl. The token bucket itself tells them apart: its refill
// does not depend on the send rate, so once the pacer sends at half the
// rate it did, the share of writes Graph accepts at least doubles (or the
// 429s stop); 429s that do not care about the rate keep the same share.

const (
	// calmWrites is how many writes accepted without a 429 end a run of
	// waves: the cuts brought the rate below the refill.
	calmWrites = 100.0
	// runSpan is how many writes the run answers first, at the rate it
	// started at (the reference), and then at half that rate or less, to
	// compare the shares Graph accepted.
	runSpan = 100.0
	// runLow is the rate, as a share of the reference's, at or below which
	// the run compares.
	runLow = 0.5
	// runKeep bounds how far the throttled shares at the reference and at
	// the low rates may differ, as a ratio, for the 429s not to be the
	// bucket's: a bucket whose refill kept Graph accepting more than half
	// the writes at the reference would throttle none at half that rate,
	// and a refill that fell throttles more.
	runKeep = 0.5
	// maxNoiseKept is the least share of writes Graph must accept at
	// both ends for the 429s to be taken for others than the bucket's:
	// with more throttled, the pacer sends far above the refill, where
	// halving the rate may leave a bucket still empty.
	maxNoiseKept = 0.5
)

// waveRun follows a run of waves of 429s with no calm between them: the
// rate it started at, the writes answered and throttled over its first
// runSpan writes (the reference) and their mean rate, and the share
// throttled of the latest writes answered since, while the rate was runLow
// of that or less.
type waveRun struct {
	// Start is the rate after the first wave of the run, seen at Since;
	// Start 0: no run.
	Start float64
	Since time.Time
	// RefN and RefT count the writes answered and throttled first, up to
	// runSpan, of batches sent after Since, and RefRate is the sum of the
	// rate over them, each answer weighed by its writes.
	RefN, RefT, RefRate float64
	// LowSince is when a wave first brought the rate to runLow × the
	// reference's mean or less. LowN counts the writes answered, of
	// batches sent since, while the rate stayed there, and LowShare is the
	// share throttled, averaged over about the latest runSpan of them.
	LowSince       time.Time
	LowN, LowShare float64
}

// count adds an answer, to a batch sent at sent, received while the pacer
// sent at rate.
func (r *waveRun) count(rate float64, sent time.Time, a answer) {
	if r.Start == 0 || sent.Before(r.Since) {
		return
	}
	n, t := float64(a.Accepted+a.Throttled), float64(a.Throttled)
	switch {
	case r.RefN < runSpan:
		r.RefN, r.RefT, r.RefRate = r.RefN+n, r.RefT+t, r.RefRate+rate*n
	case !r.LowSince.IsZero() && !sent.Before(r.LowSince) && rate <= runLow*r.RefRate/r.RefN:
		d := math.Pow(1-1/runSpan, n)
		if r.LowN == 0 {
			d = 0
		}
		r.LowN, r.LowShare = r.LowN+n, r.LowShare*d+(1-d)*t/n
	}
}

// wave records a wave seen at now, after which the pacer sends at rate,
// calm writes accepted since the one before, and reports whether the run
// shows the 429s are not the bucket's, with their share.
func (r *waveRun) wave(now time.Time, rate, calm float64) (float64, bool) {
	if r.Start == 0 || calm >= calmWrites {
		*r = waveRun{Start: rate, Since: now}
		return 0, false
	}
	if r.LowSince.IsZero() && r.RefN >= runSpan && rate <= runLow*r.RefRate/r.RefN {
		// Batches sent from now on go at half the rate or less; those in
		// flight went faster.
		r.LowSince = now
	}
	if r.RefN < runSpan || r.LowN < runSpan {
		return 0, false
	}
	ref, low := r.RefT/r.RefN, r.LowShare
	if 1-ref < maxNoiseKept || 1-low < maxNoiseKept || low < runKeep*ref || ref < runKeep*low {
		// The bucket's: far fewer throttled at the lower rate, or far
		// more (its refill fell), or so many that the pacer sends far
		// above the refill.
		return 0, false
	}
	return low, true
}
