package report

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Visible returns s with every character that a terminal or a viewer could
// act on or hide written visibly as an escape instead: control characters
// (C0 such as ESC, BEL, tab and newline; DEL; C1 such as the one-character
// CSI U+009B), invisible format characters that reorder or hide text (bidi
// overrides, zero-width characters), spaces other than the ASCII space
// (such as the no-break space U+00A0), unassigned and private-use code
// points, and bytes that are not UTF-8. An ASCII character or a stray byte becomes
// \xNN (ESC is \x1b), any other character \uNNNN or \UNNNNNNNN. Every other
// character, the space included, is kept.
//
// It is the one escaping of text that came from outside (input cells,
// Graph's error messages) on its way to a terminal, a log or a results
// file: a cell holding "ESC]0;…" or "ESC[2J" must not retitle or clear the
// screen of whoever reads it. It is not reversible (a backslash is kept as
// it is), and it is idempotent: Visible(Visible(s)) == Visible(s), so that
// a value read back from a file compares equal to a new one made visible.
func Visible(s string) string {
	i := strings.IndexFunc(s, hidden)
	if i < 0 && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1: // a byte that is not UTF-8
			appendHex(&b, `\x`, uint32(s[i]), 2)
		case r < 0x80 && hidden(r):
			appendHex(&b, `\x`, uint32(r), 2)
		case hidden(r) && r <= 0xffff:
			appendHex(&b, `\u`, uint32(r), 4)
		case hidden(r):
			appendHex(&b, `\U`, uint32(r), 8)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// hidden reports whether Visible escapes r (a valid U+FFFD is graphic, and
// kept). Spaces other than the ASCII one (U+00A0, U+2000–U+200A, U+3000…)
// are graphic, but a reader cannot tell them from it: "alice\u00a0@…" is
// not the UPN it looks like.
func hidden(r rune) bool {
	return !strconv.IsGraphic(r) || r != ' ' && unicode.Is(unicode.Zs, r)
}

// appendHex writes prefix and then v as digits hexadecimal digits.
func appendHex(b *strings.Builder, prefix string, v uint32, digits int) {
	const hexDigits = "0123456789abcdef"
	b.WriteString(prefix)
	for shift := 4 * (digits - 1); shift >= 0; shift -= 4 {
		b.WriteByte(hexDigits[v>>uint(shift)&0xf])
	}
}
