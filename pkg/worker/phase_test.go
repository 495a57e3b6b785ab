package worker

import (
	"fmt"
	"github.com/bulkreset/bulkreset/pkg/secret"
	"testing"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// TestNextPhase is the table of an item's stages: every phase, every event
// it can have, with and without --revoke-sessions, with the password known
// unset or possibly in force.
func TestNextPhase(t *testing.T) {
	type row struct {
		from     phase
		on       event
		revoke   bool
		maybeSet bool
		want     phase
	}
	var rows []row
	// The three reset phases end alike: done, or failed.
	for _, from := range []phase{phaseReset, phaseResetPassword, phasePoll} {
		rows = append(rows,
			row{from, evDone, false, false, phaseDone},
			row{from, evDone, false, true, phaseDone},
			row{from, evDone, true, false, phaseRevoke},
			row{from, evDone, true, true, phaseRevoke},
			row{from, evFailed, false, false, phaseDone},
			row{from, evFailed, false, true, phaseDone},
			row{from, evFailed, true, false, phaseDone},
			// A failed reset that may have set the password still signs
			// the user out.
			row{from, evFailed, true, true, phaseRevokeFailed},
		)
	}
	rows = append(rows,
		row{phaseResetPassword, evAccepted, false, true, phasePoll},
		row{phaseResetPassword, evAccepted, true, true, phasePoll},
	)
	for _, from := range []phase{phaseRevoke, phaseRevokeFailed} {
		for _, on := range []event{evDone, evFailed} {
			for _, revoke := range []bool{false, true} {
				rows = append(rows, row{from, on, revoke, true, phaseDone}, row{from, on, revoke, false, phaseDone})
			}
		}
	}
	for _, r := range rows {
		if got := next(r.from, r.on, r.revoke, r.maybeSet); got != r.want {
			t.Errorf("next(%v, %v, revoke %v, maybe set %v) = %v, want %v", r.from, r.on, r.revoke, r.maybeSet, got, r.want)
		}
	}
}

// TestNextPhaseRefusesTheImpossible: an event a phase cannot have is a bug
// of the pool, not a silent end of the row.
func TestNextPhaseRefusesTheImpossible(t *testing.T) {
	for _, c := range []struct {
		from phase
		on   event
	}{
		{phaseReset, evAccepted}, {phasePoll, evAccepted}, {phaseRevoke, evAccepted},
		{phaseRevokeFailed, evAccepted}, {phaseDone, evDone}, {phaseDone, evFailed},
	} {
		t.Run(fmt.Sprintf("%v on %v", c.from, c.on), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("next(%v, %v) did not panic", c.from, c.on)
				}
			}()
			next(c.from, c.on, true, true)
		})
	}
}

// TestAdvanceCarriesTheFailedReset: the failure of a reset that may have
// set the password travels with phaseRevokeFailed, and only with it; every
// new phase starts due now, clean of the last one's errors and throttles.
func TestAdvanceCarriesTheFailedReset(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	failure := report.Result{Outcome: report.Failed, Reason: report.ReasonNotFound, HTTPStatus: 404, ErrorMessage: "gone"}
	for _, c := range []struct {
		name    string
		it      Item
		on      event
		want    phase
		carries bool
	}{
		{"lost answer, then refused", Item{Password: secret.New("p"), phase: phaseReset, unknown: true}, evFailed, phaseRevokeFailed, true},
		{"resumed, then refused", Item{Password: secret.New("p"), phase: phaseResetPassword, Resumed: true}, evFailed, phaseRevokeFailed, true},
		{"refused at once", Item{Password: secret.New("p"), phase: phaseReset}, evFailed, phaseDone, false},
		{"no password sent (--password-mode none)", Item{phase: phaseReset, unknown: true}, evFailed, phaseDone, false},
		{"reset", Item{Password: secret.New("p"), phase: phaseReset, unknown: true}, evDone, phaseRevoke, false},
		{"operation failed", Item{Password: secret.New("p"), phase: phasePoll, unknown: true}, evFailed, phaseRevokeFailed, true},
		{"revoked after the failure", Item{Password: secret.New("p"), phase: phaseRevokeFailed, unknown: true, failed: failure}, evDone, phaseDone, false},
	} {
		it := c.it
		it.paced, it.lastErr, it.lastNet, it.notBefore = 3, &graph.Error{Status: 429}, "reset by peer", now.Add(-time.Hour)
		if got := it.advance(c.on, failure, true, now); got != c.want || it.phase != c.want {
			t.Errorf("%s: advance = %v, phase %v; want %v", c.name, got, it.phase, c.want)
		}
		if carried := it.failed == failure; carried != c.carries {
			t.Errorf("%s: carries the failed reset %v, want %v", c.name, carried, c.carries)
		}
		if it.paced != 0 || it.lastErr != nil || it.lastNet != "" || !it.notBefore.Equal(now) {
			t.Errorf("%s: new phase starts with paced %d, lastErr %v, lastNet %q, due %v; want a clean start due now",
				c.name, it.paced, it.lastErr, it.lastNet, it.notBefore)
		}
	}
}

// TestReceivedStartsWithTheResetAsked: an item's first phase is the reset
// it asks for.
func TestReceivedStartsWithTheResetAsked(t *testing.T) {
	if p := received(Item{}).phase; p != phaseReset {
		t.Errorf("a passwordProfile item starts in %v", p)
	}
	if p := received(Item{ResetPassword: true}).phase; p != phaseResetPassword {
		t.Errorf("a resetPassword item starts in %v", p)
	}
}
