package worker

import (
	"fmt"
	"log/slog"
)

// String describes the item without its password, so that an Item that
// reaches a log or an error by mistake does not carry a secret.
func (it Item) String() string {
	return fmt.Sprintf("line %d %s (attempts %d)", it.Line, it.User, it.attempts)
}

// GoString is String, so that %#v does not print the password either.
func (it Item) GoString() string { return "worker.Item{" + it.String() + ", Password:[REDACTED]}" }

// Format makes every fmt verb (%v, %s, %d, %t, %x, …) use String, and %#v
// GoString: without it, verbs String does not serve print the struct field
// by field, password included.
func (it Item) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, it.GoString())
		return
	}
	fmt.Fprint(f, it.String())
}

// LogValue logs the item without its password.
func (it Item) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("line", it.Line), slog.String("user", it.User), slog.Int("attempts", it.attempts))
}
