package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// batchItem is one sub-response as read: a response, or why none could be
// read from it.
type batchItem struct {
	resp    Response
	anomaly string
}

// decodeBatchItems reads the items of a $batch answer with encoding/json:
// a json.Decoder walks the answer, and reads each item through a window of
// it that ends maxItemBytes past the item's start, so that an item larger
// than any Graph sends is refused without being held in memory. The
// responses key is matched as encoding/json matches a field name (without
// regard to case); a second one makes the answer malformed. Reading stops
// after most+1 items (the caller then has more than most, and knows the
// answer is malformed), and at the first item that cannot be taken: one
// without a valid id or status, larger than maxItemBytes, with more than
// maxItemHeaders headers, or with a body larger than maxItemBodyBytes.
// Whatever an answer holds, reading it costs memory in proportion to the
// items taken, not to the answer. An answer that is not valid JSON is
// refused as that, whatever else is wrong with it.
func decodeBatchItems(body []byte, most int) ([]batchItem, error) {
	items, problem := walkBatch(body, most)
	stopped := len(items) > 0 && items[len(items)-1].anomaly != ""
	if (problem != "" || stopped) && !json.Valid(body) {
		problem = notJSON // checked only once something is wrong: the walk checks what it reads
	}
	if problem != "" {
		return nil, fmt.Errorf("%w: %s", ErrMalformedResponse, problem)
	}
	return items, nil
}

// notJSON is the problem with an answer that is not valid JSON.
const notJSON = "not valid JSON"

// walkBatch is decodeBatchItems without its last word on invalid JSON: the
// items read (the last with an anomaly when reading stopped there), or the
// problem with the answer as a whole.
func walkBatch(body []byte, most int) ([]batchItem, string) {
	r := &windowReader{data: body, end: len(body)}
	dec := json.NewDecoder(r)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, "no responses array"
	}
	var items []batchItem
	found := false
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, notJSON
		}
		if k, _ := key.(string); !strings.EqualFold(k, "responses") {
			if dec.Decode(new(json.RawMessage)) != nil {
				return nil, notJSON
			}
			continue
		}
		if found {
			return nil, "two responses arrays"
		}
		found = true
		switch t, err := dec.Token(); {
		case err != nil:
			return nil, notJSON
		case t == nil: // null: no array (a second responses key is still refused)
		case t == json.Delim('['):
			items = make([]batchItem, 0, most+1)
			if !decodeItems(dec, r, most, &items) {
				return items, "" // stopped at an item parseBatch refuses
			}
		default:
			return nil, "the responses are not an array"
		}
	}
	// The closing brace, and nothing after it.
	if t, err := dec.Token(); err != nil || t != json.Delim('}') {
		return nil, notJSON
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, notJSON
	}
	if items == nil {
		return nil, "no responses array"
	}
	return items, ""
}

// decodeItems reads the elements of the responses array, and its closing
// bracket, into *items. It reports false when it stopped early: at an item
// with an anomaly, or at item most+1, which it records as an anomaly.
func decodeItems(dec *json.Decoder, r *windowReader, most int, items *[]batchItem) bool {
	for dec.More() {
		if len(*items) == most {
			*items = append(*items, batchItem{anomaly: "more answers than requests"})
			return false
		}
		it := decodeItem(dec, r, len(*items))
		*items = append(*items, it)
		if it.anomaly != "" {
			return false
		}
	}
	if t, err := dec.Token(); err != nil || t != json.Delim(']') {
		*items = append(*items, batchItem{anomaly: notJSON})
		return false
	}
	return true
}

// itemWire is one sub-response as written.
type itemWire struct {
	ID      *string         `json:"id"`
	Status  *int            `json:"status"`
	Headers json.RawMessage `json:"headers"`
	Body    json.RawMessage `json:"body"`
}

