package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/bulkreset/bulkreset/pkg/secret"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// fakeGraph is a scripted Sender: answer decides each sub-request's status
// from the user and the attempt number (1-based) for that user.
type fakeGraph struct {
	t        *testing.T
	rec      *fakeRecorder
	answer   func(user string, attempt int) (status int, retryAfter string)
	outer    func(batch int) error // optional: fail the whole batch
	mu       sync.Mutex
	attempts map[string]int
	sentAt   map[string][]time.Time
	batches  int
	maxSize  int
	pw       map[string]string // last password sent per user
	sent     []string          // every sub-request's key, in the order sent
}

// blockKey ends the key of a block-sign-in request (a PATCH of
// accountEnabled), which shares its URL with the passwordProfile PATCH.
const blockKey = "#block"

// requestKey is the URL of r, with blockKey for a block.
func requestKey(t *testing.T, r graph.Request) string {
	b, err := r.BodyJSON()
	if err != nil {
		t.Fatalf("encode body: %v", err)
	}
	if r.Method == "PATCH" && strings.Contains(string(b), `"accountEnabled":false`) {
		return r.URL + blockKey
	}
	return r.URL
}

func newFakeGraph(t *testing.T, rec *fakeRecorder, answer func(string, int) (int, string)) *fakeGraph {
	return &fakeGraph{t: t, rec: rec, answer: answer, attempts: map[string]int{}, sentAt: map[string][]time.Time{}, pw: map[string]string{}}
}

