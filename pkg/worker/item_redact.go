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

// LogValue logs the item without its password.
func (it Item) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("line", it.Line), slog.String("user", it.User), slog.Int("attempts", it.attempts))
}
