package worker

import (
	"fmt"
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

// TestRevokeBudgetIsItsOwn: the throttles the pacer made a reset wait out
// do not lengthen the revoke that follows it: a revoke that keeps failing
// is given up after MaxAttempts requests, however often the reset before
// it was throttled. (The reset ends refused, 403: a 404 would say the
// user does not exist, and nothing would follow it.)
func TestRevokeBudgetIsItsOwn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const revokeURL = "/users/user0001@contoso.com/revokeSignInSessions"
		g := newFakeGraph(t, nil, func(url string, attempt int) (int, string) {
			switch {
			case url == revokeURL:
				return 503, ""
			case strings.HasPrefix(url, "/users/user0000"):
				return 204, "" // the tenant accepts writes: the pacer owns the 429s
			case attempt == 1:
				return 503, "" // the outcome is unknown: the password may be set
			case attempt <= 3:
				return 429, "1"
			}
			return 403, ""
		})
		p := New(g, nil, Options{BatchSize: 20, Concurrency: 1, MaxAttempts: 3, RevokeSessions: true})
		got, err := runPool(t.Context(), t, p, items(2))
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		r := got[3]
		if r.Outcome != report.Failed || r.Reason != report.ReasonInsufficientPrivileges || r.Attempts != 4 || !r.MaybeSet {
			t.Fatalf("got %s/%s after %d attempts (may be set %v), want failed/insufficient_privileges after 4, may be set", r.Outcome, r.Reason, r.Attempts, r.MaybeSet)
		}
		if n := g.attempts[revokeURL]; n != 3 || r.Revoked == nil || *r.Revoked {
			t.Errorf("revoke sent %d times, revoked %s; want 3 (MaxAttempts) and false", n, revokedCell(r.Revoked))
		}
	})
}

// revokedCell is the revoked column of a result: true, false or empty.
func revokedCell(b *bool) string {
	if b == nil {
		return ""
	}
	return fmt.Sprint(*b)
}
