package graphsim

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestFormatRetryAfter(t *testing.T) {
	tests := []struct {
		wait       time.Duration
		fractional bool
		want       string
	}{
		{wait: 249 * time.Millisecond, fractional: true, want: "0.249"},
		{wait: 248100 * time.Microsecond, fractional: true, want: "0.249"},
		{wait: 2 * time.Second, fractional: true, want: "2"},
		{wait: 1500 * time.Millisecond, fractional: true, want: "1.5"},
		{wait: 0, fractional: true, want: "0.001"},
		{wait: 249 * time.Millisecond, fractional: false, want: "1"},
		{wait: 1001 * time.Millisecond, fractional: false, want: "2"},
		{wait: 3 * time.Second, fractional: false, want: "3"},
		{wait: 0, fractional: false, want: "1"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%v/%t", tt.wait, tt.fractional), func(t *testing.T) {
			if got := formatRetryAfter(tt.wait, tt.fractional); got != tt.want {
				t.Errorf("formatRetryAfter(%v, %t): got %q, want %q", tt.wait, tt.fractional, got, tt.want)
			}
		})
	}
}

func TestBucket(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	type step struct {
		at       time.Duration // since t0
		reserve  float64       // tokens to leave
		charge   bool          // charge when throttled
		wantOK   bool
		wantWait time.Duration // when throttled
	}
	tests := []struct {
		name        string
		burst, rate float64
		steps       []step
	}{
		{name: "burst then refill", burst: 2, rate: 4, steps: []step{
			{wantOK: true}, {wantOK: true},
			{wantOK: false, wantWait: 250 * time.Millisecond},
			{at: 100 * time.Millisecond, wantOK: false, wantWait: 150 * time.Millisecond},
			{at: 250 * time.Millisecond, wantOK: true},
			{at: 10 * time.Second, wantOK: true}, {at: 10 * time.Second, wantOK: true}, // refill stops at the burst
			{at: 10 * time.Second, wantOK: false, wantWait: 250 * time.Millisecond},
		}},
		{name: "throttled attempts accrue", burst: 5, rate: 1, steps: []step{
			{wantOK: true}, {wantOK: true}, {wantOK: true}, {wantOK: true}, {wantOK: true},
			{charge: true, wantOK: false, wantWait: 2 * time.Second},
			{charge: true, wantOK: false, wantWait: 3 * time.Second},
			{charge: true, wantOK: false, wantWait: 4 * time.Second},
			{charge: true, wantOK: false, wantWait: 5 * time.Second},
			{charge: true, wantOK: false, wantWait: 5 * time.Second}, // the debt stops at 0.8 of the bucket (usage 1.8)
			{at: 5 * time.Second, wantOK: true},
		}},
		{name: "a reserve is kept", burst: 10, rate: 1, steps: []step{
			{reserve: 2, wantOK: true}, {reserve: 2, wantOK: true}, {reserve: 2, wantOK: true}, {reserve: 2, wantOK: true},
			{reserve: 2, wantOK: true}, {reserve: 2, wantOK: true}, {reserve: 2, wantOK: true}, {reserve: 2, wantOK: true},
			{reserve: 2, wantOK: false, wantWait: time.Second},
			{wantOK: true}, {wantOK: true}, // without a reserve the last two tokens are there
		}},
		{name: "clock going back is ignored", burst: 1, rate: 1, steps: []step{
			{at: time.Second, wantOK: true},
			{at: 0, wantOK: false, wantWait: time.Second},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := bucket{burst: tt.burst, rate: tt.rate}
			for i, s := range tt.steps {
				ok := b.has(t0.Add(s.at), 1, s.reserve)
				if ok {
					b.take(1)
				} else if s.charge {
					b.charge(1)
				}
				if ok != s.wantOK {
					t.Fatalf("step %d: has: got %t, want %t", i, ok, s.wantOK)
				}
				if !ok {
					if got := b.wait(1, s.reserve); got != s.wantWait {
						t.Errorf("step %d: wait: got %v, want %v", i, got, s.wantWait)
					}
				}
			}
			if u := b.usage(); u > 1+maxDebt {
				t.Errorf("usage %v, want at most %v", u, 1+maxDebt)
			}
		})
	}
}

