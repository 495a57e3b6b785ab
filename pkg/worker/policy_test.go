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
	ok20 := answer{Accepted: 20}
	// calm sends and answers k batches of 20, all accepted, one every
	// 100 ms from at.
	calm := func(at time.Duration, first, k int) []step {
		var steps []step
		for i := range k {
			d := at + time.Duration(i)*100*ms
			steps = append(steps, send(d, 20), reply(d+50*ms, first+i, ok20))
		}
		return steps
	}
	tests := []struct {
		name     string
		cfg      pacerConfig
		steps    []step
		wantNear bool
		wantRate float64 // the estimate's rate, checked within 1% when not 0
	}{
		{name: "the burst goes as fast as the workers while Graph throttles nothing",
			steps: []step{
				send(0, 20), send(0, 20), send(0, 20), send(0, 20), wait(0, 0),
				reply(50*ms, 0, ok20), reply(50*ms, 1, ok20), wait(50*ms, 0),
			}},
		{name: "--max-rate caps the rate from the start", cfg: pacerConfig{MaxRate: 10},
			steps: []step{wait(0, 0), send(0, 20), wait(0, 2*time.Second), wait(time.Second, time.Second)}},
		{name: "a Retry-After pauses every worker; the longest wins",
			steps: []step{
				send(0, 20), send(0, 20),
				reply(100*ms, 0, answer{Accepted: 19, Pause: 3 * time.Second}),
				reply(200*ms, 1, answer{Pause: time.Second}),
				wait(300*ms, 2800*ms), wait(3100*ms, 0),
			}},
		{name: "a 429 without any header is the quota: the mirror restarts empty",
			steps: []step{
				// 10 accepted in the 50 ms to the evaluation: the first
				// guess is half that rate, 100/s. The bucket was empty at
				// 50 ms: 5 tokens at 100 ms, 20 at 250 ms.
				send(0, 20), reply(100*ms, 0, answer{Accepted: 10, Throttled: 10}),
				wait(100*ms, 150*ms), wait(250*ms, 0),
			},
			wantNear: true, wantRate: 100},
		{name: "a Retry-After of 1 is a floor on the pause, not a measure",
			steps: []step{
				send(0, 20), reply(100*ms, 0, answer{Accepted: 10, Throttled: 10, Pause: time.Second}),
				wait(100*ms, time.Second), wait(1100*ms, 0),
			},
			wantNear: true, wantRate: 100},
		{name: "the pacer's estimate outlasts a short Retry-After",
			steps: []step{
				send(0, 20), reply(100*ms, 0, answer{Accepted: 10, Throttled: 10, Pause: 50 * ms}),
				wait(100*ms, 50*ms), wait(150*ms, 100*ms),
			},
			wantNear: true, wantRate: 100},
		{name: "the documented rate is the least first guess",
			steps:    []step{send(0, 20), reply(100*ms, 0, answer{Throttled: 20})},
			wantNear: true, wantRate: sustainedWriteRate},
		{name: "429s of batches sent before the wave was seen are the same wave",
			steps: []step{
				send(0, 20), send(0, 20),
				// Empty at 50 ms, 20 in flight: -19 tokens at 100 ms.
				reply(100*ms, 0, answer{Throttled: 20}),
				// Not a new wave (the rate stays), nor a higher mirror.
				reply(120*ms, 1, answer{Throttled: 20}),
				wait(120*ms, 1930*ms),
			},
			wantNear: true, wantRate: sustainedWriteRate},
		{name: "a new wave too soon to measure halves the rate",
			steps: []step{
				send(0, 20), reply(100*ms, 0, answer{Throttled: 20}),
				send(2*time.Second, 20), reply(2100*ms, 1, answer{Accepted: 5, Throttled: 15}),
			},
			wantNear: true, wantRate: sustainedWriteRate / 2},
		{name: "the probe raises the rate while nothing is throttled, faster and faster",
			steps: append([]step{send(0, 20), reply(100*ms, 0, answer{Throttled: 20})}, calm(2*time.Second, 1, 100)...),
			// 100 batches of 20: 0.0025·(1 + 20i/2000) each, 0.37375 in all.
			wantNear: true, wantRate: sustainedWriteRate * math.Exp(0.37375)},
		{name: "--max-rate caps the probe", cfg: pacerConfig{MaxRate: 15},
			steps:    append([]step{send(0, 20), reply(100*ms, 0, answer{Throttled: 20})}, calm(2*time.Second, 1, 10)...),
			wantNear: true, wantRate: 15},
		{name: "a whole batch answered 429 is throttled",
			steps:    []step{send(0, 20), reply(100*ms, 0, outerAnswer(&graph.Error{Status: 429})), wait(100*ms, 950*ms)},
			wantNear: true, wantRate: sustainedWriteRate},
		{name: "a lost answer teaches nothing",
			steps: []step{send(0, 20), reply(100*ms, 0, answer{Lost: true, Accepted: 20}), wait(100*ms, 0)}},
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
			if tc.wantRate != 0 && math.Abs(s.est.Rate-tc.wantRate) > 0.01*tc.wantRate {
				t.Errorf("rate %.2f, want %.2f", s.est.Rate, tc.wantRate)
			}
		})
	}
}

