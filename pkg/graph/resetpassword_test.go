package graph

import (
	"fmt"
	"github.com/bulkreset/bulkreset/pkg/secret"
	"log/slog"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestOperationPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://graph.microsoft.com/v1.0/users/6ea91a8d-e32e-41a1-b7bd-d2d185eed0e0/authentication/operations/88e7560c-9ebf-435c-8089-c3998ac1ec51?aadgdc=DUB02P&aadgsu=ssprprod-a",
			"/users/6ea91a8d-e32e-41a1-b7bd-d2d185eed0e0/authentication/operations/88e7560c-9ebf-435c-8089-c3998ac1ec51?aadgdc=DUB02P&aadgsu=ssprprod-a"},
		{"https://graph.microsoft.us/v1.0/users/u1/authentication/operations/op1", "/users/u1/authentication/operations/op1"},
		{"/users/u1/authentication/operations/op1", "/users/u1/authentication/operations/op1"},
	} {
		got, err := OperationPath(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("OperationPath(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "https://evil.example/steal", "::",
		"https://graph.microsoft.com/v1.0/users/u1/authentication/operations/../../../../directory/deletedItems",
		"https://graph.microsoft.com/v1.0/users/../authentication/operations/op1",
		"https://graph.microsoft.com/v1.0/users/u1/authentication/operations/%2e%2e/x",
		"/users/u1/authentication/operations/./op1",
	} {
		if got, err := OperationPath(bad); err == nil {
			t.Errorf("OperationPath(%q) = %q, want an error", bad, got)
		}
	}
}

// TestOperationPathErrorBounded: the error for a Location that is not an
// operation quotes a bounded, escaped part of it, never cut inside a
// character.
func TestOperationPathErrorBounded(t *testing.T) {
	long := "https://evil.example/" + strings.Repeat("é", 100_000) + "\x1b]0;title\a"
	_, err := OperationPath(long)
	if err == nil {
		t.Fatal("no error")
	}
	if msg := err.Error(); len(msg) > 300 || !utf8.ValidString(msg) || strings.ContainsAny(msg, "\x1b\a") {
		t.Errorf("error of %d bytes (valid UTF-8 %t): %.300q", len(msg), utf8.ValidString(msg), msg)
	}
}

func TestParseOperation(t *testing.T) {
	op, err := ParseOperation([]byte(`{"id":"x","status":"Failed","statusDetail":"no writeback"}`))
	if err != nil || op.Status != OperationFailed || op.Detail != "no writeback" || !op.Terminal() {
		t.Errorf("got %+v, %v", op, err)
	}
	if op, err := ParseOperation([]byte(`{"status":"running"}`)); err != nil || op.Terminal() {
		t.Errorf("running: got %+v, %v", op, err)
	}
	for _, bad := range []string{``, `{}`, `{"status":`, `[]`} {
		if _, err := ParseOperation([]byte(bad)); err == nil {
			t.Errorf("ParseOperation(%q): no error", bad)
		}
	}
}

// TestResetPasswordRequestHidesPassword: the password reaches the wire body
// and nothing else.
func TestResetPasswordRequestHidesPassword(t *testing.T) {
	const pw = "Secret-Pw-9!x"
	r := ResetPasswordRequest("1", "$odd@contoso.com", secret.New(pw))
	if r.URL != "/users('$odd@contoso.com')/authentication/methods/"+PasswordMethodID+"/resetPassword" {
		t.Errorf("URL %s", r.URL)
	}
	b, err := r.BodyJSON()
	if err != nil || string(b) != `{"newPassword":"`+pw+`"}` {
		t.Errorf("body %s, %v", b, err)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%v %+v %#v %s %v", r, r, r, r.Body, r.Body)
	slog.New(slog.NewTextHandler(&sb, nil)).Info("x", "req", r, "body", r.Body)
	if strings.Contains(sb.String(), pw) {
		t.Errorf("the password leaked: %s", sb.String())
	}
}
