// Package verify asks the tenant whether what a results file says was done
// is so: bulkreset verify. It reads every user a run reset, revoked or
// blocked back from Microsoft Graph (batched GETs, with the preflight's
// retries), checks each action took effect at or after the time the row
// records, and finds each password reset in the directory audit log
// (GET /auditLogs/directoryAudits, paged, polled until found with Wait).
package verify

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/report"
	"github.com/bulkreset/bulkreset/pkg/worker"
)

// DefaultSkew is the clock-skew allowance: a change counts when the tenant
// dates it no earlier than the row's finished_at minus this. finished_at is
// written by this machine's clock after Graph answered, and Entra dates the
// change by its own, to the second; 5 minutes is the tolerance Kerberos and
// Active Directory allow between clocks by default, and keeps a machine
// whose clock drifts a little (no NTP) from making every row look undone.
const DefaultSkew = 5 * time.Minute

// DefaultPollInterval is how often Wait polls the audit log: Entra lists
// 95% of audit records within 2 minutes and 99% within 5.
const DefaultPollInterval = 30 * time.Second

// ResetActivities are the directory audit activities that record a password
// set by an administrator or an application, which verify accepts as the
// record of a reset: "Reset user password" (Core Directory: a
// passwordProfile PATCH), "Reset password (by admin)" (Self-service
// Password Management: the resetPassword action), "Change user password"
// and "Reset password" (Core Directory, in Microsoft's activity reference,
// https://learn.microsoft.com/entra/identity/monitoring-health/reference-audit-activities).
// "Update PasswordProfile" is not one: it records the force-change flag
// only (a --password-mode none update), not a new password.
var ResetActivities = []string{"Reset user password", "Reset password (by admin)", "Change user password", "Reset password"}

// DefaultMaxAttempts is the attempts per read (a lookup batch, an audit
// page) when Options.Lookups.MaxAttempts is 0, as reset's --max-attempts.
const DefaultMaxAttempts = 8

// Client is what verify needs of Graph; *graph.Client implements it.
type Client interface {
	worker.Sender
	worker.Getter
	NextPath(next string) (string, error)
}