func passwordOf(t *testing.T, r graph.Request) string {
	t.Helper()
	b, err := r.BodyJSON()
	if err != nil {
		t.Fatalf("encode body: %v", err)
	}
	var body struct {
		PasswordProfile struct {
			Password string `json:"password"`
		} `json:"passwordProfile"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("unmarshal body: %v", err)
	}
	return body.PasswordProfile.Password
}

func (f *fakeGraph) Batch(ctx context.Context, reqs []graph.Request) (*graph.BatchResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches++
	f.maxSize = max(f.maxSize, len(reqs))
	if f.outer != nil {
		if err := f.outer(f.batches); err != nil {
			for _, r := range reqs {
				f.attempts[requestKey(f.t, r)]++
			}
			return nil, err
		}
	}
	res := &graph.BatchResult{Responses: map[string]graph.Response{}, RequestID: fmt.Sprintf("outer-%d", f.batches)}
	for _, r := range reqs {
		pw := passwordOf(f.t, r)
		key := requestKey(f.t, r)
		if f.rec != nil && pw != "" && !f.rec.has(pw) {
			f.t.Errorf("password for %s sent before it was recorded", r.URL)
		}
		if old, ok := f.pw[key]; ok && old != pw {
			f.t.Errorf("%s: a retry sent a different password", key)
		}
		f.pw[key] = pw
		f.attempts[key]++
		f.sent = append(f.sent, key)
		f.sentAt[key] = append(f.sentAt[key], time.Now())
		status, ra := f.answer(key, f.attempts[key])
		resp := graph.Response{ID: r.ID, Status: status, Headers: map[string]string{}}
		if ra != "" {
			resp.Headers["Retry-After"] = ra
		}
		if status >= 400 {
			code := map[int]string{404: "Request_ResourceNotFound", 403: "Authorization_RequestDenied", 429: "TooManyRequests", 503: "ServiceUnavailable"}[status]
			resp.Body = json.RawMessage(fmt.Sprintf(`{"error":{"code":%q,"message":"m%d","innerError":{"request-id":"inner-%s-%d"}}}`, code, status, r.URL, f.attempts[r.URL]))
			resp.Headers["Content-Type"] = "application/json"
		}
		res.Responses[r.ID] = resp
	}
	return res, nil
}

type fakeRecorder struct {
	mu   sync.Mutex
	rows map[string]report.SecretRow
	fail error
	n    int
}

func (r *fakeRecorder) Record(_ context.Context, rows []report.SecretRow) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if r.fail != nil {
		return r.fail
	}
	if r.rows == nil {
		r.rows = map[string]report.SecretRow{}
	}
	for _, row := range rows {
		r.rows[row.Password.Reveal()] = row
	}
	return nil
}

func (r *fakeRecorder) has(pw string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.rows[pw]
	return ok
}

func items(n int) []Item {
	out := make([]Item, n)
	for i := range out {
		u := fmt.Sprintf("user%04d@contoso.com", i)
		out[i] = Item{Line: i + 2, User: u, Target: u, Password: secret.New(fmt.Sprintf("Pw-%04d-Aa1!", i)), ForceChange: true}
	}
	return out
}

// runPool feeds its items to a pool and collects the results by line.
func runPool(ctx context.Context, t *testing.T, p *Pool, its []Item) (map[int]report.Result, error) {
	t.Helper()
	in := make(chan Item)
	go func() {
		defer close(in)
		for _, it := range its {
			select {
			case in <- it:
			case <-ctx.Done():
				return
			}
		}
	}()
	var mu sync.Mutex
	got := map[int]report.Result{}
	err := p.Run(ctx, in, func(r report.Result) {
		mu.Lock()
		defer mu.Unlock()
		if _, dup := got[r.Line]; dup {
			t.Errorf("line %d: two results", r.Line)
		}
		got[r.Line] = r
	})
	return got, err
}

func urlOf(it Item) string { return graph.UserPath(it.Target) }

func TestPoolEveryOutcome(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		its := items(95)
		missing, admin, flaky, hopeless := urlOf(its[3]), urlOf(its[10]), urlOf(its[20]), urlOf(its[30])
		rec := &fakeRecorder{}
		g := newFakeGraph(t, rec, func(u string, attempt int) (int, string) {
			switch u {
			case missing:
				return 404, ""
			case admin:
				return 403, ""
			case flaky:
				if attempt < 3 {
					return 429, "0.25"
				}
			case hopeless:
				return 503, "1"
			}
			return 204, ""
		})
		p := New(g, rec, Options{BatchSize: 20, Concurrency: 3, MaxAttempts: 4})
		got, err := runPool(t.Context(), t, p, its)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if len(got) != len(its) {
			t.Fatalf("got %d results, want %d", len(got), len(its))
		}
		if g.maxSize > 20 {
			t.Errorf("largest batch %d, want <= 20", g.maxSize)
		}
		want := map[int]struct {
			outcome  report.Outcome
			reason   report.Reason
			attempts int
		}{
			its[3].Line:  {report.Failed, "not_found", 1},
			its[10].Line: {report.Failed, "insufficient_privileges", 1},
			its[20].Line: {report.Succeeded, "", 3},
			its[30].Line: {report.Failed, "service_error", 4},
		}
		for _, it := range its {
			r := got[it.Line]
			w, special := want[it.Line]
			if !special {
				w.outcome, w.attempts = report.Succeeded, 1
			}
			if r.Outcome != w.outcome || r.Reason != w.reason || r.Attempts != w.attempts {
				t.Errorf("line %d (%s): got %s/%s after %d attempts, want %s/%s after %d",
					it.Line, it.User, r.Outcome, r.Reason, r.Attempts, w.outcome, w.reason, w.attempts)
			}
			if r.User != it.User {
				t.Errorf("line %d: user %q, want %q", it.Line, r.User, it.User)
			}
		}
		if r := got[its[3].Line]; r.HTTPStatus != 404 || r.ErrorCode != "Request_ResourceNotFound" || r.RequestID == "" {
			t.Errorf("not-found row: got status %d code %q request-id %q", r.HTTPStatus, r.ErrorCode, r.RequestID)
		}
		// The throttled row waited for its Retry-After between attempts.
		times := g.sentAt[flaky]
		for i := 1; i < len(times); i++ {
			if d := times[i].Sub(times[i-1]); d < 250*time.Millisecond {
				t.Errorf("throttled row resent after %v, want >= 250ms (Retry-After)", d)
			}
		}
		if n := p.Stats().Throttled.Load(); n != 2 {
			t.Errorf("Throttled = %d, want 2", n)
		}
	})
}

func TestPoolThrottleExhaustedIsThrottled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newFakeGraph(t, nil, func(string, int) (int, string) { return 429, "2" })
		p := New(g, nil, Options{BatchSize: 5, Concurrency: 2, MaxAttempts: 3})
		got, err := runPool(t.Context(), t, p, items(7))
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		for line, r := range got {
			if r.Outcome != report.Failed || r.Reason != "throttled" || r.Attempts != 3 || r.HTTPStatus != 429 {
				t.Errorf("line %d: got %s/%s status %d after %d attempts, want failed/throttled 429 after 3", line, r.Outcome, r.Reason, r.HTTPStatus, r.Attempts)
			}
		}
		if len(got) != 7 {
			t.Errorf("got %d results, want 7", len(got))
		}
	})
}

func TestPoolOuterFailuresRetryWholeBatch(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"outer 503", &graph.Error{Status: 503, Code: "ServiceUnavailable", RetryAfter: time.Second, HasRetryAfter: true}},
		{"outer 429", &graph.Error{Status: 429, Code: "TooManyRequests", RetryAfter: 3 * time.Second, HasRetryAfter: true}},
		{"network", errors.New("connection reset by peer")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &fakeRecorder{}
				g := newFakeGraph(t, rec, func(string, int) (int, string) { return 204, "" })
				g.outer = func(batch int) error {
					if batch <= 2 {
						return tc.err
					}
					return nil
				}
				p := New(g, rec, Options{BatchSize: 10, Concurrency: 1, MaxAttempts: 5})
				got, err := runPool(t.Context(), t, p, items(10))
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if len(got) != 10 {
					t.Errorf("got %d results, want 10", len(got))
				}
				for line, r := range got {
					if r.Outcome != report.Succeeded || r.Attempts != 3 {
						t.Errorf("line %d: got %s after %d attempts, want succeeded after 3", line, r.Outcome, r.Attempts)
					}
				}
				if rec.n != 1 {
					t.Errorf("passwords recorded %d times, want once (a retry reuses the recorded password)", rec.n)
				}
			})
		})
	}
}

func TestPoolNetworkExhaustedIsNetworkError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newFakeGraph(t, nil, nil)
		g.outer = func(int) error { return errors.New("dial tcp: connection refused") }
		p := New(g, nil, Options{BatchSize: 20, Concurrency: 1, MaxAttempts: 2})
		got, err := runPool(t.Context(), t, p, items(3))
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if len(got) != 3 {
			t.Errorf("got %d results, want 3", len(got))
		}
		for line, r := range got {
			if r.Outcome != report.Failed || r.Reason != "network_error" || r.Attempts != 2 {
				t.Errorf("line %d: got %s/%s after %d, want failed/network_error after 2", line, r.Outcome, r.Reason, r.Attempts)
			}
		}
	})
}

func TestPoolMissingResponseIsRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		its := items(4)
		g := newFakeGraph(t, nil, func(string, int) (int, string) { return 204, "" })
		// Graph's answer leaves one request out (issue: a response missing
		// an id); its outcome is unknown.
		s := dropsFirstAnswer(g, urlOf(its[1]))
		p := New(s, nil, Options{BatchSize: 20, Concurrency: 1, MaxAttempts: 3})
		got, err := runPool(t.Context(), t, p, its)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if r := got[its[1].Line]; r.Outcome != report.Succeeded || r.Attempts != 2 {
			t.Errorf("row without an answer: got %s after %d attempts, want succeeded after 2", r.Outcome, r.Attempts)
		}
	})
}

type senderFunc func(ctx context.Context, reqs []graph.Request) (*graph.BatchResult, error)

func (f senderFunc) Batch(ctx context.Context, reqs []graph.Request) (*graph.BatchResult, error) {
	return f(ctx, reqs)
}

func mustAtoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(err)
	}
	return n
}

func TestPoolRecordFailureIsFatalAndSendsNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &fakeRecorder{fail: errors.New("no space left on device")}
		g := newFakeGraph(t, rec, func(string, int) (int, string) { return 204, "" })
		p := New(g, rec, Options{BatchSize: 20, Concurrency: 2, MaxAttempts: 3})
		got, err := runPool(t.Context(), t, p, items(100))
		if err == nil {
			t.Fatal("Run: got nil error, want the recording failure")
		}
		if g.batches != 0 {
			t.Errorf("%d batches sent after the secrets file failed, want 0", g.batches)
		}
		if len(got) != 0 {
			t.Errorf("%d results, want none (nothing was reset)", len(got))
		}
	})
}

func TestPoolUnauthorizedIsFatal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newFakeGraph(t, nil, nil)
		g.outer = func(int) error {
			return &graph.Error{Status: http.StatusUnauthorized, Code: "InvalidAuthenticationToken", Message: "Access token has expired."}
		}
		p := New(g, nil, Options{BatchSize: 20, Concurrency: 1, MaxAttempts: 8})
		_, err := runPool(t.Context(), t, p, items(5))
		if !errors.Is(err, ErrAuth) {
			t.Fatalf("Run: got %v, want ErrAuth", err)
		}
		if g.batches != maxUnauthorized+1 {
			t.Errorf("%d batches sent, want %d: a 401 after a fresh token is retried, then the run stops", g.batches, maxUnauthorized+1)
		}
	})
}

func TestPoolInterruptStopsSending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		g := newFakeGraph(t, nil, func(_ string, _ int) (int, string) { return 204, "" })
		var once sync.Once
		s := senderFunc(func(c context.Context, reqs []graph.Request) (*graph.BatchResult, error) {
			once.Do(cancel) // the interrupt arrives while the first batch is in flight
			return g.Batch(c, reqs)
		})
		p := New(s, nil, Options{BatchSize: 10, Concurrency: 1, MaxAttempts: 3})
		got, err := runPool(ctx, t, p, items(50))
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if len(got) != 10 {
			t.Errorf("got %d results, want the 10 of the batch in flight", len(got))
		}
		if g.batches != 1 {
			t.Errorf("%d batches sent, want 1", g.batches)
		}
		if n := p.Stats().Received.Load() - p.Stats().Finished.Load(); n != p.Stats().Unfinished.Load() {
			t.Errorf("Unfinished = %d, want received-finished = %d", p.Stats().Unfinished.Load(), n)
		}
	})
}

// TestPoolInterruptStopsBatchesNotYetSent: a batch waiting for the pacer
// when the interrupt comes is not sent, and Run returns without waiting
// for the pacer or the grace period.
func TestPoolInterruptStopsBatchesNotYetSent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		g := newFakeGraph(t, nil, func(string, int) (int, string) { return 204, "" })
		var once sync.Once
		s := senderFunc(func(c context.Context, reqs []graph.Request) (*graph.BatchResult, error) {
			once.Do(cancel)
			return g.Batch(c, reqs)
		})
		// At one write per second, the second batch of 5 waits 5s for the pacer.
		p := New(s, nil, Options{BatchSize: 5, Concurrency: 2, MaxAttempts: 3, MaxRate: 1})
		start := time.Now()
		got, err := runPool(ctx, t, p, items(50))
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if g.batches != 1 {
			t.Errorf("%d batches sent, want 1: a batch not yet on the wire when interrupted was sent", g.batches)
		}
		if len(got) != 5 {
			t.Errorf("got %d results, want the 5 of the batch in flight", len(got))
		}
		if d := time.Since(start); d >= time.Second {
			t.Errorf("Run returned %v after the interrupt, want at once", d)
		}
	})
}

// TestPoolUnknownOutcomeThenRefused: a row whose first attempt was lost
// (the password may be set) and whose retry is refused says that the
// password may be in force, and keeps its attempt count so that the
// secrets file keeps its password.
func TestPoolUnknownOutcomeThenRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newFakeGraph(t, nil, func(string, int) (int, string) { return 404, "" })
		g.outer = func(batch int) error {
			if batch == 1 {
				return errors.New("read: connection reset by peer")
			}
			return nil
		}
		p := New(g, nil, Options{BatchSize: 20, Concurrency: 1, MaxAttempts: 5})
		got, err := runPool(t.Context(), t, p, items(1))
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		r := got[2]
		if r.Outcome != report.Failed || r.Reason != "not_found" || r.Attempts != 2 {
			t.Fatalf("got %s/%s after %d attempts, want failed/not_found after 2", r.Outcome, r.Reason, r.Attempts)
		}
		if !strings.Contains(r.ErrorMessage, "may have been set") {
			t.Errorf("error message %q does not say the password may be set", r.ErrorMessage)
		}
		if !r.MaybeSet {
			t.Error("MaybeSet is false: the result does not carry that the password may be in force")
		}
		if report.RefusedForGood(r) {
			t.Error("RefusedForGood: the secrets file would drop a password that may be in force")
		}
	})
}

// TestPoolResumedItem: an item an interrupted run may have sent counts that
// attempt and is never taken as refused for good. (Another user's reset is
// accepted: a run whose every write is refused stops instead, denied.go.)
func TestPoolResumedItem(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		its := items(2)
		g := newFakeGraph(t, nil, func(url string, _ int) (int, string) {
			if url == urlOf(its[0]) {
				return 403, ""
			}
			return 204, ""
		})
		p := New(g, nil, Options{BatchSize: 20, Concurrency: 1, MaxAttempts: 5})
		its[0].Resumed, its[0].Recorded = true, true
		got, err := runPool(t.Context(), t, p, its)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if r := got[2]; r.Attempts != 2 || !r.MaybeSet || report.RefusedForGood(r) {
			t.Errorf("got %d attempts, may be set %v, refused for good %v; want 2, true and false", r.Attempts, r.MaybeSet, report.RefusedForGood(r))
		}
	})
}

// TestPoolStrayUnauthorizedIsRetried: a batch refused with 401 now and then
// (a revoked token) is retried; it does not end the run.
func TestPoolStrayUnauthorizedIsRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newFakeGraph(t, nil, func(string, int) (int, string) { return 204, "" })
		g.outer = func(batch int) error {
			if batch%2 == 1 {
				return &graph.Error{Status: http.StatusUnauthorized, Code: "InvalidAuthenticationToken"}
			}
			return nil
		}
		p := New(g, nil, Options{BatchSize: 2, Concurrency: 1, MaxAttempts: 3})
		got, err := runPool(t.Context(), t, p, items(6))
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		for line, r := range got {
			if r.Outcome != report.Succeeded {
				t.Errorf("line %d: %s/%s, want succeeded", line, r.Outcome, r.Reason)
			}
		}
		if len(got) != 6 {
			t.Errorf("got %d results, want 6", len(got))
		}
	})
}

// TestPoolRevokesWhenAFailedResetMayBeInForce: with --revoke-sessions
// --revoke-only-if-reset, a row whose first answer was lost and whose retry
// is refused has its sessions revoked (the first attempt may have set the
// password an attacker does not know, but the attacker's sessions would
// live on); a row refused at once is not revoked. Without
// --revoke-only-if-reset both are revoked: every user found is.
func TestPoolRevokesWhenAFailedResetMayBeInForce(t *testing.T) {
	for _, only := range []bool{true, false} {
		for _, lost := range []bool{true, false} {
			synctest.Test(t, func(t *testing.T) {
				// user0001's reset is accepted: the app has the permission,
				// so user0000's 403 is its own (an administrator), not a
				// missing permission that stops the run.
				g := newFakeGraph(t, nil, func(url string, _ int) (int, string) {
					switch {
					case strings.HasSuffix(url, "/revokeSignInSessions"):
						return 200, ""
					case strings.Contains(url, "user0001"):
						return 204, ""
					}
					return 403, ""
				})
				g.outer = func(batch int) error {
					if lost && batch == 1 {
						return errors.New("read: connection reset by peer")
					}
					return nil
				}
				p := New(g, nil, Options{BatchSize: 20, Concurrency: 1, MaxAttempts: 5, RevokeSessions: true, RevokeOnlyIfReset: only})
				got, err := runPool(t.Context(), t, p, items(2))
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				r := got[2]
				if r.Outcome != report.Failed || r.Reason != report.ReasonInsufficientPrivileges {
					t.Fatalf("only %v, lost %v: got %s/%s, want failed/insufficient_privileges", only, lost, r.Outcome, r.Reason)
				}
				revokes := g.attempts["/users/user0000@contoso.com/revokeSignInSessions"]
				switch {
				case lost && (r.Revoked == nil || !*r.Revoked || revokes != 1 || report.RefusedForGood(r)):
					t.Errorf("only %v, answer lost: revoked %v after %d revokes, refused for good %v; want revoked once, password kept", only, r.Revoked, revokes, report.RefusedForGood(r))
				case !lost && only && (r.Revoked != nil || revokes != 0):
					t.Errorf("only if reset, refused at once: revoked %v after %d revokes; want no revoke", r.Revoked, revokes)
				case !lost && !only && (r.Revoked == nil || !*r.Revoked || revokes != 1 || !report.RefusedForGood(r)):
					t.Errorf("refused at once: revoked %v after %d revokes, refused for good %v; want revoked once, the password dropped", r.Revoked, revokes, report.RefusedForGood(r))
				}
			})
		}
	}
}

// TestGraphMessageNeverCarriesThePassword: an error message that quotes the
// password sent (Graph's do not today; a proxy or a future message might)
// reaches the results file without it.
func TestGraphMessageNeverCarriesThePassword(t *testing.T) {
	s := senderFunc(func(_ context.Context, reqs []graph.Request) (*graph.BatchResult, error) {
		res := &graph.BatchResult{Responses: map[string]graph.Response{}}
		for _, r := range reqs {
			msg, _ := json.Marshal("The password '" + passwordOf(t, r) + "' does not comply with password complexity requirements.")
			res.Responses[r.ID] = graph.Response{ID: r.ID, Status: 400, Headers: map[string]string{"Content-Type": "application/json"},
				Body: json.RawMessage(`{"error":{"code":"Request_BadRequest","message":` + string(msg) + `}}`)}
		}
		return res, nil
	})
	its := items(3)
	got, err := runPool(t.Context(), t, New(s, nil, Options{BatchSize: 20, Concurrency: 1, MaxAttempts: 3}), its)
	if err != nil || len(got) != len(its) {
		t.Fatalf("Run: %v, %d results", err, len(got))
	}
	for _, it := range its {
		r := got[it.Line]
		if r.Outcome != report.Failed || strings.Contains(r.ErrorMessage, it.Password.Reveal()) || !strings.Contains(r.ErrorMessage, secret.Redacted) {
			t.Errorf("line %d: %s, message %q: want failed, the password replaced by %s",
				it.Line, r.Outcome, strings.ReplaceAll(r.ErrorMessage, it.Password.Reveal(), "<PASSWORD>"), secret.Redacted)
		}
	}
}
