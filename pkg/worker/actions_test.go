package worker

import (
	"slices"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/bulkreset/bulkreset/pkg/report"
	"github.com/bulkreset/bulkreset/pkg/secret"
)

const revokeKey = "/revokeSignInSessions"

// cell is a revoked or blocked column: true, false or empty.
func cell(b *bool) string { return revokedCell(b) }

// TestPoolActionsReachEveryUserFound: with --block-sign-in and
// --revoke-sessions, each user is blocked, then reset, then revoked, in
// that order; a failing action does not stop the next one (a refused
// block still resets and revokes); a failed reset (an admin refused, a
// reset whose attempts ran out on 5xx) is blocked and revoked all the
// same; a user that does not exist gets nothing after its 404.
func TestPoolActionsReachEveryUserFound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		its := items(6)
		rec := &fakeRecorder{}
		g := newFakeGraph(t, rec, func(key string, attempt int) (int, string) {
			user := strings.TrimSuffix(strings.TrimSuffix(key, blockKey), revokeKey)
			isReset := key == user
			switch {
			case user == urlOf(its[1]) && strings.HasSuffix(key, blockKey):
				return 403, "" // the block is refused
			case user == urlOf(its[2]) && isReset:
				return 403, "" // an admin the app may not reset
			case user == urlOf(its[3]) && isReset:
				return 503, "" // the reset fails until its attempts run out
			case user == urlOf(its[4]):
				return 404, "" // no such user: its first write says so
			case user == urlOf(its[5]) && strings.HasSuffix(key, revokeKey) && attempt == 1:
				return 429, "1"
			case strings.HasSuffix(key, revokeKey):
				return 200, ""
			}
			return 204, ""
		})
		p := New(g, rec, Options{BatchSize: 20, Concurrency: 2, MaxAttempts: 3, RevokeSessions: true, BlockSignIn: true, Jitter: func() float64 { return 0 }})
		got, err := runPool(t.Context(), t, p, its)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		for i, want := range []struct {
			outcome          report.Outcome
			reason           report.Reason
			blocked, revoked string
			message          string
			sent             []string // the writes sent, in order, by kind
		}{
			{report.Succeeded, "", "true", "true", "", []string{"block", "reset", "revoke"}},
			{report.Succeeded, "", "false", "true", "the password was reset, but blocking sign-in failed: m403", []string{"block", "reset", "revoke"}},
			{report.Failed, report.ReasonInsufficientPrivileges, "true", "true", "m403", []string{"block", "reset", "revoke"}},
			{report.Failed, report.ReasonServiceError, "true", "true", "gave up after 3 attempts", []string{"block", "reset", "reset", "reset", "revoke"}},
			{report.Failed, report.ReasonNotFound, "", "", "m404", []string{"block"}},
			{report.Succeeded, "", "true", "true", "", []string{"block", "reset", "revoke", "revoke"}},
		} {
			r := got[its[i].Line]
			if r.Outcome != want.outcome || r.Reason != want.reason || cell(r.Blocked) != want.blocked || cell(r.Revoked) != want.revoked {
				t.Errorf("user %d: %s/%s blocked %q revoked %q, want %s/%s blocked %q revoked %q",
					i, r.Outcome, r.Reason, cell(r.Blocked), cell(r.Revoked), want.outcome, want.reason, want.blocked, want.revoked)
			}
			if !strings.Contains(r.ErrorMessage, want.message) {
				t.Errorf("user %d: error_message %q, want it to contain %q", i, r.ErrorMessage, want.message)
			}
			var sent []string
			for _, k := range g.sent {
				switch {
				case k == urlOf(its[i])+blockKey:
					sent = append(sent, "block")
				case k == urlOf(its[i]):
					sent = append(sent, "reset")
				case k == urlOf(its[i])+revokeKey:
					sent = append(sent, "revoke")
				}
			}
			if !slices.Equal(sent, want.sent) {
				t.Errorf("user %d: sent %v, want %v", i, sent, want.sent)
			}
		}
		// The refused block says so in the error columns of a row whose
		// reset stands; the reset keeps its status.
		if r := got[its[1].Line]; r.ErrorCode != "Authorization_RequestDenied" || r.HTTPStatus != 204 || !strings.HasPrefix(r.RequestID, "inner-") {
			t.Errorf("refused block: status %d code %q request-id %q, want the reset's 204 and the block's code and request-id", r.HTTPStatus, r.ErrorCode, r.RequestID)
		}
		st := p.Stats()
		if st.Blocked.Load() != 4 || st.NotBlocked.Load() != 1 || st.Revoked.Load() != 5 || st.NotRevoked.Load() != 0 {
			t.Errorf("stats: blocked %d, not blocked %d, revoked %d, not revoked %d; want 4, 1, 5, 0",
				st.Blocked.Load(), st.NotBlocked.Load(), st.Revoked.Load(), st.NotRevoked.Load())
		}
		// A password is recorded only when its reset is about to be sent:
		// the missing user's block never made its password durable.
		if rec.has(its[4].Password.Reveal()) {
			t.Error("the password of a user whose reset was never sent was recorded")
		}
	})
}

