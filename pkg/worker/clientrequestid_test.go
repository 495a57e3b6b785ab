package worker

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/bulkreset/bulkreset/internal/guid"
	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// Every write sub-request carries its own fresh client-request-id (a GUID),
// a retry a new one; the result records the one of the reset attempt
// Graph accepted, which Entra may carry as the audit record's
// correlationId (bulkreset verify matches on it).
func TestClientRequestIDOfTheAttemptThatSucceeded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		its := items(3)
		g := newFakeGraph(t, nil, func(string, int) (int, string) { return 204, "" })
		var mu sync.Mutex
		sent := map[string][]string{} // URL -> client-request-ids, in order
		seen := map[string]bool{}
		recording := senderFunc(func(ctx context.Context, reqs []graph.Request) (*graph.BatchResult, error) {
			mu.Lock()
			for _, r := range reqs {
				crid := r.Headers["client-request-id"]
				if !guid.Valid(crid) || seen[crid] {
					t.Errorf("%s %s: client-request-id %q, want a fresh GUID", r.Method, r.URL, crid)
				}
				seen[crid] = true
				sent[r.URL] = append(sent[r.URL], crid)
			}
			mu.Unlock()
			return g.Batch(ctx, reqs)
		})
		// The first answer leaves out user 1: it is sent again.
		s := dropsFirstAnswer(recording, urlOf(its[1]))
		p := New(s, nil, Options{BatchSize: 20, Concurrency: 1, MaxAttempts: 3})
		got, err := runPool(t.Context(), t, p, its)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		for _, it := range its {
			r := got[it.Line]
			ids := sent[urlOf(it)]
			if r.Outcome != report.Succeeded || len(ids) == 0 || r.ClientRequestID != ids[len(ids)-1] {
				t.Errorf("%s: %s, client_request_id %q, sent %q: want the last one sent", it.User, r.Outcome, r.ClientRequestID, ids)
			}
		}
		if n := len(sent[urlOf(its[1])]); n != 2 {
			t.Errorf("user 1 sent %d times, want 2", n)
		}
	})
}

// dropsFirstAnswer sends through send, and leaves the request for url out
// of the first answer (a $batch answer missing an id): that row's outcome
// is unknown, and it is sent again.
func dropsFirstAnswer(send Sender, url string) senderFunc {
	first := true
	return func(ctx context.Context, reqs []graph.Request) (*graph.BatchResult, error) {
		res, err := send.Batch(ctx, reqs)
		if err == nil && first {
			first = false
			for id := range res.Responses {
				if reqs[mustAtoi(id)].URL == url {
					delete(res.Responses, id)
				}
			}
		}
		return res, err
	}
}
