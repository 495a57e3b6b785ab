package guid

import "testing"

func TestValidAndParse(t *testing.T) {
	for _, tc := range []struct {
		in        string
		valid     bool
		canonical string // "" when Parse refuses it
	}{
		{"0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f", true, "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"},
		{"0F9E8D7C-6B5A-4C3D-8E2F-1A0B9C8D7E6F", true, "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"},
		{"{0F9E8D7C-6B5A-4C3D-8E2F-1A0B9C8D7E6F}", false, "0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f"},
		{"", false, ""},
		{"..", false, ""},
		{"0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6", false, ""},
		{"0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f0", false, ""},
		{"0f9e8d7c06b5a-4c3d-8e2f-1a0b9c8d7e6f", false, ""},
		{"0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6g", false, ""},
		{"../../../../../../../../directory/x", false, ""},
		{"0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e/f", false, ""},
		{"{0f9e8d7c-6b5a-4c3d-8e2f-1a0b9c8d7e6f", false, ""},
	} {
		if got := Valid(tc.in); got != tc.valid {
			t.Errorf("Valid(%q) = %t, want %t", tc.in, got, tc.valid)
		}
		got, ok := Parse(tc.in)
		if got != tc.canonical || ok != (tc.canonical != "") {
			t.Errorf("Parse(%q) = %q, %t; want %q", tc.in, got, ok, tc.canonical)
		}
	}
}
