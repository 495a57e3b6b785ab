// Package secret holds a password in memory so that no way of printing,
// logging or encoding a value reveals it: fmt (every verb, %#v included),
// log/slog (text and JSON handlers), encoding/json and encoding.TextMarshaler
// consumers all see [REDACTED]. The one way to read it is Reveal, called
// where the password must leave the process on purpose: the request that
// sets it and the secrets file.
//
// The text is held behind a pointer, so that fmt, printing a struct that has
// a Value in an unexported field (where it cannot call Value's methods),
// prints an address rather than the text.
package secret

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
)

// Redacted is what every formatting of a non-empty Value shows.
const Redacted = "[REDACTED]"

// Value is a password. The zero Value is empty. Values cannot be compared
// with == (which would compare where they are held, not what they hold):
// use Equal.
type Value struct {
	_ [0]func() // not comparable
	p *string
}

// New returns a Value holding s (empty if s is "").
func New(s string) Value {
	if s == "" {
		return Value{}
	}
	return Value{p: &s}
}

// Reveal returns the password. Call it only where the password leaves the
// process on purpose.
func (v Value) Reveal() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

// Empty reports whether the Value holds no password.
func (v Value) Empty() bool { return v.p == nil || *v.p == "" }

// Len is the password's length in bytes.
func (v Value) Len() int { return len(v.Reveal()) }

// Equal reports whether v and w hold the same password, in time that does
// not depend on where they differ.
func (v Value) Equal(w Value) bool {
	return subtle.ConstantTimeCompare([]byte(v.Reveal()), []byte(w.Reveal())) == 1
}

// String returns Redacted, or "" for an empty Value.
func (v Value) String() string {
	if v.Empty() {
		return ""
	}
	return Redacted
}

// GoString is String, for %#v.
func (v Value) GoString() string { return "secret.Value(" + fmt.Sprintf("%q", v.String()) + ")" }

// Format makes every fmt verb print String (%#v: GoString), so that no
// verb (%x, %q, %d …) reaches the text.
func (v Value) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, v.GoString())
		return
	}
	fmt.Fprint(f, v.String())
}

// LogValue logs String.
func (v Value) LogValue() slog.Value { return slog.StringValue(v.String()) }

// MarshalJSON encodes String.
func (v Value) MarshalJSON() ([]byte, error) { return []byte(`"` + v.String() + `"`), nil }

// MarshalText encodes String, for encoders that use encoding.TextMarshaler.
func (v Value) MarshalText() ([]byte, error) { return []byte(v.String()), nil }
