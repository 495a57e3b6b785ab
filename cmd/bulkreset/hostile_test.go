package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulkreset/bulkreset/internal/certtest"
	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// The hostile-server suite: a loopback server that stands where Graph and
// the token endpoint are, answers from an emulated tenant, and misbehaves
// on purpose — redirects, token endpoints that echo, truncate or never end
// their answer, $batch answers with contradictory, unknown or millions of
// ids, absurd Retry-Afters, object ids that are not GUIDs. Every run must
// end with one result per row, no password, client secret or token in any
// output, no connection to the address a redirect names (see check for
// what that covers), and bounded memory.

// hostileToken is the access token a hostile token endpoint hands out in a
// broken answer: it must never be printed.
const hostileToken = "eyJhostile.access-token.Zq81xLmP0w"

// maxHostileHeap bounds the heap in use at any moment of a hostile run.
const maxHostileHeap = 256 << 20

// hostile is a TLS server on loopback in front of an emulated tenant: a
// test's handler may answer a request itself; otherwise the tenant
// answers.
type hostile struct {
	tn        *tenant
	srv       *httptest.Server
	host      string // host:port of srv
	mu        sync.Mutex
	hosts     map[string]int // Host of every request received
	subreqs   []string       // "METHOD URL" of every $batch sub-request
	elsewhere *sink
	env       map[string]string // more environment for the run
}

// sink is a second loopback listener, where a redirect points: it counts
// every connection made to it, and reads nothing.
type sink struct {
	ln    net.Listener
	conns atomic.Int64
}

func newSink(t *testing.T) *sink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			_ = c.Close()
		}
	}()
	t.Cleanup(func() { _ = ln.Close() })
	return s
}

// startHostile starts a tenant of users behind a hostile server whose
// misbehaviour is handler (nil: none).
func startHostile(t *testing.T, opts graphsim.Options, users []graphsim.User, handler func(h *hostile, w http.ResponseWriter, r *http.Request, body []byte) bool) *hostile {
	t.Helper()
	sim := newSim(t, opts, users)
	h := &hostile{hosts: map[string]int{}, elsewhere: newSink(t)}
	h.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		h.record(r, body)
		if handler != nil && handler(h, w, r, body) {
			return
		}
		h.forward(w, r, body)
	}))
	h.srv.StartTLS()
	t.Cleanup(h.srv.Close)
	h.host = strings.TrimPrefix(h.srv.URL, "https://")
	h.tn = &tenant{sim: sim, srv: &graphsim.Server{URL: h.srv.URL}, caFile: certtest.WriteCA(t, h.srv.Certificate())}
	return h
}

// record keeps the Host and, for a $batch, its sub-requests.
func (h *hostile) record(r *http.Request, body []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.hosts[r.Host]++
	if r.URL.Path != "/v1.0/$batch" {
		return
	}
	var b struct {
		Requests []struct{ Method, URL string } `json:"requests"`
	}
	if json.Unmarshal(body, &b) == nil {
		for _, s := range b.Requests {
			h.subreqs = append(h.subreqs, s.Method+" "+s.URL)
		}
	}
}

// tenantAnswer is the tenant's own answer to r.
func (h *hostile) tenantAnswer(r *http.Request, body []byte) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	h.tn.sim.Handler().ServeHTTP(rec, r2)
	return rec
}

