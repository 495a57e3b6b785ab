package worker

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// fakeDirectory answers the preflight's requests: user lookups from users
// (by UPN or object id), and the domains request with domains, whose
// answer domainsAnswer may replace (by attempt, from 1).
type fakeDirectory struct {
	mu            sync.Mutex
	users         []graph.UserInfo
	domains       []graph.Domain
	pageSize      int // domains per page; 0 is all in one
	domainsAnswer func(attempt int) (status int, headers map[string]string, body string)
	domainCalls   []string // URLs of the domains requests, in order
	lookups       int
}

func jsonHeaders(extra map[string]string) map[string]string {
	h := map[string]string{"Content-Type": "application/json"}
	for k, v := range extra {
		h[k] = v
	}
	return h
}

func (d *fakeDirectory) Batch(_ context.Context, reqs []graph.Request) (*graph.BatchResult, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	res := &graph.BatchResult{Responses: map[string]graph.Response{}}
	for _, r := range reqs {
		resp := graph.Response{ID: r.ID, Status: 200, Headers: jsonHeaders(nil)}
		switch {
		case r.Method == "GET" && strings.HasPrefix(r.URL, "/domains?$select=id,authenticationType"):
			d.domainCalls = append(d.domainCalls, r.URL)
			if d.domainsAnswer != nil {
				status, h, body := d.domainsAnswer(len(d.domainCalls))
				if status != 0 {
					resp.Status, resp.Headers, resp.Body = status, jsonHeaders(h), []byte(body)
					break
				}
			}
			resp.Body = []byte(d.domainsPage(r.URL))
		case r.Method == "GET" && strings.HasPrefix(r.URL, "/users/"):
			d.lookups++
			key, _, _ := strings.Cut(strings.TrimPrefix(r.URL, "/users/"), "?")
			key = strings.ReplaceAll(key, "%23", "#")
			var found *graph.UserInfo
			for i, u := range d.users {
				if strings.EqualFold(u.UserPrincipalName, key) || u.ID == key {
					found = &d.users[i]
				}
			}
			if found == nil {
				resp.Status = 404
				resp.Body = []byte(`{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist"}}`)
				break
			}
			resp.Body = []byte(fmt.Sprintf(`{"id":%q,"userPrincipalName":%q,"accountEnabled":%t,"onPremisesSyncEnabled":%s,"userType":%q}`,
				found.ID, found.UserPrincipalName, !found.Disabled(), map[bool]string{true: "true", false: "null"}[found.Synced()], found.UserType))
		default:
			return nil, fmt.Errorf("unexpected request %s %s", r.Method, r.URL)
		}
		res.Responses[r.ID] = resp
	}
	return res, nil
}

