package main

import (
	"fmt"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
)

// The pacing matrix (issue 11): bulkreset against buckets of several
// shapes, each with every way Graph may answer a throttled write, throttled
// attempts costing a quarter of a write (as the independent emulator the
// issue cites charges).
const throttledCost = 0.25

// bucketShape is one write quota the matrix runs against, in Entra's time
// (the time scale shortens it like the documented one).
type bucketShape struct {
	name  string
	users int
	set   func(o *graphsim.Options, timeScale float64)
}

var bucketShapes = []bucketShape{
	{"burst 3,000, refill 20/s", 10 * graphsim.QuotaWriteBurst, func(*graphsim.Options, float64) {}},
	// The tenant's quota (18,000 per 5 minutes: 60/s) is shared with every
	// app writing to it: another app has spent all but 3,000 of it and
	// goes on taking 52/s, so this one gets 8/s.
	{"burst 3,000, refill 8/s (another app takes 52/s)", 5 * graphsim.QuotaWriteBurst, func(o *graphsim.Options, ts float64) {
		o.Competitor = graphsim.Competitor{Rate: 52 * ts, Spent: 1 - 3000.0/graphsim.QuotaTenantWriteBurst}
	}},
	// 60,000 users: at 60/s (5,400/s scaled) fewer would take a few
	// seconds, which the machine's load would blur.
	{"burst 500, refill 60/s", 20 * graphsim.QuotaWriteBurst, func(o *graphsim.Options, ts float64) {
		o.WriteBurst, o.WriteRate = 500, 60*ts
	}},
}

var headerModes = []graphsim.ThrottleHeaders{
	graphsim.ThrottleHeadersAll, graphsim.ThrottleHeadersRetryAfter,
	graphsim.ThrottleHeadersRetryAfterOne, graphsim.ThrottleHeadersNone,
}

// matrixOptions is the documented quota scaled by the time scale, shaped by
// sh, with throttled writes carrying h (and no usage header unless h is
// every header).
func (b *bench) matrixOptions(sh bucketShape, h graphsim.ThrottleHeaders) graphsim.Options {
	o := graphsim.Options{
		ThrottledCost:        throttledCost,
		ThrottleHeaders:      h,
		OmitUsageHeader:      h != graphsim.ThrottleHeadersAll,
		FractionalRetryAfter: true,
		LatencyFunc:          graphsim.LogNormalLatency(b.scaled(latencyMedian), b.scaled(latencyP99)),
	}
	o.SetDocumentedLimits(sh.users, graphsim.Scale{Time: b.timeScale})
	sh.set(&o, b.timeScale)
	return o
}

// quotaMinimum is the quota-bound minimum time for n users: what is left in
// the tightest bucket at the start is free, the rest comes at the slowest
// refill (the app's own, or what other apps leave of the tenant's).
func quotaMinimum(o graphsim.Options, n int) time.Duration {
	initial := float64(o.WriteBurst) * (1 - o.WriteSpent)
	refill := o.WriteRate
	if o.TenantWriteBurst > 0 && o.TenantWriteRate > 0 {
		initial = min(initial, float64(o.TenantWriteBurst)*(1-o.Competitor.Spent))
		refill = min(refill, o.TenantWriteRate-o.Competitor.Rate)
	}
	return time.Duration((float64(n) - initial) / refill * float64(time.Second))
}

// pacingMatrix runs every bucket shape with every header mode.
func (b *bench) pacingMatrix(t *table) error {
	for _, sh := range bucketShapes {
		for _, h := range headerModes {
			o := b.matrixOptions(sh, h)
			figure := sh.name + ", " + h.String()
			r, err := b.measure(o, sh.users, figure, "bulkreset")
			if err != nil && r.users == 0 {
				return err
			}
			if err != nil {
				b.logf("%v", err) // the row says it: users left not reset
			}
			min := quotaMinimum(o, sh.users)
			ratio := min.Seconds() / r.wall.Seconds()
			r.compare = fmt.Sprintf("ratio %.3f (minimum %s)", ratio, seconds(min))
			minRatio, maxShare := 0.95, 0.05
			if h == graphsim.ThrottleHeadersRetryAfterOne || h == graphsim.ThrottleHeadersNone {
				minRatio, maxShare = 0.90, 0.10
			}
			r.accept = met(r.reset == sh.users && ratio >= minRatio && float64(r.limited) <= maxShare*float64(r.writes),
				fmt.Sprintf("none failed, ratio >= %.2f, 429s <= %.0f%%", minRatio, 100*maxShare))
			t.add(r)
		}
	}
	return nil
}

// appTenants and appScale are the many-tenants row against the app's own
// limit: 12 tenants of 3,000 users each (each within its own burst), and
// the app-wide quota (70,000 writes per 5 minutes) a tenth of the
// documented one, so that it binds: 36,000 users exceed its burst of
// 7,000, and the rest come at 23.3/s (in Entra's time).
const (
	appTenants = 12
	appScale   = 10
)

// appLimitTenants resets 12 tenants at once against the app-wide limit.
func (b *bench) appLimitTenants(t *table) error {
	n := graphsim.QuotaWriteBurst
	o := b.matrixOptions(bucketShapes[0], graphsim.ThrottleHeadersAll)
	burst := graphsim.QuotaAppWriteBurst / appScale
	rate := float64(graphsim.QuotaAppWriteBurst) / appScale / 300 * b.timeScale
	figure := fmt.Sprintf("%d tenants × %s users, app limit", appTenants, count(n))
	b.logf("%s", figure)
	p, err := startPartner(o, n, appTenants, func(m *graphsim.Multi) { m.LimitApp(burst, rate) })
	if err != nil {
		return err
	}
	defer p.close()
	res, err := b.runReset(p.srv.URL, p.ca, p.dir, p.all, "all")
	if err != nil {
		return err
	}
	reset, writes, limited := p.totals()
	all := appTenants * n
	r := row{figure: figure, client: "bulkreset", users: all, wall: res.wall, reset: reset,
		writes: writes, limited: limited, rssKB: res.maxRSS / 1024, cpu: res.cpu}
	if res.exit != 0 || reset != all {
		b.logf("%s: bulkreset exited %d with %d of %d users reset: %s\n%s", figure, res.exit, reset, all, failures(res.results), tail(res.stderr, 20))
	}
	min := time.Duration(float64(all-burst) / rate * float64(time.Second))
	ratio := min.Seconds() / r.wall.Seconds()
	r.compare = fmt.Sprintf("ratio %.3f (app bound %s)", ratio, seconds(min))
	r.accept = met(reset == all && ratio >= 0.95 && limited*20 <= writes, "none failed, within 5% of the app bound, 429s <= 5%")
	t.add(r)
	return nil
}
