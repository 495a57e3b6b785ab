package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/bulkreset/bulkreset/pkg/secret"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// testPassword is the password the client tests send; failure messages
// show it as <password>, since test output must not contain passwords either.
const testPassword = "Aa1!aaaaaaaa"

// hidePassword replaces testPassword in b for failure messages.
func hidePassword(b []byte) string {
	return strings.ReplaceAll(string(b), testPassword, "<password>")
}

// fakeCredential hands out tok-1, tok-2, … and records every call.
type fakeCredential struct {
	mu      sync.Mutex
	calls   []policy.TokenRequestOptions
	expires time.Time
	err     error
}

func (f *fakeCredential) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, o)
	if f.err != nil {
		return azcore.AccessToken{}, f.err
	}
	return azcore.AccessToken{Token: fmt.Sprintf("tok-%d", len(f.calls)), ExpiresOn: f.expires}, nil
}

func (f *fakeCredential) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// seenRequest is what the stub server received.
type seenRequest struct {
	Method, Path, RawPath string
	Header                http.Header
	Body                  []byte
}

// stub is a Graph stand-in: it records requests and answers with handler.
type stub struct {
	mu      sync.Mutex
	seen    []seenRequest
	handler func(w http.ResponseWriter, r *http.Request, body []byte, n int)
	srv     *httptest.Server
}

func newStub(t *testing.T, handler func(w http.ResponseWriter, r *http.Request, body []byte, n int)) *stub {
	t.Helper()
	s := &stub{handler: handler}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.seen = append(s.seen, seenRequest{Method: r.Method, Path: r.URL.Path, RawPath: r.URL.EscapedPath(), Header: r.Header.Clone(), Body: body})
		n := len(s.seen)
		s.mu.Unlock()
		s.handler(w, r, body, n)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *stub) requests() []seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seen)
}

