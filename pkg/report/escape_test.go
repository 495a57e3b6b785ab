package report

import (
	"strings"
	"testing"
)

func TestEscapeCell(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "empty", in: "", want: ""},
		{name: "plain", in: "alice@contoso.com", want: "alice@contoso.com"},
		{name: "equals", in: "=HYPERLINK(\"x\")", want: "'=HYPERLINK(\"x\")"},
		{name: "plus", in: "+1", want: "'+1"},
		{name: "minus", in: "-2+3", want: "'-2+3"},
		{name: "minus alone", in: "-", want: "'-"},
		{name: "at", in: "@SUM(A1)", want: "'@SUM(A1)"},
		{name: "tab", in: "\t=1", want: "'\t=1"},
		{name: "carriage return", in: "\r=1", want: "'\r=1"},
		{name: "error message starting with dash", in: "- The specified password", want: "'- The specified password"},
		{name: "formula char later", in: "a=b", want: "a=b"},
		{name: "leading space then formula", in: " =1", want: " =1"},
		{name: "newline first", in: "\n=1", want: "\n=1"},
		{name: "quote then text", in: "'abc", want: "'abc"},
		{name: "quote alone", in: "'", want: "'"},
		{name: "quote then formula", in: "'=1", want: "''=1"},
		{name: "two quotes then formula", in: "''-1", want: "'''-1"},
		{name: "unicode", in: "Zoë@contoso.com", want: "Zoë@contoso.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := escapeCell(tt.in)
			if got != tt.want {
				t.Errorf("escapeCell(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if back := unescapeCell(got); back != tt.in {
				t.Errorf("unescapeCell(%q) = %q, want %q", got, back, tt.in)
			}
		})
	}
}

func TestUnescapeCellLeavesUnescapedInput(t *testing.T) {
	// A results file edited by hand, or written by another tool, may hold
	// unescaped cells: reading must not damage them.
	for _, in := range []string{"=1", "-", "abc", "'abc", "'", ""} {
		if got := unescapeCell(in); got != in {
			t.Errorf("unescapeCell(%q) = %q, want %q", in, got, in)
		}
	}
}

func FuzzEscapeCell(f *testing.F) {
	for _, s := range []string{"", "=1", "'=1", "''=1", "'", "'a", "-", "@", "\t", "\r", "a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := escapeCell(s)
		if e != "" && strings.IndexByte(formulaChars, e[0]) >= 0 {
			t.Errorf("escapeCell(%q) = %q, which begins with a formula character", s, e)
		}
		if back := unescapeCell(e); back != s {
			t.Errorf("unescapeCell(escapeCell(%q)) = %q, want %q", s, back, s)
		}
	})
}
