package worker

import (
	"strings"
	"testing"
	"testing/synctest"

	"github.com/bulkreset/bulkreset/pkg/report"
)

// TestPoolRevokeSessions: the revoke goes after a successful reset only; a
// throttled or failing revoke is retried like any write; a revoke that
// fails for good leaves the row succeeded, revoked=false, with the error.
func TestPoolRevokeSessions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		its := items(5)
		const revoke = "/revokeSignInSessions"
		g := newFakeGraph(t, nil, func(url string, attempt int) (int, string) {
			isRevoke := strings.HasSuffix(url, revoke)
			user := strings.TrimSuffix(url, revoke)
			switch {
			case user == urlOf(its[4]):
				return 404, ""
			case !isRevoke:
				return 204, ""
			case user == urlOf(its[1]) && attempt == 1:
				return 429, "2"
			case user == urlOf(its[2]):
				return 403, ""
			case user == urlOf(its[3]):
				return 503, "1"
			}
			return 200, ""
		})
		p := New(g, nil, Options{BatchSize: 20, Concurrency: 2, MaxAttempts: 3, RevokeSessions: true, Jitter: func() float64 { return 0 }})
		got, err := runPool(t.Context(), t, p, its)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		for i, want := range []struct {
			outcome         report.Outcome
			revoked         *bool
			revokeAttempts  int
			messageContains string
		}{
			{report.Succeeded, ptr(true), 1, ""},
			{report.Succeeded, ptr(true), 2, ""},
			{report.Succeeded, ptr(false), 1, "revoking the sign-in sessions failed: m403"},
			{report.Succeeded, ptr(false), 3, "gave up after 3 attempts"},
			{report.Failed, nil, 0, ""},
		} {
			r := got[its[i].Line]
			if r.Outcome != want.outcome {
				t.Errorf("user %d: outcome %s, want %s", i, r.Outcome, want.outcome)
			}
			switch {
			case want.revoked == nil && r.Revoked != nil, want.revoked != nil && (r.Revoked == nil || *r.Revoked != *want.revoked):
				t.Errorf("user %d: revoked %v, want %v", i, r.Revoked, want.revoked)
			}
			if n := g.attempts[urlOf(its[i])+revoke]; n != want.revokeAttempts {
				t.Errorf("user %d: %d revokes sent, want %d", i, n, want.revokeAttempts)
			}
			if !strings.Contains(r.ErrorMessage, want.messageContains) {
				t.Errorf("user %d: error_message %q, want it to contain %q", i, r.ErrorMessage, want.messageContains)
			}
			if r.Outcome == report.Succeeded && (r.HTTPStatus != 204 || r.Attempts != 1) {
				t.Errorf("user %d: http_status %d attempts %d, want the reset's 204 after 1 attempt", i, r.HTTPStatus, r.Attempts)
			}
		}
		if r := got[its[2].Line]; r.ErrorCode != "Authorization_RequestDenied" {
			t.Errorf("failed revoke: error_code %q, want Graph's", r.ErrorCode)
		}
		if n := p.Stats().Revoked.Load(); n != 2 {
			t.Errorf("Stats.Revoked %d, want 2", n)
		}
	})
}

func ptr[T any](v T) *T { return &v }
