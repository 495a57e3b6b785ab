package worker

import (
	"context"
	"fmt"
	"github.com/bulkreset/bulkreset/pkg/secret"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// TestPreflightDecides: each kind of user found by the lookup ends as the
// flags say; a throttled lookup is retried after its Retry-After; items
// pass on in input order, addressed by object id; a user listed again by
// object id is a duplicate on its later line.
func TestPreflightDecides(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		type user struct{ id, kind string }
		dir := map[string]user{
			"member@contoso.com":   {"00000000-0000-4000-8000-000000000001", "member"},
			"synced@contoso.com":   {"00000000-0000-4000-8000-000000000002", "synced"},
			"disabled@contoso.com": {"00000000-0000-4000-8000-000000000003", "disabled"},
			"guest@contoso.com":    {"00000000-0000-4000-8000-000000000004", "guest"},
			"slow@contoso.com":     {"00000000-0000-4000-8000-000000000005", "member"},
		}
		var mu sync.Mutex
		calls := map[string]int{}
		send := senderFunc(func(_ context.Context, reqs []graph.Request) (*graph.BatchResult, error) {
			mu.Lock()
			defer mu.Unlock()
			res := &graph.BatchResult{Responses: map[string]graph.Response{}, RequestID: "outer"}
			for _, r := range reqs {
				if r.URL == graph.DomainsRequest("").URL {
					res.Responses[r.ID] = graph.Response{ID: r.ID, Status: 200, Headers: map[string]string{"Content-Type": "application/json"},
						Body: []byte(`{"value":[{"id":"contoso.com","authenticationType":"Managed"}]}`)}
					continue
				}
				if r.Method != "GET" || !strings.Contains(r.URL, "$select=id,userPrincipalName,accountEnabled,onPremisesSyncEnabled,userType") {
					t.Errorf("preflight sent %s %s, want a GET with $select", r.Method, r.URL)
				}
				key, _, _ := strings.Cut(strings.TrimPrefix(r.URL, "/users/"), "?")
				calls[key]++
				var u user
				var upn string
				for k, v := range dir {
					if k == key || v.id == key {
						u, upn = v, k
					}
				}
				resp := graph.Response{ID: r.ID, Status: 200, Headers: map[string]string{"Content-Type": "application/json"}}
				switch {
				case u.id == "":
					resp.Status = 404
					resp.Body = []byte(`{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist","innerError":{"request-id":"r404"}}}`)
				case upn == "slow@contoso.com" && calls[key] == 1:
					resp.Status = 429
					resp.Headers["Retry-After"] = "3"
					resp.Body = []byte(`{"error":{"code":"TooManyRequests","message":"Please retry again later."}}`)
				default:
					resp.Body = []byte(fmt.Sprintf(`{"id":%q,"userPrincipalName":%q,"accountEnabled":%t,"onPremisesSyncEnabled":%s,"userType":%q}`,
						u.id, upn, u.kind != "disabled", map[bool]string{true: "true", false: "null"}[u.kind == "synced"],
						map[bool]string{true: "Guest", false: "Member"}[u.kind == "guest"]))
				}
				res.Responses[r.ID] = resp
			}
			return res, nil
		})
		in := []Item{
			{Line: 2, User: "member@contoso.com", Target: "member@contoso.com"},
			{Line: 3, User: "missing@contoso.com", Target: "missing@contoso.com"},
			{Line: 4, User: "synced@contoso.com", Target: "synced@contoso.com"},
			{Line: 5, User: "disabled@contoso.com", Target: "disabled@contoso.com"},
			{Line: 6, User: "guest@contoso.com", Target: "guest@contoso.com"},
			{Line: 7, User: "slow@contoso.com", Target: "slow@contoso.com"},
			{Line: 8, User: dir["member@contoso.com"].id, Target: dir["member@contoso.com"].id, ObjectID: dir["member@contoso.com"].id},
		}
		pre := NewPreflight(send, PreflightOptions{BatchSize: 3, Concurrency: 2, MaxAttempts: 4, SkipGuests: true})
		inCh, out := make(chan Item), make(chan Item)
		go func() {
			defer close(inCh)
			for _, it := range in {
				inCh <- it
			}
		}()
		var passed []Item
		done := make(chan struct{})
		go func() {
			defer close(done)
			for it := range out {
				passed = append(passed, it)
			}
		}()
		got := map[int]report.Result{}
		if err := pre.Run(t.Context(), inCh, out, func(r report.Result) { got[r.Line] = r }); err != nil {
			t.Fatalf("Run: %v", err)
		}
		<-done
		var lines []string
		for _, it := range passed {
			lines = append(lines, fmt.Sprintf("%d:%s", it.Line, it.ObjectID))
		}
		want := []string{
			"2:" + dir["member@contoso.com"].id,
			"5:" + dir["disabled@contoso.com"].id, // reported, reset without --skip-disabled
			"7:" + dir["slow@contoso.com"].id,
		}
		if fmt.Sprint(lines) != fmt.Sprint(want) {
			t.Errorf("passed on %v, want %v (input order, by object id)", lines, want)
		}
		for line, w := range map[int]struct {
			outcome report.Outcome
			reason  report.Reason
		}{
			3: {report.Failed, "not_found"},
			4: {report.Skipped, "synced_user"},
			6: {report.Skipped, "guest"},
			8: {report.Duplicate, ""},
		} {
			r := got[line]
			if r.Outcome != w.outcome || r.Reason != w.reason {
				t.Errorf("line %d: %s/%s (%s), want %s/%s", line, r.Outcome, r.Reason, r.ErrorMessage, w.outcome, w.reason)
			}
		}
		if r := got[3]; r.HTTPStatus != 404 || r.RequestID != "r404" {
			t.Errorf("not found: status %d request-id %q, want Graph's answer", r.HTTPStatus, r.RequestID)
		}
		if r := got[4]; !strings.Contains(r.ErrorMessage, "on-premises") || r.ObjectID != dir["synced@contoso.com"].id {
			t.Errorf("synced: message %q object_id %q, want the advice and the id", r.ErrorMessage, r.ObjectID)
		}
		if len(got) != 4 {
			t.Errorf("%d results, want 4", len(got))
		}
		if n := calls["slow@contoso.com"]; n != 2 {
			t.Errorf("throttled lookup sent %d times, want 2", n)
		}
		st := pre.Stats()
		if st.Disabled.Load() != 1 || st.Guests.Load() != 1 || st.Synced.Load() != 1 || st.NotFound.Load() != 1 || st.Throttled.Load() != 1 {
			t.Errorf("stats disabled %d guests %d synced %d not found %d throttled %d, want 1 each",
				st.Disabled.Load(), st.Guests.Load(), st.Synced.Load(), st.NotFound.Load(), st.Throttled.Load())
		}
	})
}

