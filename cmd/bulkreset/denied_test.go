package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/pkg/worker"
)

// TestExplainPermission: the message of a run stopped for a missing
// permission names, per kind of write, what to grant: to the app for an
// application sign-in, to the administrator for a delegated one; it keeps
// the *worker.PermissionError for errors.Is and errors.As, and leaves any
// other error alone.
func TestExplainPermission(t *testing.T) {
	for _, tc := range []struct {
		kind    worker.WriteKind
		auth    string
		tenant  string
		want    []string
		notWant []string
	}{
		{worker.WriteReset, "client-secret", "", []string{"password reset", "the app lacks", "User-PasswordProfile.ReadWrite.All", "admin consent", "User Administrator", "Privileged Authentication Administrator"}, []string{"signed-in"}},
		{worker.WriteReset, "auto", "contoso.example", []string{"in tenant contoso.example", "the app (or the signed-in administrator) lacks", "User-PasswordProfile.ReadWrite.All", "when --auth auto signed in an administrator"}, nil},
		{worker.WriteReset, "device-code", "", []string{"the signed-in administrator lacks", "User Administrator role", "delegated permission User-PasswordProfile.ReadWrite.All"}, nil},
		{worker.WriteReset, "azure-cli", "", []string{"the signed-in administrator lacks"}, nil},
		{worker.WriteResetPassword, "browser", "", []string{"Authentication Administrator", "UserAuthenticationMethod.ReadWrite.All"}, nil},
		{worker.WriteRevoke, "certificate", "", []string{"session revocation", "User.RevokeSessions.All"}, []string{"User-PasswordProfile"}},
		{worker.WriteRevoke, "device-code", "", []string{"delegated permission User.RevokeSessions.All"}, nil},
		{worker.WriteBlock, "managed-identity", "", []string{"sign-in block", "User.EnableDisableAccount.All", "User.Read.All"}, nil},
	} {
		t.Run(string(tc.kind)+" "+tc.auth, func(t *testing.T) {
			pe := &worker.PermissionError{Kind: tc.kind, Tenant: tc.tenant, Refused: 20}
			err := explainPermission(pe, &resetOptions{auth: tc.auth})
			msg := err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message does not say %q:\n%s", w, msg)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(msg, w) {
					t.Errorf("message says %q:\n%s", w, msg)
				}
			}
			var got *worker.PermissionError
			if !errors.As(err, &got) || got != pe || !errors.Is(err, worker.ErrPermissionDenied) {
				t.Errorf("the explained error does not wrap the PermissionError")
			}
		})
	}
	other := errors.New("disk full")
	if got := explainPermission(other, &resetOptions{}); got != other {
		t.Errorf("explainPermission changed another error: %v", got)
	}
	if explainPermission(nil, &resetOptions{}) != nil {
		t.Error("explainPermission(nil) is not nil")
	}
}
