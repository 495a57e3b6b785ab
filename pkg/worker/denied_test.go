package worker

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// slowSender answers each $batch after a round trip of d (on synctest's
// clock), so that a pool's batches overlap as they do on the wire.
type slowSender struct {
	g *fakeGraph
	d time.Duration
}

func (s slowSender) Batch(ctx context.Context, reqs []graph.Request) (*graph.BatchResult, error) {
	time.Sleep(s.d)
	return s.g.Batch(ctx, reqs)
}

// subRequests is the number of sub-requests the fake Graph received.
func (f *fakeGraph) subRequests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, a := range f.attempts {
		n += a
	}
	return n
}

// TestPoolStopsOnMissingPermission: Graph refuses every reset for lack of
// a permission or role. The pool stops after a bounded number of writes,
// returns a *PermissionError, and gives no row a result (the rows are
// unfinished, for a resume once the permission is granted).
func TestPoolStopsOnMissingPermission(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		rows, concurrency, bsz int
	}{
		{"10000 rows, 4 x 20", 10000, 4, 20},
		{"10000 rows, 16 x 20", 10000, 16, 20},
		{"10000 rows, 4 x 5", 10000, 4, 5},
		{"5 rows", 5, 4, 20},   // fewer rows than the threshold: all refused stops too
		{"25 rows", 25, 4, 20}, // the threshold is reached in the second batch
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec := &fakeRecorder{}
				g := newFakeGraph(t, rec, func(string, int) (int, string) { return 403, "" })
				p := New(slowSender{g, 80 * time.Millisecond}, rec, Options{BatchSize: tc.bsz, Concurrency: tc.concurrency, MaxAttempts: 3})
				got, err := runPool(t.Context(), t, p, items(tc.rows))
				var pe *PermissionError
				if !errors.As(err, &pe) || !errors.Is(err, ErrPermissionDenied) {
					t.Fatalf("Run: %v, want a *PermissionError", err)
				}
				if pe.Kind != WriteReset || pe.Refused < min(DenyThreshold, tc.rows) {
					t.Errorf("PermissionError %+v, want kind reset and at least %d refused", *pe, min(DenyThreshold, tc.rows))
				}
				if len(got) != 0 {
					t.Errorf("%d rows got a result, want none: a refused row is retried by the resume", len(got))
				}
				bound := MaxWritesBeforeDenyStop(tc.concurrency, tc.bsz)
				n := g.subRequests()
				t.Logf("%d writes sent before the stop (bound %d)", n, bound)
				if n > bound || n > tc.rows {
					t.Errorf("%d writes sent before the stop, want at most %d", n, min(bound, tc.rows))
				}
				if tc.rows <= DenyThreshold && n != tc.rows {
					t.Errorf("%d writes sent, want every one of the %d rows", n, tc.rows)
				}
				st := p.Stats()
				if st.Unfinished.Load() != st.Received.Load() || st.Finished.Load() != 0 {
					t.Errorf("received %d, unfinished %d, finished %d: want every row taken unfinished",
						st.Received.Load(), st.Unfinished.Load(), st.Finished.Load())
				}
			})
		})
	}
}

// TestPoolRefusedAdminsDoNotStop: refusals are held until a write of
// the same kind is accepted, and then end as insufficient_privileges.
// Refusals first (fewer than the threshold), then an accepted write: no
// stop. One admin alone in a batch of accepted writes: no stop. After an
// accepted write, refusals never stop the run.
func TestPoolRefusedAdminsDoNotStop(t *testing.T) {
	for _, tc := range []struct {
		name    string
		refused func(i int) bool
		bsz     int
	}{
		{"19 admins first", func(i int) bool { return i < DenyThreshold-1 }, 1},
		{"one admin", func(i int) bool { return i == 0 }, 20},
		{"all refused after the first", func(i int) bool { return i > 0 }, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				its := items(60)
				refused := map[string]bool{}
				for i, it := range its {
					refused[urlOf(it)] = tc.refused(i)
				}
				g := newFakeGraph(t, nil, func(url string, _ int) (int, string) {
					if refused[url] {
						return 403, ""
					}
					return 204, ""
				})
				p := New(slowSender{g, 50 * time.Millisecond}, nil, Options{BatchSize: tc.bsz, Concurrency: 1, MaxAttempts: 3})
				got, err := runPool(t.Context(), t, p, its)
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
				if len(got) != len(its) {
					t.Fatalf("%d results, want %d", len(got), len(its))
				}
				for i, it := range its {
					r := got[it.Line]
					want := report.Outcome(report.Succeeded)
					if tc.refused(i) {
						want = report.Failed
					}
					if r.Outcome != want || (want == report.Failed && (r.Reason != report.ReasonInsufficientPrivileges || r.HTTPStatus != 403)) {
						t.Errorf("row %d: %s/%s %d, want %s", i, r.Outcome, r.Reason, r.HTTPStatus, want)
					}
				}
			})
		})
	}
}