// TestPacerLearnsTheRate runs the policy against a bucket computed exactly,
// one batch of 20 at a time whenever the policy lets it go, evaluated at
// once and answered 50 ms later (one batch in flight), throttled writes costing a quarter, and
// checks that the rate it settles on is the refill's: from a full bucket,
// from a part-spent one, when another application starts or stops taking
// part of the refill halfway, and when Graph answers 429 to 10% of writes
// whatever the rate, for reasons other than the bucket (those are not
// counted as throttled).
func TestPacerLearnsTheRate(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name         string
		burst, start float64
		rate, later  float64 // the refill before and after the middle
		noise        float64 // the share of writes answered 429 besides
		cost         float64 // what a throttled write takes from the bucket
	}{
		{"documented", 3000, 3000, 20, 20, 0, 0.25},
		{"another application takes 12 a second", 3000, 3000, 8, 8, 0, 0.25},
		{"a larger bucket", 500, 500, 60, 60, 0, 0.25},
		{"part spent at the start", 3000, 300, 20, 20, 0, 0.25},
		{"another application starts writing", 3000, 3000, 20, 8, 0, 0.25},
		{"another application stops writing", 3000, 3000, 8, 20, 0, 0.25},
		{"documented, 10% other 429s", 3000, 3000, 20, 20, 0.1, 0.25},
		{"another application starts writing, 10% other 429s", 3000, 3000, 20, 8, 0.1, 0.25},
		{"throttled writes cost nothing", 3000, 3000, 20, 20, 0, 0},
		{"throttled writes cost a full write, down to a debt", 3000, 3000, 20, 20, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s pacerState
			cfg := pacerConfig{Batch: 20}
			tokens, last, now := tc.start, t0, t0
			const steps = 3000
			throttled, writes := 0, 0
			var half time.Time
			var accepted, other float64
			for i := range steps {
				r := tc.rate
				if i >= steps/2 {
					r = tc.later
				}
				now = now.Add(s.delay(cfg, now, 20))
				f := s.take(cfg, now, 20)
				tokens = min(tc.burst, tokens+r*now.Sub(last).Seconds())
				last = now
				var a answer
				for range 20 {
					if other += tc.noise; other >= 1 {
						other--
						a.Throttled++
						continue
					}
					if tokens >= 1 {
						tokens--
						a.Accepted++
					} else {
						tokens = max(tokens-tc.cost, -0.8*tc.burst)
						a.Throttled++
					}
				}
				writes += 20
				throttled += a.Throttled - int(tc.noise*20)
				now = now.Add(50 * time.Millisecond)
				s.observe(cfg, now, f, a)
				if i == steps/2-1 || i == steps-1 {
					if got := s.est.Fit; math.Abs(got-r) > 0.1*r {
						t.Errorf("after %d batches: refill measured %.2f, want %.2f within 10%%", i+1, got, r)
					}
				}
				if i == steps/2-1 {
					half, accepted = now, s.est.Accepted
				}
			}
			// The second half went at the refill, the bucket neither
			// filling up unseen nor kept empty.
			if got := (s.est.Accepted - accepted) / now.Sub(half).Seconds(); got < 0.95*tc.later {
				t.Errorf("second half: %.2f writes accepted a second, want at least 0.95 × %.0f", got, tc.later)
			}
			if share := float64(throttled) / float64(writes); share > 0.05 {
				t.Errorf("%.1f%% of writes throttled, want at most 5%%", 100*share)
			}
		})
	}
}

