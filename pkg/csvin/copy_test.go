package csvin

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestCopyColumns: named columns are matched as header names are (case,
// spaces, the Entra template's bracketed property), and their cells come
// with every valid row, in the order asked for.
func TestCopyColumns(t *testing.T) {
	in := "User name [userPrincipalName] Required,Name [displayName] Required,Manager e-mail,personal_email\n" +
		"a@contoso.com, Adele Vance ,boss@contoso.com,adele@example.org\n" +
		"b@contoso.com,Bob,,\n"
	r, err := NewReader(strings.NewReader(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.CopyColumns([]string{"Personal Email", "displayname", "MANAGER E-MAIL"}); err != nil {
		t.Fatal(err)
	}
	want := [][]string{{"adele@example.org", "Adele Vance", "boss@contoso.com"}, {"", "Bob", ""}}
	for i, w := range want {
		row, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(row.Extra, w) {
			t.Errorf("row %d: Extra %q, want %q", i, row.Extra, w)
		}
	}
}

// TestCopyColumnsMissing: a column the input does not have is an error
// that lists the columns there are; a file without a header has none.
func TestCopyColumnsMissing(t *testing.T) {
	r, err := NewReader(strings.NewReader("UPN,DisplayName\na@contoso.com,A\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ce *CopyColumnError
	if err := r.CopyColumns([]string{"Manager"}); !errors.As(err, &ce) || !strings.Contains(err.Error(), `"UPN", "DisplayName"`) {
		t.Errorf("missing column: %v", err)
	}
	r, err = NewReader(strings.NewReader("a@contoso.com\nb@contoso.com\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.CopyColumns([]string{"Manager"}); !errors.As(err, &ce) || !strings.Contains(err.Error(), "no header") {
		t.Errorf("headerless input: %v", err)
	}
}