// domainsPage answers url with its page of d.domains, and a nextLink
// (absolute, as Graph gives it) when more follow.
func (d *fakeDirectory) domainsPage(url string) string {
	from := 0
	if _, tok, ok := strings.Cut(url, "$skiptoken="); ok {
		fmt.Sscan(tok, &from)
	}
	to := len(d.domains)
	if d.pageSize > 0 {
		to = min(from+d.pageSize, len(d.domains))
	}
	var b strings.Builder
	b.WriteString(`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#domains(id,authenticationType)","value":[`)
	for i, dm := range d.domains[from:to] {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%q,"authenticationType":%q}`, dm.ID, dm.AuthenticationType)
	}
	b.WriteString("]")
	if to < len(d.domains) {
		fmt.Fprintf(&b, `,"@odata.nextLink":"https://graph.microsoft.com/v1.0/domains?$select=id,authenticationType&$skiptoken=%d"`, to)
	}
	b.WriteString("}")
	return b.String()
}

// runPreflight runs a Preflight over items and returns what reached out,
// in order, and what was emitted, by line.
func runPreflight(t *testing.T, pre *Preflight, items []Item) (passed []Item, emitted map[int]report.Result) {
	t.Helper()
	in, out := make(chan Item, len(items)), make(chan Item)
	for _, it := range items {
		in <- it
	}
	close(in)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for it := range out {
			passed = append(passed, it)
		}
	}()
	emitted = map[int]report.Result{}
	if err := pre.Run(t.Context(), in, out, func(r report.Result) { emitted[r.Line] = r }); err != nil {
		t.Fatalf("Run: %v", err)
	}
	<-done
	return passed, emitted
}

const (
	idMember   = "00000000-0000-4000-8000-0000000000a1"
	idSynced   = "00000000-0000-4000-8000-0000000000a2"
	idDisabled = "00000000-0000-4000-8000-0000000000a3"
	idGuest    = "00000000-0000-4000-8000-0000000000a4"
	idExternal = "00000000-0000-4000-8000-0000000000a5"
	idFed      = "00000000-0000-4000-8000-0000000000a6"
)

// skipDirectory is a tenant with a user of every kind the preflight tells
// apart; fabrikam.com is federated.
func skipDirectory() *fakeDirectory {
	yes, no := true, false
	return &fakeDirectory{
		users: []graph.UserInfo{
			{ID: idMember, UserPrincipalName: "member@contoso.com", AccountEnabled: &yes, UserType: "Member"},
			{ID: idSynced, UserPrincipalName: "synced@contoso.com", AccountEnabled: &yes, OnPremisesSyncEnabled: &yes, UserType: "Member"},
			{ID: idDisabled, UserPrincipalName: "left@contoso.com", AccountEnabled: &no, UserType: "Member"},
			{ID: idGuest, UserPrincipalName: "visitor@contoso.com", AccountEnabled: &yes, UserType: "Guest"},
			{ID: idExternal, UserPrincipalName: "ann_partner.example#EXT#@contoso.com", AccountEnabled: &yes, UserType: "Guest"},
			{ID: idFed, UserPrincipalName: "bob@Fabrikam.com", AccountEnabled: &yes, UserType: "Member"},
		},
		domains: []graph.Domain{{ID: "contoso.com", AuthenticationType: "Managed"}, {ID: "fabrikam.com", AuthenticationType: "Federated"}},
	}
}

// TestPreflightPassesSkippedUsersOnForActions: each user the preflight
// finds but whose reset it skips ends with its skip result when the run
// has no actions, and is passed on with Item.Skipped (that result, with
// the object id) when the run revokes or blocks; a user that does not
// exist is finished by the preflight either way, and an external guest
// with IncludeGuests is passed on to be reset.
func TestPreflightPassesSkippedUsersOnForActions(t *testing.T) {
	type want struct {
		reason report.Reason // "" for a user passed on to be reset
		failed bool          // finished by the preflight whatever Actions says
		id     string
		stat   func(*PreflightStats) int64
	}
	for _, tc := range []struct {
		name string
		user string
		opts PreflightOptions
		want want
	}{
		{"synced with --synced skip", "synced@contoso.com", PreflightOptions{Synced: SyncedSkip},
			want{reason: report.ReasonSynced, id: idSynced, stat: func(s *PreflightStats) int64 { return s.Synced.Load() }}},
		{"disabled with --skip-disabled", "left@contoso.com", PreflightOptions{SkipDisabled: true},
			want{reason: report.ReasonDisabled, id: idDisabled, stat: func(s *PreflightStats) int64 { return s.Disabled.Load() }}},
		{"guest with --skip-guests", "visitor@contoso.com", PreflightOptions{SkipGuests: true},
			want{reason: report.ReasonGuest, id: idGuest, stat: func(s *PreflightStats) int64 { return s.Guests.Load() }}},
		{"external guest", "ann_partner.example#EXT#@contoso.com", PreflightOptions{},
			want{reason: report.ReasonExternalGuest, id: idExternal, stat: func(s *PreflightStats) int64 { return s.ExternalGuests.Load() }}},
		{"external guest with IncludeGuests", "ann_partner.example#EXT#@contoso.com", PreflightOptions{IncludeGuests: true},
			want{id: idExternal, stat: func(s *PreflightStats) int64 { return s.ExternalGuests.Load() }}},
		{"guest in this tenant", "visitor@contoso.com", PreflightOptions{},
			want{id: idGuest, stat: func(s *PreflightStats) int64 { return s.Guests.Load() }}},
		{"federated", "bob@fabrikam.com", PreflightOptions{},
			want{reason: report.ReasonFederatedUser, id: idFed, stat: func(s *PreflightStats) int64 { return s.Federated.Load() }}},
		{"not found", "nobody@contoso.com", PreflightOptions{},
			want{reason: report.ReasonNotFound, failed: true, stat: func(s *PreflightStats) int64 { return s.NotFound.Load() }}},
	} {
		for _, actions := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/actions=%t", tc.name, actions), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					opts := tc.opts
					opts.Actions = actions
					pre := NewPreflight(skipDirectory(), opts)
					items := []Item{
						{Line: 2, User: tc.user, Target: tc.user},
						{Line: 3, User: "member@contoso.com", Target: "member@contoso.com"},
					}
					passed, emitted := runPreflight(t, pre, items)
					w := tc.want
					// The member always passes on, to be reset, after the row before it.
					if n := len(passed); n == 0 || passed[n-1].Line != 3 || passed[n-1].Skipped != nil || passed[n-1].ObjectID != idMember {
						t.Fatalf("passed on %+v; want the member last, by object id, not skipped", passed)
					}
					passed = passed[:len(passed)-1]
					st := pre.Stats()
					if got := w.stat(st); got != 1 {
						t.Errorf("stat counts %d, want 1", got)
					}
					switch {
					case w.reason == "": // reset as any user
						if len(emitted) != 0 || len(passed) != 1 || passed[0].Skipped != nil || passed[0].ObjectID != w.id {
							t.Errorf("emitted %v, passed %+v; want it passed on to be reset, by object id", emitted, passed)
						}
						if st.PassedSkipped.Load() != 0 || st.Passed.Load() != 2 {
							t.Errorf("stats passed %d (skipped %d), want 2 (0)", st.Passed.Load(), st.PassedSkipped.Load())
						}
					case w.failed || !actions: // finished here
						r, ok := emitted[2]
						wantOutcome := report.Skipped
						if w.failed {
							wantOutcome = report.Failed
						}
						if !ok || len(passed) != 0 || r.Outcome != wantOutcome || r.Reason != w.reason || r.ObjectID != w.id || r.ErrorMessage == "" {
							t.Errorf("emitted %+v, passed %+v; want %s/%s emitted with object id %q and a message", r, passed, wantOutcome, w.reason, w.id)
						}
						if st.PassedSkipped.Load() != 0 || st.Passed.Load() != 1 {
							t.Errorf("stats passed %d (skipped %d), want 1 (0)", st.Passed.Load(), st.PassedSkipped.Load())
						}
					default: // passed on for the actions, with its skip result
						if len(emitted) != 0 || len(passed) != 1 {
							t.Fatalf("emitted %v, passed %+v; want it passed on and nothing emitted", emitted, passed)
						}
						it := passed[0]
						if it.ObjectID != w.id || it.Skipped == nil {
							t.Fatalf("passed on %+v; want object id %s and Skipped set", it, w.id)
						}
						s := it.Skipped
						if s.Outcome != report.Skipped || s.Reason != w.reason || s.ObjectID != w.id || s.Line != 2 || s.User != tc.user || s.ErrorMessage == "" || s.FinishedAt.IsZero() {
							t.Errorf("Skipped = %+v; want skipped/%s for line 2, with its object id and message", *s, w.reason)
						}
						if st.PassedSkipped.Load() != 1 || st.Passed.Load() != 2 {
							t.Errorf("stats passed %d (skipped %d), want 2 (1)", st.Passed.Load(), st.PassedSkipped.Load())
						}
					}
				})
			})
		}
	}
}

// TestPreflightSkipMessages: the messages of the new skips say what a
// person needs: why, and what to do instead.
func TestPreflightSkipMessages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pre := NewPreflight(skipDirectory(), PreflightOptions{})
		_, emitted := runPreflight(t, pre, []Item{
			{Line: 2, User: "ANN_PARTNER.EXAMPLE#ext#@contoso.com", Target: "ann_partner.example#EXT#@contoso.com"},
			{Line: 3, User: "bob@fabrikam.com", Target: "bob@fabrikam.com"},
		})
		for line, words := range map[int][]string{
			2: {"home organisation", "not the one they", "--revoke-sessions", "--block-sign-in", "--include-guests"},
			3: {"federated", "identity provider", "AD FS", "reset it there"},
		} {
			r := emitted[line]
			for _, w := range words {
				if !strings.Contains(strings.ToLower(r.ErrorMessage), strings.ToLower(w)) {
					t.Errorf("line %d: message %q does not say %q", line, r.ErrorMessage, w)
				}
			}
		}
	})
}

// TestPreflightDomains: the domains are read once, before the first
// lookup, following every page; a throttled page is retried after its
// Retry-After; a refusal (403) or a failure after the retries logs one
// warning naming Domain.Read.All and the run goes on, users of the
// federated domain then passed on to be reset; a tenant with no federated
// domain skips nobody.
func TestPreflightDomains(t *testing.T) {
	for _, tc := range []struct {
		name      string
		pageSize  int
		domains   []graph.Domain
		answer    func(attempt int) (int, map[string]string, string)
		calls     int  // domains requests sent
		federated bool // bob@fabrikam.com is skipped as federated
		warns     bool
		throttled int64
	}{
		{name: "paged", pageSize: 1, calls: 3, federated: true,
			domains: []graph.Domain{{ID: "contoso.com", AuthenticationType: "Managed"}, {ID: "fabrikam.com", AuthenticationType: "Federated"}, {ID: "contoso.onmicrosoft.com", AuthenticationType: "Managed"}}},
		{name: "refused", calls: 1, warns: true,
			answer: func(int) (int, map[string]string, string) {
				return 403, nil, `{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation."}}`
			}},
		{name: "throttled then answered", calls: 2, federated: true, throttled: 1,
			answer: func(attempt int) (int, map[string]string, string) {
				if attempt == 1 {
					return 429, map[string]string{"Retry-After": "7"}, `{"error":{"code":"TooManyRequests","message":"Please retry again later."}}`
				}
				return 0, nil, ""
			}},
		{name: "unavailable every time", calls: 3, warns: true,
			answer: func(int) (int, map[string]string, string) {
				return 503, nil, `{"error":{"code":"ServiceUnavailable","message":"down"}}`
			}},
		{name: "no federated domain", calls: 1,
			domains: []graph.Domain{{ID: "contoso.com", AuthenticationType: "Managed"}, {ID: "fabrikam.com", AuthenticationType: "Managed"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := skipDirectory()
				dir.pageSize, dir.domainsAnswer = tc.pageSize, tc.answer
				if tc.domains != nil {
					dir.domains = tc.domains
				}
				var logs bytes.Buffer
				var mu sync.Mutex
				logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
				pre := NewPreflight(dir, PreflightOptions{MaxAttempts: 3, Logger: logger})
				start := pre.opts.Now()
				passed, emitted := runPreflight(t, pre, []Item{{Line: 2, User: "bob@fabrikam.com", Target: "bob@fabrikam.com"}})
				if len(dir.domainCalls) != tc.calls {
					t.Errorf("%d domains requests (%v), want %d", len(dir.domainCalls), dir.domainCalls, tc.calls)
				}
				if tc.throttled > 0 {
					if waited := pre.opts.Now().Sub(start); waited < 7e9 {
						t.Errorf("retried the throttled domains request after %v, want its Retry-After of 7s", waited)
					}
				}
				if got := pre.Stats().Throttled.Load(); got != tc.throttled {
					t.Errorf("throttled %d, want %d", got, tc.throttled)
				}
				r, skipped := emitted[2]
				if tc.federated != skipped || skipped && r.Reason != report.ReasonFederatedUser || !skipped && len(passed) != 1 {
					t.Errorf("emitted %+v, passed %+v; want federated skipped: %t", emitted, passed, tc.federated)
				}
				mu.Lock()
				out := logs.String()
				mu.Unlock()
				if n := strings.Count(out, "level=WARN"); tc.warns && (n != 1 || !strings.Contains(out, "Domain.Read.All")) || !tc.warns && n != 0 {
					t.Errorf("log:\n%s\nwant one warning naming Domain.Read.All: %t", out, tc.warns)
				}
				if tc.federated && !strings.Contains(out, "fabrikam.com") {
					t.Errorf("log:\n%s\nwant the federated domains named", out)
				}
			})
		})
	}
}

// TestPreflightDomainsBeforeLookups: the domains request is the first
// request a preflight sends, once, however many lookup batches follow.
func TestPreflightDomainsBeforeLookups(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var order []string
		dir := skipDirectory()
		send := senderFunc(func(ctx context.Context, reqs []graph.Request) (*graph.BatchResult, error) {
			mu.Lock()
			for _, r := range reqs {
				kind, _, _ := strings.Cut(strings.TrimPrefix(r.URL, "/"), "/")
				kind, _, _ = strings.Cut(kind, "?")
				order = append(order, kind)
			}
			mu.Unlock()
			return dir.Batch(ctx, reqs)
		})
		var items []Item
		for i := range 45 {
			items = append(items, Item{Line: i + 2, User: "member@contoso.com", Target: "member@contoso.com"})
		}
		runPreflight(t, NewPreflight(send, PreflightOptions{BatchSize: 20, Concurrency: 4}), items)
		if len(order) != 46 || order[0] != "domains" || strings.Count(strings.Join(order, " "), "domains") != 1 {
			t.Errorf("requests in order %v; want the domains first, once, then 45 lookups", order)
		}
	})
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
