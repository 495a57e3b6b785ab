package worker

import (
	"fmt"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graph"
)

// phase is the stage an item is in: which request it sends next, and what
// an answer to that request means. An item starts in the phase first gives
// it (see received) and moves on only through advance, by the table in
// next; every decision of the pool about an item is a switch on its phase.
// The phases run in the order block, reset, revoke (docs/outcomes.md); each
// one an item does not need is left out.
type phase uint8

// The phases of an item.
const (
	// phaseBlock blocks the user's sign-in: a PATCH of accountEnabled
	// false (Options.BlockSignIn). It goes first, so that the account is
	// closed before its password changes and its sessions end.
	phaseBlock phase = iota
	// phaseReset sends a passwordProfile PATCH.
	phaseReset
	// phaseResetPassword sends the authentication-methods resetPassword
	// action (Item.ResetPassword), which Graph answers with an operation
	// to follow.
	phaseResetPassword
	// phasePoll reads the resetPassword operation until it ends. A poll
	// is a read: the pacer does not count it.
	phasePoll
	// phaseRevoke revokes the user's sign-in sessions
	// (Options.RevokeSessions): of every user found, whatever happened to
	// its reset, or with Options.RevokeOnlyIfReset of a user whose
	// password was reset or may be in force.
	phaseRevoke
	// phaseDone: the item's result is final.
	phaseDone
)

var phaseNames = [...]string{"block", "reset", "resetPassword", "poll", "revoke", "done"}

// String names the phase, for tests and panics.
func (p phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("phase(%d)", uint8(p))
}

// event is how the request of an item's phase ended.
type event uint8

// The events that end a phase.
const (
	// evDone: the request did what it asked (the password is set, the
	// operation succeeded, sign-in is blocked, the sessions are revoked).
	evDone event = iota
	// evAccepted: Graph accepted a resetPassword, whose operation is now
	// to be followed.
	evAccepted
	// evFailed: the request failed for good (refused, attempts spent, the
	// operation failed or cannot be followed).
	evFailed
	// evNotFound: Graph answered a write 404: the user does not exist, and
	// nothing more is sent for it.
	evNotFound
)

var eventNames = [...]string{"done", "accepted", "failed", "not found"}

// String names the event, for tests and panics.
func (e event) String() string {
	if int(e) < len(eventNames) {
		return eventNames[e]
	}
	return fmt.Sprintf("event(%d)", uint8(e))
}

// route is what decides an item's way through the phases: what the run
// does (Options) and what is known of the item.
type route struct {
	// block: Options.BlockSignIn.
	block bool
	// reset: a reset is sent; false in a run that keeps passwords
	// (Options.KeepPasswords) and for a user whose reset the preflight
	// skipped (Item.Skipped).
	reset bool
	// resetPassword: the reset is the resetPassword action.
	resetPassword bool
	// revoke: Options.RevokeSessions; onlyIfReset: Options.RevokeOnlyIfReset.
	revoke, onlyIfReset bool
	// maybeSet: the item's password may be in force although its reset
	// failed (see Item.maybeSet).
	maybeSet bool
}

// first is the phase an item starts in.
func first(r route) phase {
	if r.block {
		return phaseBlock
	}
	return afterBlock(r)
}

// afterBlock is the phase that follows the block (sent or not): the
// reset, else the revoke of a user whose reset is not sent, else the end.
func afterBlock(r route) phase {
	switch {
	case r.reset && r.resetPassword:
		return phaseResetPassword
	case r.reset:
		return phaseReset
	case r.revoke && !r.onlyIfReset:
		return phaseRevoke
	}
	return phaseDone
}