// TestWriteQuota runs the bucket through the HTTP stack with an injected clock.
func TestWriteQuota(t *testing.T) {
	type step struct {
		advance        time.Duration
		writes, reads  int
		wantOK         int    // writes answered 204
		wantRetryAfter string // on every throttled write
	}
	tests := []struct {
		name       string
		opts       Options
		steps      []step
		wantWrites int
	}{
		{name: "whole seconds", opts: Options{WriteBurst: 3, WriteRate: 2}, steps: []step{
			{writes: 5, reads: 2, wantOK: 3, wantRetryAfter: "1"},
			{advance: 250 * time.Millisecond, writes: 1, wantOK: 0, wantRetryAfter: "1"},
			{advance: 250 * time.Millisecond, writes: 2, wantOK: 1, wantRetryAfter: "1"},
		}, wantWrites: 8},
		{name: "fractional", opts: Options{WriteBurst: 3, WriteRate: 2, FractionalRetryAfter: true}, steps: []step{
			{writes: 5, wantOK: 3, wantRetryAfter: "0.5"},
			{advance: 250 * time.Millisecond, writes: 1, wantOK: 0, wantRetryAfter: "0.25"},
			{advance: 250 * time.Millisecond, writes: 1, wantOK: 1},
		}, wantWrites: 7},
		{name: "accrue all", opts: Options{WriteBurst: 2, WriteRate: 1, ThrottledAccrue: 1}, steps: []step{
			{writes: 2, wantOK: 2},
			{writes: 1, wantOK: 0, wantRetryAfter: "2"},
			{writes: 1, wantOK: 0, wantRetryAfter: "3"},
			{advance: 2 * time.Second, writes: 1, wantOK: 0, wantRetryAfter: "2"},
			{advance: 2 * time.Second, writes: 1, wantOK: 1},
		}, wantWrites: 6},
		{name: "accrue none", opts: Options{WriteBurst: 2, WriteRate: 1}, steps: []step{
			{writes: 2, wantOK: 2},
			{writes: 1, wantOK: 0, wantRetryAfter: "1"},
			{writes: 1, wantOK: 0, wantRetryAfter: "1"},
			{advance: time.Second, writes: 1, wantOK: 1},
		}, wantWrites: 5},
		{name: "unlimited", opts: Options{}, steps: []step{{writes: 20, wantOK: 20}}, wantWrites: 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, tt.opts)
			users := GenerateUsers(100, SandboxDomain)
			next, throttled := 0, 0
			for i, s := range tt.steps {
				e.clock.Advance(s.advance)
				var reqs []subRequest
				for w := 0; w < s.writes; w++ {
					reqs = append(reqs, patch(fmt.Sprintf("w%d", w), users[next].UPN, testPassword))
					next++
				}
				for r := 0; r < s.reads; r++ {
					reqs = append(reqs, get(fmt.Sprintf("r%d", r), "/users/"+users[0].UPN))
				}
				_, got := e.batch(t, reqs...)
				ok := 0
				for w := 0; w < s.writes; w++ {
					r := got[fmt.Sprintf("w%d", w)]
					switch r.Status {
					case http.StatusNoContent:
						ok++
					case http.StatusTooManyRequests:
						throttled++
						checkError(t, r.Body, codeThrottled, msgThrottled)
						if got := r.Headers["Retry-After"]; got != s.wantRetryAfter {
							t.Errorf("step %d: Retry-After: got %q, want %q", i, got, s.wantRetryAfter)
						}
						if got := r.Headers["x-ms-throttle-scope"]; got != "Tenant_Application/Write/"+SandboxClientID+"/"+SandboxTenantID {
							t.Errorf("step %d: x-ms-throttle-scope: got %q", i, got)
						}
						if got := r.Headers["x-ms-throttle-information"]; got != "WriteLimitExceeded" {
							t.Errorf("step %d: x-ms-throttle-information: got %q, want WriteLimitExceeded", i, got)
						}
					default:
						t.Errorf("step %d: write %d: got status %d, want 204 or 429", i, w, r.Status)
					}
				}
				if ok != s.wantOK {
					t.Errorf("step %d: writes applied: got %d, want %d", i, ok, s.wantOK)
				}
				for r := 0; r < s.reads; r++ {
					if st := got[fmt.Sprintf("r%d", r)].Status; st != http.StatusOK {
						t.Errorf("step %d: read %d: got status %d, want 200 (reads take no write tokens)", i, r, st)
					}
				}
			}
			st := e.sim.Stats()
			if st.Writes != tt.wantWrites || st.Throttled != throttled || st.WritesApplied != tt.wantWrites-throttled {
				t.Errorf("stats: got writes %d, throttled %d, applied %d; want %d, %d, %d", st.Writes, st.Throttled, st.WritesApplied, tt.wantWrites, throttled, tt.wantWrites-throttled)
			}
		})
	}
}

