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

// tokenHTTPClient is the *http.Client every credential sends its token
// requests with: t when it is one, else a client like the Graph client's,
// either way a copy that never follows a redirect. It is an *http.Client,
// with the standard transport, because azidentity requires one for
// Service Fabric's managed identity, whose endpoint MSAL pins by
// certificate thumbprint on a copy of that transport. Any other
// Transporter is used as it is: one that follows redirects itself cannot
// be stopped, but a 3xx it returns is refused (tokenPolicy).
func tokenHTTPClient(t policy.Transporter) policy.Transporter {
	switch hc := t.(type) {
	case nil:
		return withoutRedirects(defaultHTTPClient())
	case *http.Client:
		return withoutRedirects(hc)
	}
	return t
}

// tokenPolicy is the per-retry azcore policy of every credential's
// requests. It refuses a redirect, reads the answer itself through a
// bound of maxTokenResponseBytes (azcore would read it whole, below any
// transport, before the bound applied), and records what it saw on the
// tokenRecord of the request's context, so that the credential's error can
// be described without quoting the answer.
type tokenPolicy struct{}

// Do implements policy.Policy.
func (tokenPolicy) Do(req *policy.Request) (*http.Response, error) {
	runtime.SkipBodyDownload(req) // read here, bounded, instead
	resp, err := req.Next()
	if err != nil {
		return resp, err
	}
	rec := recordOf(req.Raw().Context())
	rec.answered(resp.StatusCode)
	if isRedirect(resp.StatusCode) {
		_ = resp.Body.Close()
		err := fmt.Errorf("the token endpoint answered with a redirect (HTTP %d to %s), which bulkreset never follows: check the authority host and any proxy in between (%w)",
			resp.StatusCode, redirectTarget(resp.Header.Get("Location")), ErrRedirect)
		rec.fail(err)
		return nil, &tokenTransportError{err}
	}
	resp.Body = &boundedBody{rc: resp.Body, left: maxTokenResponseBytes, rec: rec}
	if _, err := runtime.Payload(resp); err != nil {
		_ = resp.Body.Close()
		return nil, err
	}
	return resp, nil
}

// tokenRecord is what the token requests of one GetToken call got: the
// status of the last answer, and the problem tokenPolicy found, if any.
// It travels in the call's context, so that concurrent calls, and the
// credentials of a chain, each have their own.
type tokenRecord struct {
	mu      sync.Mutex
	status  int
	problem error
}

// tokenRecordKey is the context key of a *tokenRecord.
type tokenRecordKey struct{}

// recordOf returns the record of ctx, or nil, whose methods do nothing.
func recordOf(ctx context.Context) *tokenRecord {
	rec, _ := ctx.Value(tokenRecordKey{}).(*tokenRecord)
	return rec
}

// answered records the status of an answer.
func (r *tokenRecord) answered(status int) {
	if r != nil {
		r.mu.Lock()
		r.status = status
		r.mu.Unlock()
	}
}

// fail records a problem of the last answer.
func (r *tokenRecord) fail(err error) {
	if r != nil {
		r.mu.Lock()
		r.problem = err
		r.mu.Unlock()
	}
}

// last returns the status of the last answer (0: none came) and the
// problem found.
func (r *tokenRecord) last() (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status, r.problem
}

// tokenTransportError is a problem tokenPolicy found. azcore does not
// retry it (NonRetriable): the same request would get the same answer.
type tokenTransportError struct{ err error }

func (e *tokenTransportError) Error() string { return e.err.Error() }
func (e *tokenTransportError) Unwrap() error { return e.err }

// NonRetriable marks the error as final for azcore's retry policy.
func (e *tokenTransportError) NonRetriable() {}

// errTokenTooLarge is the problem of an answer cut off.
var errTokenTooLarge = fmt.Errorf("the token endpoint's answer is larger than %d KiB, far more than a token response", maxTokenResponseBytes>>10)

// boundedBody fails a read beyond its allowance instead of reading on.
type boundedBody struct {
	rc   io.ReadCloser
	left int64
	rec  *tokenRecord
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly the allowance from a longer one.
		var one [1]byte
		if n, _ := io.ReadFull(b.rc, one[:]); n == 0 {
			return 0, io.EOF
		}
		b.rec.fail(errTokenTooLarge)
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
	secrets []string // the client secret and certificate password, never shown
}

