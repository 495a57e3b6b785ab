package worker

import (
	"fmt"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// phase is the stage an item is in: which request it sends next, and what
// an answer to that request means. An item starts in phaseReset or
// phaseResetPassword (see received) and moves on only through advance, by
// the table in next; every decision of the pool about an item is a switch
// on its phase.
type phase uint8

// The phases of an item.
const (
	// phaseReset sends a passwordProfile PATCH.
	phaseReset phase = iota
	// phaseResetPassword sends the authentication-methods resetPassword
	// action (Item.ResetPassword), which Graph answers with an operation
	// to follow.
	phaseResetPassword
	// phasePoll reads the resetPassword operation until it ends. A poll
	// is a read: the pacer does not count it.
	phasePoll
	// phaseRevoke revokes the sign-in sessions of a user whose password
	// was reset (Options.RevokeSessions).
	phaseRevoke
	// phaseRevokeFailed revokes the sign-in sessions of a user whose
	// reset failed while an earlier attempt may have set the password;
	// Item.failed is the reset's result, emitted once the revoke ends.
	phaseRevokeFailed
	// phaseDone: the item's result is final.
	phaseDone
)

var phaseNames = [...]string{"reset", "resetPassword", "poll", "revoke", "revokeFailed", "done"}

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
	// operation succeeded, the sessions are revoked).
	evDone event = iota
	// evAccepted: Graph accepted a resetPassword, whose operation is now
	// to be followed.
	evAccepted
	// evFailed: the request failed for good (refused, attempts spent, the
	// operation failed or cannot be followed).
	evFailed
)

var eventNames = [...]string{"done", "accepted", "failed"}

// String names the event, for tests and panics.
func (e event) String() string {
	if int(e) < len(eventNames) {
		return eventNames[e]
	}
	return fmt.Sprintf("event(%d)", uint8(e))
}

// next is the phase that follows p when its request ends with e. revoke is
// Options.RevokeSessions; maybeSet says the item's password may be in
// force although the reset failed (see Item.maybeSet): then, with revoke,
// the user's sessions are revoked before the failure is emitted, so that
// an incident run never leaves an attacker signed in behind a password it
// may have changed. It panics on an event a phase cannot have.
func next(p phase, e event, revoke, maybeSet bool) phase {
	switch p {
	case phaseReset, phaseResetPassword, phasePoll:
		switch {
		case e == evAccepted && p == phaseResetPassword:
			return phasePoll
		case e == evDone && revoke:
			return phaseRevoke
		case e == evDone:
			return phaseDone
		case e == evFailed && revoke && maybeSet:
			return phaseRevokeFailed
		case e == evFailed:
			return phaseDone
		}
	case phaseRevoke, phaseRevokeFailed:
		if e == evDone || e == evFailed {
			return phaseDone
		}
	}
	panic(fmt.Sprintf("worker: no transition from phase %v on %v", p, e))
}

// advance moves it to the phase that follows its own when its request ends
// with e, and returns that phase. r is the item's result as of now: the
// failure phaseRevokeFailed carries to its end, or the final result when
// the phase entered is phaseDone (the caller emits it). A new phase starts
// due now, with no error yet and no throttled attempt of its own.
func (it *Item) advance(e event, r report.Result, revoke bool, now time.Time) phase {
	n := next(it.phase, e, revoke, it.maybeSet())
	it.phase = n
	it.failed = report.Result{}
	if n == phaseRevokeFailed {
		it.failed = r
	}
	it.paced, it.lastErr, it.lastNet, it.notBefore = 0, nil, "", now
	return n
}

// maybeSet reports whether the item's password may be in force whatever
// the answers say: an attempt's outcome is unknown, or an interrupted run
// may have sent it (Resumed).
func (it *Item) maybeSet() bool {
	return !it.Password.Empty() && (it.unknown || it.Resumed)
}

// write reports whether the phase's request is a write, which the pacer
// counts and learns from.
func (p phase) write() bool {
	switch p {
	case phaseReset, phaseResetPassword, phaseRevoke, phaseRevokeFailed:
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
	case phaseRevoke, phaseRevokeFailed:
		it.revokeAttempts++
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
