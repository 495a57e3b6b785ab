package worker

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graph"
)

func TestRetryDelay(t *testing.T) {
	tests := []struct {
		name          string
		attempt       int
		retryAfter    time.Duration
		hasRetryAfter bool
		jitter        float64
		want          time.Duration
	}{
		{"fractional Retry-After honoured exactly", 1, 249 * time.Millisecond, true, 0.9, 249 * time.Millisecond},
		{"whole Retry-After", 5, 3 * time.Second, true, 0, 3 * time.Second},
		{"zero Retry-After", 2, 0, true, 0.5, 0},
		{"negative Retry-After clamps to zero", 1, -time.Second, true, 0, 0},
		{"first backoff, no jitter", 1, 0, false, 0, 500 * time.Millisecond},
		{"first backoff, full jitter", 1, 0, false, 0.999999, 999999 * time.Microsecond},
		{"third backoff", 3, 0, false, 0, 2 * time.Second},
		{"backoff capped", 30, 0, false, 0, backoffMax / 2},
		{"jitter out of range clamps", 1, 0, false, 7, time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := retryDelay(tc.attempt, tc.retryAfter, tc.hasRetryAfter, tc.jitter)
			if diff := got - tc.want; diff < -time.Microsecond || diff > time.Microsecond {
				t.Errorf("retryDelay(%d, %v, %v, %v) = %v, want %v", tc.attempt, tc.retryAfter, tc.hasRetryAfter, tc.jitter, got, tc.want)
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	for status, want := range map[int]bool{
		204: false, 400: false, 401: false, 403: false, 404: false, 409: false,
		429: true, 500: true, 502: true, 503: true, 504: true, 501: false,
	} {
		if got := retryable(status); got != want {
			t.Errorf("retryable(%d) = %v, want %v", status, got, want)
		}
	}
}

// TestPacerPolicy drives the pure pacing policy with batches sent and
// answered at given times, and checks what it lets through.
func TestPacerPolicy(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	// A step sends a batch of send writes, answers the batch sent at index
	// ans (when ans >= 0) with a, or asks how long a batch of 20 must wait.
	type step struct {
		at   time.Duration
		send int
		ans  int
		a    answer
		wait time.Duration // checked when check
		chk  bool
	}
	send := func(at time.Duration, n int) step { return step{at: at, send: n, ans: -1} }
	reply := func(at time.Duration, i int, a answer) step { return step{at: at, ans: i, a: a} }
	wait := func(at, want time.Duration) step { return step{at: at, ans: -1, wait: want, chk: true} }
	ok20 := answer{Accepted: 20, Succeeded: 20}
	tests := []struct {
		name         string
		cfg          pacerConfig
		steps        []step
		wantNear     bool
		wantRate     float64 // checked within 1% when not 0
		wantCapacity float64 // checked within 1% when not 0
	}{
		{name: "the burst goes as fast as the workers while Graph says nothing",
			steps: []step{
				send(0, 20), send(0, 20), send(0, 20), send(0, 20), wait(0, 0),
				reply(50*ms, 0, ok20), reply(50*ms, 1, ok20), wait(50*ms, 0),
			}},
		{name: "--max-rate caps the rate from the start", cfg: pacerConfig{MaxRate: 10},
			steps:    []step{wait(0, 0), send(0, 20), wait(0, 2*time.Second), wait(time.Second, time.Second)},
			wantRate: 0},
		{name: "a Retry-After pauses every worker; the longest wins",
			steps: []step{
				send(0, 20), send(0, 20),
				reply(100*ms, 0, answer{Accepted: 19, Succeeded: 19, Pause: 3 * time.Second}),
				reply(200*ms, 1, answer{Pause: time.Second}),
				wait(300*ms, 2800*ms), wait(3100*ms, 0),
			}},
		{name: "a 429 without x-ms-throttle-scope is honoured but is not the quota",
			steps: []step{
				send(0, 20), reply(100*ms, 0, answer{Accepted: 19, Succeeded: 19, Pause: 250 * ms}),
				wait(100*ms, 250*ms), wait(350*ms, 0), send(350*ms, 20), wait(350*ms, 0),
			}},
		{name: "the usage header: the quota is near, the bucket guessed full at the start",
			steps: []step{
				send(0, 20), send(0, 20), send(0, 20), send(0, 20),
				reply(100*ms, 0, ok20), reply(100*ms, 1, ok20), reply(100*ms, 2, ok20),
				// 80 accepted make 80% of the bucket: 100 writes, 20 left,
				// all of them the margin. At the documented 20 per second a
				// batch would wait a second, but that is a guess: it goes
				// after the time the burst (800/s) took to spend half the
				// bucket, 62.5 ms, to measure the refill.
				reply(100*ms, 3, answer{Accepted: 20, Succeeded: 20, Usage: 0.8}),
				wait(100*ms, 62500*time.Microsecond), wait(162500*time.Microsecond, 0),
			},
			wantNear: true, wantRate: sustainedWriteRate, wantCapacity: 100},
		{name: "Graph stops sending the usage header: more than a fifth is left, spend it",
			steps: []step{
				send(0, 20), send(0, 20), send(0, 20), send(0, 20),
				reply(100*ms, 0, ok20), reply(100*ms, 1, ok20), reply(100*ms, 2, ok20),
				reply(100*ms, 3, answer{Accepted: 20, Succeeded: 20, Usage: 0.8}),
				send(2*time.Second, 20), reply(2100*ms, 4, ok20), wait(2100*ms, 0),
			},
			wantCapacity: 100},
		{name: "a wave of accruing 429s measures the refill rate",
			steps: []step{
				// 20 429s whose Retry-After grows by 1/200 s each.
				send(0, 20), reply(100*ms, 0, answer{Throttled: 20, HasRetryAfter: true, MinRetryAfter: 100 * ms, RetryAfter: 195 * ms, Pause: 195 * ms}),
				// Honoured, then the mirror restarts one token short
				// 195 ms before (level 1-39 = -38 tokens at 50 ms):
				// 58 tokens at 200/s after 50 ms are there at 340 ms.
				wait(100*ms, 195*ms), wait(295*ms, 45*ms),
			},
			wantNear: true, wantRate: 200},
		{name: "whole seconds say too little: the documented rate",
			steps: []step{
				send(0, 20), reply(100*ms, 0, answer{Throttled: 20, HasRetryAfter: true, MinRetryAfter: time.Second, RetryAfter: time.Second, Pause: time.Second}),
				wait(100*ms, time.Second),
			},
			wantNear: true, wantRate: sustainedWriteRate},
		{name: "without the usage header the rate creeps up while nothing is throttled",
			steps: []step{
				send(0, 20), reply(0, 0, answer{Throttled: 20, HasRetryAfter: true, MinRetryAfter: time.Second, RetryAfter: time.Second, Pause: time.Second}),
				wait(3*time.Second, 0), // 1 s pause, then 2 s of calm past probeAfter: 2% a second
			},
			wantNear: true, wantRate: sustainedWriteRate * 1.04},
		{name: "a lost answer teaches nothing",
			steps: []step{
				// What it carries would bring the mirror near the limit, were
				// it believed.
				send(0, 20), reply(100*ms, 0, answer{Lost: true, Accepted: 20, Succeeded: 20, Usage: 0.95}), wait(100*ms, 0),
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s pacerState
			cfg := tc.cfg
			if cfg.Batch == 0 {
				cfg.Batch = 20
			}
			var sent []flight
			for i, st := range tc.steps {
				now := t0.Add(st.at)
				switch {
				case st.send > 0:
					sent = append(sent, s.take(cfg, now, st.send))
				case st.ans >= 0:
					s.observe(cfg, now, sent[st.ans], st.a)
				case st.chk:
					if got := s.delay(cfg, now, 20); (got - st.wait).Abs() > time.Microsecond {
						t.Errorf("step %d at %v: a batch of 20 waits %v, want %v", i, st.at, got, st.wait)
					}
				}
			}
			if s.Near != tc.wantNear {
				t.Errorf("near %t, want %t", s.Near, tc.wantNear)
			}
			if tc.wantRate != 0 && math.Abs(s.Rate-tc.wantRate) > 0.01*tc.wantRate {
				t.Errorf("rate %.2f, want %.2f", s.Rate, tc.wantRate)
			}
			if tc.wantCapacity != 0 && math.Abs(s.Capacity-tc.wantCapacity) > 0.01*tc.wantCapacity {
				t.Errorf("capacity %.1f, want %.1f", s.Capacity, tc.wantCapacity)
			}
		})
	}
}

// TestPacerFits checks the estimates against a bucket whose answers are
// computed exactly: size and refill from the usage header while the burst
// is spent and the level held, the refill from 429s' recovery times alone.
func TestPacerFits(t *testing.T) {
	const burst, rate = 3000.0, 20.0
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	t.Run("usage header", func(t *testing.T) {
		var s pacerState
		cfg := pacerConfig{Batch: 20}
		tokens, now := burst, t0
		// One batch every 100 ms while the burst lasts (200/s), then one
		// a second (the refill); each evaluated at once, answered 50 ms later.
		for i := 0; i < 400; i++ {
			step := 100 * time.Millisecond
			if tokens < 100 {
				step = time.Second
			}
			now = now.Add(step)
			tokens = math.Min(burst, tokens+rate*step.Seconds()) - 20
			f := s.take(cfg, now, 20)
			a := answer{Accepted: 20, Succeeded: 20}
			if u := 1 - tokens/burst; u > usageVisible {
				a.Usage = math.Round(u*1000) / 1000 // as sent: three decimals
			}
			s.observe(cfg, now.Add(50*time.Millisecond), f, a)
		}
		if math.Abs(s.Capacity-burst) > 0.05*burst {
			t.Errorf("capacity %.0f, want %.0f within 5%%", s.Capacity, burst)
		}
		if math.Abs(s.Rate-rate) > 0.02*rate {
			t.Errorf("rate %.2f, want %.2f within 2%%", s.Rate, rate)
		}
	})
	t.Run("recovery times", func(t *testing.T) {
		var s pacerState
		cfg := pacerConfig{Batch: 20}
		now := t0
		s.Near, s.Rate = true, sustainedWriteRate
		// Every 30 s, after 600 writes accepted, a wave of 429s says the
		// bucket holds a token again 50 ms later.
		for i := 0; i < 10; i++ {
			for j := 0; j < 29; j++ {
				f := s.take(cfg, now, 20)
				s.observe(cfg, now, f, answer{Accepted: 20, Succeeded: 20})
				now = now.Add(time.Second)
			}
			f := s.take(cfg, now, 20)
			s.observe(cfg, now, f, answer{Accepted: 20, Succeeded: 20})
			f = s.take(cfg, now, 20)
			s.observe(cfg, now, f, answer{Throttled: 20, HasRetryAfter: true, MinRetryAfter: 50 * time.Millisecond, RetryAfter: time.Second, Pause: time.Second})
			now = now.Add(time.Second)
		}
		if math.Abs(s.Rate-rate) > 0.02*rate {
			t.Errorf("rate %.2f, want %.2f within 2%%", s.Rate, rate)
		}
	})
}

func TestParseUsage(t *testing.T) {
	for in, want := range map[string]float64{
		"0.85": 0.85, " 1.2 ": 1.2, "1.8": 1.8, "85": 0.85, "180": 1.8,
		"": 0, "abc": 0, "-1": 0, "0": 0, "NaN": 0, "Inf": 0,
	} {
		if got := parseUsage(in); math.Abs(got-want) > 1e-12 {
			t.Errorf("parseUsage(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestBatchAnswer(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	quota := func(ra string) graph.Response {
		return graph.Response{Status: 429, Headers: map[string]string{"Retry-After": ra, "X-Ms-Throttle-Scope": "Tenant_Application/Write/a/t"}}
	}
	res := &graph.BatchResult{Responses: map[string]graph.Response{
		"0": {Status: 204, Headers: map[string]string{"x-ms-throttle-limit-percentage": "0.91"}},
		"1": {Status: 204, Headers: map[string]string{"x-ms-throttle-limit-percentage": "0.93"}},
		"2": {Status: 404},
		"3": quota("0.25"),
		"4": quota("1.5"),
		"5": {Status: 429, Headers: map[string]string{"Retry-After": "2"}}, // no scope: not the quota
		"6": {Status: 503},
		"7": {Status: 403},
	}}
	got := batchAnswer(res, now)
	want := answer{Accepted: 4, Succeeded: 2, Throttled: 2, HasRetryAfter: true,
		MinRetryAfter: 250 * time.Millisecond, RetryAfter: 1500 * time.Millisecond, Pause: 2 * time.Second, Usage: 0.93}
	if got != want {
		t.Errorf("batchAnswer:\n got %+v\nwant %+v", got, want)
	}
}

func TestOuterAnswer(t *testing.T) {
	tests := []struct {
		err  error
		want answer
	}{
		{&graph.Error{Status: 429, RetryAfter: 3 * time.Second, HasRetryAfter: true}, answer{Lost: true, Pause: 3 * time.Second}},
		{&graph.Error{Status: 503, RetryAfter: time.Second, HasRetryAfter: true}, answer{Lost: true, Pause: time.Second}},
		{&graph.Error{Status: 500}, answer{Lost: true}},
		{errors.New("connection reset by peer"), answer{Lost: true}},
	}
	for _, tt := range tests {
		if got := outerAnswer(tt.err); got != tt.want {
			t.Errorf("outerAnswer(%v) = %+v, want %+v", tt.err, got, tt.want)
		}
	}
}
