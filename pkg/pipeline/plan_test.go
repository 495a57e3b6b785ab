package pipeline_test

import (
	"testing"

	"github.com/bulkreset/bulkreset/pkg/pipeline"
	"github.com/bulkreset/bulkreset/pkg/report"
	"github.com/bulkreset/bulkreset/pkg/worker"
)

// TestPlanPredictsTheActions: a plan row says what reset would send: the
// reset (would_reset), or in a lockdown only the actions (would_apply);
// revoked and blocked are true for each action that would be sent, empty
// otherwise; an item the preflight skipped and passed on keeps its skip,
// with the actions that reach it.
func TestPlanPredictsTheActions(t *testing.T) {
	skip := &report.Result{Outcome: report.Skipped, Reason: report.ReasonSynced, ErrorMessage: "synced"}
	for _, c := range []struct {
		name             string
		o                worker.Options
		skipped          bool
		outcome          report.Outcome
		reason           report.Reason
		blocked, revoked string
	}{
		{"reset only", worker.Options{}, false, report.Succeeded, report.ReasonWouldReset, "", ""},
		{"reset and revoke", worker.Options{RevokeSessions: true}, false, report.Succeeded, report.ReasonWouldReset, "", "true"},
		{"offboarding", worker.Options{RevokeSessions: true, BlockSignIn: true}, false, report.Succeeded, report.ReasonWouldReset, "true", "true"},
		{"revoke only if reset", worker.Options{RevokeSessions: true, RevokeOnlyIfReset: true}, false, report.Succeeded, report.ReasonWouldReset, "", "true"},
		{"lockdown", worker.Options{RevokeSessions: true, BlockSignIn: true, KeepPasswords: true}, false, report.Succeeded, report.ReasonWouldApply, "true", "true"},
		{"lockdown, block only", worker.Options{BlockSignIn: true, KeepPasswords: true}, false, report.Succeeded, report.ReasonWouldApply, "true", ""},
		{"skipped, revoked", worker.Options{RevokeSessions: true}, true, report.Skipped, report.ReasonSynced, "", "true"},
		{"skipped, blocked and revoked", worker.Options{RevokeSessions: true, BlockSignIn: true}, true, report.Skipped, report.ReasonSynced, "true", "true"},
		{"skipped, revoke only if reset", worker.Options{RevokeSessions: true, RevokeOnlyIfReset: true, BlockSignIn: true}, true, report.Skipped, report.ReasonSynced, "true", ""},
	} {
		in := make(chan worker.Item, 1)
		it := worker.Item{Line: 7, User: "adele@contoso.com", ObjectID: "87d349ed-44d7-43e1-9a83-5f2406dee5bd"}
		if c.skipped {
			it.Skipped = skip
		}
		in <- it
		close(in)
		var got []report.Result
		if err := pipeline.Plan(c.o)(t.Context(), in, func(r report.Result) { got = append(got, r) }); err != nil || len(got) != 1 {
			t.Fatalf("%s: Plan: %v, %d rows", c.name, err, len(got))
		}
		r := got[0]
		if r.Outcome != c.outcome || r.Reason != c.reason || cell(r.Blocked) != c.blocked || cell(r.Revoked) != c.revoked ||
			r.Line != 7 || r.User != it.User || r.ObjectID != it.ObjectID || r.HTTPStatus != 0 || r.Attempts != 0 {
			t.Errorf("%s: %s/%s blocked %q revoked %q (%+v); want %s/%s blocked %q revoked %q",
				c.name, r.Outcome, r.Reason, cell(r.Blocked), cell(r.Revoked), r, c.outcome, c.reason, c.blocked, c.revoked)
		}
		if c.skipped && r.ErrorMessage != "synced" {
			t.Errorf("%s: message %q, want the skip's", c.name, r.ErrorMessage)
		}
	}
}

// cell is an action cell: true, false or empty.
func cell(b *bool) string {
	switch {
	case b == nil:
		return ""
	case *b:
		return "true"
	}
	return "false"
}