// TestPreflightResumedRowKeepsItsPassword: a row an interrupted run may have
// reset, whose lookup now fails (the user was renamed since), keeps its
// recorded password in the secrets file; a fresh row's does not.
func TestPreflightResumedRowKeepsItsPassword(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		send := senderFunc(func(_ context.Context, reqs []graph.Request) (*graph.BatchResult, error) {
			res := &graph.BatchResult{Responses: map[string]graph.Response{}}
			for _, r := range reqs {
				res.Responses[r.ID] = graph.Response{ID: r.ID, Status: 404, Headers: map[string]string{"Content-Type": "application/json"},
					Body: []byte(`{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist"}}`)}
			}
			return res, nil
		})
		in := make(chan Item, 2)
		in <- Item{Line: 2, User: "renamed@contoso.com", Target: "renamed@contoso.com", Password: secret.New("Pw-0001-Aa1!"), Recorded: true, Resumed: true}
		in <- Item{Line: 3, User: "missing@contoso.com", Target: "missing@contoso.com", Password: secret.New("Pw-0002-Aa1!")}
		close(in)
		out := make(chan Item)
		go func() {
			for range out {
				t.Error("a user that does not exist was passed on")
			}
		}()
		got := map[int]report.Result{}
		if err := NewPreflight(send, PreflightOptions{}).Run(t.Context(), in, out, func(r report.Result) { got[r.Line] = r }); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if r := got[2]; r.Reason != "not_found" || !strings.HasPrefix(r.ErrorMessage, report.MaybeSetNote) || !r.MaybeSet || report.RefusedForGood(r) {
			t.Errorf("resumed row: %s/%s %q; want not_found, saying its password may be set, and kept", r.Outcome, r.Reason, r.ErrorMessage)
		}
		if r := got[3]; r.MaybeSet || !report.RefusedForGood(r) {
			t.Errorf("fresh row: %s/%s %q; want refused for good (its password was never sent)", r.Outcome, r.Reason, r.ErrorMessage)
		}
	})
}
