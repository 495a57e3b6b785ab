package csvin

import (
	"errors"
	"io"
	"testing"

	"github.com/bulkreset/bulkreset/pkg/report"
	"github.com/bulkreset/bulkreset/pkg/secret"
)

// TestUserList: users named on the command line are rows 1..N, checked as
// a headerless file's cells are: an object id (any case, braces) is an ID,
// a bad UPN or an empty user is an invalid row, and only a valid row
// carries the password.
func TestUserList(t *testing.T) {
	pw := secret.New("Chosen-Passw0rd")
	l := NewUserList([]string{" alice@contoso.com ", "{0F9E8D7C-6B5A-4C3D-8E2F-1A0B9C8D7E6F}", "bob@@contoso.com", "", "carol@contoso"}, pw)
	want := []Row{
		{Line: 1, UPN: "alice@contoso.com", Password: pw},
		{Line: 2, ID: "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f", Password: pw},
		{Line: 3, UPN: "bob@@contoso.com", Reason: report.ReasonInvalidUPN, Problem: "UPN has more than one @"},
		{Line: 4, Reason: report.ReasonMissingUser, Problem: "--user is empty"},
		{Line: 5, UPN: "carol@contoso", Reason: report.ReasonInvalidUPN, Problem: "UPN domain has no dot (expected a domain such as contoso.com)"},
	}
	for _, w := range want {
		got, err := l.Read()
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		if d := diffRow(got, w); d != "" {
			t.Errorf("line %d: %s", w.Line, d)
		}
	}
	if _, err := l.Read(); !errors.Is(err, io.EOF) {
		t.Errorf("after the last user: %v, want io.EOF", err)
	}
	if info := l.Info(); !info.HasPassword || info.Format != FormatUserList || info.HasTenant {
		t.Errorf("Info %+v: want a password, format %q, no tenant", info, FormatUserList)
	}
	if NewUserList([]string{"a@b.cd"}, secret.Value{}).Info().HasPassword {
		t.Error("Info says there is a password when none was given")
	}
}
