package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// ErrRedirect is wrapped when Graph or the token endpoint answers with a
// redirect (3xx). Neither redirects the requests bulkreset sends, so a
// redirect comes from a wrong address or something in between; following
// it would send the bearer token and a batch's passwords, or the client
// secret, to another host. It is never followed.
var ErrRedirect = errors.New("redirect not followed")

// maxTokenResponseBytes bounds what is read of the token endpoint's answer:
// Entra's are a few kilobytes (an access token is at most a few thousand
// characters).
const maxTokenResponseBytes = 1 << 20

// noRedirect is the CheckRedirect of every client here: the 3xx answer
// itself is returned, for the caller to refuse.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// withoutRedirects returns a copy of hc that never follows a redirect.
func withoutRedirects(hc *http.Client) *http.Client {
	c := *hc
	c.CheckRedirect = noRedirect
	return &c
}

// isRedirect reports whether status is a 3xx.
func isRedirect(status int) bool { return status >= 300 && status <= 399 }

// hostRE is what a host (and port) of a Location may be to be shown.
var hostRE = regexp.MustCompile(`^[A-Za-z0-9.\-\[\]:]{1,255}$`)

// redirectTarget describes where a redirect points: its scheme and host,
// never its path or query (which could hold anything).
func redirectTarget(location string) string {
	u, err := url.Parse(location)
	if err != nil || u.Host == "" || !hostRE.MatchString(u.Host) || (u.Scheme != "http" && u.Scheme != "https") {
		return "another address"
	}
	return u.Scheme + "://" + u.Host
}

// redirectError is the *Error of a 3xx answer from Graph: final for the
// rows it answers (reason "redirected"), and saying where it pointed.
func redirectError(resp *http.Response, clientRequestID string) *Error {
	return &Error{
		Status: resp.StatusCode,
		Message: fmt.Sprintf("Graph answered with a redirect to %s, which bulkreset never follows: check the Graph URL and any proxy in between",
			redirectTarget(resp.Header.Get("Location"))),
		RequestID:       resp.Header.Get("request-id"),
		ClientRequestID: clientRequestID,
		Date:            resp.Header.Get("Date"),
	}
}

// tokenTransport sends the token requests of a credential: it never
// follows a redirect, cuts off an answer larger than
// maxTokenResponseBytes, and remembers what went wrong, so that the
// credential's error can be described without quoting the answer.
type tokenTransport struct {
	next policy.Transporter

	mu      sync.Mutex
	status  int   // of the last answer
	problem error // of the last answer: a redirect, an answer too large
}

// newTokenTransport wraps t (nil: a client like the Graph client's). An
// *http.Client is copied with redirects turned off; any other Transporter
// that follows redirects itself cannot be stopped, but a 3xx it returns is
// refused.
func newTokenTransport(t policy.Transporter) *tokenTransport {
	switch hc := t.(type) {
	case nil:
		t = withoutRedirects(defaultHTTPClient())
	case *http.Client:
		t = withoutRedirects(hc)
	}
	return &tokenTransport{next: t}
}

// tokenTransportError is a problem the transport found. azcore does not
// retry it (NonRetriable): the same request would get the same answer.
type tokenTransportError struct{ err error }

func (e *tokenTransportError) Error() string { return e.err.Error() }
func (e *tokenTransportError) Unwrap() error { return e.err }

// NonRetriable marks the error as final for azcore's retry policy.
func (e *tokenTransportError) NonRetriable() {}

// errTokenTooLarge is the problem of an answer cut off.
var errTokenTooLarge = fmt.Errorf("the token endpoint's answer is larger than %d KiB, far more than a token response", maxTokenResponseBytes>>10)

// Do implements policy.Transporter.
func (t *tokenTransport) Do(req *http.Request) (*http.Response, error) {
	resp, err := t.next.Do(req)
	if err != nil {
		return resp, err
	}
	t.mu.Lock()
	t.status = resp.StatusCode
	t.mu.Unlock()
	if isRedirect(resp.StatusCode) {
		_ = resp.Body.Close()
		err := fmt.Errorf("the token endpoint answered with a redirect (HTTP %d to %s), which bulkreset never follows: check the authority host and any proxy in between (%w)",
			resp.StatusCode, redirectTarget(resp.Header.Get("Location")), ErrRedirect)
		t.setProblem(err)
		return nil, &tokenTransportError{err}
	}
	resp.Body = &boundedBody{rc: resp.Body, left: maxTokenResponseBytes, t: t}
	return resp, nil
}

// setProblem records err as the problem of the last answer.
func (t *tokenTransport) setProblem(err error) {
	t.mu.Lock()
	t.problem = err
	t.mu.Unlock()
}

// reset forgets the last answer, before a token request.
func (t *tokenTransport) reset() {
	t.mu.Lock()
	t.status, t.problem = 0, nil
	t.mu.Unlock()
}

// last returns the status and problem of the last answer.
func (t *tokenTransport) last() (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status, t.problem
}

