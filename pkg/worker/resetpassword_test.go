package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/bulkreset/bulkreset/pkg/secret"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// opGraph answers resetPassword with 202 and a Location, and polls of the
// operation with the statuses in script, one per poll (the last repeats).
// A status of "429" answers that poll with a throttle.
type opGraph struct {
	t        *testing.T
	location string // "" leaves Location out
	script   []string
	mu       sync.Mutex
	posts    int
	polls    int
	revokes  int
	sent     string // the password sent
	emitted  []int  // polls seen when each result was emitted
}

func (g *opGraph) Batch(_ context.Context, reqs []graph.Request) (*graph.BatchResult, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	res := &graph.BatchResult{Responses: map[string]graph.Response{}}
	for _, r := range reqs {
		switch {
		case r.Method == "POST" && strings.HasSuffix(r.URL, "/revokeSignInSessions"):
			g.revokes++
			res.Responses[r.ID] = graph.Response{ID: r.ID, Status: 200, Body: json.RawMessage(`{"value":true}`)}
		case r.Method == "POST":
			g.posts++
			if want := "/users/u1/authentication/methods/" + graph.PasswordMethodID + "/resetPassword"; r.URL != want {
				g.t.Errorf("POST %s, want %s", r.URL, want)
			}
			b, err := r.BodyJSON()
			if err != nil {
				g.t.Fatal(err)
			}
			var body struct{ NewPassword string }
			_ = json.Unmarshal(b, &body)
			g.sent = body.NewPassword
			h := map[string]string{}
			if g.location != "" {
				h["Location"] = g.location
			}
			res.Responses[r.ID] = graph.Response{ID: r.ID, Status: 202, Headers: h, Body: json.RawMessage(`{}`)}
		case r.Method == "GET":
			if r.URL != "/users/u1/authentication/operations/op1?aadgdc=X" {
				g.t.Errorf("poll of %s, want the Location's path relative to /v1.0", r.URL)
			}
			st := g.script[min(g.polls, len(g.script)-1)]
			g.polls++
			if st == "429" {
				res.Responses[r.ID] = graph.Response{ID: r.ID, Status: 429, Headers: map[string]string{"Retry-After": "0.5"},
					Body: json.RawMessage(`{"error":{"code":"TooManyRequests","message":"Please retry again later."}}`)}
				continue
			}
			res.Responses[r.ID] = graph.Response{ID: r.ID, Status: 200,
				Body: json.RawMessage(fmt.Sprintf(`{"id":"op1","status":%q,"statusDetail":"writeback is off"}`, st))}
		}
	}
	return res, nil
}

func runOp(t *testing.T, g *opGraph, revoke bool) report.Result {
	t.Helper()
	var got []report.Result
	synctest.Test(t, func(t *testing.T) {
		p := New(g, nil, Options{BatchSize: 20, Concurrency: 1, MaxAttempts: 3, RevokeSessions: revoke})
		in := make(chan Item, 1)
		in <- Item{Line: 2, User: "sync@contoso.com", ObjectID: "u1", Password: secret.New("Pw-0001-Aa1!"), ResetPassword: true}
		close(in)
		err := p.Run(t.Context(), in, func(r report.Result) {
			g.mu.Lock()
			g.emitted = append(g.emitted, g.polls)
			g.mu.Unlock()
			got = append(got, r)
		})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	})
	if len(got) != 1 {
		t.Fatalf("%d results, want 1", len(got))
	}
	return got[0]
}

const opLocation = "https://graph.microsoft.com/v1.0/users/u1/authentication/operations/op1?aadgdc=X"

