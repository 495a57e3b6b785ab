// Package password generates random passwords and checks passwords against
// Microsoft Entra ID's cloud password policy.
//
// The policy is documented in
// https://learn.microsoft.com/entra/identity/authentication/concept-password-ban-bad-combined-policy
// (source: MicrosoftDocs/entra-docs,
// docs/identity/authentication/concept-password-ban-bad-combined-policy.md):
// 8 to 256 characters; only A–Z, a–z, 0–9, the symbols
// @ # $ % ^ & * - _ ! + = [ ] { } | \ : ' , . ? / ` ~ " ( ) ; < > and the
// blank space; no Unicode; characters from three of the four categories
// upper case, lower case, digits and symbols. The banned-password lists and
// the checks against the user's and tenant's names run only on the server.
//
// Nothing in this package ever puts a password, or any character of one, in
// an error message.
package password

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
)

// Length limits of Entra's cloud password policy, and the default length of
// generated passwords.
const (
	MinLength     = 8
	MaxLength     = 256
	DefaultLength = 16
)

// The rules a password can break, as reported in PolicyError.Rule.
const (
	RuleLength     = "length"
	RuleCharacters = "characters"
	RuleCategories = "categories"
)

// Character sets. Symbols is Entra's allowed symbol set minus the blank
// space, the quotes ' and " and the backtick: characters that are lost or
// mangled when a password is copied from a spreadsheet, a chat message or a
// shell command line.
const (
	upper   = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lower   = "abcdefghijklmnopqrstuvwxyz"
	digits  = "0123456789"
	symbols = `@#$%^&*-_!+=[]{}|\:,.?/~();<>`

	// alnum is the alphabet of the first character: a letter or digit, so
	// that no spreadsheet reads the password as a formula (= + - @).
	alnum = upper + lower + digits
	// alphabet is the alphabet of every other character.
	alphabet = alnum + symbols

	// allowedSymbols is every symbol Entra accepts (space included).
	allowedSymbols = symbols + ` '"` + "`"
	// symbolList is the allowed symbols as error messages list them.
	symbolList = `@ # $ % ^ & * - _ ! + = [ ] { } | \ : ' , . ? / ` + "`" + ` ~ " ( ) ; < >`
)

// maxDraws bounds the rejection loop of Generate. A password drawn from a
// working random source fails the category rule with probability below
// 0.55 (at 8 characters, less for longer ones), so 200 failures in a row
// (probability below 1e-50) mean that the source is broken, not unlucky.
const maxDraws = 200

// PolicyError reports the rule of Entra's cloud password policy that a
// password breaks. It never holds the password or any character of it.
type PolicyError struct {
	Rule   string // RuleLength, RuleCharacters or RuleCategories
	Detail string // what the rule requires, for a person to read
}

// Error describes the rule broken.
func (e *PolicyError) Error() string {
	return "password policy: " + e.Rule + ": " + e.Detail
}

// Generator generates passwords from a source of randomness.
type Generator struct {
	// Rand is the source of random bytes; nil means crypto/rand.Reader.
	// Tests inject a deterministic stream here.
	Rand io.Reader
}

// Generate returns a random password of the given length from
// crypto/rand.Reader. See Generator.Generate.
func Generate(length int) (string, error) {
	return Generator{}.Generate(length)
}

