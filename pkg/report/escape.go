package report

import "strings"

// formulaChars are the first characters that make a spreadsheet evaluate a
// cell as a formula (OWASP "CSV Injection":
// https://owasp.org/www-community/attacks/CSV_Injection).
const formulaChars = "=+-@\t\r"

// escapeQuote is the prefix that makes a spreadsheet read a cell as text.
const escapeQuote = '\''

// NeedsEscape reports whether s, once stripped of leading quotes, begins
// with a formula character: a cell that a spreadsheet would run as a
// formula, or one that escaping must mark so that it reads back exactly.
// Such a value cannot be written to a file as it is; the secrets file
// writes passwords as they are, so a password for which NeedsEscape is
// true must never reach it.
//
// Looking past leading quotes is what makes escaping reversible: the value
// "'=x" (which happens to begin with a quote) gets one more quote in front,
// so that reading strips exactly one back. A value such as "'abc" is left as
// it is both ways.
func NeedsEscape(s string) bool {
	t := strings.TrimLeft(s, string(escapeQuote))
	return t != "" && strings.IndexByte(formulaChars, t[0]) >= 0
}

// escapeCell returns s made safe to open in a spreadsheet: a cell that begins
// with = + - @ tab or CR gets a single quote in front.
func escapeCell(s string) string {
	if NeedsEscape(s) {
		return string(escapeQuote) + s
	}
	return s
}

// unescapeCell undoes escapeCell: unescapeCell(escapeCell(s)) == s for every s.
// A cell that was not escaped (a file written by hand) is returned unchanged.
func unescapeCell(s string) string {
	if s != "" && s[0] == escapeQuote && NeedsEscape(s) {
		return s[1:]
	}
	return s
}
