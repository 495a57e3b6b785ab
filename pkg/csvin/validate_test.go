package csvin

import (
	"strings"
	"testing"
)

func TestCheckUPN(t *testing.T) {
	tests := []struct {
		upn  string
		want string // "" for valid
	}{
		{upn: "adele.vance@contoso.com"},
		{upn: "Adele.Vance@Contoso.onmicrosoft.com"},
		{upn: upnGuest},
		{upn: "$svc@contoso.com"},
		{upn: "o'brien@contoso.com"},
		{upn: "a-b_c!d#e^f~g@sub-domain.contoso.co.uk"},
		{upn: "_leading_underscore_@contoso.com"},
		{upn: "a@xn--bcher-kva.example"},
		{upn: strings.Repeat("a", 64) + "@" + strings.Repeat("b", 44) + ".com"},
		{upn: "no-at-sign", want: "UPN has no @ (expected name@domain)"},
		{upn: "a@b@contoso.com", want: "UPN has more than one @"},
		{upn: "@contoso.com", want: "UPN has nothing before the @"},
		{upn: "adele@", want: "UPN has no domain after the @"},
		{upn: strings.Repeat("a", 65) + "@contoso.com", want: "UPN has more than 64 characters before the @"},
		{upn: "a@" + strings.Repeat("b", 45) + ".com", want: "UPN has more than 48 characters after the @"},
		{upn: strings.Repeat("a", 64) + "@" + strings.Repeat("b", 45) + ".com", want: "UPN is longer than 113 characters"},
		{upn: ".adele@contoso.com", want: "UPN has a period at the start of the name or just before the @"},
		{upn: "adele.@contoso.com", want: "UPN has a period at the start of the name or just before the @"},
		{upn: "adele vance@contoso.com", want: "UPN has a character at position 6 that is not allowed (allowed: A-Z a-z 0-9 and ' . - _ ! # ^ ~ $)"},
		{upn: "r&d@contoso.com", want: "UPN has a character at position 2 that is not allowed (allowed: A-Z a-z 0-9 and ' . - _ ! # ^ ~ $)"},
		{upn: "a+tag@contoso.com", want: "UPN has a character at position 2 that is not allowed (allowed: A-Z a-z 0-9 and ' . - _ ! # ^ ~ $)"},
		{upn: "josé@contoso.com", want: "UPN has a non-ASCII character at position 4 (accented and other Unicode characters are not allowed)"},
		{upn: "a@contoso", want: "UPN domain has no dot (expected a domain such as contoso.com)"},
		{upn: "a@contoso..com", want: "UPN domain has an empty part (two dots in a row, or a dot at an end)"},
		{upn: "a@contoso.com.", want: "UPN domain has an empty part (two dots in a row, or a dot at an end)"},
		{upn: "a@.contoso.com", want: "UPN domain has an empty part (two dots in a row, or a dot at an end)"},
		{upn: "a@-contoso.com", want: "UPN domain has a part that begins or ends with a hyphen"},
		{upn: "a@contoso.com-", want: "UPN domain has a part that begins or ends with a hyphen"},
		{upn: "a@con_toso.com", want: "UPN domain has a character at position 6 that is not allowed (letters, digits, hyphens and dots only)"},
		{upn: "a@x.co.c#m", want: "UPN domain has a character at position 9 that is not allowed (letters, digits, hyphens and dots only)"},
	}
	for _, tt := range tests {
		t.Run(tt.upn, func(t *testing.T) {
			if got := checkUPN(tt.upn); got != tt.want {
				t.Errorf("checkUPN(%q): got %q, want %q", tt.upn, got, tt.want)
			}
		})
	}
}

func TestParseGUID(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{in: guidAdele, want: guidAdele, ok: true},
		{in: strings.ToUpper(guidAdele), want: guidAdele, ok: true},
		{in: "{" + guidAdele + "}", want: guidAdele, ok: true},
		{in: "87d349ed44d743e19a835f2406dee5bd"},
		{in: "87d349ed-44d7-43e1-9a83-5f2406dee5b"},
		{in: "87d349ed-44d7-43e1-9a83-5f2406dee5bg"},
		{in: "87d349ed-44d7-43e1-9a83_5f2406dee5bd"},
		{in: "{" + guidAdele},
		{in: ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseGUID(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("parseGUID(%q): got (%q, %v), want (%q, %v)", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseBool(t *testing.T) {
	tests := []struct {
		in     string
		want   *bool
		wantOK bool
	}{
		{in: "", want: nil, wantOK: true},
		{in: "true", want: ptr(true), wantOK: true},
		{in: "TRUE", want: ptr(true), wantOK: true},
		{in: "Yes", want: ptr(true), wantOK: true},
		{in: "1", want: ptr(true), wantOK: true},
		{in: "false", want: ptr(false), wantOK: true},
		{in: "No", want: ptr(false), wantOK: true},
		{in: "0", want: ptr(false), wantOK: true},
		{in: "y"},
		{in: "maybe"},
		{in: "2"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := parseBool(tt.in)
			if fmtBool(got) != fmtBool(tt.want) || ok != tt.wantOK {
				t.Errorf("parseBool(%q): got (%s, %v), want (%s, %v)", tt.in, fmtBool(got), ok, fmtBool(tt.want), tt.wantOK)
			}
		})
	}
}

func TestSepLine(t *testing.T) {
	tests := []struct {
		in   string
		want byte
		ok   bool
	}{
		{in: "sep=;", want: ';', ok: true},
		{in: "SEP=,", want: ',', ok: true},
		{in: "sep=\t", want: '\t', ok: true},
		{in: `"sep=;"`, want: ';', ok: true},
		{in: "sep=; ", want: ';', ok: true},
		{in: "sep=", ok: false},
		{in: "sep=;;", ok: false},
		{in: "sep=a", ok: false},
		{in: `sep="`, ok: false},
		{in: "UPN", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := sepLine(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("sepLine(%q): got (%q, %v), want (%q, %v)", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func FuzzCheckUPN(f *testing.F) {
	for _, s := range []string{"a@b.c", upnGuest, "$x@y.z", "", "@", "a@b", "é@x.y", ".a@b.c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, upn string) {
		msg := checkUPN(upn)
		if msg != "" {
			if strings.Contains(msg, upn) && len(upn) > 3 {
				t.Fatalf("the explanation repeats the UPN")
			}
			return
		}
		// A UPN that passes is ASCII, has one @, and fits the lengths.
		at := strings.IndexByte(upn, '@')
		if at <= 0 || strings.Count(upn, "@") != 1 || len(upn) > maxUPN || at > maxUPNName || len(upn)-at-1 > maxUPNDomain {
			t.Fatalf("checkUPN(%q): accepted a UPN that breaks the @ or length rules", upn)
		}
		for i := 0; i < len(upn); i++ {
			if upn[i] >= 0x80 || upn[i] <= ' ' {
				t.Fatalf("checkUPN(%q): accepted a UPN with byte %#x", upn, upn[i])
			}
		}
	})
}
