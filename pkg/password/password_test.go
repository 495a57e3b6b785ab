package password

import (
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// seeded returns a deterministic random stream, so that the statistical
// tests below give the same answer on every run.
func seeded(seed byte) io.Reader {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

func TestGenerateLength(t *testing.T) {
	tests := []struct {
		name    string
		length  int
		wantErr bool
	}{
		{name: "minimum", length: MinLength},
		{name: "default", length: DefaultLength},
		{name: "maximum", length: MaxLength},
		{name: "one below minimum", length: MinLength - 1, wantErr: true},
		{name: "one above maximum", length: MaxLength + 1, wantErr: true},
		{name: "zero", length: 0, wantErr: true},
		{name: "negative", length: -16, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pw, err := Generate(tt.length)
			if tt.wantErr {
				var pe *PolicyError
				if !errors.As(err, &pe) || pe.Rule != RuleLength {
					t.Fatalf("Generate(%d): got error %v, want a *PolicyError with rule %q", tt.length, err, RuleLength)
				}
				if pw != "" {
					t.Errorf("Generate(%d): got a password with the error, want none", tt.length)
				}
				return
			}
			if err != nil {
				t.Fatalf("Generate(%d): got error %v, want nil", tt.length, err)
			}
			if len(pw) != tt.length {
				t.Errorf("Generate(%d): got length %d, want %d", tt.length, len(pw), tt.length)
			}
		})
	}
}

// TestGenerateShape draws many passwords of many lengths and checks every
// promise of Generate on each one.
func TestGenerateShape(t *testing.T) {
	g := Generator{Rand: seeded(1)}
	for length := MinLength; length <= 40; length++ {
		for range 300 {
			pw, err := g.Generate(length)
			if err != nil {
				t.Fatalf("Generate(%d): got error %v, want nil", length, err)
			}
			if err := Check(pw); err != nil {
				t.Fatalf("Generate(%d): result fails Check: %v", length, err)
			}
			if !strings.ContainsAny(pw[:1], alnum) {
				t.Fatalf("Generate(%d): first character is not a letter or digit", length)
			}
			if strings.ContainsAny(pw, " '\"`") {
				t.Fatalf("Generate(%d): contains a space, quote or backtick", length)
			}
			for _, set := range []string{upper, lower, digits, symbols} {
				if !strings.ContainsAny(pw, set) {
					t.Fatalf("Generate(%d): no character from %q", length, set)
				}
			}
		}
	}
}

func TestGenerateUnique(t *testing.T) {
	const draws = 100_000
	seen := make(map[string]struct{}, draws)
	for i := range draws {
		pw, err := Generate(DefaultLength)
		if err != nil {
			t.Fatalf("Generate: got error %v, want nil", err)
		}
		if _, dup := seen[pw]; dup {
			t.Fatalf("draw %d repeats an earlier password", i)
		}
		seen[pw] = struct{}{}
	}
}

func TestGenerateDeterministicWithInjectedRand(t *testing.T) {
	a, errA := Generator{Rand: seeded(7)}.Generate(DefaultLength)
	b, errB := Generator{Rand: seeded(7)}.Generate(DefaultLength)
	c, errC := Generator{Rand: seeded(8)}.Generate(DefaultLength)
	if errA != nil || errB != nil || errC != nil {
		t.Fatalf("Generate: got errors %v, %v, %v, want nil", errA, errB, errC)
	}
	if a != b {
		t.Errorf("same seed: got two different passwords, want the same")
	}
	if a == c {
		t.Errorf("different seeds: got the same password, want different ones")
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

type failingReader struct{}

var errEntropy = errors.New("no entropy")

func (failingReader) Read([]byte) (int, error) { return 0, errEntropy }

func TestGenerateBrokenRandom(t *testing.T) {
	tests := []struct {
		name   string
		rand   io.Reader
		wantIs error
	}{
		{name: "constant bytes never give every category", rand: zeroReader{}},
		{name: "read error", rand: failingReader{}, wantIs: errEntropy},
		{name: "stream ends", rand: strings.NewReader("short"), wantIs: io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pw, err := Generator{Rand: tt.rand}.Generate(DefaultLength)
			if err == nil {
				t.Fatalf("Generate: got nil error, want one")
			}
			if pw != "" {
				t.Errorf("Generate: got a password with the error, want none")
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("Generate: got error %v, want it to wrap %v", err, tt.wantIs)
			}
		})
	}
}

// chiSquared returns Pearson's statistic for counts against a uniform
// expectation.
func chiSquared(counts []int) float64 {
	total := 0
	for _, c := range counts {
		total += c
	}
	want := float64(total) / float64(len(counts))
	var x float64
	for _, c := range counts {
		d := float64(c) - want
		x += d * d / want
	}
	return x
}

// critical returns the chi-squared value that a uniform source exceeds with
// probability 0.001 for df degrees of freedom (Wilson–Hilferty).
func critical(df int) float64 {
	const z = 3.0902 // standard normal quantile at 0.999
	k := float64(df)
	h := 2 / (9 * k)
	return k * math.Pow(1-h+z*math.Sqrt(h), 3)
}

// TestGenerateUniform checks that characters are chosen without bias: within
// each character class every character is equally likely (rejection
// sampling keeps that symmetry exactly; a modulo bias breaks it), at the
// first character too, and the symbol is equally likely at every position
// after the first. (Across classes the shares are not equal, nor meant to
// be: a password is uniform over the passwords that have every category,
// and a first-character digit makes a draw more likely to have one.)
func TestGenerateUniform(t *testing.T) {
	const draws = 20_000
	g := Generator{Rand: seeded(42)}
	classes := []string{upper, lower, digits, symbols}
	counts := make([][]int, len(classes))
	for i, set := range classes {
		counts[i] = make([]int, len(set))
	}
	first := [][]int{make([]int, len(upper)), make([]int, len(lower)), make([]int, len(digits))}
	symbolAt := make([]int, DefaultLength-1)
	for range draws {
		pw, err := g.Generate(DefaultLength)
		if err != nil {
			t.Fatalf("Generate: got error %v, want nil", err)
		}
		for i, set := range classes[:3] {
			if j := strings.IndexByte(set, pw[0]); j >= 0 {
				first[i][j]++
			}
		}
		for pos := 1; pos < len(pw); pos++ {
			for i, set := range classes {
				if j := strings.IndexByte(set, pw[pos]); j >= 0 {
					counts[i][j]++
					if i == 3 {
						symbolAt[pos-1]++
					}
				}
			}
		}
	}
	check := func(name string, c []int) {
		t.Helper()
		if x, limit := chiSquared(c), critical(len(c)-1); x > limit {
			t.Errorf("%s: got chi-squared %.1f, want at most %.1f (p=0.001, df=%d)", name, x, limit, len(c)-1)
		}
	}
	for i, name := range []string{"upper", "lower", "digits", "symbols"} {
		check(name, counts[i])
		if i < 3 {
			check("first character, "+name, first[i])
		}
	}
	check("symbol position", symbolAt)
}

// TestChiSquaredDetectsModuloBias shows that the uniformity test above has
// the power to fail: the same statistic on characters chosen by the naive
// "byte % len(alphabet)" rejects them.
func TestChiSquaredDetectsModuloBias(t *testing.T) {
	src := seeded(42)
	counts := make([]int, len(alphabet))
	buf := make([]byte, 20_000*(DefaultLength-1))
	if _, err := io.ReadFull(src, buf); err != nil {
		t.Fatal(err)
	}
	for _, b := range buf {
		counts[int(b)%len(alphabet)]++
	}
	if x, limit := chiSquared(counts), critical(len(counts)-1); x <= limit {
		t.Errorf("modulo-biased choice: got chi-squared %.1f, want above %.1f", x, limit)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name     string
		pw       string
		wantRule string // "" for a valid password
	}{
		{name: "three categories, minimum length", pw: "Abcdefg1"},
		{name: "four categories", pw: "Abc#def1"},
		{name: "lower digit symbol", pw: "abc#def1"},
		{name: "upper lower symbol", pw: "Abc#defg"},
		{name: "space counts as a symbol", pw: "abc def1"},
		{name: "quotes and backtick allowed", pw: "ab'c\"d`e1"},
		{name: "every allowed symbol", pw: "Aa1" + allowedSymbols},
		{name: "maximum length", pw: "Aa1" + strings.Repeat("x", MaxLength-3)},
		{name: "too short", pw: "Abc#de1", wantRule: RuleLength},
		{name: "empty", pw: "", wantRule: RuleLength},
		{name: "too long", pw: "Aa1" + strings.Repeat("x", MaxLength-2), wantRule: RuleLength},
		{name: "two categories", pw: "abcdefg1", wantRule: RuleCategories},
		{name: "one category", pw: "abcdefgh", wantRule: RuleCategories},
		{name: "digits and symbols only", pw: "1234#$%^", wantRule: RuleCategories},
		{name: "accented letter", pw: "Abcdéfg1", wantRule: RuleCharacters},
		{name: "euro sign", pw: "Abcdefg1€", wantRule: RuleCharacters},
		{name: "tab", pw: "Abc\tefg1", wantRule: RuleCharacters},
		{name: "newline", pw: "Abc\nefg1", wantRule: RuleCharacters},
		{name: "NUL", pw: "Abc\x00efg1", wantRule: RuleCharacters},
		{name: "invalid UTF-8", pw: "Abc\xffefg1", wantRule: RuleCharacters},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.pw)
			if tt.wantRule == "" {
				if err != nil {
					t.Fatalf("Check: got %v, want nil", err)
				}
				return
			}
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("Check: got %v, want a *PolicyError", err)
			}
			if pe.Rule != tt.wantRule {
				t.Errorf("Check: got rule %q, want %q", pe.Rule, tt.wantRule)
			}
			if len(tt.pw) >= 4 && strings.Contains(err.Error(), tt.pw) {
				t.Errorf("Check: the error message contains the password")
			}
		})
	}
}

