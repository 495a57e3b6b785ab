package main

import (
	"testing"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
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
		if got := quotaMinimum(o, quotaUsers()); (got - want).Abs() > time.Millisecond {
			t.Errorf("scale %g: minimum %v, want %v", scale, got, want)
		}
		if o.WriteBurst != 3000 || o.ThrottledAccrue != 1 || !o.FractionalRetryAfter || o.LatencyFunc == nil {
			t.Errorf("scale %g: options %v", scale, o)
		}
	}
}

// TestMatrixMinimum checks the pacing matrix's bounds: the tightest bucket
// at the start and the slowest refill, scaled.
func TestMatrixMinimum(t *testing.T) {
	b := &bench{timeScale: 90}
	want := []time.Duration{
		15 * time.Second,     // (30,000 - 3,000) / 1,800
		secs(12000.0 / 720),  // (15,000 - 3,000) / (60 - 52) / 90
		secs(59500.0 / 5400), // (60,000 - 500) / 5,400
	}
	for i, sh := range bucketShapes {
		o := b.matrixOptions(sh, graphsim.ThrottleHeadersRetryAfter)
		if got := quotaMinimum(o, sh.users); (got - want[i]).Abs() > time.Millisecond {
			t.Errorf("%s: minimum %v, want %v", sh.name, got, want[i])
		}
		if o.ThrottledCost != 0.25 || o.ThrottleHeaders != graphsim.ThrottleHeadersRetryAfter || !o.OmitUsageHeader {
			t.Errorf("%s: options %+v", sh.name, o)
		}
	}
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