// GetToken implements azcore.TokenCredential.
func (c *safeCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	rec := &tokenRecord{}
	tok, err := c.cred.GetToken(context.WithValue(ctx, tokenRecordKey{}, rec), opts)
	if err != nil {
		return azcore.AccessToken{}, c.describe(err, rec)
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

	credential  string // azidentity's name of the credential, such as ClientSecretCredential
	status      int    // the HTTP status of the last answer; 0 when none came
	unavailable bool   // DefaultAzureCredential: no credential of the chain was available
	detail      string // the credential's own error, its secrets masked (Detail)
}

// Error returns the one-line description.
func (e *TokenError) Error() string { return e.msg }

// Detail is the credential's own error, as azidentity and MSAL wrote it
// (for DefaultAzureCredential, what each credential of the chain said),
// with the client secret and certificate password removed and whatever
// looks like a token or a secret masked (see scrub): for a debug log, never
// for a person's first look, since it quotes what the endpoint answered.
func (e *TokenError) Detail() string { return e.detail }

// Unwrap returns the transport's problem, such as ErrRedirect, or nil.
func (e *TokenError) Unwrap() error { return e.cause }

// credNameRE is an azidentity credential's name at the start of its error.
var credNameRE = regexp.MustCompile(`^[A-Za-z]{1,40}Credential\b`)

// describe turns a credential's error into a *TokenError. Once an answer
// came (rec has a status), nothing of the error's text is quoted, since
// azidentity and MSAL put the answer in it: only the status, the OAuth
// error and AADSTS codes read from it, and fixed words. Only an error that
// came without any answer (a network failure, the Azure CLI) is quoted,
// through quoteSafe.
func (c *safeCredential) describe(err error, rec *tokenRecord) error {
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
	te := c.describeAnswer(err, rec, name, text)
	te.credential, te.detail = name, scrub(text, c.secrets)
	return te
}

// describeAnswer is describe's *TokenError, without what every form of it
// carries.
func (c *safeCredential) describeAnswer(err error, rec *tokenRecord, name, text string) *TokenError {
	status, problem := rec.last()
	switch {
	case name == "DefaultAzureCredential": // its credentials share rec: read each from the text
		chain, unavailable := describeChain(text)
		return &TokenError{msg: name + ": no credential could get a token: " + chain, cause: problem, unavailable: unavailable}
	case problem != nil:
		return &TokenError{msg: name + ": " + problem.Error(), cause: problem, status: status}
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
			return &TokenError{msg: msg, entra: ee, status: afe.RawResponse.StatusCode}
		}
		return &TokenError{msg: msg, status: afe.RawResponse.StatusCode}
	}
	switch {
	case status >= 200 && status <= 299:
		return &TokenError{msg: fmt.Sprintf("%s: the token endpoint's answer could not be read (HTTP %d)", name, status), status: status}
	case status != 0:
		return &TokenError{msg: fmt.Sprintf("%s: the token endpoint answered HTTP %d", name, status), status: status}
	}
	// No answer came: a network failure, or a credential that never
	// reached an endpoint (the Azure CLI not signed in).
	line, _, _ := strings.Cut(text, "\n")
	line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), name))
	return &TokenError{msg: name + ": " + quoteSafe(strings.TrimLeft(line, ": "), c.secrets)}
}

