package graph

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Sentinel errors, for errors.Is.
var (
	// ErrMalformedResponse is wrapped when Graph's answer cannot be read:
	// not JSON, truncated, or cut off while reading.
	ErrMalformedResponse = errors.New("malformed response from Graph")
	// ErrInvalidRequest is wrapped when a request is refused before sending
	// (batch size, duplicate or empty ids, a body that is not a JSON object).
	ErrInvalidRequest = errors.New("invalid Graph request")
	// ErrTimeout is wrapped when one HTTP attempt exceeded ClientOptions.Timeout.
	ErrTimeout = errors.New("Graph did not answer in time")
	// ErrAuthentication is wrapped when no access token could be obtained.
	ErrAuthentication = errors.New("authentication failed")
)

// Error is a Graph error: a non-2xx sub-response of a batch, or a non-200
// answer to the $batch POST itself. Its fields come from Graph's error
// envelope {"error":{"code","message","innerError":{"date","request-id",
// "client-request-id"}}} and the response headers. Classify it with Status
// and Code (see Reason), never with Message.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Code is error.code, e.g. Request_ResourceNotFound.
	Code string
	// Message is error.message, as Graph wrote it.
	Message string
	// RequestID is Graph's request-id (innerError or header), for support cases.
	RequestID string
	// ClientRequestID is the client-request-id of the request.
	ClientRequestID string
	// Date is innerError.date or the Date header.
	Date string
	// RetryAfter is the parsed Retry-After header, when HasRetryAfter.
	RetryAfter time.Duration
	// HasRetryAfter reports whether a valid Retry-After header was present.
	HasRetryAfter bool
	// RetryAfterCapped reports that the Retry-After asked for longer than
	// MaxRetryAfter (RetryAfter is then MaxRetryAfter): no real throttle
	// does, and a caller may warn of it.
	RetryAfterCapped bool
}

// Error returns the status, code, message and request-id.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "graph: HTTP %d", e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	switch {
	case e.Message != "":
		b.WriteString(": " + e.Message)
	case e.Code == "":
		if t := http.StatusText(e.Status); t != "" {
			b.WriteString(" " + t)
		}
	}
	switch {
	case e.RetryAfterCapped:
		fmt.Fprintf(&b, " (retry after %s, the longest waited: it asked for far longer)", e.RetryAfter)
	case e.HasRetryAfter:
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	if e.RequestID != "" {
		b.WriteString(" (request-id " + e.RequestID + ")")
	}
	return b.String()
}

// Unwrap returns ErrRedirect for a redirect (3xx), which the client never
// follows, and nil otherwise.
func (e *Error) Unwrap() error {
	if isRedirect(e.Status) {
		return ErrRedirect
	}
	return nil
}

