package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// fakeGraph answers the users' lookups and the audit log from memory.
type fakeGraph struct {
	mu        sync.Mutex
	users     map[string]map[string]any // object id -> the user's JSON
	audits    []map[string]any          // newest first
	page      int                       // records per page
	throttle  int                       // audit GETs to answer 429 first
	denyUsers bool
	denyAudit bool
	gets      []string
}

const fakeBase = "https://graph.fake/v1.0"

func (f *fakeGraph) Batch(_ context.Context, reqs []graph.Request) (*graph.BatchResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := &graph.BatchResult{Responses: map[string]graph.Response{}, RequestID: "batch"}
	for _, r := range reqs {
		id := strings.TrimPrefix(strings.SplitN(r.URL, "?", 2)[0], "/users/")
		u, ok := f.users[id]
		switch {
		case f.denyUsers:
			out.Responses[r.ID] = graph.Response{ID: r.ID, Status: 403, Body: json.RawMessage(`{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}`)}
		case !ok:
			out.Responses[r.ID] = graph.Response{ID: r.ID, Status: 404, Body: json.RawMessage(`{"error":{"code":"Request_ResourceNotFound","message":"no"}}`)}
		default:
			b, _ := json.Marshal(u)
			out.Responses[r.ID] = graph.Response{ID: r.ID, Status: 200, Body: b}
		}
	}
	return out, nil
}

func (f *fakeGraph) Do(_ context.Context, req graph.Request) (graph.Response, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets = append(f.gets, req.URL)
	if f.denyAudit {
		return graph.Response{Status: 403, Body: json.RawMessage(`{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}`)}, nil
	}
	if f.throttle > 0 {
		f.throttle--
		return graph.Response{Status: 429, Headers: map[string]string{"Retry-After": "3"}, Body: json.RawMessage(`{"error":{"code":"TooManyRequests","message":"slow down"}}`)}, nil
	}
	start := 0
	if _, tok, ok := strings.Cut(req.URL, "&skip="); ok {
		fmt.Sscan(tok, &start)
	}
	var value []map[string]any
	if strings.Contains(req.URL, "Reset+user+password") {
		for _, a := range f.audits[min(start, len(f.audits)):] {
			if len(value) == f.page {
				break
			}
			value = append(value, a)
		}
	}
	page := map[string]any{"value": value}
	if strings.Contains(req.URL, "Reset+user+password") && start+len(value) < len(f.audits) {
		page["@odata.nextLink"] = fmt.Sprintf("%s/auditLogs/directoryAudits?$filter=Reset+user+password&skip=%d", fakeBase, start+len(value))
	}
	b, _ := json.Marshal(page)
	return graph.Response{Status: 200, Body: b}, nil
}

func (f *fakeGraph) NextPath(next string) (string, error) {
	rest, ok := strings.CutPrefix(next, fakeBase)
	if !ok {
		return "", errors.New("outside")
	}
	return rest, nil
}

func seq(rs []report.Result) iter.Seq2[report.Result, error] {
	return func(yield func(report.Result, error) bool) {
		for _, r := range rs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

func ptr[T any](v T) *T { return &v }

func runVerify(t *testing.T, g *fakeGraph, rs []report.Result, opts Options) ([]report.VerifyRow, Stats, error) {
	t.Helper()
	var out []report.VerifyRow
	st, err := Run(t.Context(), g, seq(rs), true, opts, func(r report.VerifyRow) error {
		out = append(out, r)
		return nil
	})
	return out, st, err
}

// A tenant of n users reset at done, each with its audit record, the
// i-th carrying the correlation id c<i>.
func resetTenant(n int, done time.Time) (*fakeGraph, []report.Result) {
	g := &fakeGraph{users: map[string]map[string]any{}, page: 3}
	var rs []report.Result
	for i := range n {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		g.users[id] = map[string]any{"id": id, "userPrincipalName": fmt.Sprintf("u%d@x.example", i), "accountEnabled": false,
			"lastPasswordChangeDateTime": done.Add(-time.Second).Format(time.RFC3339), "signInSessionsValidFromDateTime": done.Format(time.RFC3339)}
		g.audits = append(g.audits, map[string]any{"id": fmt.Sprintf("a%d", i), "correlationId": fmt.Sprintf("c%d", i), "result": "success",
			"activityDisplayName": "Reset user password", "activityDateTime": done.Add(-time.Second).Format(time.RFC3339Nano),
			"initiatedBy":     map[string]any{"app": map[string]any{"appId": "app-1", "displayName": "bulkreset"}},
			"targetResources": []any{map[string]any{"id": id, "type": "User"}}})
		rs = append(rs, report.Result{Line: i + 2, User: fmt.Sprintf("u%d@x.example", i), ObjectID: id, Outcome: report.Succeeded,
			Revoked: ptr(true), Blocked: ptr(true), FinishedAt: done, ClientRequestID: fmt.Sprintf("c%d", i)})
	}
	return g, rs
}

// The audit log is read page by page, a 429 waited out after its
// Retry-After; every row is confirmed, matched by its correlation id.
func TestRunPagedAndThrottled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		done := time.Now()
		g, rs := resetTenant(7, done)
		g.throttle = 1
		start := time.Now()
		out, st, err := runVerify(t, g, rs, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited < 3*time.Second {
			t.Errorf("the 429's Retry-After of 3 s was not waited out (%v)", waited)
		}
		if st.Confirmed != 7 || st.Throttled != 1 || st.AuditRecords != 7 {
			t.Errorf("stats %+v", st)
		}
		pages := 0
		for _, u := range g.gets {
			if strings.Contains(u, "Reset+user+password") {
				pages++
			}
		}
		if pages != 4 { // the 429, then 3 pages of 3, 3 and 1
			t.Errorf("%d GETs of the reset activity, want 4", pages)
		}
		for _, r := range out {
			if r.Status != report.Confirmed || r.MatchedBy != "correlation_id" || r.Checked != "block+reset+revoke" || r.Initiator != "app bulkreset (app-1)" {
				t.Errorf("%+v", r)
			}
		}
	})
}

