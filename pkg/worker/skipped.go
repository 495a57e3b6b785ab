package worker

import (
	"context"

	"github.com/bulkreset/bulkreset/pkg/report"
)

// FinishSkipped emits the skip result of every item the preflight passed
// on with Skipped set, and passes the others on through the channel it
// returns, which it closes when items is closed or ctx is done.
//
// It stands in for the pool's handling of Skipped (sending such an item
// the run's revoke and block, branch i14-actions): until then a user whose
// reset is skipped ends as it always has, with its skip result and no
// action, and is never sent a reset. Remove it, and its calls in Pool.Run
// and pipeline.Plan, when the pool and Plan honour Skipped.
func FinishSkipped(ctx context.Context, items <-chan Item, emit func(report.Result)) <-chan Item {
	out := make(chan Item)
	go func() {
		defer close(out)
		for {
			var it Item
			var ok bool
			select {
			case it, ok = <-items:
				if !ok {
					return
				}
			case <-ctx.Done():
				return
			}
			if it.Skipped != nil {
				emit(*it.Skipped)
				continue
			}
			select {
			case out <- it:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}