// TestCheckErrorNamesNoCharacter checks that the character-rule message
// names the position, never the offending character.
func TestCheckErrorNamesNoCharacter(t *testing.T) {
	err := Check("Abcdefg1é")
	if err == nil {
		t.Fatal("Check: got nil, want an error")
	}
	if strings.Contains(err.Error(), "é") {
		t.Errorf("Check: got %q, want no character of the password in it", err)
	}
	if !strings.Contains(err.Error(), "character 9 ") {
		t.Errorf("Check: got %q, want it to name position 9", err)
	}
}

// policy is an independent statement of the policy, for the fuzz test.
var (
	policyChars = regexp.MustCompile("^[A-Za-z0-9@#$%^&*\\-_!+=\\[\\]{}|\\\\:',.?/`~\"();<> ]*$")
	policyCats  = []*regexp.Regexp{
		regexp.MustCompile(`[A-Z]`), regexp.MustCompile(`[a-z]`), regexp.MustCompile(`[0-9]`),
		regexp.MustCompile("[@#$%^&*\\-_!+=\\[\\]{}|\\\\:',.?/`~\"();<> ]"),
	}
)

func FuzzCheck(f *testing.F) {
	for _, s := range []string{"", "Abcdefg1", "abcdefgh", "Abcdéfg1", "P@ssw0rd!", "\xff\xfe", strings.Repeat("Aa1", 90), "a b c d E"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, pw string) {
		err := Check(pw)
		n := utf8.RuneCountInString(pw)
		cats := 0
		for _, re := range policyCats {
			if re.MatchString(pw) {
				cats++
			}
		}
		want := n >= MinLength && n <= MaxLength && policyChars.MatchString(pw) && cats >= 3
		if got := err == nil; got != want {
			t.Fatalf("Check: got valid=%v (%v), want valid=%v", got, err, want)
		}
		for i := 0; i < len(pw); i++ {
			if pw[i] >= 0x80 && err == nil {
				t.Fatalf("Check: accepted a password with a non-ASCII byte")
			}
		}
		if err != nil && len(pw) >= 4 && strings.Contains(err.Error(), pw) {
			t.Fatalf("Check: the error message contains the password")
		}
	})
}
