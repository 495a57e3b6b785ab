package worker

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// WriteKind names a kind of write. Each kind needs its own permission (and
// for resets an Entra role), so Graph may refuse every write of one kind
// and accept those of another.
type WriteKind string

// The kinds of writes.
const (
	// WriteReset is a passwordProfile PATCH.
	WriteReset WriteKind = "reset"
	// WriteResetPassword is the authentication-methods resetPassword
	// action (--synced resetpassword).
	WriteResetPassword WriteKind = "resetPassword"
	// WriteRevoke is revokeSignInSessions.
	WriteRevoke WriteKind = "revoke"
	// WriteBlock is the accountEnabled PATCH that blocks sign-in.
	WriteBlock WriteKind = "block"
)

// DenyThreshold is how many writes of one kind Graph must refuse with 403
// Authorization_RequestDenied, while accepting none of that kind, before
// the run stops for a missing permission. A run with fewer writes of that
// kind stops when every one of them was refused.
const DenyThreshold = 20

// ErrPermissionDenied is what a *PermissionError is (errors.Is): Graph
// refused the first writes of a kind for lack of a permission or role.
var ErrPermissionDenied = errors.New("permission denied")

// PermissionError stops a run whose first writes of one kind Graph all
// refused with 403 Authorization_RequestDenied: the application (or the
// signed-in administrator) lacks the permission or the Entra role that
// kind needs. The rows refused so, and the rows not yet sent, have no
// result: a resumed run sends them once the permission is granted.
type PermissionError struct {
	// Kind is the kind of write refused.
	Kind WriteKind
	// Tenant is the tenant of the lane that stopped, in a run of many
	// tenants; "" otherwise.
	Tenant string
	// Refused counts the writes of Kind refused before the stop, none of
	// that kind having been accepted.
	Refused int
}

// Error says which writes were refused.
func (e *PermissionError) Error() string {
	where := ""
	if e.Tenant != "" {
		where = " in tenant " + e.Tenant
	}
	return fmt.Sprintf("Graph refused every %s write it answered%s (%d refused with 403 Authorization_RequestDenied, none accepted): "+
		"the app, or the signed-in administrator, lacks the permission or role they need", e.Kind, where, e.Refused)
}

// Is reports whether target is ErrPermissionDenied.
func (e *PermissionError) Is(target error) bool { return target == ErrPermissionDenied }

// MaxWritesBeforeDenyStop bounds the writes a pool sends before it stops
// for a missing permission, when Graph refuses every write: the first
// wave of batches (concurrency batches of batchSize, which the pacer lets
// go at once before any answer), the refusals that fill the threshold
// (each answered batch frees a worker for a new one until then), and one
// batch handed to a worker while the refusal that reached the threshold
// was being counted.
func MaxWritesBeforeDenyStop(concurrency, batchSize int) int {
	return (concurrency+1)*batchSize + DenyThreshold - 1
}

// The detector. A write of a kind Graph refused with 403
// Authorization_RequestDenied, while no write of that kind has been
// accepted yet, is held: the row neither ends nor moves on. The first
// write of the kind Graph accepts proves the permission is there: the rows
// held are released and end as they would have (insufficient_privileges,
// an administrator the app may not reset), and no refusal of that kind is
// held again. When DenyThreshold refusals of a kind are held, the
// dispatcher sends no new batch until the batches in flight are answered;
// if the kind is still unproven then, the run stops with a
// *PermissionError. A run that has nothing left to send while refusals of
// an unproven kind are held stops so too: a run with fewer rows than the
// threshold, all refused. The rows held have no result.

// denyGuard holds the refusals of the kinds of writes not yet proven.
// Safe for concurrent use: the workers call it.
type denyGuard struct {
	threshold int
	mu        sync.Mutex
	kinds     map[WriteKind]*denyKind
	stopped   *PermissionError // the verdict that stopped the run
}

// denyKind is the state of one kind of write.
type denyKind struct {
	accepted bool
	held     []heldRefusal
}

// heldRefusal is a refused write whose row waits for the verdict: it,
// refused with gerr (and msg for a poll, see Pool.refused).
type heldRefusal struct {
	it   *Item
	gerr *graph.Error
	msg  string
}

