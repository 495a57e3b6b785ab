package worker

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// quotaGraph is a Sender that answers like Graph's identity write quota: a
// token bucket of Burst writes refilled at Rate per second, evaluated
// halfway through each batch's round trip. A throttled write still takes a
// token with probability Accrue (the debt stops at 0.8 of the bucket), as
// Graph's "all requests accrue against your usage limits". It sends
// x-ms-throttle-limit-percentage above 80% of the bucket unless NoUsage,
// and Retry-After in milliseconds, or whole seconds rounded up if Whole.
// It runs inside a synctest bubble: time.Now is virtual.
type quotaGraph struct {
	Burst, Rate, Accrue float64
	// Latency is fixed, plus up to Jitter; or, with P99, log-normal with
	// median Latency.
	Latency, Jitter, P99 time.Duration
	NoUsage, Whole       bool
	// Headers is what a throttled write carries (hdrAll: Retry-After,
	// x-ms-throttle-scope and the usage header on 2xx answers). The other
	// modes send no usage header either.
	Headers headerMode
	// Start is the share of the bucket full at the start (0: full).
	Start float64
	// App, when set, is the application's bucket across tenants, shared
	// with other quotaGraphs: a write it refuses is answered 429 with an
	// Application scope.
	App *appBucket
	// Noise is the share of writes answered 429, without a header, by
	// something other than the bucket (another limit, a backend fault):
	// they take no token and are counted in noisy, not throttled.
	Noise       float64
	conc, batch int
	rng         *rand.Rand

	mu        *sync.Mutex
	tokens    float64
	last      time.Time
	started   bool
	acc       float64 // accrual carried between throttled writes, for a deterministic share
	writes    int     // write attempts evaluated
	throttled int     // 429s of the bucket answered
	noisy     int     // 429s of Noise answered
	applied   map[string]int
}

// appBucket is the application's write quota across tenants, shared by
// the quotaGraphs of several tenants.
type appBucket struct {
	Burst, Rate float64

	mu      sync.Mutex
	tokens  float64
	last    time.Time
	started bool
}

func (b *appBucket) refill(now time.Time) {
	if !b.started {
		b.tokens, b.last, b.started = b.Burst, now, true
	}
	b.tokens = math.Min(b.Burst, b.tokens+now.Sub(b.last).Seconds()*b.Rate)
	b.last = now
}

// headerMode is what quotaGraph's throttled writes carry.
type headerMode int

const (
	hdrAll        headerMode = iota // Retry-After and x-ms-throttle-scope
	hdrRetryAfter                   // Retry-After only
	hdrOne                          // a constant Retry-After: 1
	hdrNone                         // no header at all
)

