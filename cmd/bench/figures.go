package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"filippo.io/age"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// bench holds the settings shared by the figures.
type bench struct {
	bin           string
	timeScale     float64
	overheadUsers int
	progress      io.Writer
}

func (b *bench) logf(format string, a ...any) {
	fmt.Fprintf(b.progress, "bench: "+format+"\n", a...)
}

// Real latencies, shortened by the time scale in the quota figures: a
// Graph write answers in about 200 ms, with a long tail.
const (
	latencyMedian = 200 * time.Millisecond
	latencyP99    = time.Second
)

// quotaOptions is Entra's documented quota with every window shortened by
// the time scale, latencies likewise, and Retry-After in milliseconds
// (Graph's own can be fractional, such as 0.249; whole seconds would be
// 90 times too coarse at this scale).
func (b *bench) quotaOptions(users int, accrue float64, omitUsage bool) graphsim.Options {
	o := graphsim.Options{
		ThrottledAccrue:      accrue,
		OmitUsageHeader:      omitUsage,
		FractionalRetryAfter: true,
		LatencyFunc:          graphsim.LogNormalLatency(b.scaled(latencyMedian), b.scaled(latencyP99)),
	}
	o.SetDocumentedLimits(users, graphsim.Scale{Time: b.timeScale})
	return o
}

func (b *bench) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) / b.timeScale)
}

// quotaUsers is N = 10 × the burst.
func quotaUsers() int { return 10 * graphsim.QuotaWriteBurst }

func (b *bench) legend() []string {
	o := b.quotaOptions(quotaUsers(), 0, false)
	return []string{
		"",
		fmt.Sprintf("Quota figures: Entra's documented limits with every window %g times shorter: the app+tenant write quota is a burst of %s then %s writes/s (3,000 per %.2f s instead of per 150 s); the tenant-wide and resource-unit quotas are scaled alike.",
			b.timeScale, count(o.WriteBurst), count(int(o.WriteRate)), 150/b.timeScale),
		fmt.Sprintf("Their latency is log-normal, median %s and 99th percentile %s (200 ms and 1 s, scaled); Retry-After is fractional. Minimum = (users - burst) / refill; ratio = minimum / time.",
			millis(b.scaled(latencyMedian)), millis(b.scaled(latencyP99))),
		"429s: share of write attempts Graph answered 429 (graphsim's count). accruing: every throttled attempt still takes a token, as Graph documents.",
		fmt.Sprintf("Pacing matrix: each bucket shape with each way a 429 may come (every header: Retry-After, x-ms-throttle-scope and the usage header; Retry-After only; a constant Retry-After: 1; nothing), throttled attempts costing %g of a write, the constant Retry-After one second of Entra's time (scaled); minimum = (users - what the tightest bucket holds at the start) / the slowest refill.", throttledCost),
		fmt.Sprintf("App limit: %d tenants of 3,000 users at once (each within its own burst) against the app-wide write quota at a tenth of the documented 70,000 per 5 minutes (a burst of %s, then %s/s scaled), so that it binds; bound = (users - its burst) / its refill.",
			appTenants, count(graphsim.QuotaAppWriteBurst/appScale), count(int(float64(graphsim.QuotaAppWriteBurst)/appScale/300*b.timeScale))),
		fmt.Sprintf("sequential: one PATCH per user in turn, each 429 retried %d times after its Retry-After (Update-MgUser in a foreach). concurrent: %d PATCHes in flight, a 429 retried at once, %d attempts per user.",
			sdkMaxRetries, naiveWorkers, naiveAttempts),
		"bulkreset runs as a child process with its defaults (4 batches of 20 in flight); peak RSS is its maxrss and CPU its user+system time, from rusage. The emulator runs in the bench process, on the same 2 cores.",
		"check: `bulkreset check` validating an admin-center export offline (one row in 10,000 invalid, one in 1,000 a duplicate); users = rows read.",
	}
}

