package graph

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
)

// TestBatchAnswerTooLarge: an answer larger than any Graph sends is not
// read to its end; it is malformed.
func TestBatchAnswerTooLarge(t *testing.T) {
	s := newStub(t, func(w http.ResponseWriter, _ *http.Request, _ []byte, _ int) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"responses":[{"id":"1","status":204,"body":{"pad":"`)
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for range (maxResponseBytes / len(chunk)) + 16 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
		_, _ = io.WriteString(w, `"}}]}`)
	})
	_, err := newTestClient(t, s, validCred(), nil).Batch(t.Context(), []Request{{ID: "1", Method: "GET", URL: "/users/1"}})
	if !errors.Is(err, ErrMalformedResponse) || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("Batch: %v, want ErrMalformedResponse (larger than the bound)", err)
	}
}

// TestParseBatchStopsAtExtraItems: an answer of a hundred thousand items
// to a batch of two is refused after the third, without reading the rest.
func TestParseBatchStopsAtExtraItems(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(`{"responses":[`)
	for i := range 100_000 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"%d","status":204,"headers":{"Content-Type":"application/json"}}`, i)
	}
	b.WriteString(`]}`)
	body := b.Bytes()
	reqs := []Request{{ID: "0"}, {ID: "1"}}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := parseBatch(body, reqs)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrMalformedResponse) || !strings.Contains(err.Error(), "more answers than the 2 requests") {
		t.Fatalf("parseBatch: %v, want ErrMalformedResponse (more answers than requests)", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<10 {
		t.Errorf("parseBatch allocated %d bytes for an answer it refuses after 3 items", alloc)
	}
}

// TestRedirectNotFollowed: a redirect from Graph is an *Error (reason
// redirected, wrapping ErrRedirect), and the address it points to gets
// nothing, even with a caller's client that would follow it.
func TestRedirectNotFollowed(t *testing.T) {
	var elsewhere atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	t.Cleanup(other.Close)
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		s := newStub(t, func(w http.ResponseWriter, r *http.Request, _ []byte, _ int) {
			w.Header().Set("Location", other.URL+r.URL.Path+"?secret=x")
			w.WriteHeader(status)
		})
		c := newTestClient(t, s, validCred(), func(o *ClientOptions) { o.HTTPClient = &http.Client{} })
		_, err := c.Batch(t.Context(), []Request{PasswordRequest("1", "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f", PasswordProfile{Password: testPassword})})
		var gerr *Error
		if !errors.As(err, &gerr) || gerr.Status != status || !errors.Is(err, ErrRedirect) || Reason(gerr) != "redirected" {
			t.Fatalf("HTTP %d: Batch error %v, want an *Error wrapping ErrRedirect, reason redirected", status, err)
		}
		if want := "redirect to " + other.URL + ","; !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("HTTP %d: error %q, want it to say %q and no path or query", status, err, want)
		}
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the redirect target got %d requests", n)
	}
}
