package worker

import (
	"fmt"
	"github.com/bulkreset/bulkreset/pkg/secret"
	"strings"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// advance moves it on when the request of its phase ended with e (see
// next): to another phase, queued in retry for a later batch, or to its
// end, emitting r.
func (p *Pool) advance(emit func(report.Result), retry []*Item, it *Item, e event, r report.Result, now time.Time) []*Item {
	if it.advance(e, r, p.opts.RevokeSessions, now) == phaseDone {
		p.finish(emit, it, r, now)
		return retry
	}
	return append(retry, it)
}

// failReset ends a reset that failed with r. When an earlier attempt's
// outcome is unknown, the password it sent may be in force: with
// RevokeSessions the user's sign-in sessions are revoked first
// (phaseRevokeFailed, in a later batch; revoking is harmless), and r is
// emitted when that ends. Otherwise r is emitted now.
func (p *Pool) failReset(emit func(report.Result), retry []*Item, it *Item, r report.Result, now time.Time) []*Item {
	return p.advance(emit, retry, it, evFailed, r, now)
}

// finish emits the final result of it. A message that quotes the password
// sent (Graph's do not; a proxy's or a future one might) has it replaced by
// secret.Redacted: the results file never holds a password.
func (p *Pool) finish(emit func(report.Result), it *Item, r report.Result, now time.Time) {
	r = withMaybeSetNote(it, r)
	if pw := it.Password.Reveal(); pw != "" {
		r.ErrorMessage = strings.ReplaceAll(r.ErrorMessage, pw, secret.Redacted)
	}
	r.Line = it.Line
	r.User = it.User
	r.ObjectID = it.ObjectID
	r.Attempts = it.attempts
	r.RequestID = firstNonEmpty(r.RequestID, it.requestID)
	r.FinishedAt = now
	p.stats.Finished.Add(1)
	if r.Outcome == report.Succeeded {
		p.stats.Succeeded.Add(1)
	}
	emit(r)
}

// finishRevoke emits the result of a user whose sessions were to be
// revoked, once revoking them succeeded (gerr nil and no network failure)
// or failed for good. After a reset (phaseRevoke), a failed revoke does not
// undo the reset: the row is succeeded with revoked=false, and says what
// failed. After a failed reset (phaseRevokeFailed), the row is the reset's
// failure, saying whether the sessions were revoked.
func (p *Pool) finishRevoke(emit func(report.Result), it *Item, gerr *graph.Error, now time.Time) {
	revoked := gerr == nil && it.lastNet == ""
	if revoked {
		p.stats.Revoked.Add(1)
	} else {
		p.stats.NotRevoked.Add(1)
	}
	var r report.Result
	switch it.phase {
	case phaseRevokeFailed:
		r = it.failed
		if revoked {
			r.ErrorMessage += " (the user's sign-in sessions were revoked, since that password may be in force)"
		} else {
			r.ErrorMessage += " (revoking the user's sign-in sessions failed too)"
		}
	case phaseRevoke:
		r = report.Result{Outcome: report.Succeeded, HTTPStatus: it.resetStatus, RequestID: it.resetRequestID}
		if !revoked {
			r = it.withRevokeFailure(r, gerr)
		}
	default:
		panic(fmt.Sprintf("worker: a revoke ended in phase %v", it.phase))
	}
	r.Revoked = &revoked
	e := evDone
	if !revoked {
		e = evFailed
	}
	p.advance(emit, nil, it, e, r, now)
}

// withRevokeFailure is r, the result of a reset, saying that revoking the
// sessions then failed with gerr (nil: it.lastNet).
func (it *Item) withRevokeFailure(r report.Result, gerr *graph.Error) report.Result {
	msg := it.lastNet
	if gerr != nil {
		msg = gerr.Message
		r.ErrorCode = gerr.Code
		r.RequestID = firstNonEmpty(gerr.RequestID, r.RequestID)
	}
	if it.revokeAttempts > 1 {
		msg = fmt.Sprintf("gave up after %d attempts: %s", it.revokeAttempts, msg)
	}
	r.ErrorMessage = "the password was reset, but revoking the sign-in sessions failed: " + msg
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