func newTestClient(t *testing.T, s *stub, cred azcore.TokenCredential, mod func(*ClientOptions)) *Client {
	t.Helper()
	opts := ClientOptions{GraphURL: s.srv.URL, Credential: cred, Now: func() time.Time { return testNow }, Timeout: 10 * time.Second}
	if mod != nil {
		mod(&opts)
	}
	c, err := NewClient(opts)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

func validCred() *fakeCredential {
	return &fakeCredential{expires: testNow.Add(time.Hour)}
}

// echoBatch answers every request of a $batch with 204, in reverse order.
func echoBatch(w http.ResponseWriter, _ *http.Request, body []byte, _ int) {
	var in struct {
		Requests []struct {
			ID string `json:"id"`
		} `json:"requests"`
	}
	_ = json.Unmarshal(body, &in)
	var out []string
	for i := len(in.Requests) - 1; i >= 0; i-- {
		id, _ := json.Marshal(in.Requests[i].ID)
		out = append(out, fmt.Sprintf(`{"id":%s,"status":204,"headers":{}}`, id))
	}
	w.Header().Set("request-id", "outer-rid")
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"responses":[%s]}`, strings.Join(out, ","))
}

func TestBatchWireFormat(t *testing.T) {
	s := newStub(t, echoBatch)
	c := newTestClient(t, s, validCred(), func(o *ClientOptions) { o.UserAgent = "bulkreset-test/1" })
	reqs := []Request{
		PasswordRequest("1", "alex_fabrikam.com#EXT#@contoso.onmicrosoft.com", PasswordProfile{Password: secret.New(testPassword), ForceChangePasswordNextSignIn: true}),
		{ID: "2", Method: "get", URL: "/users/87d349ed-44d7-43e1-9a83-5f2406dee5bd?$select=id,accountEnabled"},
		{ID: "3", Method: "POST", URL: "/users/87d349ed-44d7-43e1-9a83-5f2406dee5bd/revokeSignInSessions", Body: map[string]any{}},
		{ID: "4", Method: "PATCH", URL: "/users/x@contoso.com", Headers: map[string]string{"content-type": "application/json; charset=utf-8"}, Body: map[string]bool{"accountEnabled": false}},
	}
	res, err := c.Batch(t.Context(), reqs)
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}
	seen := s.requests()
	if len(seen) != 1 {
		t.Fatalf("server got %d requests, want 1", len(seen))
	}
	got := seen[0]
	if got.Method != "POST" || got.RawPath != "/v1.0/$batch" {
		t.Errorf("request line = %s %s, want POST /v1.0/$batch", got.Method, got.RawPath)
	}
	for name, want := range map[string]string{
		"Authorization": "Bearer tok-1",
		"Content-Type":  "application/json",
		"Accept":        "application/json",
		"User-Agent":    "bulkreset-test/1",
	} {
		if v := got.Header.Get(name); v != want {
			t.Errorf("header %s = %q, want %q", name, v, want)
		}
	}
	if v := got.Header.Get("x-ms-throttle-priority"); v != "" {
		t.Errorf("x-ms-throttle-priority = %q without Priority, want none", v)
	}
	want := `{"requests":[` +
		`{"id":"1","method":"PATCH","url":"/users/alex_fabrikam.com%23EXT%23@contoso.onmicrosoft.com","headers":{"Content-Type":"application/json"},"body":{"passwordProfile":{"password":"` + testPassword + `","forceChangePasswordNextSignIn":true,"forceChangePasswordNextSignInWithMfa":false}}},` +
		`{"id":"2","method":"GET","url":"/users/87d349ed-44d7-43e1-9a83-5f2406dee5bd?$select=id,accountEnabled"},` +
		`{"id":"3","method":"POST","url":"/users/87d349ed-44d7-43e1-9a83-5f2406dee5bd/revokeSignInSessions","headers":{"Content-Type":"application/json"},"body":{}},` +
		`{"id":"4","method":"PATCH","url":"/users/x@contoso.com","headers":{"content-type":"application/json; charset=utf-8"},"body":{"accountEnabled":false}}` +
		`]}`
	if string(got.Body) != want {
		t.Errorf("batch body:\n got %s\nwant %s", hidePassword(got.Body), hidePassword([]byte(want)))
	}
	// The body is an object, not a string holding JSON.
	var parsed struct {
		Requests []struct {
			Body json.RawMessage `json:"body"`
		} `json:"requests"`
	}
	if err := json.Unmarshal(got.Body, &parsed); err != nil || !strings.HasPrefix(string(parsed.Requests[0].Body), "{") {
		t.Errorf("request 1 body = %s (error %v), want a JSON object", parsed.Requests[0].Body, err)
	}
	if len(res.Responses) != 4 {
		t.Errorf("result: %d responses, want 4", len(res.Responses))
	}
	if res.RequestID != "outer-rid" {
		t.Errorf("RequestID = %q, want outer-rid", res.RequestID)
	}
	if res.ClientRequestID != got.Header.Get("client-request-id") {
		t.Errorf("ClientRequestID = %q, want the header sent, %q", res.ClientRequestID, got.Header.Get("client-request-id"))
	}
}

func TestBatchPriority(t *testing.T) {
	s := newStub(t, echoBatch)
	c := newTestClient(t, s, validCred(), func(o *ClientOptions) { o.Priority = "low" })
	if _, err := c.Batch(t.Context(), []Request{{ID: "a", Method: "GET", URL: "/users/a@b.c"}}); err != nil {
		t.Fatalf("Batch: %v", err)
	}
	got := s.requests()[0]
	if v := got.Header.Get("x-ms-throttle-priority"); v != "Low" {
		t.Errorf("outer x-ms-throttle-priority = %q, want Low", v)
	}
	if want := `{"requests":[{"id":"a","method":"GET","url":"/users/a@b.c","headers":{"x-ms-throttle-priority":"Low"}}]}`; string(got.Body) != want {
		t.Errorf("batch body = %s, want %s", got.Body, want)
	}
	if _, err := NewClient(ClientOptions{GraphURL: s.srv.URL, Credential: validCred(), Priority: "urgent"}); err == nil {
		t.Errorf("NewClient with Priority urgent: got nil error, want an error")
	}
}

func TestBatchClientRequestIDs(t *testing.T) {
	s := newStub(t, echoBatch)
	c := newTestClient(t, s, validCred(), nil)
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	ids := map[string]bool{}
	for range 5 {
		res, err := c.Batch(t.Context(), []Request{{ID: "1", Method: "GET", URL: "/users/a@b.c"}})
		if err != nil {
			t.Fatalf("Batch: %v", err)
		}
		ids[res.ClientRequestID] = true
	}
	for i, r := range s.requests() {
		if crid := r.Header.Get("client-request-id"); !guid.MatchString(crid) {
			t.Errorf("request %d client-request-id = %q, want a v4 GUID", i, crid)
		}
	}
	if len(ids) != 5 {
		t.Errorf("5 batches used %d distinct client-request-ids, want 5", len(ids))
	}
}

func TestBatchResponses(t *testing.T) {
	five := []Request{
		{ID: "1", Method: "GET", URL: "/users/1"}, {ID: "2", Method: "GET", URL: "/users/2"},
		{ID: "3", Method: "GET", URL: "/users/3"}, {ID: "4", Method: "GET", URL: "/users/4"},
		{ID: "5", Method: "GET", URL: "/users/5"},
	}
	tests := []struct {
		name       string
		answer     string
		wantStatus map[string]int
		wantErr    string // a malformed answer: what the error says
		check      func(t *testing.T, res *BatchResult)
	}{
		{
			name: "any order, 204 without body",
			answer: `{"responses":[{"id":"4","status":204,"headers":{}},{"id":"2","status":200,"headers":{"Content-Type":"application/json"},"body":{"id":"u2"}},` +
				`{"id":"5","status":204},{"id":"1","status":404,"body":{"error":{"code":"Request_ResourceNotFound","message":"gone"}}},{"id":"3","status":204,"body":null}]}`,
			wantStatus: map[string]int{"1": 404, "2": 200, "3": 204, "4": 204, "5": 204},
			check: func(t *testing.T, res *BatchResult) {
				if b := res.Responses["4"].Body; b != nil {
					t.Errorf("204 body = %q, want nil", b)
				}
				if b := res.Responses["3"].Body; b != nil {
					t.Errorf("null body = %q, want nil", b)
				}
				if b := string(res.Responses["2"].Body); b != `{"id":"u2"}` {
					t.Errorf("200 body = %s, want {\"id\":\"u2\"}", b)
				}
				if e := res.Responses["1"].Err(testNow); e == nil || e.Code != "Request_ResourceNotFound" || Reason(e) != "not_found" {
					t.Errorf("404 Err() = %v, want Request_ResourceNotFound / not_found", e)
				}
				if e := res.Responses["5"].Err(testNow); e != nil {
					t.Errorf("204 Err() = %v, want nil", e)
				}
			},
		},
		{
			name:    "an id given twice, refusal first",
			answer:  `{"responses":[{"id":"1","status":204},{"id":"2","status":400},{"id":"2","status":204},{"id":"3","status":204},{"id":"4","status":204}]}`,
			wantErr: `two answers for id "2"`,
		},
		{
			name:    "an id given twice, success first",
			answer:  `{"responses":[{"id":"1","status":204},{"id":"2","status":204},{"id":"3","status":204},{"id":"4","status":204},{"id":"2","status":403}]}`,
			wantErr: `two answers for id "2"`,
		},
		{
			name:    "an id not sent",
			answer:  `{"responses":[{"id":"1","status":204},{"id":"9","status":204},{"id":"3","status":204},{"id":"4","status":204},{"id":"5","status":204}]}`,
			wantErr: `an answer for id "9", which was not sent`,
		},
		{
			name:    "an id left out",
			answer:  `{"responses":[{"id":"1","status":204},{"id":"2","status":204},{"id":"3","status":204},{"id":"4","status":204}]}`,
			wantErr: `no answer for 1 of the 5 requests`,
		},
		{
			name:    "empty responses",
			answer:  `{"responses":[]}`,
			wantErr: `no answer for 5 of the 5 requests`,
		},
		{
			name: "more answers than requests",
			answer: `{"responses":[{"id":"1","status":204},{"id":"2","status":204},{"id":"3","status":204},{"id":"4","status":204},{"id":"5","status":204},` +
				`{"id":"1","status":204},{"id":"x","status":204}]}`,
			wantErr: `more answers than the 5 requests sent`,
		},
		{
			name:    "an unreadable item",
			answer:  `{"responses":[{"id":1,"status":204},{"id":"2","status":204},{"id":"3","status":204},{"id":"4","status":204},{"id":"5","status":204}]}`,
			wantErr: `answer 0 (id "?") has no valid id or status`,
		},
		{
			name:    "a status out of range",
			answer:  `{"responses":[{"id":"1","status":204},{"id":"2","status":204},{"id":"3","status":204},{"id":"4","status":999},{"id":"5","status":204}]}`,
			wantErr: `answer 3 (id "4") has no valid id or status`,
		},
		{
			name: "numeric Retry-After",
			answer: `{"responses":[{"id":"1","status":204},{"id":"2","status":204},{"id":"3","status":204},{"id":"4","status":204},` +
				`{"id":"5","status":429,"headers":{"Retry-After":5,"x-ms-throttle-scope":"Tenant_Application/ReadWrite/x"}}]}`,
			wantStatus: map[string]int{"1": 204, "2": 204, "3": 204, "4": 204, "5": 429},
			check: func(t *testing.T, res *BatchResult) {
				e := res.Responses["5"].Err(testNow)
				if e == nil || !e.HasRetryAfter || e.RetryAfter != 5*time.Second {
					t.Errorf("numeric Retry-After: Err() = %#v, want RetryAfter 5s", e)
				}
			},
		},
		{
			name: "throttled items with fractional and date Retry-After",
			answer: `{"responses":[{"id":"1","status":429,"headers":{"Retry-After":"0.249"},"body":{"error":{"code":"TooManyRequests","message":"Please retry again later."}}},` +
				`{"id":"2","status":429,"headers":{"retry-after":"Fri, 14 Mar 2025 15:09:28 GMT"}},{"id":"3","status":503,"headers":{}},` +
				`{"id":"4","status":429,"headers":{"Retry-After":"soon"}},{"id":"5","status":204}]}`,
			wantStatus: map[string]int{"1": 429, "2": 429, "3": 503, "4": 429, "5": 204},
			check: func(t *testing.T, res *BatchResult) {
				tests := []struct {
					id     string
					want   time.Duration
					wantOK bool
				}{{"1", 249 * time.Millisecond, true}, {"2", 2 * time.Second, true}, {"3", 0, false}, {"4", 0, false}}
				for _, tt := range tests {
					e := res.Responses[tt.id].Err(testNow)
					if e == nil || e.RetryAfter != tt.want || e.HasRetryAfter != tt.wantOK || !e.Retryable() {
						t.Errorf("item %s: Err() = %#v, want retryable with RetryAfter %v (%t)", tt.id, e, tt.want, tt.wantOK)
					}
				}
				if r := Reason(res.Responses["1"].Err(testNow)); r != "throttled" {
					t.Errorf("Reason(429) = %q, want throttled", r)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStub(t, func(w http.ResponseWriter, _ *http.Request, _ []byte, _ int) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, tt.answer)
			})
			res, err := newTestClient(t, s, validCred(), nil).Batch(t.Context(), five)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrMalformedResponse) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Batch: %v, %v; want ErrMalformedResponse saying %q", res, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Batch: %v", err)
			}
			got := map[string]int{}
			for id, r := range res.Responses {
				got[id] = r.Status
				if r.ID != id {
					t.Errorf("Responses[%q].ID = %q", id, r.ID)
				}
			}
			if !mapsEqual(got, tt.wantStatus) {
				t.Errorf("statuses = %v, want %v", got, tt.wantStatus)
			}
			if tt.check != nil {
				tt.check(t, res)
			}
		})
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestBatchOuterErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		header    map[string]string
		body      string
		want      Error // ClientRequestID is checked separately
		wantCause error
	}{
		{name: "503 with Retry-After", status: 503, header: map[string]string{"Retry-After": "3", "request-id": "rid-503"},
			want: Error{Status: 503, RequestID: "rid-503", Date: "Fri, 14 Mar 2025 15:09:26 GMT", RetryAfter: 3 * time.Second, HasRetryAfter: true}},
		{name: "429 envelope fractional", status: 429, header: map[string]string{"Retry-After": "1.25"},
			body: `{"error":{"code":"TooManyRequests","message":"Please retry again later.","innerError":{"request-id":"rid-429","date":"2025-03-14T15:09:26"}}}`,
			want: Error{Status: 429, Code: "TooManyRequests", Message: "Please retry again later.", RequestID: "rid-429", Date: "2025-03-14T15:09:26", RetryAfter: 1250 * time.Millisecond, HasRetryAfter: true}},
		{name: "400 too many", status: 400, body: `{"error":{"code":"BadRequest","message":"Number of requests inside batch exceed the limit."}}`,
			want: Error{Status: 400, Code: "BadRequest", Message: "Number of requests inside batch exceed the limit.", Date: "Fri, 14 Mar 2025 15:09:26 GMT"}},
		{name: "202 is not 200", status: 202, want: Error{Status: 202, Date: "Fri, 14 Mar 2025 15:09:26 GMT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStub(t, func(w http.ResponseWriter, _ *http.Request, _ []byte, _ int) {
				w.Header().Set("Date", "Fri, 14 Mar 2025 15:09:26 GMT")
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			res, err := newTestClient(t, s, validCred(), nil).Batch(t.Context(), []Request{{ID: "1", Method: "GET", URL: "/users/a@b.c"}})
			var ge *Error
			if !errors.As(err, &ge) {
				t.Fatalf("Batch = %v, %v; want an *Error", res, err)
			}
			crid := s.requests()[0].Header.Get("client-request-id")
			if ge.ClientRequestID != crid {
				t.Errorf("ClientRequestID = %q, want %q", ge.ClientRequestID, crid)
			}
			got := *ge
			got.ClientRequestID = ""
			if got != tt.want {
				t.Errorf("error = %#v, want %#v", got, tt.want)
			}
			if got := len(s.requests()); got != 1 {
				t.Errorf("server got %d requests, want 1 (the client does not retry %d)", got, tt.status)
			}
		})
	}
}

func TestBatchMalformed(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{name: "truncated", body: `{"responses":[{"id":"1","status":204},{"id":"2","sta`},
		{name: "html", body: `<html><body>gateway</body></html>`},
		{name: "empty", body: ``},
		{name: "no responses", body: `{"value":[]}`},
		{name: "responses not an array", body: `{"responses":{"id":"1"}}`},
		{name: "null responses", body: `{"responses":null}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStub(t, func(w http.ResponseWriter, _ *http.Request, _ []byte, _ int) {
				w.Header().Set("request-id", "rid-bad")
				io.WriteString(w, tt.body)
			})
			res, err := newTestClient(t, s, validCred(), nil).Batch(t.Context(), []Request{{ID: "1", Method: "GET", URL: "/users/a@b.c"}})
			if !errors.Is(err, ErrMalformedResponse) {
				t.Fatalf("Batch = %v, %v; want an error wrapping ErrMalformedResponse", res, err)
			}
			if !strings.Contains(err.Error(), "rid-bad") {
				t.Errorf("error %q does not name the request-id", err)
			}
		})
	}
}

func TestBatchConnectionCut(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, _ *http.Request, _ []byte, _ int) {
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"responses\":[")
		buf.Flush()
	})
	_, err := newTestClient(t, s, validCred(), nil).Batch(t.Context(), []Request{{ID: "1", Method: "GET", URL: "/users/a@b.c"}})
	if !errors.Is(err, ErrMalformedResponse) || !IsTransient(err) {
		t.Errorf("Batch error = %v; want ErrMalformedResponse and IsTransient", err)
	}
}

func TestBatchValidation(t *testing.T) {
	ok := Request{ID: "1", Method: "GET", URL: "/users/a@b.c"}
	many := make([]Request, 21)
	for i := range many {
		many[i] = Request{ID: fmt.Sprint(i), Method: "GET", URL: "/users/x"}
	}
	tests := []struct {
		name string
		reqs []Request
		want string
	}{
		{name: "empty", reqs: nil, want: "1 to 20"},
		{name: "21", reqs: many, want: "1 to 20"},
		{name: "duplicate id", reqs: []Request{ok, ok}, want: `id "1" appears twice`},
		{name: "empty id", reqs: []Request{{Method: "GET", URL: "/users/x"}}, want: "has no id"},
		{name: "no method", reqs: []Request{{ID: "1", URL: "/users/x"}}, want: "needs a method"},
		{name: "absolute URL", reqs: []Request{{ID: "1", Method: "GET", URL: "https://graph.microsoft.com/v1.0/users"}}, want: "beginning with /"},
		{name: "body a string", reqs: []Request{{ID: "1", Method: "PATCH", URL: "/users/x", Body: "S3cret-Body-Text"}}, want: "not a JSON object"},
		{name: "body an array", reqs: []Request{{ID: "1", Method: "PATCH", URL: "/users/x", Body: []string{"S3cret-Body-Text"}}}, want: "not a JSON object"},
		{name: "body not encodable", reqs: []Request{{ID: "1", Method: "PATCH", URL: "/users/x", Body: map[string]any{"S3cret-Body-Text": make(chan int)}}}, want: "cannot be encoded"},
		{name: "password profile in own body", reqs: []Request{{ID: "1", Method: "PATCH", URL: "/users/x", Body: map[string]any{"passwordProfile": PasswordProfile{Password: secret.New("S3cret-Body-Text")}}}}, want: "cannot be encoded"},
	}
	s := newStub(t, echoBatch)
	c := newTestClient(t, s, validCred(), nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.Batch(t.Context(), tt.reqs)
			if !errors.Is(err, ErrInvalidRequest) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Batch error = %v, want ErrInvalidRequest containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "S3cret") {
				t.Errorf("error shows the body: %v", err)
			}
		})
	}
	if n := len(s.requests()); n != 0 {
		t.Errorf("server got %d requests, want 0", n)
	}
}

func TestBatch401RefreshesOnce(t *testing.T) {
	tests := []struct {
		name         string
		rejectTokens []string // the server answers 401 to these tokens
		wantErr      bool
		wantSent     []string // Authorization tokens, in order
		wantCalls    int
	}{
		{name: "fresh token succeeds", rejectTokens: []string{"tok-1"}, wantSent: []string{"tok-1", "tok-2"}, wantCalls: 2},
		{name: "second 401 is returned", rejectTokens: []string{"tok-1", "tok-2", "tok-3"}, wantErr: true, wantSent: []string{"tok-1", "tok-2"}, wantCalls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStub(t, func(w http.ResponseWriter, r *http.Request, body []byte, n int) {
				if slices.Contains(tt.rejectTokens, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")) {
					w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
					w.WriteHeader(401)
					io.WriteString(w, `{"error":{"code":"InvalidAuthenticationToken","message":"Access token has expired or is not yet valid."}}`)
					return
				}
				echoBatch(w, r, body, n)
			})
			cred := validCred()
			c := newTestClient(t, s, cred, nil)
			res, err := c.Batch(t.Context(), []Request{PasswordRequest("1", "a@b.c", PasswordProfile{Password: secret.New(testPassword)})})
			var sent []string
			for _, r := range s.requests() {
				sent = append(sent, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
			}
			if !slices.Equal(sent, tt.wantSent) {
				t.Errorf("tokens sent = %q, want %q", sent, tt.wantSent)
			}
			if got := cred.callCount(); got != tt.wantCalls {
				t.Errorf("GetToken calls = %d, want %d", got, tt.wantCalls)
			}
			if tt.wantErr {
				var ge *Error
				if !errors.As(err, &ge) || ge.Status != 401 || Reason(ge) != "unauthorized" {
					t.Fatalf("Batch = %v, %v; want *Error 401", res, err)
				}
				return
			}
			if err != nil || res.Responses["1"].Status != 204 {
				t.Fatalf("Batch = %+v, %v; want item 1 answered 204", res, err)
			}
			// Both bodies were identical: the retry re-sends the same batch.
			if r := s.requests(); string(r[0].Body) != string(r[1].Body) {
				t.Errorf("retry body differs from the first")
			}
		})
	}
}

func TestBatch401ClaimsChallenge(t *testing.T) {
	claims := `{"access_token":{"nbf":{"essential":true,"value":"1741964966"}}}`
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, body []byte, n int) {
		if n == 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnsibmJmIjp7ImVzc2VudGlhbCI6dHJ1ZSwidmFsdWUiOiIxNzQxOTY0OTY2In19fQ=="`)
			w.WriteHeader(401)
			return
		}
		echoBatch(w, r, body, n)
	})
	cred := validCred()
	if _, err := newTestClient(t, s, cred, nil).Batch(t.Context(), []Request{{ID: "1", Method: "GET", URL: "/users/x"}}); err != nil {
		t.Fatalf("Batch: %v", err)
	}
	if len(cred.calls) != 2 {
		t.Fatalf("GetToken calls = %d, want 2", len(cred.calls))
	}
	first, second := cred.calls[0], cred.calls[1]
	if first.Claims != "" || second.Claims != claims {
		t.Errorf("claims passed = %q then %q, want \"\" then %s", first.Claims, second.Claims, claims)
	}
	for i, c := range cred.calls {
		if !c.EnableCAE || !slices.Equal(c.Scopes, []string{s.srv.URL + "/.default"}) {
			t.Errorf("call %d options = %+v, want EnableCAE and scope %s/.default", i, c, s.srv.URL)
		}
	}
}

