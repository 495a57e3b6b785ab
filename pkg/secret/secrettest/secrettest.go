// Package secrettest proves that a value does not reveal a password through
// any of the ways a Go program prints, logs or encodes a value by mistake.
package secrettest

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"testing"
)

// verbs are the fmt verbs a value may meet.
var verbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%t", "%T", "%10.3v", "%-8s"}

// Outputs formats v every way Hidden checks: each fmt verb on v, on a
// pointer to it and on a slice holding it; the slog text and JSON handlers
// (as an attribute and inside a group); and encoding/json. The key names
// each output.
func Outputs(v any) map[string]string {
	outs := map[string]string{}
	for _, f := range verbs {
		outs["fmt "+f] = fmt.Sprintf(f, v)
		outs["fmt "+f+" pointer"] = fmt.Sprintf(f, &v)
		outs["fmt "+f+" slice"] = fmt.Sprintf(f, []any{v})
		outs["fmt "+f+" struct"] = fmt.Sprintf(f, struct{ V any }{v})
	}
	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		l := slog.New(h(&buf))
		l.Info("value", "v", v)
		l.Info("group", slog.Group("g", "v", v))
		l.Info("any", slog.Any("v", v))
		outs["slog "+name] = buf.String()
	}
	if b, err := json.Marshal(v); err != nil {
		outs["encoding/json"] = "error: " + err.Error()
	} else {
		outs["encoding/json"] = string(b)
	}
	if b, err := json.Marshal(map[string]any{"v": v}); err == nil {
		outs["encoding/json in a map"] = string(b)
	}
	return outs
}

// Hidden fails t if any output of Outputs(v) shows password, as is, quoted,
// or in hex.
func Hidden(t testing.TB, v any, password string) {
	t.Helper()
	if password == "" {
		t.Fatal("secrettest.Hidden needs the password to look for")
	}
	forms := []string{password, strconv.Quote(password)[1 : len(strconv.Quote(password))-1],
		hex.EncodeToString([]byte(password)), strings.ToUpper(hex.EncodeToString([]byte(password)))}
	for name, out := range Outputs(v) {
		for _, form := range forms {
			if strings.Contains(out, form) {
				t.Errorf("%s of %T shows the password: %s", name, v, strings.ReplaceAll(out, form, "<PASSWORD>"))
				break
			}
		}
	}
}
