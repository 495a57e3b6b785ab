package graph

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/bulkreset/bulkreset/pkg/secret"
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
		_, err := c.Batch(t.Context(), []Request{PasswordRequest("1", "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f", PasswordProfile{Password: secret.New(testPassword)})})
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

// manyItems is a $batch answer of n items made by item(i).
func manyItems(n int, item func(i int) string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"responses":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(item(i))
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// allocated returns the bytes f allocated.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestParseBatchBounded: whatever its items look like (the usual keys, a
// key in another case, a status as a string), an answer with more items
// than requests, an item with more headers than any Graph sends, or a body
// larger than any sub-response's, is malformed, and refusing it costs
// little memory.
func TestParseBatchBounded(t *testing.T) {
	headers := func(n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `"h%d":1`, i)
		}
		return b.String()
	}
	pad := strings.Repeat("x", maxItemBodyBytes)
	reqs := []Request{{ID: "0"}, {ID: "1"}}
	for _, tc := range []struct {
		name string
		body []byte
		want string
	}{
		{"extra items, usual keys", manyItems(50_000, func(i int) string { return fmt.Sprintf(`{"id":"%d","status":204}`, i) }), "more answers than the 2 requests"},
		{"extra items, key in another case", manyItems(50_000, func(i int) string { return fmt.Sprintf(`{"ID":"%d","status":204}`, i) }), "more answers than the 2 requests"},
		{"extra items, status as a string", manyItems(50_000, func(i int) string { return fmt.Sprintf(`{"id":"%d","status":"204"}`, i) }), "no valid id or status"},
		{"extra invalid items", manyItems(50_000, func(i int) string { return `{"x":1}` }), "no valid id or status"},
		{"many headers, usual keys", manyItems(2, func(i int) string { return fmt.Sprintf(`{"id":"%d","status":204,"headers":{%s}}`, i, headers(50_000)) }), "headers"},
		{"many headers, key in another case", manyItems(2, func(i int) string { return fmt.Sprintf(`{"ID":"%d","status":204,"headers":{%s}}`, i, headers(50_000)) }), "headers"},
		{"65 headers", manyItems(2, func(i int) string {
			return fmt.Sprintf(`{"id":"%d","status":204,"headers":{%s}}`, i, headers(maxItemHeaders+1))
		}), "more than 64 headers"},
		{"a header given 65 times", manyItems(2, func(i int) string {
			return fmt.Sprintf(`{"id":"%d","status":204,"headers":{%s}}`, i, strings.TrimSuffix(strings.Repeat(`"Retry-After":"1",`, maxItemHeaders+1), ","))
		}), "more than 64 headers"},
		{"65 shortest headers", manyItems(2, func(i int) string {
			return fmt.Sprintf(`{"id":"%d","status":204,"headers":{%s}}`, i, strings.TrimSuffix(strings.Repeat(`"":0,`, maxItemHeaders+1), ","))
		}), "more than 64 headers"},
		{"large body, usual keys", manyItems(2, func(i int) string { return fmt.Sprintf(`{"id":"%d","status":200,"body":{"p":"%s"}}`, i, pad) }), "body"},
		{"large body, key in another case", manyItems(2, func(i int) string { return fmt.Sprintf(`{"ID":"%d","status":200,"body":{"p":"%s"}}`, i, pad) }), "body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			alloc := allocated(func() { _, err = parseBatch(tc.body, reqs) })
			if !errors.Is(err, ErrMalformedResponse) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("parseBatch: %v, want ErrMalformedResponse (%s)", err, tc.want)
			}
			if most := uint64(256<<10) + 3*maxItemBodyBytes; alloc > most {
				t.Errorf("parseBatch allocated %d KiB to refuse a %d KiB answer, want at most %d KiB", alloc>>10, len(tc.body)>>10, most>>10)
			}
		})
	}
}

// TestResponseBound: the bound on an answer is far above Graph's largest
// (20 sub-responses of a few kilobytes each) and far below what a run of
// 64 batches in flight could hold without notice.
func TestResponseBound(t *testing.T) {
	if largest := MaxBatchSize * (maxItemBodyBytes + maxItemHeaders*128); maxResponseBytes < largest/4 || maxResponseBytes > 512<<10 {
		t.Errorf("maxResponseBytes = %d, want at most 512 KiB and room for 20 items near their own bounds (%d)", maxResponseBytes, largest)
	}
}