func (q *quotaGraph) Batch(ctx context.Context, reqs []graph.Request) (*graph.BatchResult, error) {
	lat := q.Latency
	q.mu.Lock()
	switch {
	case q.P99 > 0:
		// Log-normal: median Latency, 99th percentile P99.
		sigma := math.Log(float64(q.P99)/float64(q.Latency)) / 2.3263478740408408
		lat = time.Duration(float64(q.Latency) * math.Exp(sigma*q.rng.NormFloat64()))
	case q.Jitter > 0:
		lat += time.Duration(q.rng.Int64N(int64(q.Jitter)))
	}
	q.mu.Unlock()
	if err := sleepCtx(ctx, lat/2); err != nil {
		return nil, err
	}
	res := q.evaluate(reqs)
	if err := sleepCtx(ctx, lat-lat/2); err != nil {
		return nil, err
	}
	return res, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (q *quotaGraph) evaluate(reqs []graph.Request) *graph.BatchResult {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := time.Now()
	if !q.started {
		q.tokens, q.last, q.started, q.applied = q.Burst, now, true, map[string]int{}
		if q.Start > 0 {
			q.tokens = q.Start * q.Burst
		}
	}
	q.tokens = math.Min(q.Burst, q.tokens+now.Sub(q.last).Seconds()*q.Rate)
	q.last = now
	res := &graph.BatchResult{Responses: map[string]graph.Response{}}
	if q.App != nil {
		q.App.mu.Lock()
		defer q.App.mu.Unlock()
		q.App.refill(now)
	}
	for _, r := range reqs {
		q.writes++
		resp := graph.Response{ID: r.ID, Headers: map[string]string{}}
		if q.Noise > 0 && q.rng.Float64() < q.Noise {
			q.noisy++
			resp.Status = 429
			resp.Body = []byte(`{"error":{"code":"TooManyRequests","message":"Please retry again later."}}`)
			res.Responses[r.ID] = resp
			continue
		}
		if q.App != nil && q.tokens >= 1 && q.App.tokens < 1 {
			q.throttled++
			q.App.tokens -= q.Accrue
			resp.Status = 429
			resp.Headers["Retry-After"] = strconv.FormatFloat(math.Ceil((1-q.App.tokens)/q.App.Rate*1000)/1000, 'f', -1, 64)
			resp.Headers["x-ms-throttle-scope"] = "Application/Write/app/tenant"
			resp.Body = []byte(`{"error":{"code":"TooManyRequests","message":"Please retry again later."}}`)
			res.Responses[r.ID] = resp
			continue
		}
		if q.tokens >= 1 {
			if q.App != nil {
				q.App.tokens--
			}
			q.tokens--
			q.applied[r.URL]++
			resp.Status = 204
			if u := 1 - q.tokens/q.Burst; u > 0.8 && !q.NoUsage && q.Headers == hdrAll {
				resp.Headers["x-ms-throttle-limit-percentage"] = strconv.FormatFloat(u, 'f', 3, 64)
			}
		} else {
			q.throttled++
			if q.acc += q.Accrue; q.acc >= 1 {
				q.acc--
				q.tokens = math.Max(q.tokens-1, -0.8*q.Burst)
			}
			wait := (1 - q.tokens) / q.Rate
			ra := strconv.FormatFloat(math.Ceil(wait*1000)/1000, 'f', -1, 64)
			if q.Whole {
				ra = strconv.Itoa(int(math.Max(1, math.Ceil(wait))))
			}
			resp.Status = 429
			switch q.Headers {
			case hdrAll:
				resp.Headers["Retry-After"] = ra
				resp.Headers["x-ms-throttle-scope"] = "Tenant_Application/Write/app/tenant"
			case hdrRetryAfter:
				resp.Headers["Retry-After"] = ra
			case hdrOne:
				resp.Headers["Retry-After"] = "1"
			}
			resp.Body = []byte(`{"error":{"code":"TooManyRequests","message":"Please retry again later."}}`)
		}
		res.Responses[r.ID] = resp
	}
	return res
}

// TestPoolHoldsTheQuota runs N = 10 × the burst through the pool against the
// quota and holds the pacer to the acceptance: within 5% of the
// quota-bound minimum time, (N - burst) / refill, with at most 5% of write
// attempts throttled, every user reset once. Where Graph says less (no usage
// header, whole-second Retry-After) or the burst is smaller than what is in
// flight, the bounds are looser and say so.
func TestPoolHoldsTheQuota(t *testing.T) {
	const docBurst, docRate = 3000, 20 // 3,000 writes per 150 s
	doc := func(q quotaGraph) quotaGraph {
		q.Burst, q.Rate = docBurst, docRate
		if q.Latency == 0 {
			q.Latency = 300 * time.Millisecond
		}
		return q
	}
	// As make bench scales it: every window 90 times shorter.
	scaled := func(q quotaGraph) quotaGraph {
		q.Burst, q.Rate = docBurst, docRate*90
		q.Latency, q.Jitter = 2*time.Millisecond, 2*time.Millisecond
		return q
	}
	tests := []struct {
		name     string
		q        quotaGraph
		minRatio float64
		maxShare float64
	}{
		{"documented quota", doc(quotaGraph{}), 0.95, 0.05},
		{"documented quota, throttled writes accrue", doc(quotaGraph{Accrue: 1}), 0.95, 0.05},
		{"accruing, latency from 0.1 to 1 s", doc(quotaGraph{Accrue: 1, Latency: 100 * time.Millisecond, Jitter: 900 * time.Millisecond}), 0.95, 0.05},
		{"accruing, Retry-After in whole seconds", doc(quotaGraph{Accrue: 1, Whole: true}), 0.95, 0.05},
		{"half the throttled writes accrue", doc(quotaGraph{Accrue: 0.5}), 0.95, 0.05},
		{"bucket 30% full at the start", doc(quotaGraph{Accrue: 1, Start: 0.3}), 0.95, 0.05},
		{"16 batches in flight", doc(quotaGraph{Accrue: 1, conc: 16}), 0.95, 0.05},
		{"batches of 5", doc(quotaGraph{Accrue: 1, batch: 5}), 0.95, 0.05},
		{"scaled as make bench does", scaled(quotaGraph{}), 0.95, 0.05},
		{"scaled, accruing", scaled(quotaGraph{Accrue: 1}), 0.95, 0.05},
		{"scaled, accruing, 16 batches in flight", scaled(quotaGraph{Accrue: 1, conc: 16}), 0.95, 0.05},
		{"scaled, one batch in flight", scaled(quotaGraph{Accrue: 1, conc: 1}), 0.95, 0.05},
		// make bench's latency: log-normal, 200 ms median and 1 s p99 scaled.
		{"scaled, accruing, long-tailed latency", scaled(quotaGraph{Accrue: 1, Latency: 2222 * time.Microsecond, P99: 11111 * time.Microsecond}), 0.95, 0.05},
		// Without x-ms-throttle-limit-percentage only 429s measure the
		// quota, and a few more are needed.
		{"no usage header, accruing", doc(quotaGraph{Accrue: 1, NoUsage: true}), 0.93, 0.05},
		{"no usage header, whole seconds", doc(quotaGraph{Accrue: 1, NoUsage: true, Whole: true}), 0.93, 0.05},
		{"no usage header, latency from 0.1 to 1 s", doc(quotaGraph{Accrue: 1, NoUsage: true, Latency: 100 * time.Millisecond, Jitter: 900 * time.Millisecond}), 0.93, 0.05},
		{"no usage header, scaled, accruing", scaled(quotaGraph{Accrue: 1, NoUsage: true}), 0.93, 0.05},
		// Graph warns at 80% used: a burst of 200 leaves 40 writes, fewer
		// than the 80 in flight, so the first 429s cannot be avoided, and
		// the run of 2,000 users is mostly the recovery from them. Over 120
		// runs under the race detector (which reorders answers arriving at
		// the same instant) the ratio was 0.59 to 0.91 and the throttled
		// share at most 11%; the bounds catch a collapse, not the tail.
		// Graph's real burst of 3,000 is far above the writes in flight.
		{"burst smaller than the writes in flight", quotaGraph{Burst: 200, Rate: 20, Accrue: 1, Latency: 300 * time.Millisecond}, 0.5, 0.15},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			checkQuotaRun(t, tc.q, tc.minRatio, tc.maxShare)
		})
	}
}