// Retryable reports whether the status is one Graph asks clients to retry:
// 429 and the transient 5xx (500, 502, 503, 504), per
// https://learn.microsoft.com/graph/throttling and
// https://learn.microsoft.com/graph/best-practices-concept.
func (e *Error) Retryable() bool {
	switch e.Status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// envelope is Graph's error body. encoding/json matches keys without regard
// to case, so both innerError and innererror are read.
type envelope struct {
	Error *struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			Date            string `json:"date"`
			RequestID       string `json:"request-id"`
			ClientRequestID string `json:"client-request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

// newError builds an *Error from a status, a header lookup and a body,
// which need not be JSON.
func newError(status int, header func(string) string, body []byte, now time.Time) *Error {
	e := &Error{Status: status}
	var env envelope
	if len(body) > 0 && json.Unmarshal(body, &env) == nil && env.Error != nil {
		e.Code = env.Error.Code
		e.Message = env.Error.Message
		e.Date = env.Error.InnerError.Date
		e.RequestID = env.Error.InnerError.RequestID
		e.ClientRequestID = env.Error.InnerError.ClientRequestID
	}
	if e.RequestID == "" {
		e.RequestID = header("request-id")
	}
	if e.ClientRequestID == "" {
		e.ClientRequestID = header("client-request-id")
	}
	if e.Date == "" {
		e.Date = header("Date")
	}
	e.RetryAfter, e.HasRetryAfter = ParseRetryAfter(header("Retry-After"), now)
	asked, _ := retryAfter(header("Retry-After"), now)
	e.RetryAfterCapped = e.HasRetryAfter && asked > e.RetryAfter
	return e
}

// MaxRetryAfter is the longest wait a Retry-After can ask for. Graph's
// throttling asks for seconds, at most a few minutes
// (https://learn.microsoft.com/graph/throttling), and the Graph SDKs'
// retry handlers wait at most 180 seconds. A longer value (ten years, a
// date in the year 9999) is still an answer to wait for, but honoured
// whole it would stall every worker of the run: it is cut to this.
const MaxRetryAfter = 5 * time.Minute

// retryAfterCap is the cut ParseRetryAfter applies, in nanoseconds; 0
// means MaxRetryAfter. Only SetRetryAfterCapForTesting changes it.
var retryAfterCap atomic.Int64

// SetRetryAfterCapForTesting makes ParseRetryAfter cut at d instead of
// MaxRetryAfter until the returned function is called, so that tests of
// the whole tool can watch a capped wait without waiting five minutes. It
// is for tests only: the cap is global, and MaxRetryAfter is the contract.
func SetRetryAfterCapForTesting(d time.Duration) (restore func()) {
	old := retryAfterCap.Swap(int64(d))
	return func() { retryAfterCap.Store(old) }
}

// ParseRetryAfter parses a Retry-After value: whole seconds ("10"),
// fractional seconds as Graph sends them ("0.249", microsoft-graph-docs
// #3877), or an HTTP date in any of the three formats net/http accepts (a
// date in the past gives 0). A value above MaxRetryAfter, however absurd
// (ten years, the year 9999, more digits than any integer holds), gives
// MaxRetryAfter: the server asked to wait, and every worker waits, but not
// for longer than any real throttle lasts. Empty, negative and non-numeric
// values give ok=false: the answer is then handled as without a
// Retry-After (the caller's own backoff).
func ParseRetryAfter(v string, now time.Time) (d time.Duration, ok bool) {
	if d, ok = retryAfter(v, now); !ok {
		return 0, false
	}
	most := MaxRetryAfter
	if c := time.Duration(retryAfterCap.Load()); c > 0 {
		most = c
	}
	return min(d, most), true
}

// retryAfter is ParseRetryAfter without the cap.
func retryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if c := v[0]; '0' <= c && c <= '9' || c == '.' {
		return parseSeconds(v)
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return max(t.Sub(now), 0), true
}

// parseSeconds parses digits with at most one decimal point, without sign
// or exponent, to nanosecond precision (further digits are dropped). A
// value beyond what a Duration holds gives the longest Duration.
func parseSeconds(v string) (time.Duration, bool) {
	whole, frac, hasDot := strings.Cut(v, ".")
	if whole == "" && frac == "" || hasDot && strings.Contains(frac, ".") {
		return 0, false
	}
	for _, part := range []string{whole, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return 0, false
			}
		}
	}
	const longest = time.Duration(math.MaxInt64)
	var secs uint64
	if whole != "" {
		n, err := strconv.ParseUint(whole, 10, 64)
		if err != nil || n > uint64(math.MaxInt64/int64(time.Second)) {
			return longest, true // only digits: too many of them
		}
		secs = n
	}
	var nanos int64
	if len(frac) > 9 {
		frac = frac[:9]
	}
	for i := 0; i < 9; i++ {
		nanos *= 10
		if i < len(frac) {
			nanos += int64(frac[i] - '0')
		}
	}
	d := time.Duration(secs) * time.Second
	if d > math.MaxInt64-time.Duration(nanos) {
		return longest, true
	}
	return d + time.Duration(nanos), true
}

// Reason returns the stable snake_case reason written to the results file
// for a Graph error (docs/outcomes.md lists them all). It branches on
// status and code; the two 400 cases that only the message tells apart are
// decided in badRequestReason. Reason(nil) is "".
func Reason(e *Error) string {
	switch {
	case e == nil:
		return ""
	case e.Status == http.StatusNotFound:
		return "not_found"
	case e.Status == http.StatusForbidden && e.Code == "Authorization_RequestDenied":
		return "insufficient_privileges"
	case e.Status == http.StatusBadRequest:
		if r := badRequestReason(e.Message); r != "" {
			return r
		}
		return "bad_request"
	case e.Status == http.StatusTooManyRequests:
		return "throttled"
	case e.Status == http.StatusUnauthorized:
		return "unauthorized"
	case e.Status >= 500 && e.Status <= 599:
		return "service_error"
	case isRedirect(e.Status):
		return "redirected"
	}
	return "http_" + strconv.Itoa(e.Status)
}

// badRequestReason is the one place where bulkreset reads Graph's error
// messages. A password refused by complexity rules or the banned-password
// lists and an update refused because the user is synced from on-premises
// Active Directory both answer 400 Request_BadRequest; only the message
// tells them apart (GRAPH.md "Errors"; user-update,
// https://learn.microsoft.com/graph/api/user-update, and
// https://learn.microsoft.com/entra/identity/authentication/concept-password-ban-bad-combined-policy).
// The messages matched are:
//
//	The specified password does not comply with password complexity requirements. Please provide a different password.
//	Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.
//
// It returns "password_policy", "synced_user" or "".
func badRequestReason(message string) string {
	m := strings.ToLower(message)
	switch {
	case strings.Contains(m, "password complexity"):
		return "password_policy"
	case strings.Contains(m, "on-premises mastered directory sync") || strings.Contains(m, "on-premise mastered directory sync"):
		return "synced_user"
	}
	return ""
}

// IsTransient reports whether err is a network failure or an attempt
// timeout that is worth retrying: connection refused or reset, a
// connection closed early, a timeout, a DNS failure that may pass. It is
// false for nil, for the caller's own cancellation or deadline, for TLS
// certificate errors, for ErrAuthentication (azidentity has already retried
// the token request) and for *Error (use Error.Retryable).
func IsTransient(err error) bool {
	if err == nil || errors.Is(err, ErrAuthentication) {
		return false
	}
	if errors.Is(err, ErrTimeout) {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var (
		certErr     *tls.CertificateVerificationError
		unknownAuth x509.UnknownAuthorityError
		hostErr     x509.HostnameError
		invalidCert x509.CertificateInvalidError
		recordErr   tls.RecordHeaderError
		dnsErr      *net.DNSError
		netErr      net.Error
		opErr       *net.OpError
	)
	switch {
	case errors.As(err, &certErr), errors.As(err, &unknownAuth), errors.As(err, &hostErr),
		errors.As(err, &invalidCert), errors.As(err, &recordErr):
		return false
	case errors.As(err, &dnsErr):
		return !dnsErr.IsNotFound || dnsErr.IsTimeout || dnsErr.IsTemporary
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, syscall.ETIMEDOUT), errors.Is(err, syscall.EHOSTUNREACH),
		errors.Is(err, syscall.ENETUNREACH), errors.Is(err, net.ErrClosed):
		return true
	case errors.As(err, &opErr):
		return true
	case errors.As(err, &netErr) && netErr.Timeout():
		return true
	}
	return false
}
