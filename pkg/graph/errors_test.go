package graph

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bulkreset/bulkreset/pkg/report"
)

var testNow = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

func TestParseRetryAfter(t *testing.T) {
	tests := []struct {
		name   string
		value  string
		want   time.Duration
		wantOK bool
	}{
		{name: "whole seconds", value: "10", want: 10 * time.Second, wantOK: true},
		{name: "zero", value: "0", want: 0, wantOK: true},
		{name: "spaces", value: " 7 ", want: 7 * time.Second, wantOK: true},
		{name: "fractional", value: "0.249", want: 249 * time.Millisecond, wantOK: true},
		{name: "fractional over one", value: "1.5", want: 1500 * time.Millisecond, wantOK: true},
		{name: "leading dot", value: ".5", want: 500 * time.Millisecond, wantOK: true},
		{name: "trailing dot", value: "3.", want: 3 * time.Second, wantOK: true},
		{name: "nanoseconds", value: "0.000000001", want: time.Nanosecond, wantOK: true},
		{name: "below nanoseconds dropped", value: "0.0000000019", want: time.Nanosecond, wantOK: true},
		{name: "the longest believed", value: "300", want: MaxRetryAfter, wantOK: true},
		{name: "just over the longest believed", value: "300.001", want: MaxRetryAfter, wantOK: true},
		{name: "a day", value: "86400", want: MaxRetryAfter, wantOK: true},
		{name: "ten years", value: "315360000", want: MaxRetryAfter, wantOK: true},
		{name: "date five minutes ahead", value: "Fri, 14 Mar 2025 15:14:26 GMT", want: MaxRetryAfter, wantOK: true},
		{name: "date in the year 9999", value: "Fri, 31 Dec 9999 23:59:59 GMT", want: MaxRetryAfter, wantOK: true},
		{name: "IMF-fixdate future", value: "Fri, 14 Mar 2025 15:09:56 GMT", want: 30 * time.Second, wantOK: true},
		{name: "RFC 850 future", value: "Friday, 14-Mar-25 15:10:26 GMT", want: time.Minute, wantOK: true},
		{name: "ANSI C future", value: "Fri Mar 14 15:09:36 2025", want: 10 * time.Second, wantOK: true},
		{name: "date now", value: "Fri, 14 Mar 2025 15:09:26 GMT", want: 0, wantOK: true},
		{name: "date in the past", value: "Thu, 13 Mar 2025 15:09:26 GMT", want: 0, wantOK: true},
		{name: "empty", value: "", wantOK: false},
		{name: "blank", value: "   ", wantOK: false},
		{name: "negative", value: "-1", wantOK: false},
		{name: "negative fraction", value: "-0.5", wantOK: false},
		{name: "plus sign", value: "+5", wantOK: false},
		{name: "exponent", value: "1e3", wantOK: false},
		{name: "two dots", value: "1.2.3", wantOK: false},
		{name: "lone dot", value: ".", wantOK: false},
		{name: "garbage", value: "soon", wantOK: false},
		{name: "unit", value: "5s", wantOK: false},
		{name: "hex", value: "0x10", wantOK: false},
		{name: "infinity", value: "Inf", wantOK: false},
		{name: "NaN", value: "NaN", wantOK: false},
		{name: "overflow", value: "99999999999999999999", want: MaxRetryAfter, wantOK: true},
		{name: "just over max duration", value: "9223372037", want: MaxRetryAfter, wantOK: true},
		{name: "bad date", value: "Fri, 32 Mar 2025 15:09:26 GMT", wantOK: false},
		{name: "a thousand digits", value: strings.Repeat("9", 1000), want: MaxRetryAfter, wantOK: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ParseRetryAfter(tt.value, testNow)
			if ok != tt.wantOK || got != tt.want {
				t.Errorf("ParseRetryAfter(%q) = %v, %t, want %v, %t", tt.value, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"10", "0.249", ".5", "-1", "", "Fri, 14 Mar 2025 15:09:56 GMT",
		"Friday, 14-Mar-25 15:10:26 GMT", "Fri Mar 14 15:09:36 2025", "1e3", "9223372036.854775807", "NaN"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := ParseRetryAfter(v, testNow)
		if !ok && d != 0 {
			t.Fatalf("ParseRetryAfter(%q) = %v, false: want 0 when not ok", v, d)
		}
		if d < 0 || d > MaxRetryAfter {
			t.Fatalf("ParseRetryAfter(%q) = %v, want 0 to %v", v, d, MaxRetryAfter)
		}
		if ok && strings.HasPrefix(strings.TrimSpace(v), "-") {
			t.Fatalf("ParseRetryAfter(%q) accepted a negative value", v)
		}
		// Whole seconds must agree with time.ParseDuration.
		if s := strings.TrimSpace(v); ok && s != "" && !strings.ContainsAny(s, ".:, ") && s[0] >= '0' && s[0] <= '9' {
			want, err := time.ParseDuration(s + "s")
			if err == nil && min(want, MaxRetryAfter) != d {
				t.Fatalf("ParseRetryAfter(%q) = %v, want %v", v, d, want)
			}
		}
	})
}

func TestReason(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want report.Reason // the strings the results file has always had
	}{
		{name: "nil", err: nil, want: ""},
		{name: "not found", err: &Error{Status: 404, Code: "Request_ResourceNotFound"}, want: "not_found"},
		{name: "denied", err: &Error{Status: 403, Code: "Authorization_RequestDenied", Message: "Insufficient privileges to complete the operation."}, want: "insufficient_privileges"},
		{name: "other 403", err: &Error{Status: 403, Code: "Forbidden"}, want: "http_403"},
		{name: "complexity", err: &Error{Status: 400, Code: "Request_BadRequest", Message: "The specified password does not comply with password complexity requirements. Please provide a different password."}, want: "password_policy"},
		{name: "synced", err: &Error{Status: 400, Code: "Request_BadRequest", Message: "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration."}, want: "synced_user"},
		{name: "other bad request", err: &Error{Status: 400, Code: "Request_BadRequest", Message: "Invalid value specified for property 'passwordProfile'."}, want: "bad_request"},
		{name: "throttled", err: &Error{Status: 429, Code: "TooManyRequests"}, want: "throttled"},
		{name: "unauthorized", err: &Error{Status: 401, Code: "InvalidAuthenticationToken"}, want: "unauthorized"},
		{name: "500", err: &Error{Status: 500}, want: "service_error"},
		{name: "503", err: &Error{Status: 503}, want: "service_error"},
		{name: "504", err: &Error{Status: 504}, want: "service_error"},
		{name: "409", err: &Error{Status: 409, Code: "Conflict"}, want: "http_409"},
		{name: "424", err: &Error{Status: 424}, want: "http_424"},
		{name: "complexity text on 403", err: &Error{Status: 403, Message: "password complexity"}, want: "http_403"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Reason(tt.err); got != tt.want {
				t.Errorf("Reason(%+v) = %q, want %q", tt.err, got, tt.want)
			}
		})
	}
}