// forward answers r as the tenant does.
func (h *hostile) forward(w http.ResponseWriter, r *http.Request, body []byte) {
	rec := h.tenantAnswer(r, body)
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

// isWrite reports whether a $batch body holds a password reset.
func isWrite(r *http.Request, body []byte) bool {
	return r.URL.Path == "/v1.0/$batch" && bytes.Contains(body, []byte(`"PATCH"`))
}

// isLookup reports whether a $batch body holds user lookups.
func isLookup(r *http.Request, body []byte) bool {
	return r.URL.Path == "/v1.0/$batch" && bytes.Contains(body, []byte(`"GET"`))
}

// isTokenRequest reports whether r asks the token endpoint for a token.
func isTokenRequest(r *http.Request) bool {
	return strings.HasSuffix(r.URL.Path, "/oauth2/v2.0/token")
}

// batchItem is one sub-response as the hostile server rewrites it.
type batchItem = map[string]any

// rewriteBatch answers a $batch with the tenant's answer passed through
// change.
func (h *hostile) rewriteBatch(w http.ResponseWriter, r *http.Request, body []byte, change func([]batchItem) []batchItem) {
	rec := h.tenantAnswer(r, body)
	var ans struct {
		Responses []batchItem `json:"responses"`
	}
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &ans) != nil {
		h.forward(w, r, body)
		return
	}
	out, _ := json.Marshal(map[string]any{"responses": change(ans.Responses)})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

// hostileOutcome is what a run against a hostile server left.
type hostileOutcome struct {
	res                   runResult
	results, secrets, log string // paths
	peakHeap              uint64
}

// runHostile runs a reset of csv against h with a deadline, sampling the
// heap in use while it runs.
func runHostile(t *testing.T, h *hostile, csv string, extra ...string) hostileOutcome {
	t.Helper()
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", csv)
	o := hostileOutcome{results: filepath.Join(dir, "results.csv"), secrets: filepath.Join(dir, "secrets.csv"), log: filepath.Join(dir, "run.log")}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	stop := watchHeap()
	args := append([]string{"reset", "-i", in, "-o", o.results, "--secrets", o.secrets, "--log-file", o.log,
		"--yes", "--quiet", "--request-timeout", "5s"}, h.tn.authArgs()...)
	o.res = runCLI(t, ctx, h.tn.getenv(h.env), append(args, extra...)...)
	o.peakHeap = stop()
	if ctx.Err() != nil {
		t.Errorf("the run was still going after 90 s (exit %d): a hostile answer stalled it", o.res.code)
	}
	return o
}

// watchHeap samples the heap in use until the returned function is
// called, which reports the largest sample.
func watchHeap() func() uint64 {
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	var peak uint64
	read := func() {
		metrics.Read(sample)
		peak = max(peak, sample[0].Value.Uint64())
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			read()
			select {
			case <-tick.C:
			case <-done:
				return
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-finished
		read()
		return peak
	}
}

// check asserts what every hostile run must end with: exit code want; one
// result per input row when rows > 0 (none at all when rows is 0: the run
// stopped before reading its input); no secret in stdout, stderr, the log
// or the results; no connection but to h; bounded memory.
func (h *hostile) check(t *testing.T, o hostileOutcome, want, rows int, secrets ...string) map[int]report.Result {
	t.Helper()
	secrets = h.secrets(t, o, secrets)
	if o.res.code != want {
		t.Errorf("exit code %d, want %d; stderr:\n%.2000s", o.res.code, want, redact(o.res.stderr, secrets))
	}
	var results map[int]report.Result
	if rows > 0 {
		results = readResults(t, o.results)
		if len(results) != rows {
			t.Errorf("results: %d rows, want %d (one per input row)", len(results), rows)
		}
	} else if _, err := os.Stat(o.results); err == nil {
		results = readResults(t, o.results)
		if len(results) != 0 {
			t.Errorf("results: %d rows of a run that could not sign in", len(results))
		}
	}
	outputs := map[string]string{"stdout": o.res.stdout, "stderr": o.res.stderr}
	for name, path := range map[string]string{"log file": o.log, "results file": o.results} {
		if b, err := os.ReadFile(path); err == nil {
			outputs[name] = string(b)
		}
	}
	for name, out := range outputs {
		for _, s := range secrets {
			if s != "" && strings.Contains(out, s) {
				t.Errorf("%s contains a secret (a password, the client secret or an access token)", name)
				break
			}
		}
	}
	// What "no request to any other host" can check from here: the one
	// other address the hostile server ever names (where its redirects
	// point) got no connection at all, and every request the hostile
	// server got named the configured host. A connection to some third
	// address would not be seen; no answer here names one.
	if n := h.elsewhere.conns.Load(); n != 0 {
		t.Errorf("%d connections to the address a redirect pointed to: a redirect was followed", n)
	}
	h.mu.Lock()
	for host := range h.hosts {
		if host != h.host {
			t.Errorf("a request naming host %q, not the configured %q", host, h.host)
		}
	}
	h.mu.Unlock()
	if o.peakHeap > maxHostileHeap {
		t.Errorf("peak heap %d MB, want under %d MB", o.peakHeap>>20, maxHostileHeap>>20)
	}
	t.Logf("peak heap in use: %.1f MB", float64(o.peakHeap)/(1<<20))
	return results
}

// secrets returns extra with every secret of the run: the client secret,
// the hostile token, the tokens the tenant issued, the passwords it was
// given and those of the secrets file.
func (h *hostile) secrets(t *testing.T, o hostileOutcome, extra []string) []string {
	t.Helper()
	s := append(extra, testSecret, hostileToken)
	s = append(s, h.tn.sim.IssuedTokens()...)
	for _, c := range h.tn.sim.Changes() {
		s = append(s, c.Password)
	}
	if _, err := os.Stat(o.secrets); err == nil {
		for _, pw := range readSecrets(t, o.secrets) {
			s = append(s, pw)
		}
	}
	return s
}

// redact replaces every secret in out, so that a failing test can show
// what the run printed without printing a secret itself.
func redact(out string, secrets []string) string {
	for _, s := range secrets {
		if s != "" {
			out = strings.ReplaceAll(out, s, "[SECRET]")
		}
	}
	return out
}

// runFailing runs a reset of the rows of csv with two attempts each and
// no preflight, expecting rows to fail, and returns the results and the
// passwords of the secrets file.
func (h *hostile) runFailing(t *testing.T, csv string, rows int) (map[int]report.Result, map[string]string) {
	t.Helper()
	o := runHostile(t, h, csv, "--preflight=false", "--max-attempts", "2")
	return h.check(t, o, exitRowsFailed, rows), readSecrets(t, o.secrets)
}

// hostileRows is an input of n members of a tenant of n+5 users.
func hostileRows(n int) ([]graphsim.User, string) {
	users := graphsim.GenerateUsers(n+5, testDomain)
	var b strings.Builder
	b.WriteString("UserPrincipalName\n")
	for _, u := range users[:n] {
		b.WriteString(u.UPN + "\n")
	}
	return users, b.String()
}

// TestHostileRedirects: Graph answering a $batch, or the token endpoint
// answering the client-secret POST, with a redirect to another port (over
// TLS or plain http) is never followed: nothing reaches the other address,
// and the run ends with a clear error.
func TestHostileRedirects(t *testing.T) {
	for _, tc := range []struct {
		name   string
		token  bool   // the token endpoint redirects, else Graph
		scheme string // of the Location
		status int
	}{
		{"graph 307 to another port", false, "https", http.StatusTemporaryRedirect},
		{"graph 308 to plain http", false, "http", http.StatusPermanentRedirect},
		{"token endpoint 307", true, "https", http.StatusTemporaryRedirect},
		{"token endpoint 302 to plain http", true, "http", http.StatusFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			users, csv := hostileRows(30)
			h := startHostile(t, graphsim.Options{}, users, func(h *hostile, w http.ResponseWriter, r *http.Request, body []byte) bool {
				if tc.token != isTokenRequest(r) || !tc.token && r.URL.Path != "/v1.0/$batch" {
					return false
				}
				w.Header().Set("Location", tc.scheme+"://"+h.elsewhere.ln.Addr().String()+r.URL.Path)
				w.WriteHeader(tc.status)
				return true
			})
			o := runHostile(t, h, csv)
			if tc.token {
				h.check(t, o, exitFatal, 0)
				stderr := redact(o.res.stderr, h.secrets(t, o, nil))
				t.Logf("stderr: %s", stderr)
				if !strings.Contains(stderr, "redirect") {
					t.Errorf("stderr does not say the token endpoint redirected:\n%.2000s", stderr)
				}
			} else {
				results := h.check(t, o, exitRowsFailed, 30)
				wrong := 0
				for line, r := range results {
					if r.Outcome != report.Failed || r.Reason != "redirected" || !strings.Contains(r.ErrorMessage, "redirect") || r.Attempts != 1 {
						if wrong++; wrong <= 3 {
							t.Errorf("line %d: %s/%s after %d attempts %q, want failed/redirected after 1", line, r.Outcome, r.Reason, r.Attempts, r.ErrorMessage)
						}
					}
				}
				if wrong > 3 {
					t.Errorf("... and %d more rows", wrong-3)
				}
			}
			for _, u := range h.tn.sim.Users() {
				if u.PasswordSets != 0 {
					t.Errorf("%s was changed", u.UPN)
				}
			}
		})
	}
}

// TestHostileTokenEndpoint: a token endpoint that truncates its answer
// after the token, echoes the form with the client secret (as a body or
// inside its error description), or streams half a gigabyte: the run ends
// with a one-line authentication error that quotes none of it, within
// bounded memory.
func TestHostileTokenEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(w http.ResponseWriter, form []byte)
	}{
		{"truncated token response", func(w http.ResponseWriter, _ []byte) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"`+hostileToken)
		}},
		{"form echoed as the body", func(w http.ResponseWriter, form []byte) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write(form)
		}},
		{"form echoed in the error description", func(w http.ResponseWriter, form []byte) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_ = json.NewEncoder(w).Encode(map[string]any{
				"error": "invalid_client", "error_codes": []int{7000215},
				"error_description": "AADSTS7000215: Invalid client secret provided. Request: " + string(form) + " token " + hostileToken,
			})
		}},
		{"error code that is the secret", func(w http.ResponseWriter, form []byte) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]any{"error": testSecret, "error_description": "AADSTS" + testSecret})
		}},
		{"half a gigabyte", func(w http.ResponseWriter, _ []byte) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"token_type":"Bearer","expires_in":3599,"access_token":"`+hostileToken)
			chunk := bytes.Repeat([]byte("A"), 1<<20)
			for range 512 {
				if _, err := w.Write(chunk); err != nil {
					return // the client hung up, as it should
				}
			}
			_, _ = io.WriteString(w, `"}`)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			users, csv := hostileRows(5)
			h := startHostile(t, graphsim.Options{}, users, func(h *hostile, w http.ResponseWriter, r *http.Request, body []byte) bool {
				if !isTokenRequest(r) {
					return false
				}
				tc.answer(w, body)
				return true
			})
			o := runHostile(t, h, csv)
			h.check(t, o, exitFatal, 0)
			stderr := redact(o.res.stderr, h.secrets(t, o, nil))
			t.Logf("stderr: %s", stderr)
			if !strings.Contains(stderr, "authentication") {
				t.Errorf("stderr does not say that authentication failed:\n%.2000s", stderr)
			}
			if n := strings.Count(strings.TrimSpace(stderr), "\n"); n > 3 || len(stderr) > 1000 {
				t.Errorf("stderr is %d lines, %d bytes, want a short error:\n%.2000s", n+1, len(stderr), stderr)
			}
		})
	}
}