func TestWritesToMissingUsersCostQuota(t *testing.T) {
	e := start(t, Options{WriteBurst: 1, WriteRate: 1})
	_, got := e.batch(t, patch("1", upn("nobody"), testPassword))
	if got["1"].Status != http.StatusNotFound {
		t.Fatalf("missing user: got status %d, want 404", got["1"].Status)
	}
	_, got = e.batch(t, patch("1", upn("adele.vance"), testPassword))
	if got["1"].Status != http.StatusTooManyRequests {
		t.Errorf("next write: got status %d, want 429 (the 404 spent the only token)", got["1"].Status)
	}
	if !strings.Contains(string(got["1"].Body), codeThrottled) {
		t.Errorf("next write: body %s, want %s", got["1"].Body, codeThrottled)
	}
	res, err := e.do(context.Background(), http.MethodPost, "/v1.0/users/"+upn("lee.gu")+"/revokeSignInSessions", nil,
		map[string]string{"Authorization": "Bearer " + e.token})
	if err != nil {
		t.Fatal(err)
	}
	if res.status != http.StatusTooManyRequests || res.header.Get("Retry-After") != "1" {
		t.Errorf("direct write: got %d with Retry-After %q, want 429 with \"1\"", res.status, res.header.Get("Retry-After"))
	}
	checkError(t, res.body, codeThrottled, msgThrottled)
}

// writes sends n password resets in one batch, with the sub-request headers
// extra, and counts the answers by status.
func (e *env) writes(t *testing.T, n int, extra map[string]string) (map[int]int, map[string]subResponse) {
	t.Helper()
	users := GenerateUsers(n, SandboxDomain) // in the sandbox tenant
	var reqs []subRequest
	for i := range n {
		r := patch(fmt.Sprintf("w%d", i), users[i].UPN, testPassword)
		for k, v := range extra {
			r.Headers[k] = v
		}
		reqs = append(reqs, r)
	}
	_, got := e.batch(t, reqs...)
	byStatus := map[int]int{}
	for _, r := range got {
		byStatus[r.Status]++
	}
	return byStatus, got
}

// throttledWrites sends n password resets in one batch, checks that ok of
// them were applied and the others throttled, and returns the throttled
// answers.
func (e *env) throttledWrites(t *testing.T, n, ok int) []subResponse {
	t.Helper()
	st, got := e.writes(t, n, nil)
	if st[http.StatusNoContent] != ok || st[http.StatusTooManyRequests] != n-ok {
		t.Fatalf("statuses %v, want %d × 204 and %d × 429", st, ok, n-ok)
	}
	var throttled []subResponse
	for _, r := range got {
		if r.Status == http.StatusTooManyRequests {
			throttled = append(throttled, r)
		}
	}
	return throttled
}

func TestTenantWriteQuota(t *testing.T) {
	e := start(t, Options{WriteBurst: 100, WriteRate: 10, TenantWriteBurst: 3, TenantWriteRate: 1})
	// The tenant's quota is the smaller.
	for _, r := range e.throttledWrites(t, 5, 3) {
		if scope := r.Headers["x-ms-throttle-scope"]; scope != "Tenant/Write/"+SandboxClientID+"/"+SandboxTenantID {
			t.Errorf("x-ms-throttle-scope %q, want the tenant's write limit", scope)
		}
		if info := r.Headers["x-ms-throttle-information"]; info != "WriteLimitExceeded" {
			t.Errorf("x-ms-throttle-information %q, want WriteLimitExceeded", info)
		}
		if ra := r.Headers["Retry-After"]; ra != "1" {
			t.Errorf("Retry-After %q, want \"1\" (one token at 1 per second)", ra)
		}
	}
}