// TestPoolPacesWithoutThrottleHeaders is issue 11's second acceptance: at
// the documented quota, throttled writes costing a quarter of a write and
// 50 to 200 ms of latency, 10 × the burst reach 0.9 of the quota-bound
// minimum with at most 10% of write attempts throttled and no user failed,
// whether a 429 carries only Retry-After or nothing at all.
func TestPoolPacesWithoutThrottleHeaders(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    headerMode
	}{{"Retry-After only", hdrRetryAfter}, {"no header at all", hdrNone}} {
		t.Run(tc.name, func(t *testing.T) {
			checkQuotaRun(t, quotaGraph{Burst: 3000, Rate: 20, Accrue: 0.25, Headers: tc.h,
				Latency: 50 * time.Millisecond, Jitter: 150 * time.Millisecond}, 0.9, 0.1)
		})
	}
}

// TestPoolOutlastsADebt answers throttled writes with no header at all and
// takes a full write for each from the bucket, down to a debt of 80% of
// it: each wave of 429s leaves the bucket in debt, so the next batch finds
// it empty again whatever the rate. The pacer must wait the debt out, not
// take each of those waves for a lower refill and crawl for the rest of the
// run.
func TestPoolOutlastsADebt(t *testing.T) {
	for _, conc := range []int{4, 16} {
		t.Run(fmt.Sprintf("%d batches in flight", conc), func(t *testing.T) {
			checkQuotaRun(t, quotaGraph{Burst: 3000, Rate: 20, Accrue: 1, Headers: hdrNone, conc: conc,
				Latency: 50 * time.Millisecond, Jitter: 150 * time.Millisecond}, 0.9, 0.1)
		})
	}
}