// TestHostileCredentialEndpoints: the managed-identity endpoint (App
// Service's, named by IDENTITY_ENDPOINT) and the token endpoint of a
// workload identity, each answering 200 with a body that repeats what it
// was sent (the identity header, the service account token) and a token,
// which MSAL cannot read: the run ends with a one-line authentication
// error that quotes none of it.
func TestHostileCredentialEndpoints(t *testing.T) {
	const identityHeader = "IDENTITY-HEADER-Zq81xLmP0w"
	const saToken = "eyJserviceaccount.SA-TOKEN-Zq81xLmP0w.sig"
	echo := func(w http.ResponseWriter, sent string) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"access_token": hostileToken, "expires_in": sent + " " + hostileToken})
	}
	for _, tc := range []struct {
		name    string
		auth    string
		setup   func(t *testing.T, h *hostile)
		answers func(r *http.Request, body []byte) (string, bool) // what to echo, or false
	}{
		{"managed identity", "managed-identity", func(t *testing.T, h *hostile) {
			for _, v := range []string{"MSI_ENDPOINT", "IMDS_ENDPOINT", "IDENTITY_SERVER_THUMBPRINT", "AZURE_TOKEN_CREDENTIALS"} {
				t.Setenv(v, "")
				_ = os.Unsetenv(v)
			}
			t.Setenv("IDENTITY_ENDPOINT", h.srv.URL+"/msi/token")
			t.Setenv("IDENTITY_HEADER", identityHeader)
		}, func(r *http.Request, _ []byte) (string, bool) {
			return r.URL.RawQuery + " " + r.Header.Get("X-IDENTITY-HEADER"), r.URL.Path == "/msi/token"
		}},
		{"workload identity", "workload-identity", func(t *testing.T, h *hostile) {
			file := filepath.Join(t.TempDir(), "token")
			if err := os.WriteFile(file, []byte(saToken), 0o600); err != nil {
				t.Fatal(err)
			}
			h.env = map[string]string{"AZURE_FEDERATED_TOKEN_FILE": file}
		}, func(r *http.Request, body []byte) (string, bool) {
			return string(body), isTokenRequest(r)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			users, csv := hostileRows(5)
			h := startHostile(t, graphsim.Options{}, users, func(h *hostile, w http.ResponseWriter, r *http.Request, body []byte) bool {
				sent, ok := tc.answers(r, body)
				if ok {
					echo(w, sent)
				}
				return ok
			})
			tc.setup(t, h)
			o := runHostile(t, h, csv, "--auth", tc.auth)
			h.check(t, o, exitFatal, 0, identityHeader, saToken, "SA-TOKEN-Zq81xLmP0w")
			stderr := redact(o.res.stderr, h.secrets(t, o, []string{identityHeader, saToken}))
			t.Logf("stderr: %s", stderr)
			if !strings.Contains(stderr, "authentication") || !strings.Contains(stderr, "could not be read (HTTP 200)") {
				t.Errorf("stderr does not say that authentication failed on an answer that could not be read:\n%.2000s", stderr)
			}
			if n := strings.Count(strings.TrimSpace(stderr), "\n"); n > 3 || len(stderr) > 1000 {
				t.Errorf("stderr is %d lines, %d bytes, want a short error:\n%.2000s", n+1, len(stderr), stderr)
			}
		})
	}
}

