package graphsim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	targets := []string{upn("adele.vance"), upn("alex.wilber"), upn("diego.siciliani")}
	type check func(t *testing.T, e *env, res result, err error)
	wantStatus := func(status int) check {
		return func(t *testing.T, e *env, res result, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("POST $batch: %v, want status %d", err, status)
			}
			if res.status != status {
				t.Fatalf("status: got %d, want %d", res.status, status)
			}
		}
	}
	wantNoResponse := func(t *testing.T, e *env, res result, err error) {
		if err == nil {
			t.Fatalf("POST $batch: got status %d, want the connection dropped", res.status)
		}
	}
	items := func(t *testing.T, res result) []subResponse {
		t.Helper()
		var br batchResponse
		if err := json.Unmarshal(res.body, &br); err != nil {
			t.Fatalf("batch response: %v", err)
		}
		return br.Responses
	}
	eachItem := func(f func(t *testing.T, r subResponse)) check {
		return func(t *testing.T, e *env, res result, err error) {
			wantStatus(200)(t, e, res, err)
			got := items(t, res)
			if len(got) != len(targets) {
				t.Fatalf("responses: got %d, want %d", len(got), len(targets))
			}
			for _, r := range got {
				f(t, r)
			}
		}
	}
	fractional := regexp.MustCompile(`^0\.\d{1,3}$`)
	tests := []struct {
		name        string
		faults      Faults
		kind        FaultKind
		check       check
		wantApplied int
		perItem     bool // counted once per sub-request
	}{
		{name: "inner throttle", faults: Faults{InnerThrottle: 1}, kind: FaultInnerThrottle, perItem: true, check: eachItem(func(t *testing.T, r subResponse) {
			if r.Status != 429 || r.Headers["Retry-After"] != "1" {
				t.Errorf("item %s: got %d Retry-After %q, want 429 \"1\"", r.ID, r.Status, r.Headers["Retry-After"])
			}
			checkError(t, r.Body, codeThrottled, msgThrottled)
		})},
		{name: "inner fractional throttle", faults: Faults{InnerThrottleFractional: 1}, kind: FaultInnerThrottleFractional, perItem: true, check: eachItem(func(t *testing.T, r subResponse) {
			ra := r.Headers["Retry-After"]
			secs, _ := strconv.ParseFloat(ra, 64)
			if r.Status != 429 || !fractional.MatchString(ra) || secs < 0.05 || secs > 0.5 {
				t.Errorf("item %s: got %d Retry-After %q, want 429 and a fraction of a second", r.ID, r.Status, ra)
			}
		})},
		{name: "inner 5xx", faults: Faults{Inner5xx: 1}, kind: FaultInner5xx, perItem: true, check: eachItem(func(t *testing.T, r subResponse) {
			switch r.Status {
			case 500, 502, 503, 504:
				graphError(t, r.Body)
			default:
				t.Errorf("item %s: got %d, want 500, 502, 503 or 504", r.ID, r.Status)
			}
		})},
		{name: "outer 503", faults: Faults{Outer503: 1}, kind: FaultOuter503, check: func(t *testing.T, e *env, res result, err error) {
			wantStatus(503)(t, e, res, err)
			checkError(t, res.body, "ServiceUnavailable", "")
			if res.header.Get("Retry-After") != "1" {
				t.Errorf("Retry-After: got %q, want \"1\"", res.header.Get("Retry-After"))
			}
		}},
		{name: "outer 429 with a date", faults: Faults{Outer429Date: 1}, kind: FaultOuter429Date, check: func(t *testing.T, e *env, res result, err error) {
			wantStatus(429)(t, e, res, err)
			checkError(t, res.body, codeThrottled, msgThrottled)
			at, perr := http.ParseTime(res.header.Get("Retry-After"))
			if perr != nil || !at.After(e.clock.Now()) {
				t.Errorf("Retry-After: got %q, want an HTTP date after %v", res.header.Get("Retry-After"), e.clock.Now())
			}
		}},
		{name: "drop before apply", faults: Faults{DropBeforeApply: 1}, kind: FaultDropBeforeApply, check: wantNoResponse},
		{name: "drop after apply", faults: Faults{DropAfterApply: 1}, kind: FaultDropAfterApply, check: wantNoResponse, wantApplied: 3},
		{name: "timeout", faults: Faults{Timeout: 1}, kind: FaultTimeout, check: func(t *testing.T, e *env, res result, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("POST $batch: got %v, want context.DeadlineExceeded", err)
			}
		}},
		{name: "truncated JSON", faults: Faults{TruncatedJSON: 1}, kind: FaultTruncatedJSON, wantApplied: 3, check: func(t *testing.T, e *env, res result, err error) {
			wantStatus(200)(t, e, res, err)
			if json.Valid(res.body) || len(res.body) == 0 {
				t.Errorf("body: got valid JSON (or nothing), want JSON cut halfway")
			}
		}},
		{name: "missing id", faults: Faults{MissingID: 1}, kind: FaultMissingID, wantApplied: 3, check: func(t *testing.T, e *env, res result, err error) {
			wantStatus(200)(t, e, res, err)
			if got := items(t, res); len(got) != 2 {
				t.Errorf("responses: got %d, want 2", len(got))
			}
		}},
		{name: "unknown id", faults: Faults{UnknownID: 1}, kind: FaultUnknownID, wantApplied: 3, check: func(t *testing.T, e *env, res result, err error) {
			wantStatus(200)(t, e, res, err)
			unknown := 0
			for _, r := range items(t, res) {
				if r.ID != "0" && r.ID != "1" && r.ID != "2" {
					unknown++
				}
			}
			if unknown != 1 {
				t.Errorf("items with an id never sent: got %d, want 1", unknown)
			}
		}},
		{name: "duplicate id", faults: Faults{DuplicateID: 1}, kind: FaultDuplicateID, wantApplied: 3, check: func(t *testing.T, e *env, res result, err error) {
			wantStatus(200)(t, e, res, err)
			seen := map[string]int{}
			got := items(t, res)
			for _, r := range got {
				seen[r.ID]++
			}
			if len(got) != 4 || len(seen) != 3 {
				t.Errorf("responses: got %d items with %d ids, want 4 with 3", len(got), len(seen))
			}
		}},
		{name: "token revoked", faults: Faults{TokenRevoke: 1}, kind: FaultTokenRevoke, check: func(t *testing.T, e *env, res result, err error) {
			wantStatus(401)(t, e, res, err)
			checkError(t, res.body, codeInvalidToken, msgTokenExpired)
			e.sim.SetFaults(Faults{})
			if _, got := e.batch(t, get("1", "/users/"+targets[0])); got["1"].Status != 200 {
				t.Errorf("same token, next batch: got %d, want 200 (revocation is for one batch)", got["1"].Status)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, Options{Faults: tt.faults, Seed: 3})
			var reqs []subRequest
			for i, u := range targets {
				reqs = append(reqs, patch(strconv.Itoa(i), u, testPassword))
			}
			body, _ := json.Marshal(batchRequest{Requests: reqs})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if tt.kind == FaultTimeout {
				ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
			}
			defer cancel()
			res, err := e.batchRaw(ctx, body)
			tt.check(t, e, res, err)
			if got := e.applied(targets...); got != tt.wantApplied {
				t.Errorf("passwords applied: got %d, want %d", got, tt.wantApplied)
			}
			st := e.sim.Stats()
			want := 1
			if tt.perItem {
				want = len(targets)
			}
			if got := st.Faults[tt.kind]; got != want || len(st.Faults) != 1 {
				t.Errorf("Stats.Faults: got %v, want only %s: %d", st.Faults, tt.kind, want)
			}
			if st.WritesApplied != tt.wantApplied || len(e.sim.Changes()) != tt.wantApplied {
				t.Errorf("WritesApplied, changes: got %d, %d; want %d", st.WritesApplied, len(e.sim.Changes()), tt.wantApplied)
			}
		})
	}
}