// TestPoolLearnsTheBucket runs the pool against buckets other than the
// documented one, with each header mode: a refill of 8 a second (another
// application takes the rest of the tenant's writes), a small fast bucket,
// and a bucket part spent when the run starts.
func TestPoolLearnsTheBucket(t *testing.T) {
	shapes := []struct {
		name        string
		burst, rate float64
		start       float64
	}{
		{"refill 8 per second", 3000, 8, 0},
		{"burst 500, refill 60 per second", 500, 60, 0},
		{"a third of the bucket left", 3000, 20, 1.0 / 3},
	}
	modes := []struct {
		name string
		h    headerMode
		min  float64
		max  float64
	}{
		{"every header", hdrAll, 0.95, 0.05},
		{"Retry-After only", hdrRetryAfter, 0.95, 0.05},
		{"Retry-After: 1", hdrOne, 0.9, 0.1},
		{"no header", hdrNone, 0.9, 0.1},
	}
	for _, sh := range shapes {
		for _, m := range modes {
			t.Run(sh.name+", "+m.name, func(t *testing.T) {
				checkQuotaRun(t, quotaGraph{Burst: sh.burst, Rate: sh.rate, Start: sh.start, Accrue: 0.25, Headers: m.h,
					Latency: 50 * time.Millisecond, Jitter: 150 * time.Millisecond}, m.min, m.max)
			})
		}
	}
}

// TestPoolOutlastsOther429s answers 10% of writes 429, without a header,
// whatever the send rate (another of Graph's limits, a backend fault): the
// pacer must not take them for the bucket's and crawl. Without a bucket the
// run keeps at least half the rate of a run without them; on top of the
// documented bucket the bucket's bounds still hold.
func TestPoolOutlastsOther429s(t *testing.T) {
	t.Run("no bucket behind them", func(t *testing.T) {
		const n = 20000
		run := func(noise float64) (time.Duration, *quotaGraph) {
			var elapsed time.Duration
			q := &quotaGraph{Burst: 1e9, Noise: noise, Latency: 50 * time.Millisecond, Jitter: 150 * time.Millisecond}
			synctest.Test(t, func(t *testing.T) {
				q.mu, q.rng = new(sync.Mutex), rand.New(rand.NewPCG(1, 2))
				p := New(q, nil, Options{BatchSize: 20, Concurrency: 4, MaxAttempts: 8})
				start := time.Now()
				got, err := runPool(t.Context(), t, p, items(n))
				elapsed = time.Since(start)
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				for i, r := range got {
					if r.Outcome != report.Succeeded {
						t.Errorf("row %d: %v, want succeeded", i, r.Outcome)
					}
				}
				if len(got) != n {
					t.Errorf("%d results, want %d", len(got), n)
				}
			})
			return elapsed, q
		}
		clean, _ := run(0)
		noisy, q := run(0.1)
		t.Logf("%d users: %v without other 429s, %v with %d of %d writes answered 429 (ratio %.3f)",
			n, clean.Round(time.Millisecond), noisy.Round(time.Millisecond), q.noisy, q.writes, clean.Seconds()/noisy.Seconds())
		if noisy > 2*clean {
			t.Errorf("%v with 10%% other 429s, want at most twice the %v without", noisy, clean)
		}
	})
	t.Run("on top of the documented bucket", func(t *testing.T) {
		checkQuotaRun(t, quotaGraph{Burst: 3000, Rate: 20, Accrue: 0.25, Noise: 0.1,
			Latency: 50 * time.Millisecond, Jitter: 150 * time.Millisecond}, 0.9, 0.05)
	})
}

