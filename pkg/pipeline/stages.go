package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/bulkreset/bulkreset/pkg/csvin"
	"github.com/bulkreset/bulkreset/pkg/report"
	"github.com/bulkreset/bulkreset/pkg/worker"
)

// Plan returns the Sender of `bulkreset plan` for a run with the pool
// options o: every item that reaches it is a user reset would send
// something to, and its row says so. It sends nothing. A row predicts
// each action reset would send (revoked and blocked true: "would be
// sent"); its outcome is succeeded, with reason would_reset, or
// would_apply in a run that keeps passwords; an item the preflight skipped
// and passed on for the actions keeps its skip's outcome and reason.
func Plan(o worker.Options) Sender {
	return func(ctx context.Context, items <-chan worker.Item, emit func(report.Result)) error {
		for {
			select {
			case it, ok := <-items:
				if !ok {
					return nil
				}
				emit(planRow(o, it))
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// planRow is the plan's row for it.
func planRow(o worker.Options, it worker.Item) report.Result {
	r := report.Result{Outcome: report.Succeeded, Reason: report.ReasonWouldReset}
	switch {
	case it.Skipped != nil:
		r = *it.Skipped
	case o.KeepPasswords:
		r.Reason = report.ReasonWouldApply
	}
	r.Line, r.User, r.ObjectID, r.FinishedAt = it.Line, it.User, it.ObjectID, time.Now()
	block, revoke := o.Actions(it)
	r.Blocked, r.Revoked = sent(block), sent(revoke)
	return r
}

// sent is a plan's action cell: true when the action would be sent, empty
// when not.
func sent(b bool) *bool {
	if !b {
		return nil
	}
	return &b
}

// InputChangedError stops a resumed run: the row of Line has a password
// recorded by the interrupted run, but now has a final result without a
// request (Reason), so the input is not the one that run read.
type InputChangedError struct {
	Line   int
	Reason report.Reason
}

func (e *InputChangedError) Error() string {
	return fmt.Sprintf("line %d has a recorded password but cannot be sent now (%s): the input file changed", e.Line, e.Reason)
}

// Resume applies what the interrupted run finished to one row: a row with
// a result is skipped (it has its row in the results file already); a row
// whose password was recorded but whose outcome is unknown is sent again
// with that password, *r then nil.
func Resume(prior *report.Prior, row csvin.Row, it *worker.Item, r **report.Result) (skip bool, err error) {
	user := row.Display()
	done, err := prior.Done(row.Line, user)
	if err != nil || done {
		return done, err
	}
	pw, ok, err := prior.Password(row.Line, user)
	if err != nil || !ok {
		return false, err
	}
	switch {
	case *r == nil:
	case (*r).Reason == report.ReasonPasswordFormula:
		// An earlier run recorded it before such passwords were refused:
		// the file holds it already, and it may be in force.
		*r = nil
	default:
		return false, &InputChangedError{Line: row.Line, Reason: (*r).Reason}
	}
	// The recorded password may be in force: it is the one to send, even if
	// the run is resumed with another --password-mode.
	it.Password, it.Recorded, it.Resumed = pw, true, true
	return false, nil
}
