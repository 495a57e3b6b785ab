package worker

import (
	"fmt"
	"strconv"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// maxOperationPolls bounds the polls of one reset operation: with
// pollDelay, about ten minutes.
const maxOperationPolls = 70

// pollDelay is how long to wait before poll n+1 of an operation: Graph's
// Retry-After when it gave one, else half a second, doubling up to ten.
func pollDelay(polls int, retryAfter time.Duration) time.Duration {
	return backoff(500*time.Millisecond, 10*time.Second, polls+1, retryAfter, retryAfter > 0, 1)
}

// accepted handles Graph's 202 to a resetPassword: from now on the password
// may be in force, and the row succeeds only once the operation named by
// Location reports it succeeded.
func (p *Pool) accepted(emit func(report.Result), retry []*Item, it *Item, resp graph.Response, now time.Time) []*Item {
	it.unknown = true
	it.lastErr, it.lastNet = nil, ""
	it.resetStatus, it.resetRequestID, it.resetClientRequestID = resp.Status, it.requestID, it.clientRequestID
	path, err := graph.OperationPath(resp.Header("Location"))
	if err != nil {
		return p.failReset(emit, retry, it, report.Result{Outcome: report.Failed, Reason: report.ReasonOperationUnknown, HTTPStatus: resp.Status,
			ErrorMessage: "Graph accepted the password reset but named no operation to follow (" + err.Error() + ")"}, now)
	}
	retryAfter, _ := graph.ParseRetryAfter(resp.Header("Retry-After"), now)
	it.advance(evAccepted, now) // phasePoll
	it.opPath, it.polls = path, 0
	it.notBefore = now.Add(pollDelay(0, retryAfter))
	return append(retry, it)
}

// polled handles the answer to a poll of a reset operation.
func (p *Pool) polled(emit func(report.Result), retry []*Item, it *Item, resp graph.Response, now time.Time) []*Item {
	op, err := graph.ParseOperation(resp.Body)
	switch {
	case err != nil:
		it.lastNet = err.Error()
		return p.again(retry, it, 0, now, emit)
	case op.Status == graph.OperationSucceeded:
		return p.endReset(emit, retry, it, evDone, report.Result{Outcome: report.Succeeded, HTTPStatus: it.resetStatus, RequestID: it.resetRequestID}, now)
	case op.Status == graph.OperationFailed:
		msg := "the password reset operation failed"
		if op.Detail != "" {
			msg += ": " + op.Detail
		}
		return p.failReset(emit, retry, it, report.Result{Outcome: report.Failed, Reason: report.ReasonOperationFailed, HTTPStatus: it.resetStatus,
			ErrorCode: "operationFailed", RequestID: it.resetRequestID, ErrorMessage: msg}, now)
	case op.Status != graph.OperationNotStarted && op.Status != graph.OperationRunning:
		// A state this tool does not know (skipped, unknownFutureValue):
		// the operation is not running, and did not say it succeeded.
		return p.failReset(emit, retry, it, report.Result{Outcome: report.Failed, Reason: report.ReasonOperationUnknown, HTTPStatus: it.resetStatus,
			RequestID: it.resetRequestID, ErrorMessage: fmt.Sprintf("the password reset operation ended in the state %q", op.Status)}, now)
	}
	p.opts.Logger.Debug("reset operation in progress", "line", it.Line, "status", op.Status, "poll", it.polls)
	retryAfter, _ := graph.ParseRetryAfter(resp.Header("Retry-After"), now)
	return p.again(retry, it, retryAfter, now, emit)
}

// writeAnswers is res without the answers to polls of reset operations, for
// the pacer, which paces writes.
func writeAnswers(res *graph.BatchResult, b []*Item) *graph.BatchResult {
	polls := false
	for _, it := range b {
		polls = polls || !it.phase.write()
	}
	if !polls {
		return res
	}
	w := *res
	w.Responses = make(map[string]graph.Response, len(res.Responses))
	for i, it := range b {
		id := strconv.Itoa(i)
		if r, ok := res.Responses[id]; ok && it.phase.write() {
			w.Responses[id] = r
		}
	}
	return &w
}