// Options configure a verification.
type Options struct {
	// Skew is the clock-skew allowance; DefaultSkew when 0.
	Skew time.Duration
	// Wait is how long to keep polling the audit log for resets not found
	// yet; 0 looks once.
	Wait time.Duration
	// PollInterval is the time between polls; DefaultPollInterval when 0.
	PollInterval time.Duration
	// Lookups configure the reads of the users (batch size, concurrency,
	// attempts, logger).
	Lookups worker.PreflightOptions
	// Logger receives progress; never a secret.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// ErrUsersDenied and ErrAuditDenied report a 403: the application (or the
// administrator signed in) may not read users, or the audit log.
var (
	ErrUsersDenied = errors.New("reading the users was refused (403): the app needs the User.Read.All permission " +
		"(signed in as an administrator: a role that can read users, such as Global Reader or User Administrator)")
	ErrAuditDenied = errors.New("reading the directory audit log was refused (403): the app needs the AuditLog.Read.All and Directory.Read.All permissions " +
		"(signed in as an administrator: the Reports Reader, Security Reader or Security Administrator role)")
)

// Stats counts what a verification found.
type Stats struct {
	Rows          int // rows in the results file
	Checked       int // rows verified (the others are not in the output)
	Confirmed     int
	NotConfirmed  int
	NotInAuditLog int
	AuditRecords  int   // audit records read (of the reset activities, in the window)
	Polls         int   // passes over the audit log
	Throttled     int64 // 429 answers
}

// row is one checked results row: what verify needs of it, kept small
// (a hundred thousand rows are held at once).
type row struct {
	line                 int
	user, objectID, crid string
	finished             time.Time
	reset, block, revoke bool
	info                 *graph.UserInfo
	diffs                []string
	audit                *auditHit
}

// auditHit is what verify keeps of an audit record.
type auditHit struct {
	id, correlationID, activity, initiator string
	at                                     time.Time
}

// Run verifies results (the rows of one results file, in its order, read
// as Run goes; withCRID says the file has the client_request_id column)
// against the tenant of c, and passes one VerifyRow per checked row, in the
// file's order, to emit; an error from emit or from results ends it. A row
// is checked when it records a password reset (outcome succeeded; in a
// file with the client_request_id column, a succeeded row without one
// changed no password: a lockdown), a revoke (revoked=true) or a block
// (blocked=true).
func Run(ctx context.Context, c Client, results iter.Seq2[report.Result, error], withCRID bool, opts Options, emit func(report.VerifyRow) error) (Stats, error) {
	if opts.Skew <= 0 {
		opts.Skew = DefaultSkew
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Lookups.MaxAttempts <= 0 {
		opts.Lookups.MaxAttempts = DefaultMaxAttempts
	}
	var st Stats
	rows, err := checkedRows(results, withCRID, &st)
	if err != nil {
		return st, err
	}
	st.Checked = len(rows)
	if len(rows) == 0 {
		return st, nil
	}
	if err := readUsers(ctx, c, rows, opts, &st); err != nil {
		return st, err
	}
	for _, r := range rows {
		r.compare(opts.Skew)
	}
	deadline := opts.Now().Add(opts.Wait)
	var throttled atomic.Int64
	for {
		st.Polls++
		if err := searchAudit(ctx, c, rows, opts, &st, &throttled); err != nil {
			return st, err
		}
		missing := 0
		for _, r := range rows {
			if r.reset && r.info != nil && r.audit == nil && len(r.diffs) == 0 {
				missing++ // a row the user object contradicts is not waited for
			}
		}
		left := deadline.Sub(opts.Now())
		if missing == 0 || left <= 0 {
			break
		}
		opts.Logger.Info("resets not in the audit log yet; polling it again", "rows", missing, "after", min(opts.PollInterval, left), "time_left", left.Round(time.Second))
		t := time.NewTimer(min(opts.PollInterval, left))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return st, ctx.Err()
		}
	}
	st.Throttled += throttled.Load()
	for i, r := range rows {
		out := r.finish()
		switch out.Status {
		case report.Confirmed:
			st.Confirmed++
		case report.NotConfirmed:
			st.NotConfirmed++
		case report.NotInAuditLog:
			st.NotInAuditLog++
		}
		rows[i] = nil // written: its memory can go
		if err := emit(out); err != nil {
			return st, err
		}
	}
	return st, nil
}

// checkedRows are the rows of results that record an action to verify.
func checkedRows(results iter.Seq2[report.Result, error], withCRID bool, st *Stats) ([]*row, error) {
	var rows []*row
	for res, err := range results {
		if err != nil {
			return nil, err
		}
		st.Rows++
		r := &row{line: res.Line, user: res.User, objectID: res.ObjectID, crid: res.ClientRequestID, finished: res.FinishedAt}
		r.reset = res.Outcome == report.Succeeded && (!withCRID || res.ClientRequestID != "")
		r.block = res.Blocked != nil && *res.Blocked
		r.revoke = res.Revoked != nil && *res.Revoked
		if r.reset || r.block || r.revoke {
			rows = append(rows, r)
		}
	}
	return rows, nil
}

// checked names the actions checked, joined by "+".
func (r *row) checked() string {
	var checked []string
	for _, a := range []struct {
		on   bool
		name string
	}{{r.block, "block"}, {r.reset, "reset"}, {r.revoke, "revoke"}} {
		if a.on {
			checked = append(checked, a.name)
		}
	}
	return strings.Join(checked, "+")
}

// readUsers reads every row's user back, by object id when the row has
// one.
func readUsers(ctx context.Context, c Client, rows []*row, opts Options, st *Stats) error {
	targets := make([]string, len(rows))
	for i, r := range rows {
		targets[i] = r.objectID
		if targets[i] == "" {
			targets[i] = r.user
		}
	}
	lo := opts.Lookups
	if lo.Logger == nil {
		lo.Logger = opts.Logger
	}
	reads, ps, err := worker.ReadUsers(ctx, c, lo, targets)
	if ps != nil {
		st.Throttled += ps.Throttled.Load()
	}
	if err != nil {
		return fmt.Errorf("reading the users back: %w", err)
	}
	for i, rd := range reads {
		r := rows[i]
		switch {
		case rd.Info != nil:
			r.info = rd.Info
			if r.objectID == "" {
				r.objectID = rd.Info.ID
			}
		case rd.Failed != nil && rd.Failed.HTTPStatus == http.StatusForbidden:
			return ErrUsersDenied
		case rd.Failed != nil && rd.Failed.HTTPStatus == http.StatusNotFound:
			r.diffs = append(r.diffs, "the user no longer exists in the tenant")
		case rd.Failed != nil:
			r.diffs = append(r.diffs, "the user could not be read: "+rd.Failed.ErrorMessage)
		}
	}
	return nil
}

// compare checks the user object against the row's actions.
func (r *row) compare(skew time.Duration) {
	if r.info == nil {
		return
	}
	done := r.finished
	lower, upper := done.Add(-skew), done.Add(skew)
	when := func(t *time.Time) string {
		if t == nil {
			return "not returned"
		}
		return t.UTC().Format(time.RFC3339)
	}
	finished := done.UTC().Format(time.RFC3339)
	if r.reset {
		lp := r.info.LastPasswordChangeDateTime
		switch {
		case lp == nil || lp.Before(lower):
			r.diffs = append(r.diffs, fmt.Sprintf("password not changed by the run: lastPasswordChangeDateTime is %s, before the row's finished_at %s", when(lp), finished))
		case lp.After(upper):
			r.diffs = append(r.diffs, fmt.Sprintf("password changed again after the run: lastPasswordChangeDateTime is %s, after the row's finished_at %s; the password the run set is no longer the one in force", when(lp), finished))
		}
	}
	if r.block && (r.info.AccountEnabled == nil || *r.info.AccountEnabled) {
		r.diffs = append(r.diffs, "sign-in not blocked: accountEnabled is true")
	}
	if r.revoke {
		sv := r.info.SignInSessionsValidFromDateTime
		if sv == nil || sv.Before(lower) {
			r.diffs = append(r.diffs, fmt.Sprintf("sessions not revoked by the run: signInSessionsValidFromDateTime is %s, before the row's finished_at %s", when(sv), finished))
		}
	}
}

// finish makes the row's verify row.
func (r *row) finish() report.VerifyRow {
	out := report.VerifyRow{Line: r.line, User: r.user, ObjectID: r.objectID, Checked: r.checked()}
	if a := r.audit; a != nil {
		out.AuditID, out.Activity, out.ActivityTime, out.Initiator = a.id, a.activity, a.at, a.initiator
		out.MatchedBy = "object_id"
		if r.crid != "" && strings.EqualFold(a.correlationID, r.crid) {
			out.MatchedBy = "correlation_id"
		}
	}
	switch {
	case len(r.diffs) > 0:
		out.Status, out.Detail = report.NotConfirmed, strings.Join(r.diffs, "; ")
	case r.reset && r.audit == nil:
		out.Status = report.NotInAuditLog
		out.Detail = "the user object shows the change, but no audit record of the reset was found (records arrive minutes late: run again, or with --wait)"
	default:
		out.Status, out.Detail = report.Confirmed, "the user object shows "+strings.ReplaceAll(out.Checked, "+", ", ")
		if r.reset {
			out.Detail += "; the audit log records the reset"
		}
	}
	return out
}

// searchAudit reads the reset activities of the window the rows span from
// the audit log, and matches each reset row not matched yet to a record
// of its user.
func searchAudit(ctx context.Context, c Client, rows []*row, opts Options, st *Stats, throttled *atomic.Int64) error {
	want := map[string][]*row{} // object id (lower case) -> rows still to match
	var from, to time.Time
	for _, r := range rows {
		if !r.reset || r.info == nil || r.audit != nil {
			continue
		}
		id := strings.ToLower(r.info.ID)
		want[id] = append(want[id], r)
		if from.IsZero() || r.finished.Before(from) {
			from = r.finished
		}
		if r.finished.After(to) {
			to = r.finished
		}
	}
	if len(want) == 0 {
		return nil
	}
	from, to = from.Add(-opts.Skew), to.Add(opts.Skew)
	found := map[string][]auditHit{}
	attempts := opts.Lookups.MaxAttempts
	for _, activity := range ResetActivities {
		path := graph.AuditActivityPath(activity, from, to)
		for path != "" {
			resp, err := worker.Get(ctx, c, path, attempts, rand.Float64, throttled)
			var gerr *graph.Error
			if errors.As(err, &gerr) && gerr.Status == http.StatusForbidden {
				return ErrAuditDenied
			}
			if err != nil {
				return fmt.Errorf("reading the directory audit log: %w", err)
			}
			page, err := graph.ParseAuditPage(resp.Body)
			if err != nil {
				return err
			}
			for _, a := range page.Value {
				st.AuditRecords++
				if !strings.EqualFold(a.Result, "success") {
					continue
				}
				for _, t := range a.TargetResources {
					id := strings.ToLower(t.ID)
					if _, ok := want[id]; ok {
						found[id] = append(found[id], auditHit{id: a.ID, correlationID: a.CorrelationID, activity: a.ActivityDisplayName,
							initiator: a.Initiator(), at: a.ActivityDateTime})
					}
				}
			}
			path = ""
			if page.NextLink != "" {
				if path, err = c.NextPath(page.NextLink); err != nil {
					return err
				}
			}
		}
	}
	for id, rs := range want {
		for _, r := range rs {
			r.audit = match(found[id], r.crid, r.finished, opts.Skew)
		}
	}
	return nil
}

// match picks the audit record of a row's reset among its user's records:
// the one whose correlationId is the row's client_request_id, else the one
// nearest finished_at within the skew allowance; nil when none.
func match(records []auditHit, crid string, finished time.Time, skew time.Duration) *auditHit {
	if crid != "" {
		if i := slices.IndexFunc(records, func(a auditHit) bool {
			return strings.EqualFold(a.correlationID, crid)
		}); i >= 0 {
			return &records[i]
		}
	}
	var best *auditHit
	var bestGap time.Duration
	for i, a := range records {
		gap := a.at.Sub(finished).Abs()
		if gap > skew {
			continue
		}
		if best == nil || gap < bestGap {
			best, bestGap = &records[i], gap
		}
	}
	return best
}