func TestBatchAnswer(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	quota := func(ra string) graph.Response {
		return graph.Response{Status: 429, Headers: map[string]string{"Retry-After": ra, "X-Ms-Throttle-Scope": "Tenant_Application/Write/a/t"}}
	}
	res := &graph.BatchResult{Responses: map[string]graph.Response{
		"0": {Status: 204},
		"1": {Status: 204, Headers: map[string]string{"x-ms-throttle-limit-percentage": "0.93"}},
		"2": {Status: 404},
		"3": quota("0.25"),
		"4": quota("1.5"),
		"5": {Status: 429, Headers: map[string]string{"Retry-After": "2"}}, // no scope: the quota all the same
		"6": {Status: 429},                                                 // nothing at all: the same
		"7": {Status: 503, Headers: map[string]string{"Retry-After": "3"}}, // not evaluated, but honoured
		"8": {Status: 403},
	}}
	want := answer{Accepted: 4, Throttled: 4, Pause: 3 * time.Second}
	if got := batchAnswer(res, now); got != want {
		t.Errorf("batchAnswer:\n got %+v\nwant %+v", got, want)
	}
	res.Responses["9"] = graph.Response{Status: 429, Headers: map[string]string{"x-ms-throttle-scope": "Application/Write/a"}}
	if got := batchAnswer(res, now); got.AppThrottled != 1 || got.Throttled != 4 {
		t.Errorf("a 429 scoped to the application: got %+v, want 1 of the application's and 4 of the tenant's", got)
	}
}

func TestOuterAnswer(t *testing.T) {
	tests := []struct {
		err  error
		want answer
	}{
		{&graph.Error{Status: 429, RetryAfter: 3 * time.Second, HasRetryAfter: true}, answer{Lost: true, Throttled: 1, Pause: 3 * time.Second}},
		{&graph.Error{Status: 429}, answer{Lost: true, Throttled: 1}},
		{&graph.Error{Status: 503, RetryAfter: time.Second, HasRetryAfter: true}, answer{Lost: true, Throttled: 1, Pause: time.Second}},
		{&graph.Error{Status: 500}, answer{Lost: true}},
		{errors.New("connection reset by peer"), answer{Lost: true}},
	}
	for _, tt := range tests {
		if got := outerAnswer(tt.err); got != tt.want {
			t.Errorf("outerAnswer(%v) = %+v, want %+v", tt.err, got, tt.want)
		}
	}
}

