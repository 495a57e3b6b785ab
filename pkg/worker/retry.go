package worker

import (
	"net/http"
	"time"
)

// Backoff bounds for retries that come without a Retry-After.
const (
	backoffBase = time.Second
	backoffMax  = 32 * time.Second
)

// retryable reports whether a sub-request (or a whole $batch) answered with
// status may succeed when sent again: throttling and transient service errors
// (https://learn.microsoft.com/graph/throttling and
// https://learn.microsoft.com/graph/errors). Everything else is final for the row.
func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests,
		http.StatusInternalServerError,
		http.StatusBadGateway,
		http.StatusServiceUnavailable,
		http.StatusGatewayTimeout:
		return true
	}
	return false
}

// retryDelay is how long a row waits before its next attempt. attempt is the
// number of attempts made so far (1 after the first). A Retry-After from Graph
// is honoured exactly; without one the delay grows exponentially from
// backoffBase up to backoffMax, and jitter in [0,1) spreads it over its upper
// half so that rows failed together are not resent together.
func retryDelay(attempt int, retryAfter time.Duration, hasRetryAfter bool, jitter float64) time.Duration {
	return backoff(backoffBase, backoffMax, attempt, retryAfter, hasRetryAfter, jitter)
}

// backoff is the delay policy of every retry here: Retry-After when Graph
// gave one, else base doubled per attempt after the first, up to most, with
// jitter in [0,1] spreading it over its upper half (1: the full delay).
func backoff(base, most time.Duration, attempt int, retryAfter time.Duration, hasRetryAfter bool, jitter float64) time.Duration {
	if hasRetryAfter {
		return max(retryAfter, 0)
	}
	d := base
	for i := 1; i < attempt && d < most; i++ {
		d *= 2
	}
	d = min(d, most)
	jitter = min(max(jitter, 0), 1)
	return d/2 + time.Duration(float64(d/2)*jitter)
}
