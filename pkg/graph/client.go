package graph

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
)

// MaxBatchSize is the most requests Graph accepts in one $batch
// (https://learn.microsoft.com/graph/json-batching).
const MaxBatchSize = 20

const (
	// defaultTimeout bounds one HTTP attempt, like the Graph SDKs' 100 s.
	defaultTimeout = 100 * time.Second
	// maxResponseBytes bounds what is read of one answer. Graph's answer to
	// a $batch of 20 requests is tens of kilobytes at most: 20 error
	// envelopes (under a kilobyte each, with five headers) or 20 users read
	// with $select (a few hundred bytes each), some 40 KiB in all. Half a
	// megabyte is ten times that and more, and keeps a run of 64 batches in
	// flight (--concurrency 64) to 32 MiB of answers, however hostile the
	// server (TestHostileAnswerMemory measured a peak heap of 126-134 MB
	// with a bound of 1 MiB, and of 4 MiB reached gigabytes).
	maxResponseBytes = 512 << 10
	// maxItemHeaders bounds the headers of one sub-response: Graph sends
	// about five (Cache-Control, Content-Type, Location, Retry-After, ...).
	maxItemHeaders = 64
	// maxItemBodyBytes bounds the body of one sub-response: an error
	// envelope is under a kilobyte, a user read with $select a few hundred
	// bytes.
	maxItemBodyBytes = 64 << 10
	// maxItemBytes bounds one sub-response as written: its body, and its
	// headers at a generous 256 bytes each.
	maxItemBytes = maxItemBodyBytes + maxItemHeaders*256
	// defaultUserAgent is sent when ClientOptions.UserAgent is empty.
	defaultUserAgent = "bulkreset"
)

// ClientOptions configures NewClient.
type ClientOptions struct {
	// GraphURL is the Graph root, e.g. https://graph.microsoft.com; the
	// client appends /v1.0. It must pass CheckEndpoint.
	GraphURL string
	// Credential provides access tokens. Required.
	Credential azcore.TokenCredential
	// Scope is the token scope; "" means GraphURL + "/.default".
	Scope string
	// HTTPClient sends the requests; nil means a client tuned for many
	// concurrent batches to one host (keep-alives, 64 idle connections per
	// host, TLS 1.2 or later, proxy from the environment as net/http does).
	// It is used through a copy that never follows a redirect.
	HTTPClient *http.Client
	// Timeout bounds each HTTP attempt, including reading the answer;
	// 0 means 100 s.
	Timeout time.Duration
	// Priority is "", Low, Normal or High: the x-ms-throttle-priority header
	// (https://learn.microsoft.com/graph/throttling), sent on the $batch POST
	// and on each request inside it.
	Priority string
	// UserAgent is the User-Agent header; "" means "bulkreset".
	UserAgent string
	// Now returns the current time, for Retry-After dates and token expiry;
	// nil means time.Now.
	Now func() time.Time
}

// Client sends requests to Microsoft Graph. It is safe for concurrent use.
type Client struct {
	base      string // root + "/v1.0", no trailing slash
	http      *http.Client
	tokens    *tokenSource
	timeout   time.Duration
	priority  string
	userAgent string
	now       func() time.Time
}

// NewClient checks opts and returns a Client.
func NewClient(opts ClientOptions) (*Client, error) {
	u, err := CheckEndpoint(opts.GraphURL)
	if err != nil {
		return nil, fmt.Errorf("graph: %w", err)
	}
	if opts.Credential == nil {
		return nil, errors.New("graph: ClientOptions.Credential is required")
	}
	root := u.String()
	scope := opts.Scope
	if scope == "" {
		scope = root + "/.default"
	}
	var priority string
	switch strings.ToLower(opts.Priority) {
	case "":
	case "low":
		priority = "Low"
	case "normal":
		priority = "Normal"
	case "high":
		priority = "High"
	default:
		return nil, fmt.Errorf("graph: throttle priority %q: want Low, Normal or High", opts.Priority)
	}
	c := &Client{
		base:      root + "/v1.0",
		http:      opts.HTTPClient,
		timeout:   opts.Timeout,
		priority:  priority,
		userAgent: opts.UserAgent,
		now:       opts.Now,
	}
	if c.http == nil {
		c.http = defaultHTTPClient()
	}
	c.http = withoutRedirects(c.http) // see ErrRedirect
	if c.timeout <= 0 {
		c.timeout = defaultTimeout
	}
	if c.userAgent == "" {
		c.userAgent = defaultUserAgent
	}
	if c.now == nil {
		c.now = time.Now
	}
	c.tokens = newTokenSource(opts.Credential, scope, c.now)
	return c, nil
}