// boundedBody fails a read beyond its allowance instead of reading on.
type boundedBody struct {
	rc   io.ReadCloser
	left int64
	t    *tokenTransport
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the allowance from a longer one.
		var one [1]byte
		if n, _ := io.ReadFull(b.rc, one[:]); n == 0 {
			return 0, io.EOF
		}
		b.t.setProblem(errTokenTooLarge)
		return 0, &tokenTransportError{errTokenTooLarge}
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *boundedBody) Close() error { return b.rc.Close() }

// safeCredential is an azidentity credential whose errors never quote the
// token endpoint's answer. azidentity's errors embed the raw response (and
// MSAL's, the body it could not decode): a truncated answer printed the
// access token, an endpoint echoing the form printed the client secret.
type safeCredential struct {
	cred    azcore.TokenCredential
	tr      *tokenTransport
	secrets []string // the client secret and certificate password, never shown
}

// GetToken implements azcore.TokenCredential.
func (c *safeCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.tr.reset()
	tok, err := c.cred.GetToken(ctx, opts)
	if err != nil {
		return azcore.AccessToken{}, c.describe(err)
	}
	return tok, nil
}

// TokenError is a failed token request, described in one line from what
// can be trusted not to hold a secret: the credential's kind, the HTTP
// status, the OAuth error code and the AADSTS codes.
type TokenError struct {
	msg   string
	entra *EntraError // set when the endpoint answered an OAuth error
	cause error       // set for a problem of the transport (ErrRedirect, ...)
}

// Error returns the one-line description.
func (e *TokenError) Error() string { return e.msg }

// Unwrap returns the transport's problem, such as ErrRedirect, or nil.
func (e *TokenError) Unwrap() error { return e.cause }

// credNameRE is an azidentity credential's name at the start of its error.
var credNameRE = regexp.MustCompile(`^[A-Za-z]{1,40}Credential\b`)

// describe turns a credential's error into a *TokenError.
func (c *safeCredential) describe(err error) error {
	text := err.Error()
	name := credNameRE.FindString(text)
	if name == "" {
		name = "the credential"
	}
	for _, ctxErr := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, ctxErr) {
			return fmt.Errorf("%s: the token request did not finish: %w", name, ctxErr)
		}
	}
	status, problem := c.tr.last()
	if problem != nil {
		return &TokenError{msg: name + ": " + problem.Error(), cause: problem}
	}
	var afe *azidentity.AuthenticationFailedError
	if errors.As(err, &afe) && afe.RawResponse != nil {
		ee := readEntraError(afe.RawResponse)
		msg := fmt.Sprintf("%s: the token endpoint answered HTTP %d", name, afe.RawResponse.StatusCode)
		if ee.OAuthError != "" || len(ee.Codes) > 0 {
			var parts []string
			if ee.OAuthError != "" {
				parts = append(parts, ee.OAuthError)
			}
			for _, code := range ee.Codes {
				parts = append(parts, fmt.Sprintf("AADSTS%d", code))
			}
			msg += " (" + strings.Join(parts, ", ") + ")"
			return &TokenError{msg: msg, entra: ee}
		}
		return &TokenError{msg: msg}
	}
	// Errors without a response: a network failure, a credential that
	// never reached the endpoint (Azure CLI not signed in), or an answer
	// MSAL could not decode, whose body MSAL puts after the first line.
	line, _, _ := strings.Cut(text, "\n")
	line = strings.TrimSpace(line)
	for _, s := range c.secrets {
		if s != "" {
			line = strings.ReplaceAll(line, s, redacted)
		}
	}
	line = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return -1
		}
		return r
	}, line)
	if len(line) > 300 {
		line = line[:300] + "…"
	}
	if status != 0 && !strings.Contains(line, "HTTP") {
		line += fmt.Sprintf(" (the token endpoint answered HTTP %d)", status)
	}
	return &TokenError{msg: line}
}

// oauthErrorRE is what an OAuth error code looks like (RFC 6749 5.2:
// invalid_client, unauthorized_client, ...); anything else is not shown.
var oauthErrorRE = regexp.MustCompile(`^[a-z][a-z_]{0,63}$`)

// readEntraError reads the OAuth error and AADSTS codes of a token
// endpoint's error answer, and nothing else of it.
func readEntraError(resp *http.Response) *EntraError {
	ee := &EntraError{Status: resp.StatusCode}
	body, err := runtime.Payload(resp)
	if err != nil {
		return ee
	}
	var w struct {
		Error string `json:"error"`
		Codes []int  `json:"error_codes"`
	}
	if json.Unmarshal(body, &w) != nil {
		return ee
	}
	if oauthErrorRE.MatchString(w.Error) {
		ee.OAuthError = w.Error
	}
	for _, c := range w.Codes {
		if c > 0 && c < 100_000_000 && len(ee.Codes) < 8 {
			ee.Codes = append(ee.Codes, c)
		}
	}
	return ee
}
