package wirejson

import (
	"slices"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string, escaped exactly as json.Marshal
// escapes it: quote, backslash, control characters (\b, \f, \n, \r, \t by
// name), and <, >, &, U+2028 and U+2029 for HTML safety; invalid UTF-8
// becomes U+FFFD.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c == '\b':
				dst = append(dst, '\\', 'b')
			case c == '\f':
				dst = append(dst, '\\', 'f')
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

// AppendStringMap appends m as a JSON object with its keys sorted, as
// json.Marshal renders a map[string]string.
func AppendStringMap(dst []byte, m map[string]string) []byte {
	var buf [8]string
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, k)
		dst = append(dst, ':')
		dst = AppendString(dst, m[k])
	}
	return append(dst, '}')
}

// AppendItemEnd appends the end of a $batch request or response item:
// "headers" when h is not empty, "body" (JSON copied as it is) when body
// is not empty, and the closing brace; as json.Marshal renders those
// fields with omitempty.
func AppendItemEnd(dst []byte, h map[string]string, body []byte) []byte {
	if len(h) > 0 {
		dst = append(dst, `,"headers":`...)
		dst = AppendStringMap(dst, h)
	}
	if len(body) > 0 {
		dst = append(dst, `,"body":`...)
		dst = append(dst, body...)
	}
	return append(dst, '}')
}