func TestResourceUnitQuota(t *testing.T) {
	e := start(t, Options{ResourceUnitBurst: 4, ResourceUnitRate: 2, FractionalRetryAfter: true})
	// Reads spend resource units and no write quota: three reads and a
	// write spend the four units, the next read is throttled.
	var reqs []subRequest
	for i := range 3 {
		reqs = append(reqs, get(fmt.Sprintf("r%d", i), "/users/"+upn("adele.vance")+"?$select=id"))
	}
	reqs = append(reqs, patch("w", upn("lee.gu"), testPassword), get("r3", "/users/"+upn("adele.vance")))
	_, got := e.batch(t, reqs...)
	for _, id := range []string{"r0", "r1", "r2", "w"} {
		if st := got[id].Status; st != http.StatusOK && st != http.StatusNoContent {
			t.Errorf("%s: status %d, want success", id, st)
		}
		if ru := got[id].Headers["x-ms-resource-unit"]; ru != "1" {
			t.Errorf("%s: x-ms-resource-unit %q, want \"1\"", id, ru)
		}
	}
	r := got["r3"]
	if r.Status != http.StatusTooManyRequests {
		t.Fatalf("fifth request: status %d, want 429", r.Status)
	}
	checkError(t, r.Body, codeThrottled, msgThrottled)
	if scope := r.Headers["x-ms-throttle-scope"]; scope != "Tenant_Application/ReadWrite/"+SandboxClientID+"/"+SandboxTenantID {
		t.Errorf("x-ms-throttle-scope %q", scope)
	}
	if info := r.Headers["x-ms-throttle-information"]; info != "ResourceUnitLimitExceeded" {
		t.Errorf("x-ms-throttle-information %q, want ResourceUnitLimitExceeded", info)
	}
	if ra := r.Headers["Retry-After"]; ra != "0.5" {
		t.Errorf("Retry-After %q, want \"0.5\" (one unit at 2 per second)", ra)
	}
	if st := e.sim.Stats(); st.Writes != 1 || st.Reads != 4 {
		t.Errorf("stats: writes %d, reads %d; want 1 and 4", st.Writes, st.Reads)
	}
}

func TestUsageHeader(t *testing.T) {
	for _, omit := range []bool{false, true} {
		t.Run(fmt.Sprintf("omit=%t", omit), func(t *testing.T) {
			e := start(t, Options{WriteBurst: 10, WriteRate: 1, OmitUsageHeader: omit})
			users := GenerateUsers(10, SandboxDomain) // in the sandbox tenant
			// One write per batch, so that the order is known: after the
			// eighth the limit is 80% used, after the ninth 90%.
			want := map[int]string{8: "", 9: "0.900", 10: "1.000"}
			for i, u := range users {
				_, got := e.batch(t, patch("1", u.UPN, testPassword))
				h, has := got["1"].Headers["x-ms-throttle-limit-percentage"]
				w, check := want[i+1]
				switch {
				case omit && has:
					t.Errorf("write %d: x-ms-throttle-limit-percentage %q with OmitUsageHeader", i+1, h)
				case !omit && check && h != w:
					t.Errorf("write %d: x-ms-throttle-limit-percentage %q, want %q", i+1, h, w)
				case !omit && i+1 < 8 && has:
					t.Errorf("write %d: x-ms-throttle-limit-percentage %q below 80%%", i+1, h)
				}
			}
		})
	}
}

func TestThrottlePriority(t *testing.T) {
	e := start(t, Options{WriteBurst: 10, WriteRate: 1})
	// Low priority (here set on the $batch POST, for every request in it)
	// is throttled once 80% of the limit is used...
	users := GenerateUsers(12, SandboxDomain) // in the sandbox tenant
	var reqs []subRequest
	for i := range 9 {
		reqs = append(reqs, patch(fmt.Sprintf("l%d", i), users[i].UPN, testPassword))
	}
	body, _ := json.Marshal(batchRequest{Requests: reqs})
	res, err := e.do(context.Background(), http.MethodPost, "/v1.0/$batch", body, map[string]string{
		"Authorization": "Bearer " + e.token, "Content-Type": "application/json", "x-ms-throttle-priority": "low",
	})
	if err != nil || res.status != http.StatusOK {
		t.Fatalf("POST $batch: %v, status %d", err, res.status)
	}
	low := map[int]int{}
	for _, r := range byID(t, res.body) {
		low[r.Status]++
	}
	if low[http.StatusNoContent] != 8 || low[http.StatusTooManyRequests] != 1 {
		t.Errorf("low priority: statuses %v, want 8 × 204 then 429", low)
	}
	// ...while normal and high priority (here on each request) may use the
	// rest of the bucket.
	_, got := e.batch(t,
		withHeader(patch("n", users[9].UPN, testPassword), "x-ms-throttle-priority", "Normal"),
		withHeader(patch("h", users[10].UPN, testPassword), "x-ms-throttle-priority", "HIGH"),
		withHeader(patch("x", users[11].UPN, testPassword), "x-ms-throttle-priority", "High"))
	if got["n"].Status != http.StatusNoContent || got["h"].Status != http.StatusNoContent || got["x"].Status != http.StatusTooManyRequests {
		t.Errorf("normal, high, high: statuses %d, %d, %d; want 204, 204, 429", got["n"].Status, got["h"].Status, got["x"].Status)
	}
	want := map[string]int{"Low": 9, "Normal": 1, "High": 2}
	if st := e.sim.Stats(); !maps.Equal(st.WritesByPriority, want) {
		t.Errorf("WritesByPriority %v, want %v", st.WritesByPriority, want)
	}
}