func millis(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

// latency1000 is issue 2's figure: 1,000 users at 20 ms, no throttling.
func (b *bench) latency1000(t *table) error {
	r, err := b.measure(graphsim.Options{Latency: 20 * time.Millisecond}, 1000, "1,000 users, 20 ms latency", "bulkreset")
	if err != nil {
		return err
	}
	t.add(r)
	return nil
}

// quotaBaselines measures the baselines at the same N against the same quota.
func (b *bench) quotaBaselines(t *table) error {
	n := quotaUsers()
	for _, sc := range []struct {
		name, client string
		accrue       float64
		run          func(context.Context, *tenant) error
	}{
		{"quota, accruing", "sequential", 1, sequential},
		{"quota, throttled writes free", "concurrent", 0, concurrent},
		{"quota, accruing", "concurrent", 1, concurrent},
	} {
		o := b.quotaOptions(n, sc.accrue, false)
		r, err := b.measureBaseline(o, n, sc.name, sc.client, sc.run)
		if err != nil {
			return err
		}
		min := quotaMinimum(o, n)
		r.compare = fmt.Sprintf("ratio %.3f (minimum %s)", min.Seconds()/r.wall.Seconds(), seconds(min))
		if r.reset < n {
			r.compare = fmt.Sprintf("%s users not reset (gave up)", count(n-r.reset))
		}
		t.add(r)
	}
	return nil
}

// withinBurst compares bulkreset with the sequential baseline for 2,000
// users at 50 ms latency, within the documented (unscaled) burst.
func (b *bench) withinBurst(t *table) error {
	const n = 2000
	o := graphsim.Options{Latency: 50 * time.Millisecond}
	o.SetDocumentedLimits(n, graphsim.Scale{})
	const name = "2,000 users, 50 ms, within the burst"
	br, err := b.measure(o, n, name, "bulkreset")
	if err != nil {
		return err
	}
	seq, err := b.measureBaseline(o, n, name, "sequential", sequential)
	if err != nil {
		return err
	}
	speedup := seq.wall.Seconds() / br.wall.Seconds()
	br.compare = fmt.Sprintf("%.0fx faster than sequential", speedup)
	br.accept = met(speedup >= 50, ">= 50x sequential")
	t.add(br)
	t.add(seq)
	return nil
}

// localOverhead measures bulkreset alone: many users, no throttling, no
// latency; with its defaults, and without the preflight lookups (one GET
// per user before the writes, which doubles the requests). The goal is a
// floor, not a race: 10,000 users/s is 500 times the about 20 writes a
// second Graph's quota lets a tenant take, so no run against Graph feels
// the local overhead above it.
func (b *bench) localOverhead(t *table) error {
	n := b.overheadUsers
	key, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}
	var plainRate float64
	for i, sc := range []struct {
		client string
		args   []string
	}{
		{"bulkreset", nil},
		// The secrets encrypted with age (issue 15): a journal frame per
		// group commit, one age message of the CSV at the end. Right after
		// the plain run, so that both see the machine alike.
		{"bulkreset --secrets-recipient age1...", []string{"--secrets-recipient", key.Recipient().String()}},
		{"bulkreset --preflight=false", []string{"--preflight=false"}},
	} {
		r, err := b.measure(graphsim.Options{}, n, fmt.Sprintf("%s users, no throttling, no latency", count(n)), sc.client, sc.args...)
		if err != nil {
			return err
		}
		rate := float64(r.reset) / r.wall.Seconds()
		r.accept = met(rate >= 10000 && r.rssKB > 0 && r.rssKB < 200*1024, ">= 10,000 users/s, < 200 MB")
		switch i {
		case 0:
			plainRate = rate
		case 1:
			r.accept = met(rate >= 0.9*plainRate && r.rssKB > 0 && r.rssKB < 200*1024,
				fmt.Sprintf(">= 90%% of the plain run's %s users/s, < 200 MB", count(int(plainRate))))
		}
		t.add(r)
	}
	return nil
}

// measure runs bulkreset (with args added to its defaults) against a fresh
// tenant of n users with o, and checks that it reset them all.
func (b *bench) measure(o graphsim.Options, n int, figure, client string, args ...string) (row, error) {
	b.logf("%s: %s, %s users", figure, client, count(n))
	tn, err := startTenant(o, n)
	if err != nil {
		return row{}, err
	}
	defer tn.close()
	// The tenant's setup left garbage (the previous tenant, the user list):
	// collect it now rather than on the measured clock.
	runtime.GC()
	res, err := b.runBulkreset(tn, "bulkreset", args...)
	if err != nil {
		return row{}, fmt.Errorf("%s: %w", figure, err)
	}
	st := tn.sim.Stats()
	r := row{figure: figure, client: client, users: n, wall: res.wall, reset: tn.reset(),
		writes: st.Writes, limited: st.Throttled, rssKB: res.maxRSS / 1024, cpu: res.cpu}
	if res.exit != 0 || r.reset != n {
		return r, fmt.Errorf("%s: bulkreset exited %d with %d of %d users reset: %s\n%s",
			figure, res.exit, r.reset, n, failures(res.results), tail(res.stderr, 20))
	}
	return r, nil
}

// measureBaseline runs a baseline client against a fresh tenant of n users.
func (b *bench) measureBaseline(o graphsim.Options, n int, figure, client string, run func(context.Context, *tenant) error) (row, error) {
	b.logf("%s: %s, %s users", figure, client, count(n))
	tn, err := startTenant(o, n)
	if err != nil {
		return row{}, err
	}
	defer tn.close()
	start := time.Now()
	if err := run(context.Background(), tn); err != nil {
		return row{}, fmt.Errorf("%s, %s: %w", figure, client, err)
	}
	wall := time.Since(start)
	st := tn.sim.Stats()
	return row{figure: figure, client: client, users: n, wall: wall, reset: tn.reset(), writes: st.Writes, limited: st.Throttled}, nil
}

// failures sums up the rows of a results file that did not succeed.
func failures(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	rd := report.NewResultsReader(f)
	reasons := map[string]int{}
	for {
		r, err := rd.Read()
		if err != nil {
			break
		}
		if r.Outcome != report.Succeeded {
			reasons[string(r.Outcome)+"/"+string(r.Reason)]++
		}
	}
	return fmt.Sprint(reasons)
}

func tail(s string, lines int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > lines {
		l = l[len(l)-lines:]
	}
	return strings.Join(l, "\n")
}