// Generate returns a random password of length characters (MinLength to
// MaxLength) that passes Check and has at least one upper-case letter,
// lower-case letter, digit and symbol. Its first character is a letter or
// digit; every other character is drawn uniformly from letters, digits and
// Symbols. Each character is chosen without modulo bias, and a draw that
// lacks a category is discarded and drawn again (rejection sampling), so
// the password is uniformly distributed over all passwords of that shape:
// no position is more likely than another to hold the symbol or the digit.
func (g Generator) Generate(length int) (string, error) {
	if length < MinLength || length > MaxLength {
		return "", &PolicyError{Rule: RuleLength, Detail: fmt.Sprintf("a generated password must have %d to %d characters, not %d", MinLength, MaxLength, length)}
	}
	src := g.Rand
	if src == nil {
		src = rand.Reader
	}
	r := byteSource{src: src}
	pw := make([]byte, length)
	for range maxDraws {
		c, err := r.pick(alnum)
		if err != nil {
			return "", err
		}
		pw[0] = c
		for i := 1; i < length; i++ {
			if pw[i], err = r.pick(alphabet); err != nil {
				return "", err
			}
		}
		if hasEveryCategory(pw) {
			return string(pw), nil
		}
	}
	return "", errors.New("password: the random source produced no usable password; it is not random")
}

// byteSource hands out random bytes from src, read in blocks.
type byteSource struct {
	src io.Reader
	buf [128]byte
	pos int
	n   int
}

// pick returns a uniformly chosen byte of set (1 to 255 bytes long). It
// rejects random bytes at or above the largest multiple of len(set), so that
// "b % len(set)" is unbiased.
func (s *byteSource) pick(set string) (byte, error) {
	n := len(set)
	limit := 256 - 256%n
	for {
		if s.pos == s.n {
			if _, err := io.ReadFull(s.src, s.buf[:]); err != nil {
				return 0, fmt.Errorf("password: reading random bytes: %w", err)
			}
			s.pos, s.n = 0, len(s.buf)
		}
		b := int(s.buf[s.pos])
		s.pos++
		if b < limit {
			return set[b%n], nil
		}
	}
}

// Category bits.
const (
	catUpper = 1 << iota
	catLower
	catDigit
	catSymbol
	catAll = catUpper | catLower | catDigit | catSymbol
)

// category returns the category bit of c, or 0 when Entra does not allow c.
func category(c byte) int {
	switch {
	case c >= 0x80:
		return 0
	case 'A' <= c && c <= 'Z':
		return catUpper
	case 'a' <= c && c <= 'z':
		return catLower
	case '0' <= c && c <= '9':
		return catDigit
	case isAllowedSymbol(c):
		return catSymbol
	}
	return 0
}

func isAllowedSymbol(c byte) bool {
	for i := 0; i < len(allowedSymbols); i++ {
		if allowedSymbols[i] == c {
			return true
		}
	}
	return false
}

func hasEveryCategory(pw []byte) bool {
	cats := 0
	for _, c := range pw {
		cats |= category(c)
	}
	return cats == catAll
}

// Check reports whether pw satisfies Entra's documented cloud password
// policy: MinLength to MaxLength characters, only allowed characters (no
// Unicode), and characters from at least three of the four categories. It
// returns nil or a *PolicyError. Passing Check does not guarantee that
// Entra accepts the password: banned-password lists and the user's and
// tenant's names are checked only by the server.
func Check(pw string) error {
	// Length is counted in characters; a non-ASCII character counts as one
	// here and is rejected by the character rule below.
	n := 0
	for range pw {
		n++
	}
	if n < MinLength || n > MaxLength {
		return &PolicyError{Rule: RuleLength, Detail: fmt.Sprintf("must have %d to %d characters", MinLength, MaxLength)}
	}
	cats := 0
	for i := 0; i < len(pw); i++ {
		// Every byte before i is ASCII (else we returned), so i+1 is
		// also the character's position.
		cat := category(pw[i])
		if cat == 0 {
			return &PolicyError{Rule: RuleCharacters, Detail: fmt.Sprintf(
				"character %d is not allowed; only A-Z, a-z, 0-9, the space and the symbols %s are (no accented or other Unicode characters)",
				i+1, symbolList)}
		}
		cats |= cat
	}
	count := 0
	for b := cats; b != 0; b &= b - 1 {
		count++
	}
	if count < 3 {
		return &PolicyError{Rule: RuleCategories, Detail: "must mix at least 3 of 4 kinds of character: upper-case letters, lower-case letters, digits, symbols"}
	}
	return nil
}