// What the user object contradicts, each row for itself.
func TestRunDifferences(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		done := time.Now()
		g, rs := resetTenant(5, done)
		id := func(i int) string { return rs[i].ObjectID }
		g.users[id(0)]["lastPasswordChangeDateTime"] = done.Add(-time.Hour).Format(time.RFC3339) // not changed
		g.users[id(1)]["lastPasswordChangeDateTime"] = done.Add(time.Hour).Format(time.RFC3339)  // changed again
		g.users[id(2)]["accountEnabled"] = true
		g.users[id(3)]["signInSessionsValidFromDateTime"] = done.Add(-DefaultSkew - time.Second).Format(time.RFC3339)
		delete(g.users, id(4))
		out, st, err := runVerify(t, g, rs, Options{})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"password not changed by the run", "password changed again after the run", "sign-in not blocked", "sessions not revoked", "no longer exists"}
		for i, r := range out {
			if r.Status != report.NotConfirmed || !strings.Contains(r.Detail, want[i]) {
				t.Errorf("row %d: %s %q, want not_confirmed with %q", i, r.Status, r.Detail, want[i])
			}
		}
		if st.NotConfirmed != 5 {
			t.Errorf("stats %+v", st)
		}
	})
}

// Without a correlation id in the record, the nearest record of the user
// within the skew matches; one outside it does not, and Wait polls again
// until the time is up.
func TestRunMatchByObjectIDAndWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		done := time.Now()
		g, rs := resetTenant(2, done)
		g.audits[0]["correlationId"] = "something-else"
		g.audits[1]["correlationId"] = "another-one"
		g.audits[1]["activityDateTime"] = done.Add(-DefaultSkew - time.Minute).Format(time.RFC3339Nano)
		start := time.Now()
		out, st, err := runVerify(t, g, rs, Options{Wait: 2 * time.Minute, PollInterval: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if out[0].Status != report.Confirmed || out[0].MatchedBy != "object_id" {
			t.Errorf("row 0: %+v", out[0])
		}
		if out[1].Status != report.NotInAuditLog || out[1].AuditID != "" {
			t.Errorf("row 1: %+v", out[1])
		}
		if st.Polls != 5 || time.Since(start) != 2*time.Minute {
			t.Errorf("%d polls in %v, want 5 in 2m", st.Polls, time.Since(start))
		}
	})
}

// A 403 on the users or the audit log is the error naming the permission.
func TestRunDenied(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		g, rs := resetTenant(2, time.Now())
		g.denyAudit = true
		if _, _, err := runVerify(t, g, rs, Options{}); !errors.Is(err, ErrAuditDenied) || !strings.Contains(err.Error(), "AuditLog.Read.All") {
			t.Errorf("audit denied: %v", err)
		}
		g.denyUsers = true
		if _, _, err := runVerify(t, g, rs, Options{}); !errors.Is(err, ErrUsersDenied) || !strings.Contains(err.Error(), "User.Read.All") {
			t.Errorf("users denied: %v", err)
		}
	})
}

// Rows that record nothing done are not checked; a succeeded row without a
// client_request_id (a lockdown) is checked for its actions only.
func TestRunCheckedRows(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		done := time.Now()
		g, rs := resetTenant(2, done)
		rs[0].ClientRequestID = "" // a lockdown row: blocked and revoked
		rs = append(rs, report.Result{Line: 9, User: "gone@x.example", Outcome: report.Failed, Reason: report.ReasonNotFound},
			report.Result{Line: 10, User: "u1@x.example", Outcome: report.Duplicate})
		out, st, err := runVerify(t, g, rs, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if st.Rows != 4 || st.Checked != 2 || len(out) != 2 || out[0].Checked != "block+revoke" || out[0].AuditID != "" || out[0].Status != report.Confirmed {
			t.Errorf("stats %+v, rows %+v", st, out)
		}
	})
}
