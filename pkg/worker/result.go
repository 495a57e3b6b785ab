package worker

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/report"
	"github.com/bulkreset/bulkreset/pkg/secret"
)

// advance moves it on when the request of its phase ended with e (see
// next): to another phase, queued in retry for a later batch, or to its
// end, emitting its result.
func (p *Pool) advance(emit func(report.Result), retry []*Item, it *Item, e event, now time.Time) []*Item {
	if it.advance(e, now) == phaseDone {
		p.finish(emit, it, now)
		return retry
	}
	return append(retry, it)
}

// endReset ends the reset of it with r: succeeded (e is evDone) or failed.
// A failure that is Graph's 404 to the reset's write means the user does
// not exist: nothing more is sent for it. Otherwise the actions that
// follow the reset are sent whatever its outcome (see next).
func (p *Pool) endReset(emit func(report.Result), retry []*Item, it *Item, e event, r report.Result, now time.Time) []*Item {
	it.base = r
	if e == evDone {
		it.found = true
	}
	if e == evFailed && r.HTTPStatus == http.StatusNotFound && it.phase != phasePoll {
		e = evNotFound
	}
	return p.advance(emit, retry, it, e, now)
}

// failReset ends a reset that failed with r.
func (p *Pool) failReset(emit func(report.Result), retry []*Item, it *Item, r report.Result, now time.Time) []*Item {
	return p.endReset(emit, retry, it, evFailed, r, now)
}

// action is the state of one action of an item: blocking its sign-in or
// revoking its sessions.
type action struct {
	attempts int
	// done is nil until the action ended, then whether it did what it
	// asked; it stays nil for a user the action found missing (404 to the
	// user's first write): an action applies to users that exist.
	done *bool
	// The answer that ended it: Graph's status and request-id, and for a
	// failure the error code and message.
	status                   int
	code, message, requestID string
}

// endAction ends the action of the item's phase (block or revoke): done
// when status is 2xx, else failed with gerr (nil: it.lastNet, or the
// attempts spent). A failed action does not stop the next phase; a 404
// ends the item (see next).
func (p *Pool) endAction(emit func(report.Result), retry []*Item, it *Item, status int, gerr *graph.Error, now time.Time) []*Item {
	a, done, notDone := &it.revoke, &p.stats.Revoked, &p.stats.NotRevoked
	if it.phase == phaseBlock {
		a, done, notDone = &it.block, &p.stats.Blocked, &p.stats.NotBlocked
	}
	ok := gerr == nil && it.lastNet == "" && status >= 200 && status < 300
	a.status, a.requestID = status, it.requestID
	e := evDone
	switch {
	case ok:
		it.found = true
		done.Add(1)
	case gerr != nil && gerr.Status == http.StatusNotFound && !it.found:
		// The user's first write says it does not exist: the row is
		// failed/not_found, and no action applies to it.
		if it.base.Outcome == "" {
			it.base = failedResult(gerr)
		}
		return p.advance(emit, retry, it, evNotFound, now)
	default:
		notDone.Add(1)
		e = evFailed
		a.message = it.lastNet
		if gerr != nil {
			a.status, a.code, a.message = gerr.Status, gerr.Code, gerr.Message
			a.requestID = firstNonEmpty(gerr.RequestID, a.requestID)
			if gerr.Status == http.StatusNotFound {
				e = evNotFound
			}
		}
		if a.attempts > 1 {
			a.message = fmt.Sprintf("gave up after %d attempts: %s", a.attempts, a.message)
		}
	}
	a.done = &ok
	return p.advance(emit, retry, it, e, now)
}

// finish emits the final result of it (see compose). A message that
// quotes the password sent (Graph's do not; a proxy's or a future one
// might) has it replaced by secret.Redacted: the results file never holds
// a password.
func (p *Pool) finish(emit func(report.Result), it *Item, now time.Time) {
	r := withMaybeSetNote(it, it.compose())
	if pw := it.Password.Reveal(); pw != "" {
		r.ErrorMessage = strings.ReplaceAll(r.ErrorMessage, pw, secret.Redacted)
	}
	r.Line = it.Line
	r.User = it.User
	r.ObjectID = it.ObjectID
	r.Attempts = it.attempts
	if it.actionsOutcome() {
		r.Attempts = it.block.attempts + it.revoke.attempts
	}
	r.RequestID = firstNonEmpty(r.RequestID, it.requestID)
	if r.Outcome == report.Succeeded && it.route.reset {
		r.ClientRequestID = it.resetClientRequestID
	}
	r.FinishedAt = now
	p.stats.Finished.Add(1)
	if r.Outcome == report.Succeeded {
		p.stats.Succeeded.Add(1)
	}
	emit(r)
}

