package worker

import (
	"bytes"
	"fmt"
	"github.com/bulkreset/bulkreset/pkg/secret"
	"log/slog"
	"strings"
	"testing"
)

func TestItemNeverShowsItsPassword(t *testing.T) {
	const pw = "Sekr3t!Pa55word-xyz"
	it := Item{Line: 7, User: "adele@contoso.com", Target: "adele@contoso.com", Password: secret.New(pw)}
	var outs []string
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%d", "%t", "%x", "%q"} {
		outs = append(outs, fmt.Sprintf(f, it), fmt.Sprintf(f, &it), fmt.Sprintf(f, []Item{it}))
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "item", it)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "item", it)
	outs = append(outs, buf.String())
	for _, o := range outs {
		if strings.Contains(o, pw) {
			t.Errorf("output shows the password: %s", strings.ReplaceAll(o, pw, "<PASSWORD>"))
		}
		if !strings.Contains(o, "adele@contoso.com") && !strings.Contains(o, fmt.Sprintf("%x", "adele@contoso.com")) {
			t.Errorf("output does not name the user: %s", o)
		}
	}
}
