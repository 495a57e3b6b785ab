package worker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// sendBatch records the batch's passwords, waits for the pacer, sends the
// batch and sorts its rows into finished (emitted) and to be retried
// (returned). An error is fatal for the run. Until the batch is on the
// wire, startCtx rules (an interrupt stops it); the request itself runs
// under ctx, which outlives an interrupt by Options.Grace.
func (p *Pool) sendBatch(startCtx, ctx context.Context, b []*Item, emit func(report.Result)) (retry []*Item, err error) {
	if startCtx.Err() != nil {
		return b, nil
	}
	if err := p.record(startCtx, b); err != nil {
		if startCtx.Err() != nil {
			return b, nil
		}
		return b, fmt.Errorf("recording passwords before sending them: %w", err)
	}
	// Polls of reset operations are reads (resource units, not the write
	// quota): the pacer neither counts them nor learns from their answers.
	writes := 0
	for _, it := range b {
		if it.phase.write() {
			writes++
		}
	}
	var ticket Ticket
	if writes > 0 {
		var err error
		if ticket, err = p.pacer.Wait(startCtx, writes); err != nil {
			return b, nil // cancelled: the items stay unfinished
		}
	}
	reqs := make([]graph.Request, len(b))
	for i, it := range b {
		reqs[i] = it.writeRequest(strconv.Itoa(i))
	}
	p.stats.Batches.Add(1)
	p.stats.Writes.Add(int64(writes))
	res, err := p.send.Batch(ctx, reqs)
	now := p.opts.Now()
	if err != nil {
		if writes > 0 {
			p.pacer.Done(ticket, outerAnswer(err))
		}
		return p.batchFailed(ctx, b, err, now, emit)
	}
	if writes > 0 {
		p.pacer.Done(ticket, batchAnswer(writeAnswers(res, b), now))
	}
	for i, it := range b {
		retry = p.answered(emit, retry, it, res, strconv.Itoa(i), now)
	}
	p.unauthorized.Store(0)
	return retry, nil
}

// answered handles the answer to the sub-request id of it in res: the item
// advances, ends, or is queued in retry for another attempt.
func (p *Pool) answered(emit func(report.Result), retry []*Item, it *Item, res *graph.BatchResult, id string, now time.Time) []*Item {
	resp, ok := res.Responses[id]
	if !ok {
		// No answer for this row: its outcome is unknown, and sending the
		// same password again is harmless.
		it.lastNet = "no response for this request in the $batch answer"
		it.lastErr = nil
		it.unknown = it.unknown || it.phase.resets()
		it.requestID = res.RequestID
		return p.again(retry, it, retryDelay(it.phaseAttempts(), 0, false, p.opts.Jitter()), now, emit)
	}
	it.requestID = firstNonEmpty(resp.Header("request-id"), res.RequestID)
	gerr := resp.Err(now)
	if gerr == nil {
		return p.succeeded(emit, retry, it, resp, now)
	}
	it.requestID = firstNonEmpty(gerr.RequestID, it.requestID)
	it.lastErr, it.lastNet = gerr, ""
	if gerr.Status >= 500 && it.phase.resets() {
		it.unknown = true // a server error does not say whether the password was set
	}
	if !retryable(gerr.Status) {
		return p.refused(emit, retry, it, gerr, "following the password reset operation failed: "+gerr.Message, now)
	}
	delay := retryDelay(it.phaseAttempts(), gerr.RetryAfter, gerr.HasRetryAfter, p.opts.Jitter())
	if gerr.Status == http.StatusTooManyRequests {
		p.stats.Throttled.Add(1)
		if it.phase.write() && p.pacer.Accepting() {
			// The tenant accepts writes at its refill rate: this
			// attempt was the pacer's to make, not a fault, and the
			// pacer alone decides when the row goes again.
			it.paced++
			delay = max(gerr.RetryAfter, 0)
		}
	}
	p.opts.Logger.Debug("retrying row", "line", it.Line, "status", gerr.Status, "code", gerr.Code,
		"retry_after", gerr.RetryAfter, "request_id", it.requestID, "phase", it.phase, "attempt", it.phaseAttempts())
	return p.again(retry, it, delay, now, emit)
}

// succeeded handles a 2xx answer to the request of the item's phase.
func (p *Pool) succeeded(emit func(report.Result), retry []*Item, it *Item, resp graph.Response, now time.Time) []*Item {
	retry = p.acceptWrite(emit, retry, it, now)
	switch it.phase {
	case phasePoll:
		return p.polled(emit, retry, it, resp, now)
	case phaseResetPassword:
		return p.accepted(emit, retry, it, resp, now)
	case phaseBlock, phaseRevoke:
		it.lastErr, it.lastNet = nil, ""
		return p.endAction(emit, retry, it, resp.Status, nil, now)
	case phaseReset:
		// The password is in force. With RevokeSessions the user is signed
		// out everywhere next, in a later batch (it is a write too, paced
		// like the resets).
		it.resetStatus, it.resetRequestID, it.resetClientRequestID = resp.Status, it.requestID, it.clientRequestID
		return p.endReset(emit, retry, it, evDone, report.Result{Outcome: report.Succeeded, HTTPStatus: resp.Status}, now)
	}
	panic(fmt.Sprintf("worker: an answer in phase %v", it.phase))
}