// TestPoolStopsOnRevokeDenied: resets are accepted, every revoke is
// refused. The run stops naming revoke; the rows whose reset succeeded
// have no result (a resume resends their recorded password, then
// revokes), and no password was sent twice.
func TestPoolStopsOnRevokeDenied(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const revoke = "/revokeSignInSessions"
		rec := &fakeRecorder{}
		g := newFakeGraph(t, rec, func(url string, _ int) (int, string) {
			if strings.HasSuffix(url, revoke) {
				return 403, ""
			}
			return 204, ""
		})
		p := New(slowSender{g, 50 * time.Millisecond}, rec, Options{BatchSize: 20, Concurrency: 4, MaxAttempts: 3, RevokeSessions: true})
		its := items(500)
		got, err := runPool(t.Context(), t, p, its)
		var pe *PermissionError
		if !errors.As(err, &pe) || pe.Kind != WriteRevoke {
			t.Fatalf("Run: %v, want a *PermissionError for revoke", err)
		}
		if len(got) != 0 {
			t.Errorf("%d rows got a result, want none", len(got))
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		revokes := 0
		for url, n := range g.attempts {
			if n != 1 {
				t.Errorf("%s sent %d times, want once", url, n)
			}
			if strings.HasSuffix(url, revoke) {
				revokes++
			}
		}
		if revokes < DenyThreshold || revokes > MaxWritesBeforeDenyStop(4, 20) {
			t.Errorf("%d revokes sent, want %d to %d", revokes, DenyThreshold, MaxWritesBeforeDenyStop(4, 20))
		}
	})
}

// TestDenyGuardVerdict is the table of the detector: after a sequence of
// answers (r: refused for lack of privileges, a: accepted) per kind, and
// with the run at its end (final) or not, the kind that stops the run.
func TestDenyGuardVerdict(t *testing.T) {
	type ev struct {
		kind WriteKind
		seq  string // r and a, in order
	}
	for _, tc := range []struct {
		name     string
		events   []ev
		final    bool
		want     WriteKind // "" for no stop
		refused  int
		released int // rows released by the accepted writes
	}{
		{"nothing", nil, true, "", 0, 0},
		{"19 refused, run going on", []ev{{WriteReset, strings.Repeat("r", 19)}}, false, "", 0, 0},
		{"20 refused", []ev{{WriteReset, strings.Repeat("r", 20)}}, false, WriteReset, 20, 0},
		{"5 refused, nothing left", []ev{{WriteReset, "rrrrr"}}, true, WriteReset, 5, 0},
		{"1 refused, nothing left", []ev{{WriteRevoke, "r"}}, true, WriteRevoke, 1, 0},
		{"19 refused then accepted", []ev{{WriteReset, strings.Repeat("r", 19) + "a"}}, true, "", 0, 19},
		{"accepted then 100 refused", []ev{{WriteReset, "a" + strings.Repeat("r", 100)}}, true, "", 0, 0},
		{"resets accepted, revokes refused", []ev{{WriteReset, strings.Repeat("a", 40)}, {WriteRevoke, strings.Repeat("r", 20)}}, false, WriteRevoke, 20, 0},
		{"revokes accepted, resets refused", []ev{{WriteRevoke, "a"}, {WriteReset, strings.Repeat("r", 25)}}, false, WriteReset, 25, 0},
		{"block refused is one more key", []ev{{WriteReset, "a"}, {WriteBlock, strings.Repeat("r", 20)}}, false, WriteBlock, 20, 0},
		{"two kinds refused: the most", []ev{{WriteRevoke, strings.Repeat("r", 20)}, {WriteReset, strings.Repeat("r", 30)}}, false, WriteReset, 30, 0},
		{"refusals of one kind below, another accepted", []ev{{WriteReset, "a"}, {WriteRevoke, "rrr"}}, false, "", 0, 0},
		{"resetPassword apart from reset", []ev{{WriteReset, "a"}, {WriteResetPassword, "rr"}}, true, WriteResetPassword, 2, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newDenyGuard(DenyThreshold)
			released := 0
			for _, e := range tc.events {
				for _, c := range e.seq {
					switch c {
					case 'r':
						if !g.hold(e.kind, heldRefusal{}) && tc.released == 0 && tc.want != "" {
							t.Fatalf("a refusal of %s was not held", e.kind)
						}
					case 'a':
						released += len(g.accept(e.kind))
					}
				}
			}
			pe := g.verdict(tc.final)
			switch {
			case tc.want == "" && pe != nil:
				t.Errorf("verdict %+v, want none", *pe)
			case tc.want != "" && (pe == nil || pe.Kind != tc.want || pe.Refused != tc.refused):
				t.Errorf("verdict %+v, want %s with %d refused", pe, tc.want, tc.refused)
			}
			if released != tc.released {
				t.Errorf("%d refusals released, want %d", released, tc.released)
			}
		})
	}
}

// TestPoolStopsWhenEveryBatchIsDenied: Graph refuses whole batches with 403
// Authorization_RequestDenied (no per-row answers): the rows are refused
// alike, and the run stops the same way.
func TestPoolStopsWhenEveryBatchIsDenied(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g := newFakeGraph(t, nil, func(string, int) (int, string) { return 204, "" })
		g.outer = func(int) error {
			return &graph.Error{Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges to complete the operation."}
		}
		p := New(slowSender{g, 50 * time.Millisecond}, nil, Options{BatchSize: 20, Concurrency: 4, MaxAttempts: 3})
		got, err := runPool(t.Context(), t, p, items(1000))
		var pe *PermissionError
		if !errors.As(err, &pe) || pe.Kind != WriteReset {
			t.Fatalf("Run: %v, want a *PermissionError for reset", err)
		}
		if len(got) != 0 {
			t.Errorf("%d rows got a result, want none", len(got))
		}
		if n := g.subRequests(); n > MaxWritesBeforeDenyStop(4, 20) {
			t.Errorf("%d writes sent, want at most %d", n, MaxWritesBeforeDenyStop(4, 20))
		}
	})
}
