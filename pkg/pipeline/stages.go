package pipeline

import (
	"context"
	"fmt"
	"time"

	"github.com/bulkreset/bulkreset/pkg/csvin"
	"github.com/bulkreset/bulkreset/pkg/report"
	"github.com/bulkreset/bulkreset/pkg/worker"
)

// Plan is the Sender of `bulkreset plan`: every item that reaches it is a
// user reset would send, and its row says so. It sends nothing.
func Plan(ctx context.Context, items <-chan worker.Item, emit func(report.Result)) error {
	for {
		select {
		case it, ok := <-items:
			if !ok {
				return nil
			}
			emit(report.Result{Line: it.Line, User: it.User, ObjectID: it.ObjectID,
				Outcome: report.Succeeded, Reason: report.ReasonWouldReset, FinishedAt: time.Now()})
		case <-ctx.Done():
			return nil
		}
	}
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
