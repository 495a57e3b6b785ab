package graphsim

import (
	"math"
	"strconv"
	"time"
)

// bucket is the write quota: burst tokens, refilled at rate per second. Graph
// describes its identity limits as a token bucket
// (https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits).
// Time is passed in, so the bucket is tested with a fake clock.
type bucket struct {
	burst, rate float64
	tokens      float64
	last        time.Time
	started     bool
}

// enabled reports whether the quota is enforced at all.
func (b *bucket) enabled() bool { return b.burst > 0 && b.rate > 0 }

func (b *bucket) refill(now time.Time) {
	if !b.started {
		b.tokens, b.last, b.started = b.burst, now, true
		return
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = math.Min(b.burst, b.tokens+d.Seconds()*b.rate)
		b.last = now
	}
}

// take spends one token if there is one.
func (b *bucket) take(now time.Time) bool {
	if !b.enabled() {
		return true
	}
	b.refill(now)
	if b.tokens >= 1 {
		b.tokens--
		return true
	}
	return false
}

// charge spends a token that is not there, for a throttled request that still
// counts against the quota; the debt is at most one bucket.
func (b *bucket) charge() {
	b.tokens = math.Max(b.tokens-1, -b.burst)
}

// wait is how long until a token is available, as of the last take.
func (b *bucket) wait() time.Duration {
	if !b.enabled() || b.tokens >= 1 {
		return 0
	}
	return time.Duration(math.Round((1 - b.tokens) / b.rate * float64(time.Second)))
}

// formatRetryAfter renders a wait as Retry-After: whole seconds rounded up
// (at least 1), or seconds with millisecond precision rounded up (at least
// 0.001) when fractional, like Graph's "0.249".
func formatRetryAfter(wait time.Duration, fractional bool) string {
	if fractional {
		ms := max(int64(math.Ceil(float64(wait)/float64(time.Millisecond))), 1)
		return strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)
	}
	secs := max(int64(math.Ceil(wait.Seconds())), 1)
	return strconv.FormatInt(secs, 10)
}
