package csvin

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/bulkreset/bulkreset/internal/guid"
)

// UPN limits and characters, from Microsoft's "Username policies"
// (https://learn.microsoft.com/entra/identity/authentication/concept-sspr-policy#username-policies,
// source MicrosoftDocs/entra-docs docs/identity/authentication/concept-sspr-policy.md),
// which apply to cloud and synchronized accounts alike:
//
//   - characters allowed: A-Z a-z 0-9 ' . - _ ! # ^ ~
//   - no "@" other than the one separating the user name from the domain
//   - no period immediately before the "@"
//   - at most 113 characters in all, 64 before the "@" and 48 after it
//
// The Graph user resource says the same ("can't contain accent characters",
// microsoft-graph-docs-contrib api-reference/v1.0/resources/user.md). Two
// additions: "$" is accepted in the name, because Graph documents UPNs that
// begin with "$" and how to address them (user-get.md: "/users('$x@y.com')");
// and a period may not begin the name either (RFC 5322 dot-atom, on which the
// UPN is modelled). The domain after the "@" must be a DNS name: labels of
// letters, digits and hyphens, no hyphen at a label's ends, at least two
// labels (every verified domain, contoso.onmicrosoft.com included, has one
// dot or more). Guest UPNs such as alice_fabrikam.com#EXT#@contoso.onmicrosoft.com
// pass these rules as they are.
const (
	maxUPN       = 113
	maxUPNName   = 64
	maxUPNDomain = 48
	upnSpecials  = "'.-_!#^~$"
)

// checkUPN returns "" for a UPN that follows Microsoft's documented syntax,
// else what is wrong with it. The explanation never repeats the UPN: the
// results file shows it beside the explanation.
func checkUPN(upn string) string {
	for i, r := range upn {
		if r >= utf8.RuneSelf {
			return fmt.Sprintf("UPN has a non-ASCII character at position %d (accented and other Unicode characters are not allowed)", utf8.RuneCountInString(upn[:i])+1)
		}
	}
	at := strings.IndexByte(upn, '@')
	switch {
	case at < 0:
		return "UPN has no @ (expected name@domain)"
	case strings.Count(upn, "@") > 1:
		return "UPN has more than one @"
	case len(upn) > maxUPN:
		return fmt.Sprintf("UPN is longer than %d characters", maxUPN)
	}
	name, domain := upn[:at], upn[at+1:]
	switch {
	case name == "":
		return "UPN has nothing before the @"
	case len(name) > maxUPNName:
		return fmt.Sprintf("UPN has more than %d characters before the @", maxUPNName)
	case name[0] == '.' || name[len(name)-1] == '.':
		return "UPN has a period at the start of the name or just before the @"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isAlnum(c) && strings.IndexByte(upnSpecials, c) < 0 {
			return fmt.Sprintf("UPN has a character at position %d that is not allowed (allowed: A-Z a-z 0-9 and %s)", i+1, spaced(upnSpecials))
		}
	}
	if domain == "" {
		return "UPN has no domain after the @"
	}
	if len(domain) > maxUPNDomain {
		return fmt.Sprintf("UPN has more than %d characters after the @", maxUPNDomain)
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return "UPN domain has no dot (expected a domain such as contoso.com)"
	}
	pos := at + 2 // 1-based position of the label's first character
	for _, l := range labels {
		if l == "" {
			return "UPN domain has an empty part (two dots in a row, or a dot at an end)"
		}
		for i := 0; i < len(l); i++ {
			if c := l[i]; !isAlnum(c) && c != '-' {
				return fmt.Sprintf("UPN domain has a character at position %d that is not allowed (letters, digits, hyphens and dots only)", pos+i)
			}
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "UPN domain has a part that begins or ends with a hyphen"
		}
		pos += len(l) + 1
	}
	return ""
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func spaced(s string) string {
	return strings.Join(strings.Split(s, ""), " ")
}

// parseGUID returns id in the canonical lower-case form, accepting upper
// case and braces, and whether it is a GUID at all (guid.Parse).
var parseGUID = guid.Parse

// parseBool reads a yes/no cell: true/false, yes/no, 1/0 in any case. An
// empty cell is nil.
func parseBool(s string) (v *bool, ok bool) {
	var b bool
	switch strings.ToLower(s) {
	case "":
		return nil, true
	case "true", "yes", "1":
		b = true
	case "false", "no", "0":
		b = false
	default:
		return nil, false
	}
	return &b, true
}

// trim removes surrounding white space, including the no-break space that
// spreadsheets copy from web pages and stray byte-order marks and
// zero-width spaces.
func trim(s string) string {
	return strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsSpace(r) || r == '\uFEFF' || r == '\u200B'
	})
}
