package csvin

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf16"
)

type parsed struct {
	line    int
	fields  []string
	problem bool
}

func parseAll(t *testing.T, input string, comma byte, limit int) []parsed {
	t.Helper()
	p := newParser(bufio.NewReader(strings.NewReader(input)), comma)
	if limit > 0 {
		p.lines.max = limit
	}
	var out []parsed
	for {
		rec, err := p.next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("next: got error %v, want nil or io.EOF", err)
		}
		out = append(out, parsed{line: rec.line, fields: rec.fields, problem: rec.problem != ""})
	}
}

func TestParser(t *testing.T) {
	tests := []struct {
		name  string
		input string
		limit int
		want  []parsed
	}{
		{
			name:  "plain, CRLF, blank lines",
			input: "a,b\r\n\r\nc,d\n\n",
			want:  []parsed{{line: 1, fields: []string{"a", "b"}}, {line: 3, fields: []string{"c", "d"}}},
		},
		{
			name:  "quoted delimiter, doubled quote, empty fields",
			input: `"a,b","say ""hi""",,""` + "\n",
			want:  []parsed{{line: 1, fields: []string{"a,b", `say "hi"`, "", ""}}},
		},
		{
			name:  "quoted newline keeps the next record's line right",
			input: "\"x\r\ny\",z\nnext\n",
			want:  []parsed{{line: 1, fields: []string{"x\ny", "z"}}, {line: 3, fields: []string{"next"}}},
		},
		{
			name:  "bare quote: rest of the line dropped, next line read",
			input: "a\"b,c\nd\n",
			want:  []parsed{{line: 1, problem: true, fields: []string{}}, {line: 2, fields: []string{"d"}}},
		},
		{
			name:  "unclosed quote at the end: its lines are read again",
			input: "a,\"b\nc\nd,e",
			want:  []parsed{{line: 1, problem: true, fields: []string{"a"}}, {line: 2, fields: []string{"c"}}, {line: 3, fields: []string{"d", "e"}}},
		},
		{
			name:  "line over the limit",
			input: "a\n" + strings.Repeat("x", 20) + "\nb\n",
			limit: 10,
			want:  []parsed{{line: 1, fields: []string{"a"}}, {line: 2, problem: true, fields: []string{}}, {line: 3, fields: []string{"b"}}},
		},
		{
			name:  "quoted field over the limit: read again from the next line",
			input: "\"aaaa\nbbbb\ncccc\ndddd\n",
			limit: 10,
			want: []parsed{
				{line: 1, problem: true, fields: []string{}},
				{line: 2, fields: []string{"bbbb"}}, {line: 3, fields: []string{"cccc"}}, {line: 4, fields: []string{"dddd"}},
			},
		},
		{
			name:  "quoted field meets a line over the limit",
			input: "\"aa\n" + strings.Repeat("y", 20) + "\nb\n",
			limit: 10,
			want:  []parsed{{line: 1, problem: true, fields: []string{}}, {line: 2, problem: true, fields: []string{}}, {line: 3, fields: []string{"b"}}},
		},
		{
			name:  "line over the limit at the end without a newline",
			input: "a\n" + strings.Repeat("z", 20),
			limit: 10,
			want:  []parsed{{line: 1, fields: []string{"a"}}, {line: 2, problem: true, fields: []string{}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseAll(t, tt.input, ',', tt.limit)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d records %+v, want %d %+v", len(got), got, len(tt.want), tt.want)
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				if g.line != w.line || g.problem != w.problem || !slices.Equal(g.fields, w.fields) {
					t.Errorf("record %d: got %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

// TestParserLongLineInBufferPieces covers lines longer than bufio's buffer,
// which arrive in pieces.
func TestParserLongLineInBufferPieces(t *testing.T) {
	long := strings.Repeat("x", 100_000)
	input := "UPN\n" + long + "\nb@contoso.com\n"
	got := parseAll(t, input, ',', 0)
	if len(got) != 3 || len(got[1].fields) != 1 || got[1].fields[0] != long || got[2].line != 3 {
		t.Fatalf("got %d records, want 3 with the long line intact and the last on line 3", len(got))
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"a,b\nc,d", "\"a\nb\",c\r\nd", "a\"b\nc", "\"a\"b,c\nd", "\"a", "\"a\n\nb", "\r\n\r\n,\n", "a;\"b;c\";d\n",
		"\"\"\"\",\"\"\n", "x\r\r\n", "\"a\"\"\n\"", "a,\"b\nc\"d\ne",
	} {
		f.Add([]byte(s), byte(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, d byte) {
		comma := []byte{',', ';', '\t', '|'}[d%4]
		p := newParser(bufio.NewReader(bytes.NewReader(data)), comma)
		cr := csv.NewReader(bytes.NewReader(data))
		cr.Comma = rune(comma)
		cr.FieldsPerRecord = -1
		last := 0
		for {
			want, werr := cr.Read()
			got, gerr := p.next()
			if gerr != nil && gerr != io.EOF {
				t.Fatalf("next: got error %v", gerr)
			}
			if gerr == nil {
				if got.line <= last {
					t.Fatalf("record at line %d after one at line %d", got.line, last)
				}
				last = got.line
			}
			if werr == io.EOF {
				if gerr != io.EOF {
					t.Fatalf("got a record at line %d after encoding/csv's last", got.line)
				}
				return
			}
			if gerr == io.EOF {
				t.Fatalf("got io.EOF, want a record like encoding/csv's %q (%v)", want, werr)
			}
			var pe *csv.ParseError
			if errors.As(werr, &pe) {
				if got.problem == "" || got.line != pe.StartLine {
					t.Fatalf("encoding/csv: %v; got line %d problem %q, want a problem at line %d", werr, got.line, got.problem, pe.StartLine)
				}
				if pe.StartLine != pe.Line {
					// We read a broken multi-line record's lines again;
					// encoding/csv does not.
					return
				}
				continue
			}
			if werr != nil {
				t.Fatalf("encoding/csv: unexpected error %v", werr)
			}
			line, _ := cr.FieldPos(0)
			if got.problem != "" || got.line != line || !slices.Equal(got.fields, want) {
				t.Fatalf("got line %d %q (problem %q), want line %d %q", got.line, got.fields, got.problem, line, want)
			}
		}
	})
}

func TestUTF16Reader(t *testing.T) {
	tests := []struct {
		name      string
		in        []byte
		bigEndian bool
		want      string
	}{
		{name: "ASCII LE", in: []byte("a\x00,\x00\n\x00"), want: "a,\n"},
		{name: "ASCII BE", in: []byte("\x00a\x00,\x00\n"), bigEndian: true, want: "a,\n"},
		{name: "BMP accents", in: []byte("\xe9\x00\xac\x20"), want: "é€"},
		{name: "surrogate pair", in: []byte("\x3d\xd8\x00\xde"), want: "😀"},
		{name: "lone high surrogate then a letter", in: []byte("\x3d\xd8a\x00"), want: "\uFFFDa"},
		{name: "lone low surrogate", in: []byte("\x00\xdeb\x00"), want: "\uFFFDb"},
		{name: "high surrogate at the end", in: []byte("a\x00\x3d\xd8"), want: "a\uFFFD"},
		{name: "odd final byte", in: []byte("a\x00b"), want: "a\uFFFD"},
		{name: "empty", in: nil, want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, one := range []bool{false, true} {
				var src io.Reader = bytes.NewReader(tt.in)
				if one {
					src = iotest.OneByteReader(src)
				}
				got, err := io.ReadAll(iotest.OneByteReader(newUTF16Reader(src, tt.bigEndian)))
				if err != nil {
					t.Fatalf("ReadAll (one byte at a time: %v): got error %v", one, err)
				}
				if string(got) != tt.want {
					t.Errorf("one byte at a time: %v: got %q, want %q", one, got, tt.want)
				}
			}
		})
	}
}

func TestUTF16ReaderError(t *testing.T) {
	errDisk := errors.New("disk on fire")
	_, err := io.ReadAll(newUTF16Reader(&failAfter{data: []byte("a\x00"), err: errDisk}, false))
	if !errors.Is(err, errDisk) {
		t.Errorf("got %v, want %v", err, errDisk)
	}
}

// referenceUTF16 decodes with unicode/utf16, for comparison.
func referenceUTF16(b []byte, bigEndian bool) string {
	units := make([]uint16, len(b)/2)
	for i := range units {
		if bigEndian {
			units[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			units[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	s := string(utf16.Decode(units))
	if len(b)%2 == 1 {
		s += "\uFFFD"
	}
	return s
}

func FuzzUTF16(f *testing.F) {
	f.Add([]byte("a\x00\x3d\xd8\x00\xde"), false)
	f.Add([]byte("\xd8\x3d\xde\x00\x00"), true)
	f.Add(bytes.Repeat([]byte("\x3d\xd8"), 3000), false)
	f.Fuzz(func(t *testing.T, data []byte, bigEndian bool) {
		got, err := io.ReadAll(newUTF16Reader(bytes.NewReader(data), bigEndian))
		if err != nil {
			t.Fatal(err)
		}
		if want := referenceUTF16(data, bigEndian); string(got) != want {
			t.Fatalf("got %q, want %q", got, want)
		}
	})
}

// TestUTF16AcrossBuffers decodes text longer than the decoder's buffer,
// with surrogate pairs straddling every buffer boundary.
func TestUTF16AcrossBuffers(t *testing.T) {
	text := strings.Repeat("a😀", 5000) + "z"
	var enc []byte
	for _, u := range utf16.Encode([]rune(text)) {
		enc = append(enc, byte(u), byte(u>>8))
	}
	got, err := io.ReadAll(newUTF16Reader(bytes.NewReader(enc), false))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != text {
		t.Errorf("got %d bytes, want %d bytes of the same text", len(got), len(text))
	}
}