func withHeader(r subRequest, k, v string) subRequest {
	r.Headers[k] = v
	return r
}

func TestSetDocumentedLimits(t *testing.T) {
	tests := []struct {
		users int
		sc    Scale
		want  Options
	}{
		{users: 10, want: Options{WriteBurst: 3000, WriteRate: 20, TenantWriteBurst: 18000, TenantWriteRate: 60, ResourceUnitBurst: 3500, ResourceUnitRate: 350}},
		{users: 50, want: Options{WriteBurst: 3000, WriteRate: 20, TenantWriteBurst: 18000, TenantWriteRate: 60, ResourceUnitBurst: 5000, ResourceUnitRate: 500}},
		{users: 501, want: Options{WriteBurst: 3000, WriteRate: 20, TenantWriteBurst: 18000, TenantWriteRate: 60, ResourceUnitBurst: 8000, ResourceUnitRate: 800}},
		{users: 1000, sc: Scale{Time: 60}, want: Options{WriteBurst: 3000, WriteRate: 1200, TenantWriteBurst: 18000, TenantWriteRate: 3600, ResourceUnitBurst: 8000, ResourceUnitRate: 48000}},
		{users: 1000, sc: Scale{Count: 10, Time: 10}, want: Options{WriteBurst: 300, WriteRate: 20, TenantWriteBurst: 1800, TenantWriteRate: 60, ResourceUnitBurst: 800, ResourceUnitRate: 800}},
	}
	for _, tt := range tests {
		var got Options
		got.SetDocumentedLimits(tt.users, tt.sc)
		near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9*b }
		if got.WriteBurst != tt.want.WriteBurst || !near(got.WriteRate, tt.want.WriteRate) ||
			got.TenantWriteBurst != tt.want.TenantWriteBurst || !near(got.TenantWriteRate, tt.want.TenantWriteRate) ||
			got.ResourceUnitBurst != tt.want.ResourceUnitBurst || !near(got.ResourceUnitRate, tt.want.ResourceUnitRate) {
			t.Errorf("SetDocumentedLimits(%d, %+v): got %v, want %v", tt.users, tt.sc, got, tt.want)
		}
	}
}

func TestLogNormalLatency(t *testing.T) {
	f := LogNormalLatency(50*time.Millisecond, 400*time.Millisecond)
	const n = 20000
	d := make([]time.Duration, n)
	for i := range d {
		d[i] = f()
	}
	slices.Sort(d)
	// With 20,000 draws the sample quantiles are within a few percent.
	if med := d[n/2]; med < 47*time.Millisecond || med > 53*time.Millisecond {
		t.Errorf("median %v, want about 50ms", med)
	}
	if p99 := d[n*99/100]; p99 < 340*time.Millisecond || p99 > 470*time.Millisecond {
		t.Errorf("99th percentile %v, want about 400ms", p99)
	}
	if g := LogNormalLatency(20*time.Millisecond, 0); g() != 20*time.Millisecond {
		t.Errorf("without a spread: got %v, want the median", g())
	}
}

func TestLatencyFunc(t *testing.T) {
	var calls atomic.Int64
	e := start(t, Options{Latency: time.Hour, LatencyFunc: func() time.Duration { calls.Add(1); return time.Millisecond }})
	e.batch(t, get("1", "/users/"+upn("adele.vance")))
	if calls.Load() != 1 {
		t.Errorf("LatencyFunc called %d times for one request, want 1 (it replaces Latency)", calls.Load())
	}
}