// TestHostileContradictoryAnswers: a $batch answer that gives one request
// id twice (a refusal and a success, in either order), an id that was not
// sent, or leaves one out, is malformed as a whole: its rows are sent
// again, a password that may be in force stays in the secrets file, and a
// success is never taken from a contradictory answer.
func TestHostileContradictoryAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func([]batchItem) []batchItem
	}{
		{"refusal then success, success then refusal", func(items []batchItem) []batchItem {
			var out []batchItem
			for _, it := range items {
				status, _ := it["status"].(float64)
				switch {
				case status == http.StatusNoContent:
					out = append(out, batchItem{"id": it["id"], "status": 400, "body": map[string]any{"error": map[string]any{
						"code": "Request_BadRequest", "message": "The specified password does not comply with password complexity requirements. Please provide a different password."}}})
				case status == http.StatusForbidden:
					out = append(out, batchItem{"id": it["id"], "status": 204})
				}
				out = append(out, it)
			}
			return out
		}},
		{"an id not sent", func(items []batchItem) []batchItem {
			for _, it := range items {
				if it["status"].(float64) == http.StatusForbidden {
					it["id"] = "999"
				}
			}
			return append(items, batchItem{"id": "1000", "status": 204})
		}},
		{"an id left out", func(items []batchItem) []batchItem {
			var out []batchItem
			for _, it := range items {
				if it["status"].(float64) != http.StatusForbidden {
					out = append(out, it)
				}
			}
			return out
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			users, csv, rows := planRows(t, 60)
			withoutPreflight(rows) // Graph refuses the synced user's reset, the guest is reset
			var tampered atomic.Int64
			h := startHostile(t, graphsim.Options{}, users, func(h *hostile, w http.ResponseWriter, r *http.Request, body []byte) bool {
				if !isWrite(r, body) || tampered.Add(1) > 3 {
					return false
				}
				h.rewriteBatch(w, r, body, tc.change)
				return true
			})
			o := runHostile(t, h, csv, "--preflight=false")
			h.check(t, o, exitRowsFailed, len(rows))
			checkRun(t, h.tn, rows, o.results, o.secrets)
		})
	}
}