// batchSummary is what a client can see of one batch: its status and the
// statuses of its items, by id.
func batchSummary(t *testing.T, e *env, reqs []subRequest) string {
	t.Helper()
	body, _ := json.Marshal(batchRequest{Requests: reqs})
	res, err := e.batchRaw(context.Background(), body)
	if err != nil {
		return "error"
	}
	var br batchResponse
	_ = json.Unmarshal(res.body, &br)
	var parts []string
	for _, r := range br.Responses {
		parts = append(parts, fmt.Sprintf("%s:%d", r.ID, r.Status))
	}
	sort.Strings(parts)
	return fmt.Sprintf("%d%v", res.status, parts)
}

func TestFaultsDeterministicForASeed(t *testing.T) {
	faults := Faults{InnerThrottle: 0.2, Inner5xx: 0.1, MissingID: 0.2, DuplicateID: 0.1, Outer503: 0.1}
	run := func(seed int64) []string {
		e := start(t, Options{Faults: faults, Seed: seed})
		users := GenerateUsers(60, SandboxDomain)
		var out []string
		for b := 0; b < 12; b++ {
			var reqs []subRequest
			for i := 0; i < 5; i++ {
				reqs = append(reqs, patch(strconv.Itoa(i), users[b*5+i].UPN, testPassword))
			}
			out = append(out, batchSummary(t, e, reqs))
		}
		return out
	}
	first, again, other := run(11), run(11), run(12)
	for i := range first {
		if first[i] != again[i] {
			t.Errorf("batch %d with the same seed: got %s, then %s", i, first[i], again[i])
		}
	}
	differs := false
	for i := range first {
		differs = differs || first[i] != other[i]
	}
	if !differs {
		t.Errorf("seeds 11 and 12: got the same faults in 12 batches, want different ones")
	}
}

