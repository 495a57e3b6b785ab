package worker

import (
	"context"
	"errors"
	"fmt"
	"github.com/bulkreset/bulkreset/pkg/secret"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bulkreset/bulkreset/pkg/report"
)

// collector gathers results from many goroutines.
type collector struct {
	mu  sync.Mutex
	res []report.Result
}

func (c *collector) emit(r report.Result) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.res = append(c.res, r)
}

// echoLane is a lane whose sender succeeds every item, and counts them.
func echoLane(seen *sync.Map) *Lane {
	return &Lane{Send: func(ctx context.Context, items <-chan Item, emit func(report.Result)) error {
		for it := range items {
			n, _ := seen.LoadOrStore(it.Tenant, new(int))
			*n.(*int)++
			emit(report.Result{Line: it.Line, User: it.User, Outcome: report.Succeeded})
		}
		return nil
	}}
}

func TestRouterRoutesByTenant(t *testing.T) {
	var seen sync.Map
	opened := map[string]int{}
	var mu sync.Mutex
	r := NewRouter(func(ctx context.Context, tenant string) (*Lane, error) {
		mu.Lock()
		opened[tenant]++
		mu.Unlock()
		if tenant == "unconsented.example" {
			return nil, &TenantError{Tenant: tenant, Code: "AADSTS700016", Message: "the app is not consented in tenant " + tenant}
		}
		return echoLane(&seen), nil
	}, RouterOptions{})
	items := make(chan Item)
	var c collector
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background(), items, c.emit) }()
	tenants := []string{"a.example", "b.example", "unconsented.example", "a.example"}
	line := 1
	for _, tn := range tenants {
		for range 30 {
			line++
			items <- Item{Line: line, User: fmt.Sprintf("u%d@x.example", line), Tenant: tn}
		}
	}
	close(items)
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(c.res) != 120 {
		t.Fatalf("got %d results, want 120", len(c.res))
	}
	for tn, n := range opened {
		if n != 1 {
			t.Errorf("tenant %s opened %d times, want once", tn, n)
		}
	}
	for _, res := range c.res {
		tn := tenants[(res.Line-2)/30]
		if res.Tenant != tn {
			t.Errorf("line %d: tenant %q, want %q", res.Line, res.Tenant, tn)
		}
		if tn == "unconsented.example" {
			if res.Outcome != report.Failed || res.Reason != report.ReasonAuthenticationFailed || res.ErrorCode != "AADSTS700016" || res.HTTPStatus != 0 {
				t.Errorf("line %d of the unconsented tenant: %+v", res.Line, res)
			}
		} else if res.Outcome != report.Succeeded {
			t.Errorf("line %d: %s", res.Line, res.Outcome)
		}
	}
	if n, _ := seen.Load("a.example"); *n.(*int) != 60 {
		t.Errorf("a.example lane got %d items, want 60", *n.(*int))
	}
}

// A lane that does not take its items does not hold back the next
// tenant's: the input is sorted by tenant, and tenant b must be served
// while tenant a's lane is still waiting.
func TestRouterNoHeadOfLineBlocking(t *testing.T) {
	bStarted := make(chan struct{})
	r := NewRouter(func(ctx context.Context, tenant string) (*Lane, error) {
		if tenant == "a" {
			return &Lane{Send: func(ctx context.Context, items <-chan Item, emit func(report.Result)) error {
				select {
				case <-bStarted: // a takes nothing until b has been served
				case <-time.After(10 * time.Second):
					return errors.New("tenant b was never served while tenant a was busy")
				}
				for it := range items {
					emit(report.Result{Line: it.Line, Outcome: report.Succeeded})
				}
				return nil
			}}, nil
		}
		return &Lane{Send: func(ctx context.Context, items <-chan Item, emit func(report.Result)) error {
			for it := range items {
				emit(report.Result{Line: it.Line, Outcome: report.Succeeded})
				select {
				case <-bStarted:
				default:
					close(bStarted)
				}
			}
			return nil
		}}, nil
	}, RouterOptions{MaxQueued: 1000})
	items := make(chan Item)
	var c collector
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background(), items, c.emit) }()
	for i := range 500 {
		items <- Item{Line: i + 2, Tenant: "a"}
	}
	for i := range 10 {
		items <- Item{Line: i + 600, Tenant: "b"}
	}
	close(items)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(c.res) != 510 {
		t.Errorf("got %d results, want 510", len(c.res))
	}
}