func TestConcurrent401sRenewOnce(t *testing.T) {
	const batches = 8
	var once sync.Once
	ready := make(chan struct{})
	var waiting sync.WaitGroup
	waiting.Add(batches)
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, body []byte, n int) {
		if r.Header.Get("Authorization") == "Bearer tok-1" {
			// Hold every first attempt until all have arrived, so that all
			// 401s are for the same token.
			waiting.Done()
			once.Do(func() { go func() { waiting.Wait(); close(ready) }() })
			<-ready
			w.WriteHeader(401)
			return
		}
		echoBatch(w, r, body, n)
	})
	cred := validCred()
	c := newTestClient(t, s, cred, nil)
	// The first token is fetched before the batches start.
	if _, err := c.tokens.get(t.Context()); err != nil {
		t.Fatalf("get: %v", err)
	}
	var wg sync.WaitGroup
	for i := range batches {
		wg.Go(func() {
			if _, err := c.Batch(t.Context(), []Request{{ID: fmt.Sprint(i), Method: "GET", URL: "/users/x"}}); err != nil {
				t.Errorf("Batch %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if got := cred.callCount(); got != 2 {
		t.Errorf("GetToken calls = %d for %d concurrent 401s, want 2", got, batches)
	}
}

func TestBatchTokenFailure(t *testing.T) {
	s := newStub(t, echoBatch)
	cred := &fakeCredential{err: errors.New("AADSTS7000215: Invalid client secret provided")}
	_, err := newTestClient(t, s, cred, nil).Batch(t.Context(), []Request{{ID: "1", Method: "GET", URL: "/users/x"}})
	if !errors.Is(err, ErrAuthentication) || IsTransient(err) {
		t.Errorf("Batch error = %v, want ErrAuthentication and not transient", err)
	}
	if n := len(s.requests()); n != 0 {
		t.Errorf("server got %d requests without a token, want 0", n)
	}
}

func TestBatchTimeoutAndCancel(t *testing.T) {
	arrived := make(chan struct{}, 4)
	release := make(chan struct{})
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ []byte, _ int) {
		arrived <- struct{}{}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) })
	req := []Request{{ID: "1", Method: "GET", URL: "/users/x"}}

	t.Run("attempt timeout", func(t *testing.T) {
		c := newTestClient(t, s, validCred(), func(o *ClientOptions) { o.Timeout = 50 * time.Millisecond })
		_, err := c.Batch(t.Context(), req)
		<-arrived
		if !errors.Is(err, ErrTimeout) || !IsTransient(err) || errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error = %v, want ErrTimeout, transient, not context.DeadlineExceeded", err)
		}
	})
	t.Run("caller cancels", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			<-arrived
			cancel()
		}()
		_, err := newTestClient(t, s, validCred(), nil).Batch(ctx, req)
		if !errors.Is(err, context.Canceled) || IsTransient(err) {
			t.Errorf("error = %v, want context.Canceled and not transient", err)
		}
	})
}

