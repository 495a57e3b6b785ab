// Package wirejson reads and writes the few fixed JSON shapes of Graph's
// $batch wire format without reflection: at a million users encoding/json's
// reflection and its repeated validation passes were the largest share of
// both bulkreset's CPU and the emulator's, on the same two cores.
//
// The Scanner is for fast paths only. Each of its methods reports false
// when the input is anything it does not read exactly as encoding/json
// would, and the caller then decodes the same bytes with encoding/json, so
// the results never differ from encoding/json's; a fuzz test in each
// caller holds the two to that.
package wirejson

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds the nesting Skip follows; deeper input is left to
// encoding/json (whose own limit is 10,000).
const maxDepth = 256

// Scanner reads one JSON text from the front. Its zero value is not
// useful; use NewScanner.
type Scanner struct {
	data []byte
	pos  int
}

// NewScanner returns a Scanner over data.
func NewScanner(data []byte) *Scanner { return &Scanner{data: data} }

// ws skips JSON whitespace.
func (s *Scanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// Peek returns the next byte after whitespace, or 0 at the end.
func (s *Scanner) Peek() byte {
	s.ws()
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

// Byte consumes c, after whitespace, and reports whether it was there.
func (s *Scanner) Byte(c byte) bool {
	if s.Peek() != c {
		return false
	}
	s.pos++
	return true
}

// End reports whether only whitespace is left.
func (s *Scanner) End() bool {
	s.ws()
	return s.pos == len(s.data)
}

// String reads a JSON string and returns it decoded as encoding/json
// decodes it into a Go string.
func (s *Scanner) String() (string, bool) { return s.StringOf(nil) }

// StringOf is String, but when the string is one of common it returns
// that element, without allocating: for the header names and values, and
// the methods, that every item of a batch repeats.
func (s *Scanner) StringOf(common []string) (string, bool) {
	raw, plain, ok := s.stringSpan()
	if !ok {
		return "", false
	}
	if plain {
		v := raw[1 : len(raw)-1]
		for _, c := range common {
			if string(v) == c {
				return c, true
			}
		}
		return string(v), true
	}
	return unquote(raw[1 : len(raw)-1]), true
}

// unquote decodes the inside of a checked JSON string as encoding/json
// does: escapes resolved, a surrogate pair joined, and a lone surrogate or
// a byte that is not valid UTF-8 replaced with U+FFFD.
func unquote(b []byte) string {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c == '\\':
			e := b[i+1]
			i += 2
			switch e {
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				r := hex4(b[i:])
				i += 4
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+6 <= len(b) && b[i] == '\\' && b[i+1] == 'u' {
						r2 = hex4(b[i+2:])
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						r = dec
						i += 6
					} else {
						r = utf8.RuneError
					}
				}
				out = utf8.AppendRune(out, r)
			default: // '"', '\\', '/'
				out = append(out, e)
			}
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(b[i:])
			out = utf8.AppendRune(out, r)
			i += size
		}
	}
	return string(out)
}

// hex4 reads the four hexadecimal digits of a checked \u escape.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		default:
			c = c - 'A' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// stringSpan consumes a string and returns it with its quotes; plain