func newDenyGuard(threshold int) *denyGuard {
	return &denyGuard{threshold: threshold, kinds: make(map[WriteKind]*denyKind)}
}

func (g *denyGuard) kind(k WriteKind) *denyKind {
	d := g.kinds[k]
	if d == nil {
		d = &denyKind{}
		g.kinds[k] = d
	}
	return d
}

// hold keeps h when its kind is not proven yet, and reports whether it did.
func (g *denyGuard) hold(k WriteKind, h heldRefusal) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	d := g.kind(k)
	if d.accepted {
		return false
	}
	d.held = append(d.held, h)
	return true
}

// accept records that Graph accepted a write of kind k, and returns the
// refusals of that kind held until now, to be released.
func (g *denyGuard) accept(k WriteKind) []heldRefusal {
	g.mu.Lock()
	defer g.mu.Unlock()
	d := g.kind(k)
	d.accepted = true
	h := d.held
	d.held = nil
	return h
}

// verdict returns the error that stops the run, or nil: a kind not proven
// with threshold refusals held, or, when final (nothing is left to send
// or in flight), with any refusal held. Of several such kinds, the one
// with the most refusals, then the first by name.
func (g *denyGuard) verdict(final bool) *PermissionError {
	g.mu.Lock()
	defer g.mu.Unlock()
	var pe *PermissionError
	for _, k := range slices.Sorted(maps.Keys(g.kinds)) {
		d := g.kinds[k]
		n := len(d.held)
		if d.accepted || n == 0 || (n < g.threshold && !final) {
			continue
		}
		if pe == nil || n > pe.Refused {
			pe = &PermissionError{Kind: k, Refused: n}
		}
	}
	return pe
}

// heldCount is the number of rows held, which have no result.
func (g *denyGuard) heldCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, d := range g.kinds {
		n += len(d.held)
	}
	return n
}

// writeKind is the kind of write the phase sends; "" for a read.
func (p phase) writeKind() WriteKind {
	switch p {
	case phaseReset:
		return WriteReset
	case phaseResetPassword:
		return WriteResetPassword
	case phaseRevoke:
		return WriteRevoke
	case phaseBlock:
		return WriteBlock
	}
	return ""
}

// holdRefusal holds the refusal of the write of it (see denyGuard) when
// Graph refused it for lack of privileges and no write of its kind has
// been accepted yet, and reports whether it did.
func (p *Pool) holdRefusal(it *Item, gerr *graph.Error, msg string) bool {
	k := it.phase.writeKind()
	if k == "" || graph.Reason(gerr) != report.ReasonInsufficientPrivileges {
		return false
	}
	return p.deny.hold(k, heldRefusal{it: it, gerr: gerr, msg: msg})
}

// acceptWrite records that Graph accepted the write of it, and ends the
// refusals of its kind held so far as they would have ended: their rows
// are emitted, or queued in retry for their next phase.
func (p *Pool) acceptWrite(emit func(report.Result), retry []*Item, it *Item, now time.Time) []*Item {
	k := it.phase.writeKind()
	if k == "" {
		return retry
	}
	for _, h := range p.deny.accept(k) {
		retry = p.refused(emit, retry, h.it, h.gerr, h.msg, now)
	}
	return retry
}

// deniedStop decides, before each step of the dispatch, whether the run
// stops for a missing permission: it sets d.paused while a kind has
// reached the threshold unproven (no new batch goes until the batches in
// flight are answered), and once none is in flight, stops the dispatch
// with the verdict. It reports whether the dispatch stopped.
func (d *dispatcher) deniedStop() bool {
	idle := d.inflight == 0
	final := idle && d.inputDone && len(d.next) == 0 && d.retries.Len() == 0
	pe := d.p.deny.verdict(final)
	d.paused = pe != nil
	if pe == nil || !idle {
		return false
	}
	d.p.opts.Logger.Debug("Graph refused every write of a kind it answered, for lack of a permission or role: stopping",
		"kind", pe.Kind, "refused", pe.Refused)
	d.p.deny.stop(pe)
	d.stop()
	return true
}

// stop records the verdict that stops the run.
func (g *denyGuard) stop(pe *PermissionError) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped = pe
}

// err is the error that stopped the run for a missing permission, or nil.
func (g *denyGuard) err() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped == nil {
		return nil
	}
	return g.stopped
}
