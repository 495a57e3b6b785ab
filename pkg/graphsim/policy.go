package graphsim

import (
	"strings"
)

// Entra's cloud password policy
// (https://learn.microsoft.com/entra/identity/authentication/concept-password-ban-bad-combined-policy):
// 8 to 256 characters, these characters only, 3 of the 4 categories.
const (
	minPasswordLen  = 8
	maxPasswordLen  = 256
	passwordSymbols = "@#$%^&*-_!+=[]{}|\\:',.?/`~\"();<> "
)

// commonPasswords stands in for Entra's global banned password list, which is
// not published. Entries are compared after normalisation.
var commonPasswords = []string{"password", "welcome", "letmein", "qwerty", "changeme", "iloveyou", "123456", "abc123"}

// passwordAllowed reports whether Entra would accept pw for u: the cloud policy,
// then the banned terms matched after Entra's normalisation
// (https://learn.microsoft.com/entra/identity/authentication/concept-password-ban-bad#step-1-normalization).
// tenantDomain adds the tenant name (its first label) to the banned terms.
func passwordAllowed(pw string, u *User, tenantDomain string) bool {
	if len(pw) < minPasswordLen || len(pw) > maxPasswordLen {
		return false
	}
	var upper, lower, digit, symbol bool
	for i := 0; i < len(pw); i++ {
		c := pw[i]
		switch {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= '0' && c <= '9':
			digit = true
		case strings.IndexByte(passwordSymbols, c) >= 0:
			symbol = true
		default:
			return false // not in the allowed set (this rejects every non-ASCII byte)
		}
	}
	categories := 0
	for _, ok := range []bool{upper, lower, digit, symbol} {
		if ok {
			categories++
		}
	}
	if categories < 3 {
		return false
	}
	norm := normalizePassword(pw)
	banned := false
	forEachBannedTerm(u, tenantDomain, func(term string) {
		banned = banned || strings.Contains(norm, term)
	})
	return !banned
}

var passwordNormalizer = strings.NewReplacer("0", "o", "1", "l", "$", "s", "@", "a")

// normalizePassword applies Entra's normalisation: lower case, then 0→o, 1→l, $→s, @→a.
func normalizePassword(s string) string {
	return passwordNormalizer.Replace(strings.ToLower(s))
}

// minTermLen is the shortest user-specific term Entra bans (4 characters).
const minTermLen = 4

// normalizedCommon are the common passwords, normalised once.
var normalizedCommon = func() []string {
	out := make([]string, len(commonPasswords))
	for i, p := range commonPasswords {
		out[i] = normalizePassword(p)
	}
	return out
}()

// forEachBannedTerm calls f with each banned term, normalised: the common
// passwords, the tenant names (first label of the tenant domain and of the
// UPN's domain) and the UPN's local part and its parts, each of 4
// characters or more. (A callback rather than a slice: it runs for every
// password set, a million times in the benchmark.)
func forEachBannedTerm(u *User, tenantDomain string, f func(string)) {
	for _, t := range normalizedCommon {
		f(t)
	}
	add := func(t string) {
		if len(t) >= minTermLen {
			f(normalizePassword(t))
		}
	}
	label := func(domain string) string {
		l, _, _ := strings.Cut(domain, ".")
		return l
	}
	add(label(tenantDomain))
	local, domain, _ := strings.Cut(u.UPN, "@")
	add(label(domain))
	add(local)
	for _, part := range strings.FieldsFunc(local, func(r rune) bool { return strings.ContainsRune("._-#'$", r) }) {
		add(part)
	}
}
