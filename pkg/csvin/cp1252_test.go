package csvin

import (
	"bufio"
	"bytes"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func TestIsUTF8Prefix(t *testing.T) {
	tests := []struct {
		in   string
		more bool
		want bool
	}{
		{"plain ASCII", false, true},
		{"Müller", false, true},
		{"M\xfcller", false, false},       // Windows-1252 ü
		{"M\xc3", true, true},             // the first byte of ü, the rest still to come
		{"M\xc3", false, false},           // and the text ends there
		{"M\xe2\x82", true, true},         // two bytes of €
		{"M\xc3\xbc\xe2\x82", true, true}, // ü, then two bytes of €
		{"\x80", true, false},             // a continuation byte cannot start a rune
		{"", false, true},
	}
	for _, tt := range tests {
		if got := isUTF8Prefix([]byte(tt.in), tt.more); got != tt.want {
			t.Errorf("isUTF8Prefix(%q, more=%v): got %v, want %v", tt.in, tt.more, got, tt.want)
		}
	}
}

func TestCP1252Reader(t *testing.T) {
	in := []byte("A\x80\x81\x8a\x9f\xa0\xe9\xfc\xff\n")
	want := "A€\u0081ŠŸ\u00a0éüÿ\n"
	// One byte at a time, then a large input across the 4 KiB buffer.
	got, err := io.ReadAll(newCP1252Reader(bufio.NewReader(iotest.OneByteReader(bytes.NewReader(in)))))
	if err != nil || string(got) != want {
		t.Errorf("decode %q: got (%q, %v), want %q", in, got, err, want)
	}
	long := bytes.Repeat(in, 1000)
	got, err = io.ReadAll(newCP1252Reader(bufio.NewReader(bytes.NewReader(long))))
	if err != nil || string(got) != strings.Repeat(want, 1000) {
		t.Errorf("decode %d bytes: got %d bytes (%v), want %d", len(long), len(got), err, len(strings.Repeat(want, 1000)))
	}
	// Every byte, against the code chart.
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	got, _ = io.ReadAll(newCP1252Reader(bufio.NewReader(bytes.NewReader(all))))
	if want := referenceWindows1252(all); string(got) != want {
		t.Errorf("decode bytes 0-255: got %q, want %q", got, want)
	}
}

// TestWindows1252OnlyWhenNotUTF8 checks that UTF-8 text stays UTF-8, even
// when its first non-ASCII character is cut by the end of the first read.
func TestWindows1252OnlyWhenNotUTF8(t *testing.T) {
	for _, tt := range []struct {
		name, text, encoding string
	}{
		{"UTF-8", "UPN,Name\nadele@contoso.com,Müller\n", "UTF-8"},
		{"Windows-1252", "UPN,Name\nadele@contoso.com,M\xfcller\n", "Windows-1252"},
	} {
		r, err := NewReader(iotest.HalfReader(strings.NewReader(tt.text)), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Info().Encoding; got != tt.encoding {
			t.Errorf("%s: Encoding %q, want %q", tt.name, got, tt.encoding)
		}
	}
	// A ü cut in two by the first read: still UTF-8.
	prefix := "UPN,Note\na@contoso.com,"
	text := prefix + strings.Repeat("x", 64<<10-1-len(prefix)) + "ü\n" // ü's first byte ends the buffer
	r, err := NewReader(strings.NewReader(text), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.Info().Encoding; got != "UTF-8" {
		t.Errorf("a rune cut by the first read: Encoding %q, want UTF-8", got)
	}
}