// decodeItem reads sub-response i, the next element of the array dec is in.
func decodeItem(dec *json.Decoder, r *windowReader, i int) batchItem {
	start := r.valueStart(dec.InputOffset())
	r.end = min(len(r.data), start+maxItemBytes+1) // +1: a number ends at the byte after it
	var w itemWire
	err := dec.Decode(&w)
	windowed := r.end < len(r.data)
	r.end = len(r.data)
	var syntax *json.SyntaxError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) && windowed, int(dec.InputOffset())-start > maxItemBytes:
		return batchItem{anomaly: fmt.Sprintf("answer %d is larger than %d KiB, more than its headers and body can be", i, maxItemBytes>>10)}
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return batchItem{anomaly: notJSON}
	}
	var headers map[string]string
	switch {
	case err == nil && len(w.Body) > maxItemBodyBytes:
		return batchItem{anomaly: fmt.Sprintf("answer %d has a body larger than %d KiB", i, maxItemBodyBytes>>10)}
	case err == nil:
		headers, err = decodeHeaders(w.Headers)
		if errors.Is(err, errTooManyHeaders) {
			return batchItem{anomaly: fmt.Sprintf("answer %d has more than %d headers", i, maxItemHeaders)}
		}
	}
	if err != nil || w.ID == nil || w.Status == nil || *w.Status < 100 || *w.Status > 599 {
		id := "?"
		var only struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(r.data[start:dec.InputOffset()], &only) == nil && only.ID != "" {
			id = only.ID
		}
		return batchItem{anomaly: fmt.Sprintf("answer %d (id %s) has no valid id or status", i, quoteID(id))}
	}
	resp := Response{ID: *w.ID, Status: *w.Status, Headers: headers}
	if len(w.Body) > 0 && string(w.Body) != "null" {
		resp.Body = w.Body
	}
	return batchItem{resp: resp}
}

// errTooManyHeaders is decodeHeaders' error for more than maxItemHeaders.
var errTooManyHeaders = errors.New("too many headers")

// minKeysBytes is the length of the shortest JSON object with more than
// maxItemHeaders keys: {"":0,"":0,...}, 5 bytes a key. Shorter headers
// need no counting.
const minKeysBytes = 5*(maxItemHeaders+1) + 1

// decodeHeaders reads a sub-response's headers, raw as written and valid
// JSON: an object whose values are strings, or numbers and other values
// kept as written (e.g. "Retry-After": 5), or null (no headers). More than
// maxItemHeaders keys, a key given twice counted twice, is
// errTooManyHeaders.
func decodeHeaders(raw json.RawMessage) (map[string]string, error) {
	if len(raw) >= minKeysBytes && countKeys(raw) > maxItemHeaders {
		return nil, errTooManyHeaders
	}
	var m map[string]any
	if len(raw) > 0 {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber() // a number is kept as written
		if err := dec.Decode(&m); err != nil {
			return nil, err
		}
	}
	h := make(map[string]string, len(m))
	var written map[string]json.RawMessage
	for k, v := range m {
		switch v := v.(type) {
		case string:
			h[k] = v
		case json.Number:
			h[k] = v.String()
		case bool:
			h[k] = strconv.FormatBool(v)
		case nil:
			h[k] = ""
		default: // an object or an array, kept as written
			if written == nil {
				_ = json.Unmarshal(raw, &written) // decoded above: cannot fail
			}
			h[k] = string(written[k])
		}
	}
	return h, nil
}

// countKeys returns how many keys the valid JSON object obj has, a key
// given twice counted twice: the colons outside strings at its first
// level. This one loop is by hand because json.Decoder's Token, which
// could count them, cost more than reading the headers (a tenth of
// bulkreset's CPU at a million users, every header object of graphsim's
// answers being longer than minKeysBytes).
func countKeys(obj []byte) int {
	n, depth, inString := 0, 0, false
	for i := 0; i < len(obj); i++ {
		switch c := obj[i]; {
		case inString && c == '\\':
			i++ // the escaped byte is never a quote that ends the string
		case inString:
			inString = c != '"'
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		case c == ':' && depth == 1:
			n++
		}
	}
	return n
}

// windowReader reads data up to end, which the reader of a $batch answer
// moves so that a json.Decoder cannot take in more of one item than the
// bound on an item.
type windowReader struct {
	data     []byte
	pos, end int
}

// Read implements io.Reader.
func (r *windowReader) Read(p []byte) (int, error) {
	if r.pos >= r.end {
		return 0, io.EOF
	}
	n := copy(p, r.data[r.pos:r.end])
	r.pos += n
	return n, nil
}

// valueStart returns where the array element after offset begins: past
// white space and the comma before it.
func (r *windowReader) valueStart(offset int64) int {
	i := int(offset)
	for i < len(r.data) && strings.IndexByte(" \t\r\n,", r.data[i]) >= 0 {
		i++
	}
	return i
}
