package graph

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
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