// TestPoolLockdown: --password-mode keep sends no reset: the actions make
// the outcome, succeeded when each did what it asked, else failed with the
// reason of the first that failed (block_failed, revoke_failed) and its
// answer; each action has its own attempt budget; a user that does not
// exist is failed/not_found with no action column.
func TestPoolLockdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		its := items(5)
		g := newFakeGraph(t, nil, func(key string, attempt int) (int, string) {
			user := strings.TrimSuffix(strings.TrimSuffix(key, blockKey), revokeKey)
			switch {
			case user == urlOf(its[1]) && strings.HasSuffix(key, blockKey):
				return 403, ""
			case user == urlOf(its[2]) && strings.HasSuffix(key, revokeKey):
				return 503, ""
			case user == urlOf(its[3]):
				return 404, ""
			case user == urlOf(its[4]) && strings.HasSuffix(key, blockKey) && attempt < 3:
				return 503, "" // two of its three attempts
			case strings.HasSuffix(key, revokeKey):
				return 200, ""
			case key == user:
				t.Errorf("a reset was sent in a lockdown: %s", key)
			}
			return 204, ""
		})
		p := New(g, nil, Options{BatchSize: 20, Concurrency: 1, MaxAttempts: 3, RevokeSessions: true, BlockSignIn: true, KeepPasswords: true, Jitter: func() float64 { return 0 }})
		its2 := slices.Clone(its)
		for i := range its2 {
			its2[i].Password = secret.Value{}
		}
		got, err := runPool(t.Context(), t, p, its2)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		for i, want := range []struct {
			outcome          report.Outcome
			reason           report.Reason
			status           int
			blocked, revoked string
			attempts         int
		}{
			{report.Succeeded, "", 200, "true", "true", 2},
			{report.Failed, report.ReasonBlockFailed, 403, "false", "true", 2},
			{report.Failed, report.ReasonRevokeFailed, 503, "true", "false", 4},
			{report.Failed, report.ReasonNotFound, 404, "", "", 1},
			{report.Succeeded, "", 200, "true", "true", 4},
		} {
			r := got[its[i].Line]
			if r.Outcome != want.outcome || r.Reason != want.reason || r.HTTPStatus != want.status || cell(r.Blocked) != want.blocked ||
				cell(r.Revoked) != want.revoked || r.Attempts != want.attempts {
				t.Errorf("user %d: %s/%s %d blocked %q revoked %q after %d attempts; want %s/%s %d blocked %q revoked %q after %d",
					i, r.Outcome, r.Reason, r.HTTPStatus, cell(r.Blocked), cell(r.Revoked), r.Attempts,
					want.outcome, want.reason, want.status, want.blocked, want.revoked, want.attempts)
			}
		}
		if r := got[its[2].Line]; !strings.Contains(r.ErrorMessage, "revoking the sign-in sessions failed: gave up after 3 attempts") || r.MaybeSet || r.ErrorCode != "ServiceUnavailable" {
			t.Errorf("failed revoke: %q, code %q, may be set %v", r.ErrorMessage, r.ErrorCode, r.MaybeSet)
		}
		if n := g.attempts[urlOf(its[3])+revokeKey]; n != 0 {
			t.Errorf("the missing user was sent %d revokes after its 404, want none", n)
		}
	})
}