func TestErrorRetryable(t *testing.T) {
	for status, want := range map[int]bool{429: true, 500: true, 502: true, 503: true, 504: true, 400: false, 401: false, 403: false, 404: false, 501: false} {
		if got := (&Error{Status: status}).Retryable(); got != want {
			t.Errorf("Error{Status: %d}.Retryable() = %t, want %t", status, got, want)
		}
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		name string
		err  *Error
		want string
	}{
		{name: "full", err: &Error{Status: 404, Code: "Request_ResourceNotFound", Message: "Resource 'x' does not exist.", RequestID: "abc"},
			want: "graph: HTTP 404 Request_ResourceNotFound: Resource 'x' does not exist. (request-id abc)"},
		{name: "no envelope", err: &Error{Status: 503}, want: "graph: HTTP 503 Service Unavailable"},
		{name: "retry after", err: &Error{Status: 429, Code: "TooManyRequests", Message: "Please retry again later.", RetryAfter: 1500 * time.Millisecond, HasRetryAfter: true},
			want: "graph: HTTP 429 TooManyRequests: Please retry again later. (retry after 1.5s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestResponseErr(t *testing.T) {
	envelope := `{"error":{"code":"Request_ResourceNotFound","message":"Resource 'a' does not exist.","innerError":{"date":"2025-03-14T15:09:26","request-id":"inner-rid","client-request-id":"inner-crid"}}}`
	tests := []struct {
		name string
		resp Response
		want *Error
	}{
		{name: "204", resp: Response{Status: 204}, want: nil},
		{name: "200", resp: Response{Status: 200, Body: []byte(`{"value":true}`)}, want: nil},
		{name: "envelope", resp: Response{Status: 404, Body: []byte(envelope), Headers: map[string]string{"request-id": "header-rid"}},
			want: &Error{Status: 404, Code: "Request_ResourceNotFound", Message: "Resource 'a' does not exist.", RequestID: "inner-rid", ClientRequestID: "inner-crid", Date: "2025-03-14T15:09:26"}},
		{name: "lower-case innererror", resp: Response{Status: 403, Body: []byte(`{"error":{"code":"Authorization_RequestDenied","message":"m","innererror":{"request-id":"r2"}}}`)},
			want: &Error{Status: 403, Code: "Authorization_RequestDenied", Message: "m", RequestID: "r2"}},
		{name: "fractional retry after", resp: Response{Status: 429, Headers: map[string]string{"retry-after": "0.249", "Request-Id": "h"}, Body: []byte(`{"error":{"code":"TooManyRequests","message":"Please retry again later."}}`)},
			want: &Error{Status: 429, Code: "TooManyRequests", Message: "Please retry again later.", RequestID: "h", RetryAfter: 249 * time.Millisecond, HasRetryAfter: true}},
		{name: "date retry after", resp: Response{Status: 503, Headers: map[string]string{"Retry-After": "Fri, 14 Mar 2025 15:09:46 GMT", "Date": "Fri, 14 Mar 2025 15:09:26 GMT"}},
			want: &Error{Status: 503, Date: "Fri, 14 Mar 2025 15:09:26 GMT", RetryAfter: 20 * time.Second, HasRetryAfter: true}},
		{name: "bad retry after", resp: Response{Status: 429, Headers: map[string]string{"Retry-After": "-3"}}, want: &Error{Status: 429}},
		{name: "body not JSON", resp: Response{Status: 502, Body: []byte(`<html>bad gateway</html>`)}, want: &Error{Status: 502}},
		{name: "body a string", resp: Response{Status: 400, Body: []byte(`"oops"`)}, want: &Error{Status: 400}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.resp.Err(testNow)
			switch {
			case got == nil && tt.want == nil:
			case got == nil || tt.want == nil:
				t.Errorf("Err() = %v, want %v", got, tt.want)
			case *got != *tt.want:
				t.Errorf("Err() = %#v, want %#v", *got, *tt.want)
			}
		})
	}
}

func TestIsTransient(t *testing.T) {
	dnsTemp := &net.DNSError{Err: "server misbehaving", Name: "graph.microsoft.com", IsTemporary: true}
	dnsMissing := &net.DNSError{Err: "no such host", Name: "graph.microsoft.us", IsNotFound: true}
	opErr := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "nil", err: nil, want: false},
		{name: "attempt timeout", err: fmt.Errorf("graph: POST /$batch: %w", ErrTimeout), want: true},
		{name: "caller canceled", err: fmt.Errorf("graph: %w", context.Canceled), want: false},
		{name: "caller deadline", err: &url.Error{Op: "Post", URL: "u", Err: context.DeadlineExceeded}, want: false},
		{name: "connection refused", err: &url.Error{Op: "Post", URL: "u", Err: opErr}, want: true},
		{name: "connection reset", err: fmt.Errorf("x: %w", syscall.ECONNRESET), want: true},
		{name: "unexpected EOF", err: fmt.Errorf("%w: reading: %w", ErrMalformedResponse, io.ErrUnexpectedEOF), want: true},
		{name: "server closed", err: &url.Error{Op: "Post", URL: "u", Err: io.EOF}, want: true},
		{name: "dns temporary", err: &url.Error{Op: "Post", URL: "u", Err: dnsTemp}, want: true},
		{name: "dns not found", err: &url.Error{Op: "Post", URL: "u", Err: dnsMissing}, want: false},
		{name: "unknown authority", err: &url.Error{Op: "Post", URL: "u", Err: x509.UnknownAuthorityError{}}, want: false},
		{name: "malformed JSON", err: fmt.Errorf("%w: bad", ErrMalformedResponse), want: false},
		{name: "authentication", err: fmt.Errorf("%w: %w", ErrAuthentication, opErr), want: false},
		{name: "graph error", err: &Error{Status: 503}, want: false},
		{name: "plain", err: errors.New("something"), want: false},
		{name: "http status text", err: errors.New(http.StatusText(500)), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsTransient(tt.err); got != tt.want {
				t.Errorf("IsTransient(%v) = %t, want %t", tt.err, got, tt.want)
			}
		})
	}
}

// TestErrorRetryAfterCapped: an absurd Retry-After is waited for at most
// MaxRetryAfter, and the error says it asked for far longer.
func TestErrorRetryAfterCapped(t *testing.T) {
	for _, v := range []string{"315360000", "Fri, 31 Dec 9999 23:59:59 GMT"} {
		e := newError(429, func(h string) string {
			if h == "Retry-After" {
				return v
			}
			return ""
		}, nil, testNow)
		if !e.HasRetryAfter || e.RetryAfter != MaxRetryAfter || !e.RetryAfterCapped || !strings.Contains(e.Error(), "retry after 5m0s, the longest waited") {
			t.Errorf("Retry-After %q: %+v (%q), want a capped wait of %v", v, e, e, MaxRetryAfter)
		}
	}
	e := newError(429, func(string) string { return "300" }, nil, testNow)
	if e.RetryAfterCapped || e.RetryAfter != MaxRetryAfter {
		t.Errorf("Retry-After 300: %+v, want the wait uncapped", e)
	}
}
