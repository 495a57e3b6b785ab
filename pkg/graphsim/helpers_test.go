package graphsim

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// testPassword satisfies the policy for every sandbox user. Test output never
// prints it, nor any other password.
const testPassword = "Zq8#mWv2!kLp"

// fakeClock is an injected clock that only moves when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is a started emulator with the sandbox tenant and a valid token.
type env struct {
	sim   *Sim
	srv   *Server
	clock *fakeClock
	token string
}

// start serves a Sim with the sandbox tenant on the fake clock (unless opts
// brings its own) and fetches a token.
func start(t *testing.T, opts Options) *env {
	t.Helper()
	clock := newFakeClock()
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	sim := New(opts)
	if err := sim.AddUsers(SandboxTenant()); err != nil {
		t.Fatalf("AddUsers(SandboxTenant()): %v", err)
	}
	srv, err := sim.Start()
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(srv.Close)
	e := &env{sim: sim, srv: srv, clock: clock}
	e.token = e.fetchToken(t)
	return e
}

func (e *env) fetchToken(t *testing.T) string {
	t.Helper()
	res := e.form(t, SandboxTenantID, url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {SandboxClientID},
		"client_secret": {SandboxClientSecret},
		"scope":         {e.srv.URL + "/.default"},
	})
	if res.status != http.StatusOK {
		t.Fatalf("token request: got status %d, want 200", res.status)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(res.body, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("token response: no access_token (%v)", err)
	}
	return tok.AccessToken
}

// result is an HTTP answer, read in full.
type result struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) do(ctx context.Context, method, path string, body []byte, header map[string]string) (result, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, e.srv.URL+path, rd)
	if err != nil {
		return result{}, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := e.srv.Client.Do(req)
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return result{}, err
	}
	return result{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

func (e *env) form(t *testing.T, tenant string, v url.Values) result {
	t.Helper()
	res, err := e.do(context.Background(), http.MethodPost, "/"+tenant+"/oauth2/v2.0/token",
		[]byte(v.Encode()), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if err != nil {
		t.Fatalf("POST token: %v", err)
	}
	return res
}

// batchRaw posts body to $batch with the env's token.
func (e *env) batchRaw(ctx context.Context, body []byte) (result, error) {
	return e.do(ctx, http.MethodPost, "/v1.0/$batch", body, map[string]string{
		"Authorization":     "Bearer " + e.token,
		"Content-Type":      "application/json",
		"client-request-id": "c1a0e5d2-0000-4000-8000-000000000001",
	})
}

// batch posts the requests and decodes the answer; it fails the test on a
// transport error or a non-200.
func (e *env) batch(t *testing.T, reqs ...subRequest) (result, map[string]subResponse) {
	t.Helper()
	body, err := json.Marshal(batchRequest{Requests: reqs})
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.batchRaw(context.Background(), body)
	if err != nil {
		t.Fatalf("POST $batch: %v", err)
	}
	if res.status != http.StatusOK {
		t.Fatalf("POST $batch: got status %d, want 200; body %s", res.status, res.body)
	}
	return res, byID(t, res.body)
}

func byID(t *testing.T, body []byte) map[string]subResponse {
	t.Helper()
	var br batchResponse
	if err := json.Unmarshal(body, &br); err != nil {
		t.Fatalf("batch response: %v", err)
	}
	m := make(map[string]subResponse, len(br.Responses))
	for _, r := range br.Responses {
		if _, dup := m[r.ID]; dup {
			t.Fatalf("batch response: id %q twice", r.ID)
		}
		m[r.ID] = r
	}
	return m
}

func jsonHeader() map[string]string { return map[string]string{"Content-Type": "application/json"} }

// patch is a password reset sub-request for key.
func patch(id, key, password string) subRequest {
	body, _ := json.Marshal(map[string]any{"passwordProfile": map[string]any{
		"password": password, "forceChangePasswordNextSignIn": true,
	}})
	return subRequest{ID: id, Method: "PATCH", URL: "/users/" + url.PathEscape(key), Headers: jsonHeader(), Body: body}
}

func get(id, rawURL string) subRequest {
	return subRequest{ID: id, Method: "GET", URL: rawURL}
}

// graphError decodes an error envelope.
func graphError(t *testing.T, body []byte) errorDetail {
	t.Helper()
	var env errorEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("error envelope: %v in %s", err, body)
	}
	return env.Error
}

// checkError fails unless body is Graph's envelope with this code and message
// and a complete innerError.
func checkError(t *testing.T, body []byte, code, message string) errorDetail {
	t.Helper()
	d := graphError(t, body)
	if d.Code != code {
		t.Errorf("error code: got %q, want %q", d.Code, code)
	}
	if message != "" && d.Message != message {
		t.Errorf("error message: got %q, want %q", d.Message, message)
	}
	if d.InnerError.RequestID == "" || d.InnerError.Date == "" || d.InnerError.ClientRequestID == "" {
		t.Errorf("innerError: got %+v, want date, request-id and client-request-id", d.InnerError)
	}
	return d
}

// applied counts the users among upns whose password was set.
func (e *env) applied(upns ...string) int {
	n := 0
	for _, upn := range upns {
		if u, ok := e.sim.User(upn); ok && u.PasswordSets > 0 {
			n++
		}
	}
	return n
}

func upn(local string) string { return local + "@" + SandboxDomain }

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }
