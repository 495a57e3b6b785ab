package graphsim

import (
	"context"
	"fmt"
	"net/http"
	"strings"
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
		charge   bool          // charge when throttled
		wantOK   bool
		wantWait time.Duration // when throttled
	}
	tests := []struct {
		name        string
		burst, rate float64
		steps       []step
	}{
		{name: "disabled", burst: 0, rate: 0, steps: []step{{wantOK: true}, {wantOK: true}}},
		{name: "burst then refill", burst: 2, rate: 4, steps: []step{
			{wantOK: true}, {wantOK: true},
			{wantOK: false, wantWait: 250 * time.Millisecond},
			{at: 100 * time.Millisecond, wantOK: false, wantWait: 150 * time.Millisecond},
			{at: 250 * time.Millisecond, wantOK: true},
			{at: 10 * time.Second, wantOK: true}, {at: 10 * time.Second, wantOK: true}, // refill stops at the burst
			{at: 10 * time.Second, wantOK: false, wantWait: 250 * time.Millisecond},
		}},
		{name: "throttled attempts accrue", burst: 2, rate: 1, steps: []step{
			{wantOK: true}, {wantOK: true},
			{charge: true, wantOK: false, wantWait: 2 * time.Second},
			{charge: true, wantOK: false, wantWait: 3 * time.Second},
			{charge: true, wantOK: false, wantWait: 3 * time.Second}, // the debt stops at one bucket
			{at: 3 * time.Second, wantOK: true},
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
				ok := b.take(t0.Add(s.at))
				if !ok && s.charge {
					b.charge()
				}
				if ok != s.wantOK {
					t.Fatalf("step %d: take: got %t, want %t", i, ok, s.wantOK)
				}
				if !ok {
					if got := b.wait(); got != s.wantWait {
						t.Errorf("step %d: wait: got %v, want %v", i, got, s.wantWait)
					}
				}
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
