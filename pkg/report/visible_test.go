package report

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestVisible(t *testing.T) {
	tests := []struct{ in, want string }{
		{"adele@contoso.com", "adele@contoso.com"},
		{"Ünïcödé naïve 東京 😀", "Ünïcödé naïve 東京 😀"},
		{"\x1b]0;pwned\x07x", `\x1b]0;pwned\x07x`},
		{"\x1b[2J", `\x1b[2J`},
		{"a\tb\r\nc\x00\x7f", `a\x09b\x0d\x0ac\x00\x7f`},
		{"\u009b2J\u0085", `\u009b2J\u0085`},                     // C1
		{"admin\u202egpj.exe\u200b", `admin\u202egpj.exe\u200b`}, // bidi override, zero width
		{"\U000F0000", `\U000f0000`},                             // private use
		{"bad\xff\x9butf8", `bad\xff\x9butf8`},                   // not UTF-8
		{`a\x1b`, `a\x1b`},                                       // a backslash is kept
		{"\uFFFD", "\uFFFD"},
		// Spaces other than the ASCII one look like it, or like nothing.
		{"alice\u00a0@contoso.com", `alice\u00a0@contoso.com`},
		{"a\u2000b\u200ac\u3000d\u202fe\u205ff", `a\u2000b\u200ac\u3000d\u202fe\u205ff`},
		{"a b", "a b"},
	}
	for _, tc := range tests {
		if got := Visible(tc.in); got != tc.want {
			t.Errorf("Visible(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzVisible(f *testing.F) {
	for _, s := range []string{"", "a", "\x1b[2J", "\u009b", "\xff", "\u202e", "😀"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := Visible(s)
		if Visible(v) != v {
			t.Errorf("Visible is not idempotent on %q", s)
		}
		if !utf8.ValidString(v) {
			t.Errorf("Visible(%q) = %q is not UTF-8", s, v)
		}
		if strings.ContainsFunc(v, hidden) {
			t.Errorf("Visible(%q) = %q keeps a hidden character", s, v)
		}
		if !strings.ContainsFunc(s, hidden) && utf8.ValidString(s) && v != s {
			t.Errorf("Visible changed %q, which has nothing to escape", s)
		}
	})
}
