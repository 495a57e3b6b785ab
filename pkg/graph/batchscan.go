package graph

import (
	"strings"

	"github.com/bulkreset/bulkreset/internal/wirejson"
)

// scanBatchItems reads a $batch answer of the usual shape,
// {"responses":[{"id":"1","status":204,"headers":{...},"body":{...}},...]},
// in one pass without reflection, appending its items to items. It stops
// with false once it has read more than most items (the caller then has
// more than most, and knows the answer is malformed), and with false at an
// item beyond maxItemHeaders or maxItemBodyBytes. It reports
// false for anything else (malformed JSON, a missing or odd id or status,
// a key written in another case, a key given twice, ...), and the caller
// then reads the answer with decodeBatchItems, whose reading is the
// reference: FuzzScanBatchItems holds the two to the same result.
func scanBatchItems(body []byte, items []batchItem, most int) ([]batchItem, bool) {
	s := wirejson.NewScanner(body)
	found := false
	ok := s.Object(func(key string) bool {
		switch {
		case key == "responses" && !found:
			found = true
			return s.Array(func() bool {
				resp, ok := scanResponse(s)
				items = append(items, batchItem{resp: resp})
				return ok && len(items) <= most
			})
		case strings.EqualFold(key, "responses"):
			return false // given twice, or in another case that encoding/json would take
		}
		_, ok := s.Skip()
		return ok
	})
	return items, ok && found && s.End()
}

// responseKeys are the keys of a sub-response.
var responseKeys = []string{"id", "status", "headers", "body"}

// scanResponse reads one sub-response; it must have an id and a status
// from 100 to 599.
func scanResponse(s *wirejson.Scanner) (Response, bool) {
	var r Response
	seen, ok := s.Fields(responseKeys, func(field int) (ok bool) {
		switch field {
		case 0:
			r.ID, ok = s.String()
		case 1:
			r.Status, ok = s.Int()
		case 2:
			r.Headers, ok = scanHeaders(s)
		case 3:
			var raw []byte
			if raw, ok = s.Skip(); ok && len(raw) > maxItemBodyBytes {
				return false // decodeBatchItems says why
			}
			if ok && string(raw) != "null" {
				r.Body = raw
			}
		}
		return ok
	})
	if !ok || seen&3 != 3 || r.Status < 100 || r.Status > 599 {
		return r, false
	}
	if r.Headers == nil {
		r.Headers = map[string]string{}
	}
	return r, true
}

// Header names and values that most sub-responses carry, kept as constants
// rather than allocated again for every item (see wirejson.StringOf).
var (
	commonHeaderNames = []string{"Cache-Control", "Content-Type", "OData-Version", "x-ms-resource-unit",
		"x-ms-throttle-limit-percentage", "Retry-After", "request-id", "client-request-id", "Date", "Location"}
	commonHeaderValues = []string{"no-cache", "4.0", "1", "application/json",
		"application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"}
)

// scanHeaders reads a sub-response's headers: an object whose values are
// strings, or numbers and other literals kept as written (e.g.
// "Retry-After": 5), or null. More than maxItemHeaders is left to
// decodeBatchItems, which says why it refuses them.
func scanHeaders(s *wirejson.Scanner) (map[string]string, bool) {
	if s.Null() {
		return nil, true
	}
	h := make(map[string]string, 4)
	n := 0 // keys read, a key given twice counted twice, as decodeBatchItems counts
	return h, s.ObjectOf(commonHeaderNames, func(key string) bool {
		if n++; n > maxItemHeaders {
			return false
		}
		if s.Peek() == '"' {
			v, ok := s.StringOf(commonHeaderValues)
			h[key] = v
			return ok
		}
		raw, ok := s.Skip()
		if string(raw) == "null" {
			raw = nil
		}
		h[key] = string(raw)
		return ok
	})
}