// checkQuotaRun resets 10 × q.Burst users through the pool against q, in
// virtual time, and checks that every user was reset once, within minRatio
// of the quota-bound minimum, with at most maxShare of write attempts
// throttled.
func checkQuotaRun(t *testing.T, q quotaGraph, minRatio, maxShare float64) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		q.mu = new(sync.Mutex)
		q.rng = rand.New(rand.NewPCG(1, 2))
		if q.conc == 0 {
			q.conc = 4
		}
		if q.batch == 0 {
			q.batch = 20
		}
		n := int(10 * q.Burst)
		p := New(&q, nil, Options{BatchSize: q.batch, Concurrency: q.conc, MaxAttempts: 8})
		start := time.Now()
		got, err := runPool(t.Context(), t, p, items(n))
		elapsed := time.Since(start)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		failed := 0
		for _, r := range got {
			if r.Outcome != report.Succeeded {
				failed++
			}
		}
		initial := q.Burst
		if q.Start > 0 {
			initial = q.Start * q.Burst
		}
		minimum := time.Duration((float64(n) - initial) / q.Rate * float64(time.Second))
		ratio := minimum.Seconds() / elapsed.Seconds()
		share := float64(q.throttled) / float64(q.writes)
		t.Logf("%d users in %v (minimum %v): ratio %.3f; %d of %d writes throttled (%.2f%%), %d other 429s; %d failed",
			n, elapsed.Round(time.Millisecond), minimum, ratio, q.throttled, q.writes, 100*share, q.noisy, failed)
		if len(got) != n || failed > 0 {
			t.Errorf("%d results, %d not succeeded; want %d, all succeeded", len(got), failed, n)
		}
		if ratio < minRatio {
			t.Errorf("ratio to the quota-bound minimum %.3f, want >= %.2f", ratio, minRatio)
		}
		if share > maxShare {
			t.Errorf("throttled share %.3f, want <= %.2f", share, maxShare)
		}
		for u, k := range q.applied {
			if k != 1 {
				t.Errorf("%s applied %d times", u, k)
			}
		}
	})
}

// TestPoolsShareTheAppLimit runs four tenants' pools at once, each well
// within its own quota, against the application's quota across tenants,
// which they share through one AppLimit: together they stay within 5% of
// the bound that quota sets, with at most 5% of writes throttled.
func TestPoolsShareTheAppLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const lanes, perLane = 4, 3000
		app := &appBucket{Burst: 2000, Rate: 30}
		limit := NewAppLimit(AppWriteRate, AppWriteBurst, 20)
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			failed  int
			writes  int
			limited int
		)
		start := time.Now()
		for i := range lanes {
			q := &quotaGraph{Burst: 3000, Rate: 20, Accrue: 0.25, App: app, mu: new(sync.Mutex),
				rng: rand.New(rand.NewPCG(uint64(i), 2)), Latency: 50 * time.Millisecond, Jitter: 150 * time.Millisecond}
			p := New(q, nil, Options{BatchSize: 20, Concurrency: 4, MaxAttempts: 8, App: limit})
			wg.Go(func() {
				got, err := runPool(t.Context(), t, p, items(perLane))
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("lane %d: Run: %v", i, err)
				}
				for _, r := range got {
					if r.Outcome != report.Succeeded {
						failed++
					}
				}
				failed += perLane - len(got)
				writes += q.writes
				limited += q.throttled
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		minimum := time.Duration((lanes*perLane - app.Burst) / app.Rate * float64(time.Second))
		ratio := minimum.Seconds() / elapsed.Seconds()
		share := float64(limited) / float64(writes)
		t.Logf("%d users in %v (minimum %v): ratio %.3f; %d of %d writes throttled (%.2f%%); %d failed",
			lanes*perLane, elapsed.Round(time.Millisecond), minimum, ratio, limited, writes, 100*share, failed)
		if failed > 0 {
			t.Errorf("%d users not reset", failed)
		}
		if ratio < 0.95 {
			t.Errorf("ratio to the application's bound %.3f, want >= 0.95", ratio)
		}
		if share > 0.05 {
			t.Errorf("throttled share %.3f, want <= 0.05", share)
		}
	})
}