// TestThrottleHeaders checks what a throttled write carries in each mode.
func TestThrottleHeaders(t *testing.T) {
	scope := "Tenant_Application/Write/" + SandboxClientID + "/" + SandboxTenantID
	tests := []struct {
		mode ThrottleHeaders
		want map[string]string // "" for absent
	}{
		{ThrottleHeadersAll, map[string]string{"Retry-After": "3", "x-ms-throttle-scope": scope, "x-ms-throttle-information": "WriteLimitExceeded"}},
		{ThrottleHeadersRetryAfter, map[string]string{"Retry-After": "3", "x-ms-throttle-scope": "", "x-ms-throttle-information": ""}},
		{ThrottleHeadersRetryAfterOne, map[string]string{"Retry-After": "1", "x-ms-throttle-scope": "", "x-ms-throttle-information": ""}},
		{ThrottleHeadersNone, map[string]string{"Retry-After": "", "x-ms-throttle-scope": "", "x-ms-throttle-information": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			// Two tokens at one every 3 s: the third write waits 3 s.
			e := start(t, Options{WriteBurst: 2, WriteRate: 1.0 / 3, ThrottleHeaders: tt.mode})
			for _, r := range e.throttledWrites(t, 3, 2) {
				checkError(t, r.Body, codeThrottled, msgThrottled)
				for h, want := range tt.want {
					if v, ok := r.Headers[h]; v != want || ok != (want != "") {
						t.Errorf("%s: got %q (present %t), want %q", h, v, ok, want)
					}
				}
			}
		})
	}
}

// TestConstantRetryAfterScaled checks that the constant Retry-After is one
// second of Entra's time: shortened with the windows.
func TestConstantRetryAfterScaled(t *testing.T) {
	o := Options{ThrottleHeaders: ThrottleHeadersRetryAfterOne}
	o.SetDocumentedLimits(10, Scale{Time: 100})
	o.WriteBurst = 1
	e := start(t, o)
	_, got := e.writes(t, 2, nil)
	if ra := got["w1"].Headers["Retry-After"]; got["w1"].Status != http.StatusTooManyRequests || ra != "0.01" {
		t.Errorf("second write: status %d, Retry-After %q; want 429 with 0.01 (1 s / 100)", got["w1"].Status, ra)
	}
}

// TestThrottledCost checks that every throttled write costs the share of
// a write ThrottledCost says: four throttled at a quarter take one token.
func TestThrottledCost(t *testing.T) {
	e := start(t, Options{WriteBurst: 2, WriteRate: 1, ThrottledCost: 0.25, FractionalRetryAfter: true})
	if st, _ := e.writes(t, 6, nil); st[http.StatusNoContent] != 2 || st[http.StatusTooManyRequests] != 4 {
		t.Fatalf("statuses %v, want 2 × 204 and 4 × 429", st)
	}
	// One token in debt: a second refills it, a second more gives one.
	e.clock.Advance(time.Second)
	if st, _ := e.writes(t, 1, nil); st[http.StatusTooManyRequests] != 1 {
		t.Errorf("after 1 s: statuses %v, want the write throttled (the throttled ones cost a token)", st)
	}
	e.clock.Advance(1250 * time.Millisecond) // and the quarter that one cost
	if st, _ := e.writes(t, 1, nil); st[http.StatusNoContent] != 1 {
		t.Errorf("after 2.25 s: statuses %v, want the write accepted", st)
	}
}

// TestWriteSpent checks a bucket part spent at the start.
func TestWriteSpent(t *testing.T) {
	e := start(t, Options{WriteBurst: 10, WriteRate: 1, WriteSpent: 0.7})
	if st, _ := e.writes(t, 5, nil); st[http.StatusNoContent] != 3 || st[http.StatusTooManyRequests] != 2 {
		t.Errorf("statuses %v, want 3 × 204 (30%% of 10 left) and 2 × 429", st)
	}
}

// TestCompetitor checks that another application's writes leave this one
// the rest of the tenant's quota: from what it left at the start, refilled
// at the tenant's rate less its own.
func TestCompetitor(t *testing.T) {
	e := start(t, Options{WriteBurst: 100, WriteRate: 10, TenantWriteBurst: 60, TenantWriteRate: 6,
		Competitor: Competitor{Rate: 4, Spent: 0.9}, FractionalRetryAfter: true})
	// A tenth of 60 left.
	for _, r := range e.throttledWrites(t, 8, 6) {
		if ra := r.Headers["Retry-After"]; ra != "0.5" {
			t.Errorf("Retry-After %q, want 0.5 (one write at 6 - 4 = 2 a second)", ra)
		}
	}
	e.clock.Advance(5 * time.Second)
	if st, _ := e.writes(t, 20, nil); st[http.StatusNoContent] != 10 {
		t.Errorf("after 5 s: statuses %v, want 10 × 204 (2 a second)", st)
	}
}