// TestWaveRun checks how a run of waves tells 429s that come whatever the
// rate from the bucket's: the share Graph accepts at half the rate.
func TestWaveRun(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	// at answers n writes, t of them throttled, at rate.
	type at struct {
		rate float64
		n, t int
	}
	tests := []struct {
		name    string
		answers []at
		want    bool
		share   float64
		early   int // how many answers are to batches sent before the run
	}{
		{"the same share at half the rate: not the bucket's",
			[]at{{100, 100, 10}, {50, 100, 10}}, true, 0.1, 0},
		{"a quarter of the throttled share at half the rate: the bucket's",
			[]at{{100, 100, 40}, {50, 100, 10}}, false, 0, 0},
		{"fewer throttled at half the rate, as a bucket: the bucket's",
			[]at{{100, 100, 10}, {50, 100, 0}}, false, 0, 0},
		{"far more throttled at half the rate: the bucket's, its refill fell",
			[]at{{100, 100, 10}, {50, 100, 30}}, false, 0, 0},
		{"most throttled at both rates: the bucket's, far above the refill",
			[]at{{100, 100, 90}, {50, 100, 88}}, false, 0, 0},
		{"not yet half the rate: too soon to tell",
			[]at{{100, 100, 10}, {60, 100, 10}}, false, 0, 0},
		{"the share at half the rate is that of the latest writes",
			[]at{{100, 100, 10}, {50, 100, 60}, {50, 1000, 100}}, true, 0.1, 0},
		{"answers to batches sent before the run are not the reference",
			[]at{{100, 100, 10}, {50, 100, 10}}, false, 0, 1},
		{"too few writes at half the rate: too soon to tell",
			[]at{{100, 100, 10}, {50, 80, 8}}, false, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Each answer comes after a wave that set the rate it was sent
			// at, a second after the one before; a last wave tells.
			var r waveRun
			r.wave(t0, 100, 0)
			at := t0
			for i, x := range tc.answers {
				at = at.Add(time.Second)
				r.wave(at, x.rate, 0)
				sent := at
				if i < tc.early {
					sent = t0.Add(-time.Second)
				}
				r.count(x.rate, sent, answer{Accepted: x.n - x.t, Throttled: x.t})
			}
			share, ok := r.wave(at.Add(time.Second), tc.answers[len(tc.answers)-1].rate, 0)
			if ok != tc.want || math.Abs(share-tc.share) > 1e-3 {
				t.Errorf("wave = %.3f, %t; want %.3f, %t", share, ok, tc.share, tc.want)
			}
		})
	}
	t.Run("batches sent before the rate was halved do not count at half the rate", func(t *testing.T) {
		var r waveRun
		r.wave(t0, 100, 0)
		r.count(100, t0, answer{Accepted: 90, Throttled: 10})
		r.wave(t0.Add(time.Second), 50, 0)
		r.count(50, t0.Add(time.Second-time.Millisecond), answer{Accepted: 90, Throttled: 10})
		if r.LowN != 0 {
			t.Errorf("%v writes counted at half the rate, want 0", r.LowN)
		}
	})
	t.Run("calm ends the run", func(t *testing.T) {
		var r waveRun
		r.wave(t0, 100, 0)
		r.count(100, t0, answer{Accepted: 90, Throttled: 10})
		if _, ok := r.wave(t0, 40, calmWrites); ok || r.Start != 40 || r.RefN != 0 {
			t.Errorf("after calm: %+v, want a new run from 40", r)
		}
	})
}

// TestPacerOutlastsOther429s answers 10% of writes 429 whatever the rate
// (another limit, a backend fault), with or without a Retry-After, and with
// or without a whole batch answered 429 now and then: once the pacer knows
// them for what they are, they neither cut its rate nor pause every worker
// (each throttled row still waits its own Retry-After in the pool).
func TestPacerOutlastsOther429s(t *testing.T) {
	tests := []struct {
		name       string
		retryAfter time.Duration
		wholeEvery int // every so many batches are answered 429 as a whole (0: none)
	}{
		{"no header", 0, 0},
		{"Retry-After: 1", time.Second, 0},
		{"Retry-After: 1, and one batch in 20 answered 429 as a whole", time.Second, 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
			var s pacerState
			cfg := pacerConfig{Batch: 20}
			now := t0
			var half time.Time
			var other float64
			const steps = 4000
			for i := range steps {
				now = now.Add(s.delay(cfg, now, 20))
				f := s.take(cfg, now, 20)
				var a answer
				if tc.wholeEvery > 0 && i%tc.wholeEvery == tc.wholeEvery-1 {
					a = outerAnswer(&graph.Error{Status: 429, RetryAfter: tc.retryAfter, HasRetryAfter: tc.retryAfter > 0})
				} else {
					for range 20 {
						if other += 0.1; other >= 1 {
							other--
							a.Throttled++
							a.Pause = tc.retryAfter
						} else {
							a.Accepted++
						}
					}
				}
				now = now.Add(50 * time.Millisecond)
				s.observe(cfg, now, f, a)
				if i == steps/2-1 {
					half = now
				}
			}
			if got := float64(steps/2*20) / now.Sub(half).Seconds(); got < 200 {
				t.Errorf("second half: %.1f writes sent a second, want at least 200", got)
			}
			if s.est.Noise < 0.08 || s.est.Noise > 0.2 {
				t.Errorf("share of other 429s %.3f, want about 0.1", s.est.Noise)
			}
		})
	}
}
