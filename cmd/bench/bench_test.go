package main

import (
	"testing"
	"time"
)

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 30000: "30,000", 1000000: "1,000,000", -5: "-5"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	for v, want := range map[string]time.Duration{
		"2": 2 * time.Second, "0.249": 249 * time.Millisecond, "": 0, "soon": 0, "-1": 0,
	} {
		if got := retryAfter(v); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", v, got, want)
		}
	}
}

// TestQuotaScale checks the figures' arithmetic: at the default scale the
// quota-bound minimum for 10 × the burst is 15 s, and unscaled it is Entra's
// 22.5 minutes.
func TestQuotaScale(t *testing.T) {
	for scale, want := range map[float64]time.Duration{90: 15 * time.Second, 1: 1350 * time.Second} {
		b := &bench{timeScale: scale}
		o := b.quotaOptions(quotaUsers(), 1, false)
		if got := minimum(o, quotaUsers()); (got - want).Abs() > time.Millisecond {
			t.Errorf("scale %g: minimum %v, want %v", scale, got, want)
		}
		if o.WriteBurst != 3000 || o.ThrottledAccrue != 1 || !o.FractionalRetryAfter || o.LatencyFunc == nil {
			t.Errorf("scale %g: options %v", scale, o)
		}
	}
}
