package worker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// UserRead is what ReadUsers learned about one user: Info when Graph
// answered, else Failed, the row a lookup failure makes (not found,
// refused, attempts spent).
type UserRead struct {
	Info   *graph.UserInfo
	Failed *report.Result
}

// ReadUsers reads users (object ids or UPNs) back with the preflight's
// lookups: GETs in $batch requests of opts.BatchSize, opts.Concurrency at
// a time, each retried after Graph's Retry-After (or a backoff) until it is
// answered or its opts.MaxAttempts are spent. The answers are in the order
// of users. It fails only when the run must stop: authentication failed
// (ErrAuth), or ctx ended.
func ReadUsers(ctx context.Context, send Sender, opts PreflightOptions, users []string) ([]UserRead, *PreflightStats, error) {
	p := NewPreflight(send, opts)
	out := make([]UserRead, len(users))
	var next atomic.Int64
	size := int64(p.opts.BatchSize)
	g, gctx := errgroup.WithContext(ctx)
	for range p.opts.Concurrency {
		g.Go(func() error {
			for {
				start := next.Add(size) - size
				if start >= int64(len(users)) || gctx.Err() != nil {
					return nil
				}
				end := min(start+size, int64(len(users)))
				b := &lookupBatch{done: make(chan struct{})}
				for i := start; i < end; i++ {
					b.items = append(b.items, &lookup{it: &Item{Line: int(i), Target: users[i]}})
				}
				if err := p.lookupBatch(gctx, b); err != nil {
					return err
				}
				for k, l := range b.items {
					out[start+int64(k)] = UserRead{Info: l.info, Failed: l.final}
				}
			}
		})
	}
	if err := g.Wait(); err != nil {
		return nil, &p.stats, err
	}
	if err := ctx.Err(); err != nil {
		return nil, &p.stats, err
	}
	return out, &p.stats, nil
}

// Getter sends one Graph request on its own; *graph.Client implements it.
type Getter interface {
	Do(ctx context.Context, req graph.Request) (graph.Response, error)
}

// Get sends the GET path with the lookups' retry rules: throttling (429)
// and transient failures (5xx, the network) are retried after Graph's
// Retry-After or a backoff, up to maxAttempts; a 401 after the client's
// fresh token, twice, is ErrAuth. Any other refusal is returned as the
// *graph.Error. throttled, when not nil, counts the 429 answers.
func Get(ctx context.Context, g Getter, path string, maxAttempts int, jitter func() float64, throttled *atomic.Int64) (graph.Response, error) {
	unauthorized := 0
	for attempt := 1; ; attempt++ {
		resp, err := g.Do(ctx, graph.Request{ID: "get", Method: http.MethodGet, URL: path})
		var gerr *graph.Error
		switch {
		case err != nil && ctx.Err() != nil:
			return graph.Response{}, ctx.Err()
		case errors.Is(err, graph.ErrAuthentication):
			return graph.Response{}, fmt.Errorf("%w: %w", ErrAuth, err)
		case err == nil:
			gerr = resp.Err(time.Now())
			if gerr == nil {
				return resp, nil
			}
			if gerr.Status == http.StatusUnauthorized {
				if unauthorized++; unauthorized > maxUnauthorized {
					return graph.Response{}, fmt.Errorf("%w: %w", ErrAuth, gerr)
				}
			} else if !retryable(gerr.Status) {
				return graph.Response{}, gerr
			}
			if gerr.Status == http.StatusTooManyRequests && throttled != nil {
				throttled.Add(1)
			}
		}
		if attempt >= maxAttempts {
			if gerr != nil {
				return graph.Response{}, fmt.Errorf("gave up after %d attempts: %w", attempt, gerr)
			}
			return graph.Response{}, fmt.Errorf("gave up after %d attempts: %w", attempt, err)
		}
		var delay time.Duration
		if gerr != nil {
			delay = lookupDelay(attempt, gerr.RetryAfter, gerr.HasRetryAfter, jitter())
		} else {
			delay = lookupDelay(attempt, 0, false, jitter())
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return graph.Response{}, ctx.Err()
		}
	}
}