// TestPoolRetryAfterPausesEveryWorker checks that one 429 stops every worker
// until its Retry-After has passed, not only the worker that got it.
func TestPoolRetryAfterPausesEveryWorker(t *testing.T) {
	for _, scoped := range []bool{true, false} {
		t.Run(fmt.Sprintf("x-ms-throttle-scope %t", scoped), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var (
					mu        sync.Mutex
					sends     []time.Time
					throttled time.Time
				)
				g := newFakeGraph(t, nil, func(string, int) (int, string) { return 204, "" })
				s := senderFunc(func(ctx context.Context, reqs []graph.Request) (*graph.BatchResult, error) {
					mu.Lock()
					sends = append(sends, time.Now())
					first := throttled.IsZero() && len(sends) == 3
					if first {
						throttled = time.Now()
					}
					mu.Unlock()
					if err := sleepCtx(ctx, 10*time.Millisecond); err != nil {
						return nil, err
					}
					res, err := g.Batch(ctx, reqs)
					if first {
						r := res.Responses["0"]
						r.Status = 429
						r.Headers = map[string]string{"Retry-After": "2"}
						if scoped {
							r.Headers["x-ms-throttle-scope"] = "Tenant_Application/Write/a/t"
						}
						r.Body = []byte(`{"error":{"code":"TooManyRequests","message":"Please retry again later."}}`)
						res.Responses["0"] = r
					}
					return res, err
				})
				p := New(s, nil, Options{BatchSize: 20, Concurrency: 4, MaxAttempts: 3})
				got, err := runPool(t.Context(), t, p, items(400))
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if len(got) != 400 {
					t.Fatalf("%d results, want 400", len(got))
				}
				answered := throttled.Add(10 * time.Millisecond)
				for _, at := range sends {
					if at.After(answered) && at.Before(answered.Add(2*time.Second)) {
						t.Errorf("a batch was sent %v after the 429, within its Retry-After of 2s", at.Sub(answered))
					}
				}
			})
		})
	}
}

// TestPoolMaxRate checks that --max-rate caps writes per second, also while
// Graph's quota would allow more.
func TestPoolMaxRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newFakeGraph(t, nil, func(string, int) (int, string) { return 204, "" })
		p := New(g, nil, Options{BatchSize: 20, Concurrency: 4, MaxAttempts: 3, MaxRate: 50})
		start := time.Now()
		got, err := runPool(t.Context(), t, p, items(1000))
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		// The first batch goes at once; 980 writes more at 50 a second.
		if elapsed, want := time.Since(start), 19600*time.Millisecond; elapsed < want || len(got) != 1000 {
			t.Errorf("1000 writes in %v with %d results, want at least %v at 50 a second", elapsed, len(got), want)
		}
		if rate := p.pacer.Rate(); rate != 50 {
			t.Errorf("pacer rate %v, want 50", rate)
		}
	})
}

// TestPacerWaitSpendsOnce has eight workers wait for the same batch's worth
// of quota, as the workers of a pool do: they wake at the same instant, and
// exactly one may go. Deciding and taking in two steps let several workers
// woken together see the same batch's worth and send, so that the pacer
// sent far more than its rate under the race detector's scheduling.
func TestPacerWaitSpendsOnce(t *testing.T) {
	for range 50 {
		synctest.Test(t, func(t *testing.T) {
			p := NewPacer(0, 20, nil)
			p.mu.Lock()
			// Near the quota at 1 write a second, 20 s from a batch.
			p.st.Near, p.st.est.Rate, p.st.Tokens, p.st.At = true, 1, 0, time.Now()
			p.mu.Unlock()
			var sent atomic.Int32
			for range 8 {
				go func() {
					if _, err := p.Wait(t.Context(), 20); err == nil {
						sent.Add(1)
					}
				}()
			}
			time.Sleep(20 * time.Second)
			synctest.Wait()
			if n := sent.Load(); n != 1 {
				t.Errorf("%d batches sent for one batch's worth of quota, want 1", n)
			}
		})
	}
}