// actionsOutcome reports whether the actions make the item's outcome: a
// run that keeps passwords (a lockdown), for a user that was not skipped.
func (it *Item) actionsOutcome() bool { return !it.route.reset && it.Skipped == nil }

// compose is the row of an item whose phases are all done
// (docs/outcomes.md). In a run that resets passwords, the outcome and
// reason stay the reset's (or the preflight's skip): a succeeded row means
// the password is set. In a run that keeps passwords, the outcome is the
// actions': succeeded when each one did what it asked, else failed with
// the reason and answer of the first that failed. The revoked and blocked
// columns say, for each action sent, whether it worked; when one failed
// after a reset that succeeded, the error columns carry its error.
func (it *Item) compose() report.Result {
	r := it.base
	r.Blocked, r.Revoked = it.block.done, it.revoke.done
	type named struct {
		a      *action
		what   string
		reason report.Reason
	}
	var failed []named
	var last *action
	for _, n := range []named{{&it.block, "blocking sign-in", report.ReasonBlockFailed}, {&it.revoke, "revoking the sign-in sessions", report.ReasonRevokeFailed}} {
		if n.a.done == nil {
			continue
		}
		last = n.a
		if !*n.a.done {
			failed = append(failed, n)
		}
	}
	var msgs []string
	for _, f := range failed {
		msgs = append(msgs, f.what+" failed: "+f.a.message)
	}
	what := strings.Join(msgs, "; ")
	switch {
	case r.Outcome == "" && len(failed) == 0:
		// A lockdown row whose every action was done.
		r.Outcome = report.Succeeded
		if last != nil {
			r.HTTPStatus, r.RequestID = last.status, last.requestID
		}
	case r.Outcome == "":
		f := failed[0]
		r.Outcome, r.Reason, r.ErrorMessage = report.Failed, f.reason, what
		r.HTTPStatus, r.ErrorCode, r.RequestID = f.a.status, f.a.code, f.a.requestID
	case len(failed) == 0:
		if r.Outcome == report.Failed && it.maybeSet() && r.Revoked != nil {
			r.ErrorMessage += " (the user's sign-in sessions were revoked, since that password may be in force)"
		}
	case r.Outcome == report.Succeeded:
		// The reset stands: the row stays succeeded, the password is in
		// force, and the error columns say what failed after it.
		f := failed[0]
		r.ErrorCode, r.RequestID = f.a.code, firstNonEmpty(f.a.requestID, r.RequestID)
		r.ErrorMessage = "the password was reset, but " + what
	default:
		// A failed or skipped reset keeps its own columns; what failed
		// after it is said too, and for a skip, which has no answer of
		// its own, the failed action's answer fills the error columns.
		if r.HTTPStatus == 0 && r.ErrorCode == "" {
			f := failed[0]
			r.HTTPStatus, r.ErrorCode, r.RequestID = f.a.status, f.a.code, firstNonEmpty(f.a.requestID, r.RequestID)
		}
		if r.ErrorMessage == "" {
			r.ErrorMessage = what
		} else {
			r.ErrorMessage += " (also " + what + ")"
		}
	}
	return r
}

// withMaybeSetNote marks a failed result report.Result.MaybeSet, and begins
// its message with report.MaybeSetNote for people, when the item's
// password may have been set (Item.maybeSet). Every failed result passes
// here, because the secrets file keeps exactly the passwords of the rows
// so marked (report.RefusedForGood).
func withMaybeSetNote(it *Item, r report.Result) report.Result {
	if r.Outcome == report.Failed && it.maybeSet() {
		r.MaybeSet = true
		r.ErrorMessage = report.MaybeSetNote + r.ErrorMessage
	}
	return r
}

// failedResult is the final result of a row Graph refused.
func failedResult(e *graph.Error) report.Result {
	return report.Result{
		Outcome:      report.Failed,
		Reason:       graph.Reason(e),
		HTTPStatus:   e.Status,
		ErrorCode:    e.Code,
		ErrorMessage: e.Message,
		RequestID:    e.RequestID,
	}
}

// exhaustedResult is the final result of a row whose attempts ran out.
func exhaustedResult(it *Item) report.Result {
	if it.lastErr != nil {
		r := failedResult(it.lastErr) // throttled, or service_error for 5xx
		r.ErrorMessage = fmt.Sprintf("gave up after %d attempts: %s", it.attempts, it.lastErr.Message)
		return r
	}
	return report.Result{
		Outcome:      report.Failed,
		Reason:       report.ReasonNetworkError,
		ErrorMessage: fmt.Sprintf("gave up after %d attempts: %s", it.attempts, it.lastNet),
	}
}