// TestHostileOversizedAnswer: answers to every reset that Graph would
// never send — 60 MB with 2.3 million unknown ids (beyond the bound on an
// answer), or under the bound but with thousands of items more than the
// requests, read by the fast scanner or, with keys in another case, by
// encoding/json — are refused as malformed, on both readings, without
// reading them whole: the heap stays small, and each row ends failed
// saying why, its password kept (it may have been set).
func TestHostileOversizedAnswer(t *testing.T) {
	for _, tc := range []struct {
		name  string
		items int    // extra items
		item  string // format of one, given its number
		want  string // in each row's error message
	}{
		{"60 MB", 2_300_000, `,{"id":"u%07d","status":204}`, "larger than"},
		{"under the bound, many items", 15_000, `,{"id":"u%07d","status":204}`, "more answers than the"},
		{"under the bound, many items in another case", 15_000, `,{"ID":"u%07d","status":204}`, "more answers than the"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			users, csv := hostileRows(40)
			h := startHostile(t, graphsim.Options{}, users, func(h *hostile, w http.ResponseWriter, r *http.Request, body []byte) bool {
				if !isWrite(r, body) {
					return false
				}
				rec := h.tenantAnswer(r, body)
				real := bytes.TrimSuffix(bytes.TrimSpace(rec.Body.Bytes()), []byte("]}"))
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(real)
				var chunk []byte
				for i := 0; i < 1000; i++ {
					chunk = fmt.Appendf(chunk, tc.item, i)
				}
				for range tc.items / 1000 {
					if _, err := w.Write(chunk); err != nil {
						return true
					}
				}
				_, _ = io.WriteString(w, "]}")
				return true
			})
			results, secrets := h.runFailing(t, csv, 40)
			for line, r := range results {
				u, _ := h.tn.sim.User(r.User)
				if r.Outcome != report.Failed || !strings.Contains(r.ErrorMessage, tc.want) || u.Password != secrets[strings.ToLower(r.User)] {
					t.Errorf("line %d: %s/%s %q, want failed saying %q, with the password in force kept", line, r.Outcome, r.Reason, r.ErrorMessage, tc.want)
				}
			}
		})
	}
}

