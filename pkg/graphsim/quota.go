package graphsim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Entra's identity and access service limits
// (https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits).
// "Throttling is based on a token bucket algorithm": each limit below is a
// bucket of its quota, refilled over its window. QuotaWriteBurst and
// QuotaWriteRate (the per app and tenant write quota) are in sim.go.
const (
	// QuotaTenantWriteBurst and QuotaTenantWriteRate are the tenant's write
	// quota, all applications together: 18,000 writes per 5 minutes.
	QuotaTenantWriteBurst = 18000
	QuotaTenantWriteRate  = 60.0
	// QuotaAppWriteBurst is the application's write quota across all
	// tenants: 70,000 writes per 5 minutes (Multi.LimitApp enforces it).
	QuotaAppWriteBurst = 70000
	// QuotaResourceUnitsSmall, QuotaResourceUnitsMedium and
	// QuotaResourceUnitsLarge are the resource units an application may
	// spend in a tenant per QuotaResourceUnitWindow: tenants of under 50,
	// 50 to 500, and over 500 users.
	QuotaResourceUnitsSmall  = 3500
	QuotaResourceUnitsMedium = 5000
	QuotaResourceUnitsLarge  = 8000
	QuotaResourceUnitWindow  = 10 * time.Second
	// quotaWriteWindow and quotaTenantWriteWindow are the windows of the
	// write quotas.
	quotaWriteWindow       = 150 * time.Second
	quotaTenantWriteWindow = 5 * time.Minute
)

// ResourceUnitQuota returns the resource units per 10 s that Entra allows an
// application in a tenant of users users.
func ResourceUnitQuota(users int) int {
	switch {
	case users < 50:
		return QuotaResourceUnitsSmall
	case users <= 500:
		return QuotaResourceUnitsMedium
	}
	return QuotaResourceUnitsLarge
}

// Scale shrinks Entra's documented limits, so that a benchmark meets them
// sooner: every quota is divided by Count and every window by Time.
// Zero values mean 1.
type Scale struct {
	Count, Time float64
}

// SetDocumentedLimits sets o's write quota, tenant write quota and resource
// unit quota to Entra's documented limits for a tenant of users users,
// shrunk by sc (and the constant Retry-After of ThrottleHeadersRetryAfterOne
// with the windows: one second of Entra's time). With Scale{} a reset of 3,000 users fits in the burst and
// the next ones go at 20 per second; with Scale{Time: 60} the burst is the
// same and the refill 60 times faster.
func (o *Options) SetDocumentedLimits(users int, sc Scale) {
	c, t := sc.Count, sc.Time
	if c <= 0 {
		c = 1
	}
	if t <= 0 {
		t = 1
	}
	set := func(quota float64, window time.Duration) (int, float64) {
		q := quota / c
		return max(int(math.Round(q)), 1), q / (window.Seconds() / t)
	}
	o.WriteBurst, o.WriteRate = set(QuotaWriteBurst, quotaWriteWindow)
	o.TenantWriteBurst, o.TenantWriteRate = set(QuotaTenantWriteBurst, quotaTenantWriteWindow)
	o.ResourceUnitBurst, o.ResourceUnitRate = set(float64(ResourceUnitQuota(users)), QuotaResourceUnitWindow)
	o.ConstantRetryAfter = time.Duration(float64(time.Second) / t)
}

// maxDebt is how far below empty throttled requests that still count can
// take a bucket, as a share of its size: Graph reports the usage of a
// limit as from 0.8 to 1.8 (x-ms-throttle-limit-percentage), so a client
// can be up to 80% over its limit.
const maxDebt = 0.8

// bucket is one limit: burst tokens, refilled at rate per second, less
// drain per second that another application takes, and spent tokens
// already gone at the start. Time is passed in, so the bucket is tested
// with a fake clock.
type bucket struct {
	burst, rate  float64
	drain, spent float64
	tokens       float64
	last         time.Time
	started      bool
}

// refillRate is what the bucket refills at for this application.
func (b *bucket) refillRate() float64 { return max(b.rate-b.drain, 0) }

// enabled reports whether the limit is enforced at all.
func (b *bucket) enabled() bool { return b.burst > 0 && b.rate > 0 }

func (b *bucket) refill(now time.Time) {
	if !b.started {
		b.tokens, b.last, b.started = b.burst-b.spent, now, true
		return
	}
	if d := now.Sub(b.last); d > 0 {
		b.tokens = math.Min(b.burst, b.tokens+d.Seconds()*b.refillRate())
		b.last = now
	}
}

// has reports whether cost tokens can be taken at now while leaving
// reserve tokens in the bucket.
func (b *bucket) has(now time.Time, cost, reserve float64) bool {
	b.refill(now)
	return b.tokens >= cost+reserve
}