// refused ends the request of the item's phase, which Graph refused for good
// with gerr. pollMsg is the message of a poll refused so: the operation
// cannot be followed, and whether it set the password is unknown
// (it.unknown says so).
func (p *Pool) refused(emit func(report.Result), retry []*Item, it *Item, gerr *graph.Error, pollMsg string, now time.Time) []*Item {
	if p.holdRefusal(it, gerr, pollMsg) {
		return retry // until a write of its kind is accepted, or the run stops (denied.go)
	}
	switch it.phase {
	case phasePoll:
		r := failedResult(gerr)
		r.Reason, r.ErrorMessage = report.ReasonOperationUnknown, pollMsg
		return p.failReset(emit, retry, it, r, now)
	case phaseBlock, phaseRevoke:
		return p.endAction(emit, retry, it, gerr.Status, gerr, now)
	case phaseReset, phaseResetPassword:
		return p.failReset(emit, retry, it, failedResult(gerr), now)
	}
	panic(fmt.Sprintf("worker: a refusal in phase %v", it.phase))
}

// batchFailed handles a $batch that got no per-row answers: the whole batch
// failed (outer 429 or 5xx), the network failed, or the answer was unreadable.
func (p *Pool) batchFailed(ctx context.Context, b []*Item, err error, now time.Time, emit func(report.Result)) ([]*Item, error) {
	if ctx.Err() != nil {
		// Cancelled: whether Graph applied the batch is unknown, so the rows
		// stay unfinished and a resumed run sends the same passwords again.
		return b, nil
	}
	if errors.Is(err, graph.ErrAuthentication) {
		return b, fmt.Errorf("%w: %w", ErrAuth, err)
	}
	var gerr *graph.Error
	if errors.As(err, &gerr) {
		if gerr.Status == http.StatusUnauthorized {
			// The client already got a fresh token and tried once more. A
			// token refused now and then (revoked, clock skew) is retried
			// like a transient failure; Graph refusing every fresh token
			// is an authentication failure that ends the run.
			if p.unauthorized.Add(1) > maxUnauthorized {
				return b, fmt.Errorf("%w: %w", ErrAuth, err)
			}
		}
		if !retryable(gerr.Status) && gerr.Status != http.StatusUnauthorized {
			// The batch itself was refused (a bad request, forbidden): every
			// row fails with Graph's answer.
			var retry []*Item
			for _, it := range b {
				it.lastErr, it.requestID = gerr, gerr.RequestID
				retry = p.refused(emit, retry, it, gerr, gerr.Message, now)
			}
			return retry, nil
		}
		if gerr.Status == http.StatusTooManyRequests {
			p.stats.Throttled.Add(1)
		}
	}
	p.opts.Logger.Warn("batch failed; retrying its rows", "rows", len(b), "first_line", b[0].Line, "error", err)
	return p.retryBatch(b, err, gerr, now, emit), nil
}

// retryBatch queues the rows of a batch that failed as a whole (err, which
// is gerr when Graph answered) for another attempt. The rows failed
// together, so they are retried together: one delay for all of them keeps
// them in one batch.
func (p *Pool) retryBatch(b []*Item, err error, gerr *graph.Error, now time.Time, emit func(report.Result)) []*Item {
	var delay time.Duration
	if gerr != nil {
		delay = retryDelay(b[0].phaseAttempts(), gerr.RetryAfter, gerr.HasRetryAfter, p.opts.Jitter())
	} else {
		delay = retryDelay(b[0].phaseAttempts(), 0, false, p.opts.Jitter())
	}
	var retry []*Item
	for _, it := range b {
		if gerr != nil {
			it.lastErr, it.lastNet, it.requestID = gerr, "", gerr.RequestID
		} else {
			it.lastErr, it.lastNet = nil, err.Error()
		}
		// A network failure or a server error does not say whether the
		// batch was applied; a 429 or a 401 says it was not.
		if (gerr == nil || gerr.Status >= 500) && it.phase.resets() {
			it.unknown = true
		}
		retry = p.again(retry, it, delay, now, emit)
	}
	return retry
}

// again queues it for another attempt after delay, or ends its phase when
// the phase's attempts are spent.
func (p *Pool) again(retry []*Item, it *Item, delay time.Duration, now time.Time, emit func(report.Result)) []*Item {
	switch it.phase {
	case phasePoll:
		if it.polls >= maxOperationPolls {
			return p.failReset(emit, retry, it, report.Result{Outcome: report.Failed, Reason: report.ReasonOperationUnknown, HTTPStatus: it.resetStatus,
				RequestID: it.resetRequestID, ErrorMessage: fmt.Sprintf("the password reset operation gave no final state after %d polls", it.polls)}, now)
		}
		it.notBefore = now.Add(max(delay, pollDelay(it.polls, 0)))
		return append(retry, it)
	case phaseBlock, phaseRevoke:
		if it.phaseAttempts()-it.paced >= p.opts.MaxAttempts {
			status := 0
			if it.lastErr != nil {
				status = it.lastErr.Status
			}
			return p.endAction(emit, retry, it, status, it.lastErr, now)
		}
	case phaseReset, phaseResetPassword:
		if it.attempts-it.paced >= p.opts.MaxAttempts {
			return p.failReset(emit, retry, it, exhaustedResult(it), now)
		}
	default:
		panic(fmt.Sprintf("worker: a retry in phase %v", it.phase))
	}
	it.notBefore = now.Add(delay)
	p.stats.Retries.Add(1)
	return append(retry, it)
}