// TestHostileAnswerMemory: at the highest concurrency, every reset is
// answered with an answer as large as the bound allows that the fast
// scanner refuses (a key in another case, and a hundred thousand
// headers): 64 such answers read at once keep the heap well under the
// bound of the suite.
func TestHostileAnswerMemory(t *testing.T) {
	users, csv := hostileRows(80)
	var answer []byte
	answer = append(answer, `{"responses":[{"ID":"1","status":204,"headers":{`...)
	for i := 0; len(answer) < 512<<10-64; i++ { // the bound on an answer (pkg/graph maxResponseBytes)
		answer = fmt.Appendf(answer, `"%d":1,`, i)
	}
	answer = append(answer, `"x":1}}]}`...)
	var writes atomic.Int64
	h := startHostile(t, graphsim.Options{}, users, func(h *hostile, w http.ResponseWriter, r *http.Request, body []byte) bool {
		if !isWrite(r, body) {
			return false
		}
		writes.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(answer)
		return true
	})
	o := runHostile(t, h, csv, "--preflight=false", "--max-attempts", "2", "--concurrency", "64", "--batch-size", "1", "--max-rate", "10000")
	results := h.check(t, o, exitRowsFailed, 80)
	for line, r := range results {
		if r.Outcome != report.Failed || !strings.Contains(r.ErrorMessage, "malformed") {
			t.Errorf("line %d: %s/%s %q, want failed on a malformed answer", line, r.Outcome, r.Reason, r.ErrorMessage)
		}
	}
	if n := writes.Load(); n < 80 {
		t.Errorf("%d answers sent, want one per row at least", n)
	}
	if o.peakHeap > 128<<20 {
		t.Errorf("peak heap %d MB, want under 128 MB", o.peakHeap>>20)
	}
}

// writeClock records when the hostile server received each password
// reset, and when it answered one with a Retry-After.
type writeClock struct {
	mu        sync.Mutex
	writes    []time.Time
	throttles []time.Time
}

func (c *writeClock) write() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes = append(c.writes, time.Now())
	return len(c.writes)
}

func (c *writeClock) throttled() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.throttles = append(c.throttles, time.Now())
}

// checkPaused asserts, from the server's record, that after each
// Retry-After the whole pool paused for wait: no reset reached the server
// from a moment after the answer (what was already on its way may still
// arrive) until wait had passed, and one came after.
func (c *writeClock) checkPaused(t *testing.T, wait time.Duration) {
	t.Helper()
	const inFlight, early = 300 * time.Millisecond, 100 * time.Millisecond
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.throttles) == 0 {
		t.Fatal("no answer with a Retry-After was sent")
	}
	for i, th := range c.throttles {
		after := false
		for _, w := range c.writes {
			if since := w.Sub(th); since > inFlight && since < wait-early {
				t.Errorf("Retry-After %d (%v): a reset arrived %v after it", i+1, wait, since.Round(time.Millisecond))
			}
			after = after || w.Sub(th) >= wait-early
		}
		if !after {
			t.Errorf("Retry-After %d: no reset after the wait", i+1)
		}
	}
}