// take spends cost tokens; has said they are there.
func (b *bucket) take(cost float64) { b.tokens -= cost }

// charge spends cost tokens that are not there, for a throttled request that
// still counts against the limit; the debt stops at maxDebt of the bucket.
func (b *bucket) charge(cost float64) {
	b.tokens = math.Max(b.tokens-cost, -maxDebt*b.burst)
}

// usage is the share of the limit in use: 0 for a full bucket, 1 for an
// empty one, up to 1 + maxDebt.
func (b *bucket) usage() float64 { return 1 - b.tokens/b.burst }

// wait is how long until cost tokens (plus reserve) are there.
func (b *bucket) wait(cost, reserve float64) time.Duration {
	missing := cost + reserve - b.tokens
	if missing <= 0 {
		return 0
	}
	r := b.refillRate()
	if r <= 0 {
		return time.Hour // another application takes it all
	}
	return time.Duration(math.Round(missing / r * float64(time.Second)))
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

// Competitor is another application writing to the tenant: from the
// tenant's write quota, it takes Rate writes a second, and had taken Spent
// of it (a share) when the emulator started, so that this application
// gets less than its own quota would allow.
type Competitor struct {
	Rate  float64
	Spent float64
}

// ThrottleHeaders is what a throttled request carries.
type ThrottleHeaders int

// What a throttled request carries.
const (
	// ThrottleHeadersAll: Retry-After (the time until the request would
	// fit), x-ms-throttle-scope and x-ms-throttle-information.
	ThrottleHeadersAll ThrottleHeaders = iota
	// ThrottleHeadersRetryAfter: Retry-After alone.
	ThrottleHeadersRetryAfter
	// ThrottleHeadersRetryAfterOne: Retry-After: 1 (Options.ConstantRetryAfter),
	// whatever the wait.
	ThrottleHeadersRetryAfterOne
	// ThrottleHeadersNone: no header at all.
	ThrottleHeadersNone
)

// String names the mode, for tables and logs.
func (h ThrottleHeaders) String() string {
	switch h {
	case ThrottleHeadersAll:
		return "every header"
	case ThrottleHeadersRetryAfter:
		return "Retry-After only"
	case ThrottleHeadersRetryAfterOne:
		return "Retry-After: 1"
	case ThrottleHeadersNone:
		return "no header"
	}
	return fmt.Sprintf("ThrottleHeaders(%d)", int(h))
}

// quotas are the limits of one tenant, for the one application the
// emulator serves.
type quotas struct {
	write       bucket    // writes of the application in the tenant
	tenantWrite bucket    // writes of every application in the tenant
	units       bucket    // resource units of the application in the tenant
	app         *appQuota // writes of the application in every tenant; nil for none
}

func newQuotas(o Options) quotas {
	return quotas{
		write: bucket{burst: float64(o.WriteBurst), rate: o.WriteRate, spent: o.WriteSpent * float64(o.WriteBurst)},
		tenantWrite: bucket{burst: float64(o.TenantWriteBurst), rate: o.TenantWriteRate,
			drain: o.Competitor.Rate, spent: o.Competitor.Spent * float64(o.TenantWriteBurst)},
		units: bucket{burst: float64(o.ResourceUnitBurst), rate: o.ResourceUnitRate},
	}
}

// appQuota is the write quota of the application across the tenants of a
// Multi, which every tenant's Sim charges under its own lock and this one.
type appQuota struct {
	mu sync.Mutex
	b  bucket
}

// limit is a bucket a request is counted against, with what a 429 from it
// says in x-ms-throttle-scope (<Scope>/<Limit>) and x-ms-throttle-information.
type limit struct {
	b           *bucket
	cost        float64
	scope, info string
}

// quotaNote is what the quota said about a request that was let through,
// for its response headers.
type quotaNote struct {
	units int     // resource units charged (x-ms-resource-unit)
	usage float64 // the highest usage of the limits it was counted against, 0 if none
}

// Throttle priorities (the x-ms-throttle-priority request header).
const (
	priorityLow    = "Low"
	priorityNormal = "Normal"
	priorityHigh   = "High"
)

// parsePriority reads x-ms-throttle-priority: Low, Normal or High, without
// regard to case; "If the header doesn't exist or is set to any other
// value, it indicates a normal request."
func parsePriority(v string) string {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "low":
		return priorityLow
	case "high":
		return priorityHigh
	}
	return priorityNormal
}

// lowReserve is the share of a bucket kept from low-priority requests.
// Graph throttles low-priority requests first, then normal, then high
// ("Using the priority request header does not change the limits"); here a
// low-priority request is throttled once the limit is more than 80% used,
// where Graph starts reporting x-ms-throttle-limit-percentage, and normal and
// high ones only when the bucket is empty.
const lowReserve = 0.2