// TestResetPasswordSucceedsOnlyWhenTheOperationDid: the row is emitted on the
// poll that reports succeeded, not on the 202; polls are not reset attempts.
func TestResetPasswordSucceedsOnlyWhenTheOperationDid(t *testing.T) {
	g := &opGraph{t: t, location: opLocation, script: []string{"notStarted", "running", "429", "Running", "succeeded"}}
	r := runOp(t, g, false)
	if r.Outcome != report.Succeeded || r.HTTPStatus != 202 || r.Attempts != 1 {
		t.Errorf("got %s/%s status %d after %d attempts, want succeeded 202 after 1", r.Outcome, r.Reason, r.HTTPStatus, r.Attempts)
	}
	if g.posts != 1 || g.polls != 5 || g.emitted[0] != 5 {
		t.Errorf("%d resets, %d polls, result after poll %d; want 1, 5 and the 5th", g.posts, g.polls, g.emitted[0])
	}
	if g.sent != "Pw-0001-Aa1!" {
		t.Error("the password sent is not the item's")
	}
}

// TestResetPasswordOperationFailed: a failed operation fails the row with
// Graph's detail, and keeps its password (the cloud part may be set); with
// --revoke-sessions the user's sessions are revoked all the same, since
// that password may be in force.
func TestResetPasswordOperationFailed(t *testing.T) {
	for _, revoke := range []bool{false, true} {
		g := &opGraph{t: t, location: opLocation, script: []string{"running", "failed"}}
		r := runOp(t, g, revoke)
		if r.Outcome != report.Failed || r.Reason != report.ReasonOperationFailed || !strings.Contains(r.ErrorMessage, "writeback is off") {
			t.Errorf("revoke %v: got %s/%s (%s), want failed/%s with Graph's detail", revoke, r.Outcome, r.Reason, r.ErrorMessage, report.ReasonOperationFailed)
		}
		if !strings.HasPrefix(r.ErrorMessage, report.MaybeSetNote) || !r.MaybeSet || report.RefusedForGood(r) {
			t.Errorf("revoke %v: a failed operation's password must stay in the secrets file", revoke)
		}
		switch {
		case !revoke && (r.Revoked != nil || g.revokes != 0):
			t.Error("sessions revoked without --revoke-sessions")
		case revoke && (r.Revoked == nil || !*r.Revoked || g.revokes != 1 || !strings.Contains(r.ErrorMessage, "sessions were revoked")):
			t.Errorf("--revoke-sessions: revoked %v after %d revokes (%s); want revoked once, and said", r.Revoked, g.revokes, r.ErrorMessage)
		}
	}
}

// TestResetPasswordWithoutLocation: a 202 that names no operation cannot be
// confirmed: the row fails as unknown and keeps its password.
func TestResetPasswordWithoutLocation(t *testing.T) {
	g := &opGraph{t: t, script: []string{"succeeded"}}
	r := runOp(t, g, false)
	if r.Outcome != report.Failed || r.Reason != report.ReasonOperationUnknown || report.RefusedForGood(r) || g.polls != 0 {
		t.Errorf("got %s/%s (%s) after %d polls, want failed/%s, kept, no poll", r.Outcome, r.Reason, r.ErrorMessage, g.polls, report.ReasonOperationUnknown)
	}
}

// TestResetPasswordOperationNeverEnds: polls are bounded.
func TestResetPasswordOperationNeverEnds(t *testing.T) {
	g := &opGraph{t: t, location: opLocation, script: []string{"running"}}
	r := runOp(t, g, false)
	if r.Outcome != report.Failed || r.Reason != report.ReasonOperationUnknown || g.polls != maxOperationPolls {
		t.Errorf("got %s/%s after %d polls, want failed/%s after %d", r.Outcome, r.Reason, g.polls, report.ReasonOperationUnknown, maxOperationPolls)
	}
}

// TestResetPasswordOperationInAnUnknownState: a state that is neither
// running nor an end the tool knows stops the polling at once.
func TestResetPasswordOperationInAnUnknownState(t *testing.T) {
	g := &opGraph{t: t, location: opLocation, script: []string{"running", "skipped"}}
	r := runOp(t, g, false)
	if r.Outcome != report.Failed || r.Reason != report.ReasonOperationUnknown || g.polls != 2 || !strings.Contains(r.ErrorMessage, "skipped") {
		t.Errorf("got %s/%s (%s) after %d polls, want failed/%s after 2", r.Outcome, r.Reason, r.ErrorMessage, g.polls, report.ReasonOperationUnknown)
	}
}