// TestHostileRetryAfter: Retry-After values of ten years, or a date in
// the year 9999, on the $batch POST or inside it, are cut to the longest
// wait (MaxRetryAfter, lowered here so that the test does not wait five
// minutes): every worker waits that long and no longer, each is an
// attempt, and the rows then succeed. A Retry-After within the cap is
// honoured as given, by every worker.
func TestHostileRetryAfter(t *testing.T) {
	const capped = 1500 * time.Millisecond
	for _, tc := range []struct {
		name string
		cap  bool // lower the cap to capped
		wait time.Duration
		// answer throttles write n, or returns false
		answer func(h *hostile, n int, w http.ResponseWriter, r *http.Request, body []byte) bool
	}{
		{"absurd values, capped", true, capped, func(h *hostile, n int, w http.ResponseWriter, r *http.Request, body []byte) bool {
			switch n {
			case 1:
				w.Header().Set("Retry-After", "315360000")
				w.WriteHeader(http.StatusTooManyRequests)
				_, _ = io.WriteString(w, `{"error":{"code":"TooManyRequests","message":"Please retry again later."}}`)
			case 4:
				w.Header().Set("Retry-After", "Fri, 31 Dec 9999 23:59:59 GMT")
				w.WriteHeader(http.StatusServiceUnavailable)
			case 8:
				h.rewriteBatch(w, r, body, func(items []batchItem) []batchItem {
					for i := range items {
						items[i] = batchItem{"id": items[i]["id"], "status": 429,
							"headers": map[string]any{"Retry-After": []any{"315360000", "Fri, 31 Dec 9999 23:59:59 GMT"}[i%2]},
							"body":    map[string]any{"error": map[string]any{"code": "TooManyRequests", "message": "Please retry again later."}}}
					}
					return items
				})
			default:
				return false
			}
			return true
		}},
		{"a real throttle, honoured", false, 2 * time.Second, func(_ *hostile, n int, w http.ResponseWriter, _ *http.Request, _ []byte) bool {
			if n != 2 {
				return false
			}
			w.Header().Set("Retry-After", "2")
			w.WriteHeader(http.StatusTooManyRequests)
			_, _ = io.WriteString(w, `{"error":{"code":"TooManyRequests","message":"Please retry again later."}}`)
			return true
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.cap {
				t.Cleanup(graph.SetRetryAfterCapForTesting(capped))
			}
			users, csv := hostileRows(40)
			var clock writeClock
			h := startHostile(t, graphsim.Options{}, users, func(h *hostile, w http.ResponseWriter, r *http.Request, body []byte) bool {
				if !isWrite(r, body) {
					return false
				}
				if !tc.answer(h, clock.write(), w, r, body) {
					return false
				}
				clock.throttled()
				return true
			})
			o := runHostile(t, h, csv, "--preflight=false", "--max-attempts", "8", "--batch-size", "5", "--concurrency", "4")
			results := h.check(t, o, exitOK, 40)
			retried := 0
			for line, r := range results {
				if r.Outcome != report.Succeeded {
					t.Errorf("line %d: %s/%s after %d attempts, want succeeded after the throttled attempts", line, r.Outcome, r.Reason, r.Attempts)
				}
				if r.Attempts >= 2 {
					retried++
				}
			}
			if retried < 5 {
				t.Errorf("%d rows took more than one attempt, want at least the 5 of each throttled batch", retried)
			}
			clock.checkPaused(t, tc.wait)
		})
	}
}

