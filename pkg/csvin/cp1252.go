package csvin

import (
	"bufio"
	"io"
	"unicode/utf8"
)

// Excel saves "CSV (Comma delimited)" in the system's ANSI code page, not
// UTF-8: Windows-1252 in Western Europe and the Americas, where the
// semicolon-delimited files come from. A text without a byte-order mark
// whose first read (64 KiB of a file) is not valid UTF-8 is read as
// Windows-1252. The user
// column is ASCII in a valid row either way; the decoding keeps the other
// cells, the header names and the results file readable.

// isUTF8Prefix reports whether b is valid UTF-8, allowing a rune cut at
// its end when more follows.
func isUTF8Prefix(b []byte, more bool) bool {
	if more {
		// Drop a rune cut by the end of the buffer: at most 3 bytes.
		for i := 1; i <= utf8.UTFMax-1 && i <= len(b); i++ {
			if c := b[len(b)-i]; c < 0x80 || utf8.RuneStart(c) {
				if !utf8.FullRune(b[len(b)-i:]) {
					b = b[:len(b)-i]
				}
				break
			}
		}
	}
	return utf8.Valid(b)
}

// cp1252High maps the bytes 0x80-0x9F of Windows-1252; 0xA0-0xFF are the
// same as in Latin-1 (Unicode U+00A0-U+00FF). The five bytes Windows-1252
// leaves undefined map to the C1 controls of the same value, as in the
// WHATWG encoding standard.
var cp1252High = [32]rune{
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
	0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
}

// cp1252Reader decodes Windows-1252 to UTF-8 as it is read.
type cp1252Reader struct {
	src    *bufio.Reader
	in     [4096]byte
	outBuf [3 * 4096]byte
	out    []byte
	err    error
}

func newCP1252Reader(src *bufio.Reader) *cp1252Reader { return &cp1252Reader{src: src} }

// Read implements io.Reader.
func (d *cp1252Reader) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		n, err := d.src.Read(d.in[:])
		out := d.outBuf[:0]
		for _, c := range d.in[:n] {
			switch {
			case c < 0x80:
				out = append(out, c)
			case c < 0xA0:
				out = utf8.AppendRune(out, cp1252High[c-0x80])
			default:
				out = utf8.AppendRune(out, rune(c))
			}
		}
		d.out, d.err = out, err
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

var _ io.Reader = (*cp1252Reader)(nil)