// next is the phase that follows p when its request ends with e, on route
// r. A failing action does not stop the next one: a failed block still
// resets and revokes. A failed reset is followed by the revoke, since the
// user is found all the same (a refused administrator, attempts spent);
// with onlyIfReset, only when the password may be in force, so that an
// incident run never leaves an attacker signed in behind a password it may
// have changed. A 404 ends the item: the user does not exist. It panics on
// an event a phase cannot have.
func next(p phase, e event, r route) phase {
	switch p {
	case phaseBlock:
		switch e {
		case evDone, evFailed:
			return afterBlock(r)
		case evNotFound:
			return phaseDone
		}
	case phaseReset, phaseResetPassword, phasePoll:
		switch {
		case e == evAccepted && p == phaseResetPassword:
			return phasePoll
		case e == evNotFound && p != phasePoll:
			return phaseDone
		case e == evDone && r.revoke:
			return phaseRevoke
		case e == evFailed && r.revoke && (!r.onlyIfReset || r.maybeSet):
			return phaseRevoke
		case e == evDone, e == evFailed:
			return phaseDone
		}
	case phaseRevoke:
		switch e {
		case evDone, evFailed, evNotFound:
			return phaseDone
		}
	}
	panic(fmt.Sprintf("worker: no transition from phase %v on %v", p, e))
}

// advance moves it to the phase that follows its own when its request ends
// with e, and returns that phase. A new phase starts due now, with no error
// yet and no throttled attempt of its own.
func (it *Item) advance(e event, now time.Time) phase {
	r := it.route
	r.maybeSet = it.maybeSet()
	n := next(it.phase, e, r)
	it.phase = n
	it.paced, it.lastErr, it.lastNet, it.notBefore = 0, nil, "", now
	return n
}

// maybeSet reports whether the item's password may be in force whatever
// the answers say: an attempt's outcome is unknown, or an interrupted run
// may have sent it (Resumed).
func (it *Item) maybeSet() bool {
	return !it.Password.Empty() && (it.unknown || it.Resumed)
}

// resets reports whether the phase is part of the reset: an answer lost
// there leaves the password possibly in force (Item.unknown).
func (p phase) resets() bool {
	return p == phaseReset || p == phaseResetPassword || p == phasePoll
}

// write reports whether the phase's request is a write, which the pacer
// counts and learns from.
func (p phase) write() bool {
	switch p {
	case phaseBlock, phaseReset, phaseResetPassword, phaseRevoke:
		return true
	case phasePoll, phaseDone:
		return false
	}
	panic(fmt.Sprintf("worker: unknown phase %v", p))
}

// request is the sub-request of the item's phase, with id as its $batch id; it
// counts the attempt.
func (it *Item) request(id string) graph.Request {
	switch it.phase {
	case phasePoll:
		it.polls++
		return graph.OperationRequest(id, it.opPath)
	case phaseBlock:
		it.block.attempts++
		return graph.BlockSignInRequest(id, it.target())
	case phaseRevoke:
		it.revoke.attempts++
		return graph.RevokeSessionsRequest(id, it.target())
	case phaseResetPassword:
		it.attempts++
		return graph.ResetPasswordRequest(id, it.target(), it.Password)
	case phaseReset:
		it.attempts++
		return graph.PasswordRequest(id, it.target(), graph.PasswordProfile{
			Password:                             it.Password,
			ForceChangePasswordNextSignIn:        it.ForceChange,
			ForceChangePasswordNextSignInWithMfa: it.ForceChangeMFA,
		})
	}
	panic(fmt.Sprintf("worker: no request in phase %v", it.phase))
}

// phaseAttempts is the number of requests sent for the item's current
// phase: each action has its own budget of Options.MaxAttempts, like the
// reset.
func (it *Item) phaseAttempts() int {
	switch it.phase {
	case phaseBlock:
		return it.block.attempts
	case phaseRevoke:
		return it.revoke.attempts
	}
	return it.attempts
}

// route is the route of it in a run with these options.
func (o Options) route(it *Item) route {
	return route{
		block:         o.BlockSignIn,
		reset:         !o.KeepPasswords && it.Skipped == nil,
		resetPassword: it.ResetPassword,
		revoke:        o.RevokeSessions,
		onlyIfReset:   o.RevokeOnlyIfReset,
	}
}

// Actions reports which actions a run with these options sends to the user
// of it, found in the tenant, when each request succeeds: what `bulkreset
// plan` predicts for the revoked and blocked columns. It follows the table
// of next, so that the plan cannot disagree with the run.
func (o Options) Actions(it Item) (block, revoke bool) {
	r := o.route(&it)
	for p := first(r); p != phaseDone; p = next(p, evDone, r) {
		block = block || p == phaseBlock
		revoke = revoke || p == phaseRevoke
	}
	return block, revoke
}