// TestHostileObjectIDs: a lookup answer whose object id is not a GUID
// ("..", a path, an id with a query) ends that row failed, and nothing is
// sent for it.
func TestHostileObjectIDs(t *testing.T) {
	users, csv := hostileRows(10)
	bad := map[string]string{ // UPN -> the id the lookup answers
		strings.ToLower(users[1].UPN): "..",
		strings.ToLower(users[4].UPN): "../../directory/deletedItems",
		strings.ToLower(users[7].UPN): users[7].ID + "?$select=id",
	}
	h := startHostile(t, graphsim.Options{}, users, func(h *hostile, w http.ResponseWriter, r *http.Request, body []byte) bool {
		if !isLookup(r, body) {
			return false
		}
		h.rewriteBatch(w, r, body, func(items []batchItem) []batchItem {
			for _, it := range items {
				b, _ := it["body"].(map[string]any)
				upn, _ := b["userPrincipalName"].(string)
				if id, ok := bad[strings.ToLower(upn)]; ok {
					b["id"] = id
				}
			}
			return items
		})
		return true
	})
	o := runHostile(t, h, csv)
	results := h.check(t, o, exitRowsFailed, 10)
	for line, r := range results {
		_, isBad := bad[strings.ToLower(r.User)]
		switch {
		case isBad && (r.Outcome != report.Failed || r.Reason != "invalid_object_id"):
			t.Errorf("line %d (%s): %s/%s %q, want failed/invalid_object_id", line, r.User, r.Outcome, r.Reason, r.ErrorMessage)
		case !isBad && r.Outcome != report.Succeeded:
			t.Errorf("line %d (%s): %s/%s, want succeeded", line, r.User, r.Outcome, r.Reason)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	patches := 0
	for _, s := range h.subreqs {
		id, isPatch := strings.CutPrefix(s, "PATCH /users/")
		if !isPatch {
			continue
		}
		patches++
		if _, known := h.tn.sim.User(id); !known || len(id) != 36 {
			t.Errorf("sent %s: not the object id of a user", s)
		}
	}
	if patches != 10-len(bad) {
		t.Errorf("%d resets sent, want %d (one per user with a GUID)", patches, 10-len(bad))
	}
}

// TestHostileContradictoryAnswersToTheEnd: when every answer gives each id
// twice (a refusal, then the success Graph really answered), the rows end
// failed once their attempts are spent, saying the password may have been
// set, and the secrets file keeps each password, which is the one in force.
func TestHostileContradictoryAnswersToTheEnd(t *testing.T) {
	users, csv := hostileRows(25)
	h := startHostile(t, graphsim.Options{}, users, func(h *hostile, w http.ResponseWriter, r *http.Request, body []byte) bool {
		if !isWrite(r, body) {
			return false
		}
		h.rewriteBatch(w, r, body, func(items []batchItem) []batchItem {
			var out []batchItem
			for _, it := range items {
				out = append(out, batchItem{"id": it["id"], "status": 400, "body": map[string]any{"error": map[string]any{
					"code": "Request_BadRequest", "message": "The specified password does not comply with password complexity requirements. Please provide a different password."}}}, it)
			}
			return out
		})
		return true
	})
	results, secrets := h.runFailing(t, csv, 25)
	for line, r := range results {
		u, _ := h.tn.sim.User(r.User)
		pw, kept := secrets[strings.ToLower(r.User)]
		switch {
		case r.Outcome != report.Failed || r.Attempts != 2 || !strings.Contains(r.ErrorMessage, "may have been set"):
			t.Errorf("line %d: %s/%s after %d attempts %q, want failed after 2, saying the password may have been set",
				line, r.Outcome, r.Reason, r.Attempts, r.ErrorMessage)
		case !kept || u.Password != pw:
			t.Errorf("line %d: the secrets file lost the password in force (kept %t)", line, kept)
		}
	}
}

// TestHostileErrorMessageControls: Graph refusing resets with an error
// message holding terminal escape sequences (a window title set with
// ESC ] 0 ; … BEL, a screen cleared with ESC [ 2 J). The message reaches the
// results file and the results on standard output (-o -) only with those
// characters written visibly, and standard error and the log file never
// hold them raw.
func TestHostileErrorMessageControls(t *testing.T) {
	const message = "Refused.\x1b]0;pwned title\x07\x1b[2J\u009b31m done"
	const visible = `Refused.\x1b]0;pwned title\x07\x1b[2J\u009b31m done`
	users, csv := hostileRows(5)
	h := startHostile(t, graphsim.Options{}, users, func(h *hostile, w http.ResponseWriter, r *http.Request, body []byte) bool {
		if !isWrite(r, body) {
			return false
		}
		h.rewriteBatch(w, r, body, func(items []batchItem) []batchItem {
			for _, it := range items {
				it["status"] = 400
				it["body"] = map[string]any{"error": map[string]any{"code": "Request_BadRequest", "message": message}}
			}
			return items
		})
		return true
	})
	raw := func(name, out string) {
		t.Helper()
		if i := strings.IndexAny(out, "\x1b\x07\u009b"); i >= 0 {
			t.Errorf("%s holds a raw control character: %q", name, out[max(i-40, 0):min(i+40, len(out))])
		}
	}
	o := runHostile(t, h, csv)
	results := h.check(t, o, exitRowsFailed, 5)
	for line, r := range results {
		if r.Outcome != report.Failed || r.ErrorMessage != visible {
			t.Errorf("line %d: %s/%s %q, want failed with the message %q", line, r.Outcome, r.Reason, r.ErrorMessage, visible)
		}
	}
	raw("the results file", readFile(t, o.results))
	raw("standard error", o.res.stderr)
	raw("the log file", readFile(t, o.log))
	// The same results on standard output.
	stdout := runHostile(t, h, csv, "-o", "-")
	raw("standard output", stdout.res.stdout)
	if n := strings.Count(stdout.res.stdout, visible); n != 5 {
		t.Errorf("standard output holds the message, made visible, %d times, want 5:\n%s", n, stdout.res.stdout)
	}
}
