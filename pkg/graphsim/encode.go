package graphsim

import (
	"slices"
	"strconv"
	"unicode/utf8"
)

// appendBatchResponse appends the JSON of a $batch answer to dst, as
// json.Marshal(batchResponse{Responses: rs}) would, with the headers in
// sorted order, but without reflection: at a million users the answers are
// a large share of the emulator's work, on the same cores as the client
// being measured. Bodies are JSON the emulator made itself and are copied
// as they are.
func appendBatchResponse(dst []byte, rs []subResponse) []byte {
	dst = append(dst, `{"responses":[`...)
	keys := make([]string, 0, 8)
	for i, r := range rs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"id":`...)
		dst = appendJSONString(dst, r.ID)
		dst = append(dst, `,"status":`...)
		dst = strconv.AppendInt(dst, int64(r.Status), 10)
		if len(r.Headers) > 0 {
			keys = keys[:0]
			for k := range r.Headers {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			dst = append(dst, `,"headers":{`...)
			for j, k := range keys {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = appendJSONString(dst, k)
				dst = append(dst, ':')
				dst = appendJSONString(dst, r.Headers[k])
			}
			dst = append(dst, '}')
		}
		if len(r.Body) > 0 {
			dst = append(dst, `,"body":`...)
			dst = append(dst, r.Body...)
		}
		dst = append(dst, '}')
	}
	return append(dst, "]}"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaped as encoding/json does
// (quote, backslash, control characters, and <, >, & for HTML safety);
// invalid UTF-8 becomes U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\n':
				dst = append(dst, '\\', 'n')
			case c == '\r':
				dst = append(dst, '\\', 'r')
			case c == '\t':
				dst = append(dst, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			dst = append(dst, s[i:i+size]...)
		}
		i += size
	}
	return append(dst, '"')
}
