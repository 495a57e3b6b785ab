package worker

import (
	"fmt"
	"testing"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/report"
	"github.com/bulkreset/bulkreset/pkg/secret"
)

// TestNextPhase is the table of an item's stages: every phase, every event
// it can have, for each combination of actions (block, revoke, revoke only
// if reset), with and without a reset to send, with the password known
// unset or possibly in force.
func TestNextPhase(t *testing.T) {
	type row struct {
		from phase
		on   event
		r    route
		want phase
	}
	var rows []row
	routes := func(f func(r route)) {
		for _, block := range []bool{false, true} {
			for _, reset := range []bool{false, true} {
				for _, rp := range []bool{false, true} {
					for _, revoke := range []bool{false, true} {
						for _, only := range []bool{false, true} {
							for _, maybe := range []bool{false, true} {
								f(route{block: block, reset: reset, resetPassword: rp, revoke: revoke, onlyIfReset: only, maybeSet: maybe})
							}
						}
					}
				}
			}
		}
	}
	resetPhase := func(r route) phase {
		if r.resetPassword {
			return phaseResetPassword
		}
		return phaseReset
	}
	routes(func(r route) {
		// After the block, done or failed alike: the reset; without one,
		// the revoke of every user found; with revoke-only-if-reset, no
		// revoke for a user whose reset is not sent.
		afterBlock := phaseDone
		switch {
		case r.reset:
			afterBlock = resetPhase(r)
		case r.revoke && !r.onlyIfReset:
			afterBlock = phaseRevoke
		}
		rows = append(rows, row{phaseBlock, evDone, r, afterBlock}, row{phaseBlock, evFailed, r, afterBlock},
			row{phaseBlock, evNotFound, r, phaseDone})
		if !r.reset {
			return
		}
		for _, from := range []phase{phaseReset, phaseResetPassword, phasePoll} {
			done, failed := phaseDone, phaseDone
			if r.revoke {
				done = phaseRevoke
				// A failed reset is revoked like any user found; with
				// revoke-only-if-reset, only when the password may be
				// in force.
				if !r.onlyIfReset || r.maybeSet {
					failed = phaseRevoke
				}
			}
			rows = append(rows, row{from, evDone, r, done}, row{from, evFailed, r, failed})
			if from != phasePoll {
				// A 404 to a write: the user does not exist.
				rows = append(rows, row{from, evNotFound, r, phaseDone})
			}
		}
		rows = append(rows, row{phaseResetPassword, evAccepted, r, phasePoll})
		for _, on := range []event{evDone, evFailed, evNotFound} {
			rows = append(rows, row{phaseRevoke, on, r, phaseDone})
		}
	})
	for _, r := range rows {
		if got := next(r.from, r.on, r.r); got != r.want {
			t.Errorf("next(%v, %v, %+v) = %v, want %v", r.from, r.on, r.r, got, r.want)
		}
	}
}

// TestFirstPhase: an item starts with the block when the run blocks, else
// with the reset it asks for, else (a lockdown, or a user whose reset was
// skipped) with the revoke; an item with nothing to send is done at once.
func TestFirstPhase(t *testing.T) {
	for _, c := range []struct {
		r    route
		want phase
	}{
		{route{block: true, reset: true, revoke: true}, phaseBlock},
		{route{block: true}, phaseBlock},
		{route{reset: true, revoke: true}, phaseReset},
		{route{reset: true, resetPassword: true}, phaseResetPassword},
		{route{revoke: true}, phaseRevoke},
		{route{revoke: true, onlyIfReset: true}, phaseDone},
		{route{}, phaseDone},
	} {
		if got := first(c.r); got != c.want {
			t.Errorf("first(%+v) = %v, want %v", c.r, got, c.want)
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
		{phaseReset, evAccepted}, {phasePoll, evAccepted}, {phaseRevoke, evAccepted}, {phaseBlock, evAccepted},
		{phasePoll, evNotFound}, {phaseDone, evDone}, {phaseDone, evFailed},
	} {
		t.Run(fmt.Sprintf("%v on %v", c.from, c.on), func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("next(%v, %v) did not panic", c.from, c.on)
				}
			}()
			next(c.from, c.on, route{block: true, reset: true, revoke: true, maybeSet: true})
		})
	}
}

// TestAdvanceStartsClean: every new phase starts due now, clean of the
// last one's errors and throttles, and the item's own maybe-set decides
// the revoke under revoke-only-if-reset.
func TestAdvanceStartsClean(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	only := route{reset: true, revoke: true, onlyIfReset: true}
	for _, c := range []struct {
		name string
		it   Item
		on   event
		want phase
	}{
		{"lost answer, then refused", Item{Password: secret.New("p"), phase: phaseReset, route: only, unknown: true}, evFailed, phaseRevoke},
		{"resumed, then refused", Item{Password: secret.New("p"), phase: phaseResetPassword, route: only, Resumed: true}, evFailed, phaseRevoke},
		{"refused at once", Item{Password: secret.New("p"), phase: phaseReset, route: only}, evFailed, phaseDone},
		{"no password sent (--password-mode none)", Item{phase: phaseReset, route: only, unknown: true}, evFailed, phaseDone},
		{"reset", Item{Password: secret.New("p"), phase: phaseReset, route: only}, evDone, phaseRevoke},
		{"blocked", Item{phase: phaseBlock, route: route{block: true, reset: true}}, evDone, phaseReset},
	} {
		it := c.it
		it.paced, it.lastErr, it.lastNet, it.notBefore = 3, &graph.Error{Status: 429}, "reset by peer", now.Add(-time.Hour)
		if got := it.advance(c.on, now); got != c.want || it.phase != c.want {
			t.Errorf("%s: advance = %v, phase %v; want %v", c.name, got, it.phase, c.want)
		}
		if it.paced != 0 || it.lastErr != nil || it.lastNet != "" || !it.notBefore.Equal(now) {
			t.Errorf("%s: new phase starts with paced %d, lastErr %v, lastNet %q, due %v; want a clean start due now",
				c.name, it.paced, it.lastErr, it.lastNet, it.notBefore)
		}
	}
}

// TestReceivedTakesItsRoute: an item's route comes from the run's options
// and the item: a skipped item sends no reset, and carries the skip as its
// row's base.
func TestReceivedTakesItsRoute(t *testing.T) {
	p := New(nil, nil, Options{RevokeSessions: true, BlockSignIn: true})
	if it := p.received(Item{}); it.phase != phaseBlock || !it.route.reset || !it.route.revoke {
		t.Errorf("a blocking run: item starts in %v with %+v", it.phase, it.route)
	}
	p = New(nil, nil, Options{})
	if it := p.received(Item{ResetPassword: true}); it.phase != phaseResetPassword {
		t.Errorf("a resetPassword item starts in %v", it.phase)
	}
	p = New(nil, nil, Options{RevokeSessions: true})
	skip := &report.Result{Outcome: report.Skipped, Reason: report.ReasonSynced}
	it := p.received(Item{Skipped: skip})
	if it.phase != phaseRevoke || it.route.reset || it.base.Reason != report.ReasonSynced || !it.found {
		t.Errorf("a skipped item: phase %v, route %+v, base %s/%s, found %v", it.phase, it.route, it.base.Outcome, it.base.Reason, it.found)
	}
	p = New(nil, nil, Options{RevokeSessions: true, KeepPasswords: true})
	if it := p.received(Item{Password: secret.New("p")}); it.phase != phaseRevoke || it.route.reset {
		t.Errorf("a lockdown item: phase %v, route %+v", it.phase, it.route)
	}
}