// A fatal error of one lane stops the run, and Run returns it.
func TestRouterFatalLaneStopsAll(t *testing.T) {
	boom := errors.New("secrets file failed")
	r := NewRouter(func(ctx context.Context, tenant string) (*Lane, error) {
		return &Lane{Send: func(ctx context.Context, items <-chan Item, emit func(report.Result)) error {
			if tenant == "bad" {
				return boom
			}
			for {
				select {
				case _, ok := <-items:
					if !ok {
						return nil
					}
				case <-ctx.Done():
					return nil
				}
			}
		}}, nil
	}, RouterOptions{})
	items := make(chan Item)
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background(), items, func(report.Result) {}) }()
	items <- Item{Line: 2, Tenant: "good"}
	items <- Item{Line: 3, Tenant: "bad"}
	// items is never closed: the fatal error alone must end the run.
	if err := <-done; !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want %v", err, boom)
	}
}

func TestTenantRecorder(t *testing.T) {
	var got []report.SecretRow
	rec := recorderFunc(func(_ context.Context, rows []report.SecretRow) error {
		got = append(got, rows...)
		return nil
	})
	if TenantRecorder(nil, "x") != nil {
		t.Error("TenantRecorder(nil) is not nil")
	}
	if err := TenantRecorder(rec, "contoso.com").Record(context.Background(), []report.SecretRow{{Line: 2, User: "a", Password: secret.New("p")}}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Tenant != "contoso.com" {
		t.Errorf("recorded %v, want the tenant on the row", got)
	}
}

type recorderFunc func(ctx context.Context, rows []report.SecretRow) error

func (f recorderFunc) Record(ctx context.Context, rows []report.SecretRow) error { return f(ctx, rows) }

// TestRouterUnopenedTenantKeepsRecordedPasswords: the rows of a tenant that
// cannot be signed in to fail, and a resumed row among them, whose password
// an interrupted run may have set, says so in data and in words, so that
// the secrets file keeps that password.
func TestRouterUnopenedTenantKeepsRecordedPasswords(t *testing.T) {
	r := NewRouter(func(ctx context.Context, tenant string) (*Lane, error) {
		return nil, &TenantError{Tenant: tenant, Code: "AADSTS700016", Message: "the app is not consented in tenant " + tenant}
	}, RouterOptions{})
	items := make(chan Item, 3)
	items <- Item{Line: 2, User: "fresh@x.example", Tenant: "t.example", Password: secret.New("Pw-0001-Aa1!")}
	items <- Item{Line: 3, User: "resumed@x.example", Tenant: "t.example", Password: secret.New("Pw-0002-Aa1!"), Recorded: true, Resumed: true}
	items <- Item{Line: 4, User: "none@x.example", Tenant: "t.example", Resumed: true} // --password-mode none
	close(items)
	var c collector
	if err := r.Run(t.Context(), items, c.emit); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(c.res) != 3 {
		t.Fatalf("got %d results, want 3", len(c.res))
	}
	for _, res := range c.res {
		want := res.Line == 3
		if res.Outcome != report.Failed || res.Reason != report.ReasonAuthenticationFailed {
			t.Errorf("line %d: %s/%s, want failed/authentication_failed", res.Line, res.Outcome, res.Reason)
		}
		if res.MaybeSet != want || strings.HasPrefix(res.ErrorMessage, report.MaybeSetNote) != want {
			t.Errorf("line %d: may be set %v, message %q; want %v, said so", res.Line, res.MaybeSet, res.ErrorMessage, want)
		}
	}
}