func TestLatency(t *testing.T) {
	tests := []struct {
		name        string
		latency     time.Duration
		timeout     time.Duration
		wantErr     bool
		wantAtLeast time.Duration
	}{
		{name: "added to each request", latency: 60 * time.Millisecond, timeout: 30 * time.Second, wantAtLeast: 60 * time.Millisecond},
		{name: "ends when the client gives up", latency: time.Hour, timeout: 200 * time.Millisecond, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := start(t, Options{Latency: tt.latency, LatencyJitter: time.Millisecond})
			body, _ := json.Marshal(batchRequest{Requests: []subRequest{patch("1", upn("lee.gu"), testPassword)}})
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			began := time.Now()
			res, err := e.batchRaw(ctx, body)
			took := time.Since(began)
			if gotErr := err != nil; gotErr != tt.wantErr {
				t.Fatalf("POST $batch: got error %v (status %d after %v), want error %t", err, res.status, took, tt.wantErr)
			}
			if !tt.wantErr && (res.status != 200 || took < tt.wantAtLeast) {
				t.Errorf("POST $batch: got %d after %v, want 200 after at least %v", res.status, took, tt.wantAtLeast)
			}
			want := 1
			if tt.wantErr {
				want = 0
			}
			if got := e.applied(upn("lee.gu")); got != want {
				t.Errorf("applied: got %d, want %d", got, want)
			}
		})
	}
}

func TestCloseEndsHeldRequests(t *testing.T) {
	e := start(t, Options{Faults: Faults{Timeout: 1}})
	held := make(chan struct{})
	e.sim.mu.Lock()
	e.sim.onHold = func() { close(held) }
	e.sim.mu.Unlock()
	body, _ := json.Marshal(batchRequest{Requests: []subRequest{get("1", "/users/"+upn("lee.gu"))}})
	done := make(chan error, 1)
	go func() {
		_, err := e.batchRaw(context.Background(), body) // no deadline: only Close can end it
		done <- err
	}()
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("the request was never held")
	}
	e.srv.Close()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("held request after Close: got a response, want an error")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Close did not end the held request")
	}
}

// TestForceFaults: the batches after ForceFaults get its faults, one each,
// in order, whatever the rates; then the batches go as before. A test that
// must meet a fault in every run uses it rather than a rate high enough.
func TestForceFaults(t *testing.T) {
	e := start(t, Options{})
	e.sim.ForceFaults(FaultOuter503, FaultDropAfterApply)
	users := GenerateUsers(3, SandboxDomain)
	summaries := make([]string, 0, 3)
	for _, u := range users {
		summaries = append(summaries, batchSummary(t, e, []subRequest{patch("1", u.UPN, testPassword)}))
	}
	if summaries[0] != "503[]" || summaries[1] != "error" || summaries[2] != "200[1:204]" {
		t.Errorf("batches after ForceFaults(outer 503, drop after apply): %q, want 503, a dropped connection, then 204", summaries)
	}
	st := e.sim.Stats()
	if st.Faults[FaultOuter503] != 1 || st.Faults[FaultDropAfterApply] != 1 {
		t.Errorf("faults counted %v, want one of each", st.Faults)
	}
	if got, _ := e.sim.User(users[1].UPN); got.PasswordSets != 1 {
		t.Errorf("the batch dropped after apply set the password %d times, want once", got.PasswordSets)
	}
}