// defaultHTTPClient returns a client for many concurrent requests to one
// host. Timeouts are per attempt (ClientOptions.Timeout), not here.
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 128
	t.MaxIdleConnsPerHost = 64
	t.IdleConnTimeout = 90 * time.Second
	t.ForceAttemptHTTP2 = true
	t.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: t}
}

// BatchResult is the outcome of a $batch whose POST was answered 200.
type BatchResult struct {
	// Responses holds the sub-responses by request id: exactly one for
	// each request sent (an answer that is not is ErrMalformedResponse).
	Responses map[string]Response
	// RequestID is Graph's request-id header of the $batch response.
	RequestID string
	// ClientRequestID is the client-request-id sent with the $batch.
	ClientRequestID string
}

// Response is one answer: a sub-response of a batch, or the answer to Do.
type Response struct {
	// ID is the id of the request answered.
	ID string
	// Status is the HTTP status code.
	Status int
	// Headers holds the response headers (one value each).
	Headers map[string]string
	// Body is the JSON body; nil when there is none (e.g. 204).
	Body json.RawMessage
}

// Header returns the value of the header name, matched without regard to
// case (batch sub-responses use any case), or "".
func (r Response) Header(name string) string {
	if v, ok := r.Headers[name]; ok {
		return v
	}
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// Err returns nil for a 2xx response, otherwise the *Error read from the
// body's error envelope and the headers (request-id, Date, Retry-After,
// which is resolved against now).
func (r Response) Err(now time.Time) *Error {
	if r.Status >= 200 && r.Status <= 299 {
		return nil
	}
	return newError(r.Status, r.Header, r.Body, now)
}

// wireRequest is one request of the $batch body.
type wireRequest struct {
	ID      string            `json:"id"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// Batch sends reqs (1 to 20, unique non-empty ids) as one
// POST {root}/v1.0/$batch (https://learn.microsoft.com/graph/json-batching)
// and matches the answers by id. Each request with a body gets
// "Content-Type: application/json" unless it sets one.
//
// It returns an *Error when the POST is not answered 200 (a redirect, which
// is never followed, is an *Error that wraps ErrRedirect), an error wrapping
// ErrMalformedResponse when the answer cannot be read, ErrInvalidRequest
// when reqs are refused before sending, ErrAuthentication when no token
// could be had, and otherwise a wrapped network error (see IsTransient) or
// the caller's context error.
//
// A 401 is answered by renewing the token once and resending once. When
// Graph's 401 carries a Continuous Access Evaluation claims challenge, the
// claims go to the credential, which then skips its cache; otherwise
// azidentity usually hands back the same cached token, so the resend only
// cures a transient 401 and a second 401 comes back as an *Error.
func (c *Client) Batch(ctx context.Context, reqs []Request) (*BatchResult, error) {
	if len(reqs) == 0 || len(reqs) > MaxBatchSize {
		return nil, fmt.Errorf("graph: %w: a batch holds 1 to %d requests, not %d", ErrInvalidRequest, MaxBatchSize, len(reqs))
	}
	wire := struct {
		Requests []wireRequest `json:"requests"`
	}{Requests: make([]wireRequest, len(reqs))}
	seen := make(map[string]bool, len(reqs))
	for i, r := range reqs {
		if r.ID == "" {
			return nil, fmt.Errorf("graph: %w: request %d has no id", ErrInvalidRequest, i)
		}
		if seen[r.ID] {
			return nil, fmt.Errorf("graph: %w: id %q appears twice in the batch", ErrInvalidRequest, r.ID)
		}
		seen[r.ID] = true
		w, err := c.wireRequest(r)
		if err != nil {
			return nil, err
		}
		wire.Requests[i] = w
	}
	body, err := json.Marshal(wire)
	if err != nil {
		return nil, fmt.Errorf("graph: %w: the batch cannot be encoded as JSON", ErrInvalidRequest)
	}
	res, err := c.send(ctx, http.MethodPost, "/$batch", body)
	if err != nil {
		return nil, err
	}
	if res.status != http.StatusOK {
		e := newError(res.status, res.header.Get, res.body, c.now())
		e.ClientRequestID = res.clientRequestID
		return nil, e
	}
	out, err := parseBatch(res.body, reqs)
	if err != nil {
		return nil, fmt.Errorf("graph: POST $batch (request-id %s): %w", res.header.Get("request-id"), err)
	}
	out.RequestID = res.header.Get("request-id")
	out.ClientRequestID = res.clientRequestID
	return out, nil
}

// wireRequest checks r and converts it to the batch wire format.
func (c *Client) wireRequest(r Request) (wireRequest, error) {
	if r.Method == "" || !strings.HasPrefix(r.URL, "/") {
		return wireRequest{}, fmt.Errorf("graph: %w: request %q needs a method and a URL beginning with /", ErrInvalidRequest, r.ID)
	}
	w := wireRequest{ID: r.ID, Method: strings.ToUpper(r.Method), URL: r.URL}
	if len(r.Headers) > 0 || r.Body != nil || c.priority != "" {
		w.Headers = make(map[string]string, len(r.Headers)+2)
		for k, v := range r.Headers {
			w.Headers[k] = v
		}
	}
	if r.Body != nil {
		b, err := encodeBody(r)
		if err != nil {
			return wireRequest{}, err
		}
		w.Body = b
		if !hasHeader(w.Headers, "Content-Type") {
			w.Headers["Content-Type"] = "application/json"
		}
	}
	if c.priority != "" && !hasHeader(w.Headers, "x-ms-throttle-priority") {
		w.Headers["x-ms-throttle-priority"] = c.priority
	}
	return w, nil
}

// encodeBody marshals r.Body and checks that it is a JSON object. The
// error never quotes the body or encoding/json's message, which could.
func encodeBody(r Request) (json.RawMessage, error) {
	var b []byte
	var err error
	if w, ok := r.Body.(wireBody); ok {
		b, err = w.graphJSON()
	} else {
		b, err = json.Marshal(r.Body)
	}
	if err != nil {
		return nil, fmt.Errorf("graph: %w: the body of request %q (%T) cannot be encoded as JSON", ErrInvalidRequest, r.ID, r.Body)
	}
	if t := bytes.TrimLeft(b, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return nil, fmt.Errorf("graph: %w: the body of request %q (%T) is not a JSON object", ErrInvalidRequest, r.ID, r.Body)
	}
	return b, nil
}

// hasHeader reports whether h has name, without regard to case.
func hasHeader(h map[string]string, name string) bool {
	for k := range h {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// parseBatch reads a $batch answer and matches it to reqs. Graph answers
// every request of a batch exactly once
// (https://learn.microsoft.com/graph/json-batching#response-format), so an
// answer that is not a JSON object with a responses array, or whose items
// are not exactly one readable answer per request id (an id given twice, an
// id that was not sent, an id left out, an item without a valid id or
// status), is malformed as a whole: ErrMalformedResponse. Taking any item
// of a contradictory answer at its word could report a password in force as
// refused, or a refused one as set. Either reading stops at the first item
// beyond len(reqs), and at the first item beyond the bounds of one
// sub-response, so that what an answer holds costs nothing more.
func parseBatch(body []byte, reqs []Request) (*BatchResult, error) {
	items, err := decodeBatchItems(body, len(reqs))
	if err != nil {
		return nil, err
	}
	if len(items) > len(reqs) {
		return nil, fmt.Errorf("%w: more answers than the %d requests sent", ErrMalformedResponse, len(reqs))
	}
	requested := make(map[string]bool, len(reqs))
	for _, r := range reqs {
		requested[r.ID] = true
	}
	out := &BatchResult{Responses: make(map[string]Response, len(reqs))}
	for _, it := range items {
		id := it.resp.ID
		switch {
		case it.anomaly != "":
			return nil, fmt.Errorf("%w: %s", ErrMalformedResponse, it.anomaly)
		case !requested[id]:
			return nil, fmt.Errorf("%w: an answer for id %s, which was not sent", ErrMalformedResponse, quoteID(id))
		case hasResponse(out.Responses, id):
			return nil, fmt.Errorf("%w: two answers for id %s", ErrMalformedResponse, quoteID(id))
		}
		out.Responses[id] = it.resp
	}
	if missing := len(reqs) - len(out.Responses); missing > 0 {
		return nil, fmt.Errorf("%w: no answer for %d of the %d requests", ErrMalformedResponse, missing, len(reqs))
	}
	return out, nil
}

// quoteID quotes an id from an answer for an error message: escaped, and
// cut short when it is long.
func quoteID(id string) string { return quoteCut(id, 40) }

// quoteCut quotes text from an answer for an error message: escaped as a
// Go string (control characters and invalid bytes as escapes), and cut
// after most bytes, on a character boundary, when longer.
func quoteCut(text string, most int) string {
	if len(text) <= most {
		return strconv.Quote(text)
	}
	cut := most
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return strconv.Quote(text[:cut]) + "…"
}

// hasResponse reports whether m has an entry for id.
func hasResponse(m map[string]Response, id string) bool {
	_, ok := m[id]
	return ok
}

// Do sends one request outside a batch to {root}/v1.0{req.URL} and returns
// Graph's answer whatever its status: call Response.Err to classify it. The
// error is for requests refused before sending, ErrAuthentication, network
// failures (see IsTransient), ErrMalformedResponse for an answer cut off,
// and the caller's context. A 401 is handled as in Batch.
func (c *Client) Do(ctx context.Context, req Request) (Response, error) {
	if req.Method == "" || !strings.HasPrefix(req.URL, "/") {
		return Response{}, fmt.Errorf("graph: %w: request %q needs a method and a URL beginning with /", ErrInvalidRequest, req.ID)
	}
	var body []byte
	if req.Body != nil {
		b, err := encodeBody(req)
		if err != nil {
			return Response{}, err
		}
		body = b
	}
	res, err := c.sendWith(ctx, strings.ToUpper(req.Method), req.URL, body, req.Headers)
	if err != nil {
		return Response{}, err
	}
	out := Response{ID: req.ID, Status: res.status, Headers: make(map[string]string, len(res.header))}
	for k, v := range res.header {
		if len(v) > 0 {
			out.Headers[k] = v[0]
		}
	}
	if t := bytes.TrimSpace(res.body); len(t) > 0 {
		out.Body = json.RawMessage(res.body)
	}
	return out, nil
}

// httpResult is a fully read HTTP answer.
type httpResult struct {
	status          int
	header          http.Header
	body            []byte
	clientRequestID string
}

// send sends body to path with the default headers.
func (c *Client) send(ctx context.Context, method, path string, body []byte) (*httpResult, error) {
	return c.sendWith(ctx, method, path, body, nil)
}

// sendWith sends one request with a bearer token and, on 401, renews the
// token once and sends it once more.
//
// What a renewed token is, from azidentity v1.15 / MSAL Go v1.10 source:
//   - A plain second GetToken does not skip the cache. MSAL returns its
//     cached access token until 5 minutes before it expires
//     (storage.AccessToken.Validate), or refreshes it early once its
//     RefreshOn has passed. So after a plain 401 the token is usually the
//     same one; the single retry then only helps with a transient 401, and
//     a second 401 is returned as an *Error (Reason "unauthorized").
//   - TokenRequestOptions.Claims does skip the cache: the confidential
//     client (client-secret, certificate, workload-identity) goes to
//     AcquireTokenByCredential, which with claims calls the token endpoint
//     directly; the public clients (device-code, browser) ignore cached
//     access tokens and redeem the refresh token with the claims; managed
//     identity skips its cache; AzureCLICredential returns an error asking
//     for "az login --claims-challenge". Entra validates the claims, so
//     they must come from the server: they are passed only when the 401
//     carries a Continuous Access Evaluation challenge
//     (WWW-Authenticate: Bearer error="insufficient_claims", claims="<base64>",
//     https://learn.microsoft.com/entra/identity-platform/claims-challenge),
//     the same rule azcore's BearerTokenPolicy follows. Tokens are requested
//     with EnableCAE, as azcore does, so Graph may send such challenges.
//
// Concurrent 401s for the same token renew it once (tokenSource.renew).
func (c *Client) sendWith(ctx context.Context, method, path string, body []byte, headers map[string]string) (*httpResult, error) {
	token, err := c.tokens.get(ctx)
	if err != nil {
		return nil, err
	}
	res, err := c.attempt(ctx, method, path, body, headers, token)
	if err != nil || res.status != http.StatusUnauthorized {
		return res, err
	}
	token, err = c.tokens.renew(ctx, token, claimsChallenge(res.header.Values("WWW-Authenticate")))
	if err != nil {
		return nil, err
	}
	return c.attempt(ctx, method, path, body, headers, token)
}

// errAttemptTimeout is the cause set on an attempt's context when
// ClientOptions.Timeout expires, to tell it from the caller's deadline.
var errAttemptTimeout = errors.New("attempt timeout")

// attempt sends one HTTP request and reads its whole answer within the
// per-attempt timeout.
func (c *Client) attempt(ctx context.Context, method, path string, body []byte, headers map[string]string, token string) (*httpResult, error) {
	actx, cancel := context.WithTimeoutCause(ctx, c.timeout, errAttemptTimeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, method, c.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("graph: %w: %s %s: %w", ErrInvalidRequest, method, path, err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	crid := NewRequestID()
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("client-request-id", crid)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.priority != "" && req.Header.Get("x-ms-throttle-priority") == "" {
		req.Header.Set("x-ms-throttle-priority", c.priority)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(ctx, actx, method, path, err)
	}
	defer resp.Body.Close()
	if isRedirect(resp.StatusCode) {
		return nil, redirectError(resp, crid)
	}
	data, err := readAnswer(resp)
	if err != nil {
		if ctx.Err() != nil || context.Cause(actx) == errAttemptTimeout {
			return nil, c.transportError(ctx, actx, method, path, err)
		}
		return nil, fmt.Errorf("graph: %s %s: %w: reading the answer (HTTP %d): %w", method, path, ErrMalformedResponse, resp.StatusCode, err)
	}
	return &httpResult{status: resp.StatusCode, header: resp.Header, body: data, clientRequestID: crid}, nil
}

// readAnswer reads resp's body, at most maxResponseBytes of it. An answer
// whose Content-Length is larger is refused without reading it; one of
// known length is read into a buffer of its size, one of unknown length
// into a growing one.
func readAnswer(resp *http.Response) ([]byte, error) {
	tooLarge := fmt.Errorf("answer larger than %d bytes", maxResponseBytes)
	n := resp.ContentLength
	switch {
	case n > maxResponseBytes:
		return nil, tooLarge
	case n < 0:
		// Doubling from 32 KiB, where io.ReadAll's append grows by a
		// quarter: reading a megabyte then allocates 3 MiB, not 5.
		data := make([]byte, 0, 32<<10)
		for {
			if len(data) == cap(data) {
				data = append(make([]byte, 0, min(2*cap(data), maxResponseBytes+1)), data...)
			}
			m, err := resp.Body.Read(data[len(data):cap(data)])
			data = data[:len(data)+m]
			switch {
			case len(data) > maxResponseBytes:
				return nil, tooLarge
			case err == io.EOF:
				return data, nil
			case err != nil:
				return nil, err
			}
		}
	}
	data := make([]byte, n)
	if _, err := io.ReadFull(resp.Body, data); err != nil {
		return nil, err
	}
	return data, nil
}

// transportError wraps a failed attempt: the caller's context error, an
// ErrTimeout for the attempt's own deadline, or the network error.
func (c *Client) transportError(ctx, actx context.Context, method, path string, err error) error {
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("graph: %s %s: %w", method, path, ctx.Err())
	case context.Cause(actx) == errAttemptTimeout:
		return fmt.Errorf("graph: %s %s: %w (no complete answer within %s)", method, path, ErrTimeout, c.timeout)
	}
	return fmt.Errorf("graph: %s %s: %w", method, path, err)
}

// SignIn gets an access token now, so that a credential that does not work
// is reported before anything is read or written. The token is kept for the
// requests that follow. The error wraps ErrAuthentication.
func (c *Client) SignIn(ctx context.Context) error {
	_, err := c.tokens.get(ctx)
	return err
}