func TestBatchNetworkError(t *testing.T) {
	s := newStub(t, echoBatch)
	c := newTestClient(t, s, validCred(), nil)
	s.srv.Close()
	_, err := c.Batch(t.Context(), []Request{{ID: "1", Method: "GET", URL: "/users/x"}})
	if err == nil || !IsTransient(err) {
		t.Errorf("Batch to a closed server: error = %v, want a transient error", err)
	}
}

func TestDo(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, r *http.Request, body []byte, n int) {
		w.Header().Set("request-id", fmt.Sprintf("rid-%d", n))
		switch {
		case strings.HasSuffix(r.URL.Path, "/revokeSignInSessions"):
			io.WriteString(w, `{"value":true}`)
		case r.Method == "PATCH":
			w.WriteHeader(204)
		default:
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(429)
			io.WriteString(w, `{"error":{"code":"TooManyRequests","message":"Please retry again later."}}`)
		}
	})
	c := newTestClient(t, s, validCred(), nil)

	resp, err := c.Do(t.Context(), Request{ID: "r", Method: "POST", URL: "/users/87d349ed-44d7-43e1-9a83-5f2406dee5bd/revokeSignInSessions"})
	if err != nil || resp.Status != 200 || string(resp.Body) != `{"value":true}` || resp.ID != "r" || resp.Header("Request-Id") != "rid-1" {
		t.Errorf("Do(revoke) = %+v, %v; want 200 {\"value\":true} with request-id rid-1", resp, err)
	}

	resp, err = c.Do(t.Context(), PasswordRequest("p", "alex_fabrikam.com#EXT#@contoso.onmicrosoft.com", PasswordProfile{Password: secret.New(testPassword), ForceChangePasswordNextSignIn: true}))
	if err != nil || resp.Status != 204 || resp.Body != nil || resp.Err(testNow) != nil {
		t.Errorf("Do(PATCH) = %+v, %v; want 204 without body", resp, err)
	}
	got := s.requests()[1]
	if got.RawPath != "/v1.0/users/alex_fabrikam.com%23EXT%23@contoso.onmicrosoft.com" || got.Header.Get("Content-Type") != "application/json" {
		t.Errorf("PATCH sent to %s with Content-Type %q, want the encoded guest UPN and application/json", got.RawPath, got.Header.Get("Content-Type"))
	}
	if want := `{"passwordProfile":{"password":"` + testPassword + `","forceChangePasswordNextSignIn":true,"forceChangePasswordNextSignInWithMfa":false}}`; string(got.Body) != want {
		t.Errorf("PATCH body = %s, want %s", got.Body, want)
	}

	resp, err = c.Do(t.Context(), Request{ID: "g", Method: "GET", URL: "/users/a@b.c?$select=id,onPremisesSyncEnabled"})
	if err != nil {
		t.Fatalf("Do(GET): %v", err)
	}
	if got := s.requests()[2]; got.RawPath != "/v1.0/users/a@b.c" || got.Header.Get("Content-Type") != "" {
		t.Errorf("GET sent to %s with Content-Type %q, want /v1.0/users/a@b.c and none", got.RawPath, got.Header.Get("Content-Type"))
	}
	e := resp.Err(testNow)
	if e == nil || e.Status != 429 || e.RetryAfter != 2*time.Second || e.RequestID != "rid-3" {
		t.Errorf("Do(GET) Err() = %#v, want 429 with RetryAfter 2s and request-id rid-3", e)
	}
}

func TestNewClientValidation(t *testing.T) {
	tests := []struct {
		name string
		opts ClientOptions
		want string
	}{
		{name: "no credential", opts: ClientOptions{GraphURL: "https://graph.microsoft.com"}, want: "Credential is required"},
		{name: "http remote", opts: ClientOptions{GraphURL: "http://graph.microsoft.com", Credential: validCred()}, want: "https is required"},
		{name: "no URL", opts: ClientOptions{Credential: validCred()}, want: "absolute URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewClient(tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewClient error = %v, want one containing %q", err, tt.want)
			}
		})
	}
	c, err := NewClient(ClientOptions{GraphURL: "https://graph.microsoft.us/", Credential: validCred()})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	if c.base != "https://graph.microsoft.us/v1.0" || c.tokens.scope != "https://graph.microsoft.us/.default" || c.timeout != defaultTimeout {
		t.Errorf("client base %q scope %q timeout %v, want https://graph.microsoft.us/v1.0, https://graph.microsoft.us/.default, %v", c.base, c.tokens.scope, c.timeout, defaultTimeout)
	}
}