// quoteSafe is text for an error message: the secrets removed, as they
// are and as a form encodes them, then only letters, digits, spaces and
// common punctuation kept (anything else becomes '?'), cut to 200 bytes.
func quoteSafe(text string, secrets []string) string {
	for _, s := range secrets {
		if s != "" {
			text = strings.ReplaceAll(text, s, redacted)
			text = strings.ReplaceAll(text, url.QueryEscape(s), redacted)
		}
	}
	const most = 200
	var b strings.Builder
	for _, r := range text {
		if b.Len() >= most {
			b.WriteString("…")
			break
		}
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', strings.ContainsRune(" .,:;'()[]/_-", r):
			b.WriteRune(r)
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// chainStatusRE finds the status azidentity writes for a credential of a
// chain whose endpoint answered ("RESPONSE 400: ...").
var chainStatusRE = regexp.MustCompile(`\bRESPONSE ([1-5][0-9][0-9])\b`)

// describeChain describes the error of DefaultAzureCredential, whose
// text gives each credential tried on a line of its own (indented once,
// with what the credential said indented twice below it): each becomes
// its name and a fixed reason, "HTTP <status>", "redirect refused" or
// "unavailable", and nothing of what it said. unavailable reports that
// every credential was unavailable: none found what it needs to sign in.
func describeChain(text string) (description string, unavailable bool) {
	var parts []string
	var name, block string
	unavailable = true
	flush := func() {
		if name == "" {
			return
		}
		reason := "unavailable"
		switch m := chainStatusRE.FindStringSubmatch(block); {
		case strings.Contains(block, ErrRedirect.Error()):
			reason = "redirect refused"
		case m != nil:
			reason = "HTTP " + m[1]
		}
		unavailable = unavailable && reason == "unavailable"
		parts = append(parts, name+" "+reason)
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "\t") && !strings.HasPrefix(line, "\t\t") {
			flush()
			name, block = credNameRE.FindString(strings.TrimSpace(line)), line
			continue
		}
		block += "\n" + line
	}
	flush()
	if len(parts) == 0 {
		return "no credential was available", true
	}
	return strings.Join(parts, "; "), unavailable
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

// maxDetail bounds TokenError.Detail.
const maxDetail = 4000

var (
	// sensitiveRE is a token, a refresh token, a client secret or
	// assertion, a code or a password given as a JSON member or a form
	// field: its value is masked, whatever its length.
	sensitiveRE = regexp.MustCompile(`(?i)((?:^|[^a-z0-9_])"?(?:access_token|refresh_token|id_token|client_secret|client_assertion|assertion|device_code|code|password)"?\s*[:=]\s*"?)[^"&\s,}]*`)
	// tokenLikeRE is a run of the characters of a token or a secret
	// (base64, base64url, a JWT's dots, form escapes), '/' left out so
	// that the paths of URLs stay readable.
	tokenLikeRE = regexp.MustCompile(`[A-Za-z0-9._~+=%-]{20,}`)
	// guidRE is a GUID: the ids of tenants, apps, traces and correlations.
	guidRE = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)
)

// scrub makes a credential's error fit a log: the secrets removed, as they
// are and as a form encodes them; the values of sensitive fields masked;
// every token-like word masked (one that begins as a JWT or base64 JSON,
// eyJ…, or of 24 characters or more with a digit in it, but for GUIDs and
// dotted names such as a host, so that an endpoint echoing what it was sent
// or a token it made leaks nothing); cut to maxDetail bytes.
func scrub(text string, secrets []string) string {
	for _, s := range secrets {
		if s != "" {
			text = strings.ReplaceAll(text, s, redacted)
			text = strings.ReplaceAll(text, url.QueryEscape(s), redacted)
		}
	}
	text = sensitiveRE.ReplaceAllString(text, "${1}"+redacted)
	text = tokenLikeRE.ReplaceAllStringFunc(text, func(w string) string {
		core := strings.Trim(w, ".-")
		if i := strings.LastIndexByte(core, '='); i >= 0 && guidRE.MatchString(core[i+1:]) {
			return w // a query's or form's id, such as client_id=<GUID>
		}
		switch {
		case strings.HasPrefix(core, "eyJ"):
			return redacted
		case len(core) < 24, guidRE.MatchString(core), !strings.ContainsAny(core, "0123456789"), isDottedName(core):
			return w
		}
		return redacted
	})
	if len(text) > maxDetail {
		text = text[:maxDetail] + "…"
	}
	return text
}

// isDottedName reports whether w is a host or module name (labels of
// letters, digits and hyphens joined by dots, none over 20 characters),
// which a token is not.
func isDottedName(w string) bool {
	labels := strings.Split(w, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 20 || strings.Trim(l, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
			return false
		}
	}
	return true
}
