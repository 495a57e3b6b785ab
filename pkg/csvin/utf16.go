package csvin

import (
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// utf16Reader decodes a UTF-16 byte stream to UTF-8 as it is read, in
// constant memory. Unpaired surrogates and a final odd byte decode to
// U+FFFD, as encoding/json and unicode/utf16 do.
type utf16Reader struct {
	src       io.Reader
	bigEndian bool
	in        [4096]byte
	nIn       int    // bytes in in (an odd byte is kept for the next read)
	out       []byte // decoded and not yet returned
	outBuf    []byte
	high      rune // a high surrogate waiting for its pair, or 0
	err       error
}

func newUTF16Reader(src io.Reader, bigEndian bool) *utf16Reader {
	return &utf16Reader{src: src, bigEndian: bigEndian, outBuf: make([]byte, 0, 3*len(utf16Reader{}.in)/2+utf8.UTFMax)}
}

// Read implements io.Reader.
func (d *utf16Reader) Read(p []byte) (int, error) {
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		d.fill()
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

func (d *utf16Reader) fill() {
	n, err := d.src.Read(d.in[d.nIn:])
	d.nIn += n
	out := d.outBuf[:0]
	units := d.nIn / 2
	for i := range units {
		var u rune
		if d.bigEndian {
			u = rune(d.in[2*i])<<8 | rune(d.in[2*i+1])
		} else {
			u = rune(d.in[2*i+1])<<8 | rune(d.in[2*i])
		}
		if d.high != 0 {
			if 0xDC00 <= u && u < 0xE000 {
				out = utf8.AppendRune(out, utf16.DecodeRune(d.high, u))
				d.high = 0
				continue
			}
			out = utf8.AppendRune(out, utf8.RuneError)
			d.high = 0
		}
		switch {
		case 0xD800 <= u && u < 0xDC00:
			d.high = u
		default:
			// A lone low surrogate is not a valid rune: AppendRune writes
			// U+FFFD for it.
			out = utf8.AppendRune(out, u)
		}
	}
	if d.nIn%2 == 1 {
		d.in[0] = d.in[d.nIn-1]
	}
	d.nIn %= 2
	if err != nil {
		if err == io.EOF {
			if d.high != 0 {
				out = utf8.AppendRune(out, utf8.RuneError)
				d.high = 0
			}
			if d.nIn == 1 {
				out = utf8.AppendRune(out, utf8.RuneError)
				d.nIn = 0
			}
		}
		d.err = err
	}
	d.out = out
	d.outBuf = out
}