// reports that it has no escapes and is valid UTF-8, so that its bytes are
// its value.
func (s *Scanner) stringSpan() (raw []byte, plain, ok bool) {
	if !s.Byte('"') {
		return nil, false, false
	}
	start := s.pos - 1
	escaped, ascii := false, true
	for i := s.pos; i < len(s.data); i++ {
		switch c := s.data[i]; {
		case c == '"':
			s.pos = i + 1
			raw = s.data[start:s.pos]
			if escaped && !json.Valid(raw) {
				return nil, false, false // a bad escape
			}
			return raw, !escaped && (ascii || utf8.Valid(raw)), true
		case c == '\\':
			escaped = true
			i++ // the escaped byte cannot end the string
		case c < 0x20:
			return nil, false, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false, false
}

// Int reads a JSON number that is an integer written without fraction or
// exponent, as encoding/json reads one into an int.
func (s *Scanner) Int() (int, bool) {
	raw, ok := s.number()
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(string(raw))
	return n, err == nil
}

// Skip consumes one JSON value of any kind, checking it as encoding/json
// does, and returns its bytes.
func (s *Scanner) Skip() ([]byte, bool) {
	s.ws()
	start := s.pos
	if !s.skip(0) {
		return nil, false
	}
	return s.data[start:s.pos], true
}

func (s *Scanner) skip(depth int) bool {
	if depth > maxDepth {
		return false
	}
	switch c := s.Peek(); {
	case c == '"':
		_, _, ok := s.stringSpan()
		return ok
	case c == '{':
		return s.object(false, nil, func(string) bool { return s.skip(depth + 1) })
	case c == '[':
		return s.Array(func() bool { return s.skip(depth + 1) })
	case c == '-' || c >= '0' && c <= '9':
		_, ok := s.number()
		return ok
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return false
}

// Object reads an object, calling value for each key with the scanner
// just before the key's value, which value must consume; it reports false
// when value does, or the object is malformed.
func (s *Scanner) Object(value func(key string) bool) bool {
	return s.object(true, nil, value)
}

// ObjectOf is Object, with keys read by StringOf(common).
func (s *Scanner) ObjectOf(common []string, value func(key string) bool) bool {
	return s.object(true, common, value)
}

// Fields reads an object whose known keys are names, calling field
// with a name's index before its value, which field must consume; other
// keys are skipped. It returns the set of names seen, a bit each, and
// false when a name is given twice or in another case (encoding/json
// would take it for the name).
func (s *Scanner) Fields(names []string, field func(int) bool) (seen int, ok bool) {
	ok = s.ObjectOf(names, func(key string) bool {
		for i, name := range names {
			if key == name && seen&(1<<i) == 0 {
				seen |= 1 << i
				return field(i)
			}
			if strings.EqualFold(key, name) {
				return false
			}
		}
		_, ok := s.Skip()
		return ok
	})
	return seen, ok
}

// object is Object; without decode, keys are checked but not decoded, and
// value is given "".
func (s *Scanner) object(decode bool, common []string, value func(key string) bool) bool {
	if !s.Byte('{') {
		return false
	}
	if s.Byte('}') {
		return true
	}
	for {
		var key string
		var ok bool
		if decode {
			key, ok = s.StringOf(common)
		} else {
			_, _, ok = s.stringSpan()
		}
		if !ok || !s.Byte(':') || !value(key) {
			return false
		}
		if s.Byte('}') {
			return true
		}
		if !s.Byte(',') {
			return false
		}
	}
}

// Array reads an array, calling elem with the scanner just before each
// element, which elem must consume.
func (s *Scanner) Array(elem func() bool) bool {
	if !s.Byte('[') {
		return false
	}
	if s.Byte(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if s.Byte(']') {
			return true
		}
		if !s.Byte(',') {
			return false
		}
	}
}

// Null consumes a null literal if one is next.
func (s *Scanner) Null() bool {
	s.ws()
	return s.literal("null")
}

// Bool reads true or false.
func (s *Scanner) Bool() (bool, bool) {
	switch s.Peek() {
	case 't':
		return true, s.literal("true")
	case 'f':
		return false, s.literal("false")
	}
	return false, false
}

func (s *Scanner) literal(lit string) bool {
	if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
		return false
	}
	s.pos += len(lit)
	return true
}

// number consumes a number by JSON's grammar,
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, and returns its bytes.
func (s *Scanner) number() ([]byte, bool) {
	s.ws()
	start := s.pos
	if s.pos < len(s.data) && s.data[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos < len(s.data) && s.data[s.pos] == '0':
		s.pos++
	case s.digits() == 0:
		return nil, false
	}
	if s.pos < len(s.data) && s.data[s.pos] == '.' {
		s.pos++
		if s.digits() == 0 {
			return nil, false
		}
	}
	if s.pos < len(s.data) && (s.data[s.pos] == 'e' || s.data[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.data) && (s.data[s.pos] == '+' || s.data[s.pos] == '-') {
			s.pos++
		}
		if s.digits() == 0 {
			return nil, false
		}
	}
	return s.data[start:s.pos], true
}

func (s *Scanner) digits() int {
	n := 0
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		s.pos++
		n++
	}
	return n
}
