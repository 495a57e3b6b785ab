package secret_test

import (
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/pkg/secret"
	"github.com/bulkreset/bulkreset/pkg/secret/secrettest"
)

const pw = "Sekr3t!Pa55word-xyz"

func TestValueIsHidden(t *testing.T) {
	v := secret.New(pw)
	secrettest.Hidden(t, v, pw)
	secrettest.Hidden(t, &v, pw)
	// Where fmt cannot call the methods: an unexported field.
	type holder struct {
		line int
		pass secret.Value
	}
	secrettest.Hidden(t, holder{7, v}, pw)
	secrettest.Hidden(t, struct{ Pass secret.Value }{v}, pw)
}

func TestValue(t *testing.T) {
	v := secret.New(pw)
	if v.Reveal() != pw || v.Empty() || v.Len() != len(pw) {
		t.Errorf("New(pw): Reveal %d bytes, Empty %t, Len %d", len(v.Reveal()), v.Empty(), v.Len())
	}
	if !v.Equal(secret.New(pw)) || v.Equal(secret.New(pw+"x")) || v.Equal(secret.Value{}) {
		t.Error("Equal compares the passwords wrongly")
	}
	var zero secret.Value
	if !zero.Empty() || zero.Reveal() != "" || zero.String() != "" || !secret.New("").Empty() {
		t.Error("the zero Value is not empty")
	}
	if v.String() != secret.Redacted {
		t.Errorf("String() = %q, want %q", v.String(), secret.Redacted)
	}
}

// TestHiddenFindsAPassword proves the helper can fail: a plain string and a
// struct that prints its password are caught in every form.
func TestHiddenFindsAPassword(t *testing.T) {
	type leaky struct{ Password string }
	for _, v := range []any{pw, leaky{pw}, []string{pw}} {
		found := 0
		for _, out := range secrettest.Outputs(v) {
			if strings.Contains(out, pw) || strings.Contains(out, "53656b7233") {
				found++
			}
		}
		if found == 0 {
			t.Errorf("%T: no output shows the password; the helper cannot fail", v)
		}
	}
	ft := &fakeT{}
	secrettest.Hidden(ft, leaky{pw}, pw)
	if !ft.failed {
		t.Error("Hidden passed a struct that prints its password")
	}
}

type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper()               {}
func (f *fakeT) Errorf(string, ...any) { f.failed = true }
func (f *fakeT) Fatal(...any)          { f.failed = true }