// chargeLocked counts a request costing units resource units and writes
// writes against the limits: it takes their tokens, or answers 429 with the
// time until they are all there in Retry-After, the limit that refused in
// x-ms-throttle-scope and x-ms-throttle-information, and, with
// ThrottledAccrue, still charges the refused request.
func (s *Sim) chargeLocked(c opCtx, units, writes int) *apiError {
	priority := parsePriority(c.priority)
	if writes > 0 {
		s.stats.Writes++
		s.stats.WritesByPriority[priority]++
	}
	app := "/" + s.opts.ClientID + "/" + s.opts.TenantID
	var limits []limit
	if units > 0 && s.quota.units.enabled() {
		limits = append(limits, limit{&s.quota.units, float64(units), "Tenant_Application/ReadWrite" + app, "ResourceUnitLimitExceeded"})
	}
	if writes > 0 && s.quota.write.enabled() {
		limits = append(limits, limit{&s.quota.write, float64(writes), "Tenant_Application/Write" + app, "WriteLimitExceeded"})
	}
	if writes > 0 && s.quota.tenantWrite.enabled() {
		limits = append(limits, limit{&s.quota.tenantWrite, float64(writes), "Tenant/Write" + app, "WriteLimitExceeded"})
	}
	if aq := s.quota.app; writes > 0 && aq != nil && aq.b.enabled() {
		aq.mu.Lock() // after s.mu, always
		defer aq.mu.Unlock()
		limits = append(limits, limit{&aq.b, float64(writes), "Application/Write" + app, "WriteLimitExceeded"})
	}
	now := s.now()
	reserve := func(l limit) float64 {
		if priority == priorityLow {
			return lowReserve * l.b.burst
		}
		return 0
	}
	var refused *limit
	for i := range limits {
		if l := &limits[i]; !l.b.has(now, l.cost, reserve(*l)) && refused == nil {
			refused = l
		}
	}
	if refused == nil {
		note := quotaNote{units: units}
		for _, l := range limits {
			l.b.take(l.cost)
			note.usage = max(note.usage, l.b.usage())
		}
		if c.quota != nil {
			*c.quota = note
		}
		return nil
	}
	switch {
	case s.opts.ThrottledCost > 0:
		for _, l := range limits {
			l.b.charge(s.opts.ThrottledCost * l.cost)
		}
	case s.chanceLocked(s.opts.ThrottledAccrue):
		for _, l := range limits {
			l.b.charge(l.cost)
		}
	}
	var wait time.Duration
	for _, l := range limits {
		wait = max(wait, l.b.wait(l.cost, reserve(l)))
	}
	s.stats.Throttled++
	e := newAPIError(http.StatusTooManyRequests, codeThrottled, msgThrottled)
	switch s.opts.ThrottleHeaders {
	case ThrottleHeadersAll:
		e.header = map[string]string{
			"Retry-After":               formatRetryAfter(wait, s.opts.FractionalRetryAfter),
			"x-ms-throttle-scope":       refused.scope,
			"x-ms-throttle-information": refused.info,
		}
	case ThrottleHeadersRetryAfter:
		e.header = map[string]string{"Retry-After": formatRetryAfter(wait, s.opts.FractionalRetryAfter)}
	case ThrottleHeadersRetryAfterOne:
		whole := s.opts.ConstantRetryAfter%time.Second == 0
		e.header = map[string]string{"Retry-After": formatRetryAfter(s.opts.ConstantRetryAfter, !whole)}
	}
	return e
}

// usageHeaders adds the quota's response headers to h: the resource units
// charged, and the usage of the most used limit once it is above 80%
// (https://learn.microsoft.com/graph/throttling-limits#regular-responses-requests).
func (s *Sim) usageHeaders(h map[string]string, n quotaNote) map[string]string {
	if n.units > 0 {
		h["x-ms-resource-unit"] = strconv.Itoa(n.units)
	}
	if n.usage > usageReported && !s.opts.OmitUsageHeader {
		h["x-ms-throttle-limit-percentage"] = strconv.FormatFloat(n.usage, 'f', 3, 64)
	}
	return h
}

// usageReported is the usage above which Graph reports it.
const usageReported = 0.8

// LogNormalLatency returns a latency distribution for Options.LatencyFunc:
// log-normal with the given median and 99th percentile, the long-tailed
// shape of network and service latencies. A p99 at or below the median
// gives the median every time.
func LogNormalLatency(median, p99 time.Duration) func() time.Duration {
	const z99 = 2.3263478740408408 // the standard normal's 99th percentile
	mu := math.Log(float64(median))
	sigma := 0.0
	if p99 > median && median > 0 {
		sigma = (math.Log(float64(p99)) - mu) / z99
	}
	return func() time.Duration {
		if median <= 0 {
			return 0
		}
		return time.Duration(math.Round(math.Exp(mu + sigma*rand.NormFloat64())))
	}
}