// TestPoolSkippedItems: an item the preflight skipped (Item.Skipped) and
// passed on for the actions gets no reset; it is blocked and revoked, and
// its row keeps the skip's outcome and reason with the action columns,
// and a failed action's answer in the error columns. With
// --revoke-only-if-reset it is not revoked.
func TestPoolSkippedItems(t *testing.T) {
	for _, only := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			its := items(2)
			for i := range its {
				its[i].Skipped = &report.Result{Outcome: report.Skipped, Reason: report.ReasonSynced, ErrorMessage: "synced from on-premises AD"}
			}
			g := newFakeGraph(t, nil, func(key string, _ int) (int, string) {
				switch {
				case key == urlOf(its[1])+revokeKey:
					return 403, ""
				case strings.HasSuffix(key, revokeKey):
					return 200, ""
				case !strings.HasSuffix(key, blockKey):
					t.Errorf("a reset was sent for a skipped user: %s", key)
				}
				return 204, ""
			})
			p := New(g, nil, Options{BatchSize: 20, Concurrency: 1, MaxAttempts: 2, RevokeSessions: true, RevokeOnlyIfReset: only, BlockSignIn: true})
			got, err := runPool(t.Context(), t, p, its)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			for i, it := range its {
				r := got[it.Line]
				wantRevoked := map[bool]string{false: "true", true: ""}[only]
				if i == 1 && !only {
					wantRevoked = "false"
				}
				if r.Outcome != report.Skipped || r.Reason != report.ReasonSynced || cell(r.Blocked) != "true" || cell(r.Revoked) != wantRevoked || r.Attempts != 0 {
					t.Errorf("only %v, user %d: %s/%s blocked %q revoked %q attempts %d; want skipped/synced_user blocked true revoked %q attempts 0",
						only, i, r.Outcome, r.Reason, cell(r.Blocked), cell(r.Revoked), r.Attempts, wantRevoked)
				}
				if g.attempts[urlOf(it)] != 0 {
					t.Errorf("user %d: %d resets sent", i, g.attempts[urlOf(it)])
				}
			}
			if r := got[its[1].Line]; !only && (r.HTTPStatus != 403 || r.ErrorCode != "Authorization_RequestDenied" ||
				!strings.HasPrefix(r.ErrorMessage, "synced from on-premises AD (also revoking the sign-in sessions failed: ")) {
				t.Errorf("failed revoke of a skipped user: %d %q %q", r.HTTPStatus, r.ErrorCode, r.ErrorMessage)
			}
		})
	}
}

// TestPoolSkippedItemWithNothingToDo: a skipped item whose actions do not
// reach it (revoke only if reset, no block) ends at once with its skip.
func TestPoolSkippedItemWithNothingToDo(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		its := items(1)
		its[0].Skipped = &report.Result{Outcome: report.Skipped, Reason: report.ReasonDisabled}
		g := newFakeGraph(t, nil, func(key string, _ int) (int, string) {
			t.Errorf("sent %s", key)
			return 204, ""
		})
		p := New(g, nil, Options{RevokeSessions: true, RevokeOnlyIfReset: true})
		got, err := runPool(t.Context(), t, p, its)
		if r := got[its[0].Line]; err != nil || r.Outcome != report.Skipped || r.Reason != report.ReasonDisabled || r.Revoked != nil || r.User != its[0].User {
			t.Errorf("Run: %v; got %+v", err, r)
		}
	})
}

// TestPoolResumedItemRedoesEveryPhase: a row an interrupted run left
// without a result is done again from its first phase: blocked again
// (harmless), reset with the recorded password, revoked; the interrupted
// attempt counts.
func TestPoolResumedItemRedoesEveryPhase(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		its := items(1)
		its[0].Resumed, its[0].Recorded = true, true
		g := newFakeGraph(t, nil, func(key string, _ int) (int, string) {
			if strings.HasSuffix(key, revokeKey) {
				return 200, ""
			}
			return 204, ""
		})
		p := New(g, nil, Options{BatchSize: 20, Concurrency: 1, MaxAttempts: 3, RevokeSessions: true, BlockSignIn: true})
		got, err := runPool(t.Context(), t, p, its)
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		r := got[its[0].Line]
		want := []string{urlOf(its[0]) + blockKey, urlOf(its[0]), urlOf(its[0]) + revokeKey}
		if r.Outcome != report.Succeeded || r.Attempts != 2 || cell(r.Blocked) != "true" || cell(r.Revoked) != "true" || !slices.Equal(g.sent, want) {
			t.Errorf("got %s after %d attempts, blocked %q revoked %q, sent %v; want succeeded after 2, both true, sent %v",
				r.Outcome, r.Attempts, cell(r.Blocked), cell(r.Revoked), g.sent, want)
		}
		if g.pw[urlOf(its[0])] != its[0].Password.Reveal() {
			t.Error("the reset did not send the recorded password")
		}
	})
}
