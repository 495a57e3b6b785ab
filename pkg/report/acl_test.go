package report

import (
	"regexp"
	"strings"
	"testing"
)

func TestOwnerOnlySDDL(t *testing.T) {
	const sid = "S-1-5-21-3623811015-3361044348-30300820-1013"
	got, err := ownerOnlySDDL(sid)
	if err != nil {
		t.Fatal(err)
	}
	// Decoded: a DACL ("D:"), its flags, then its entries, each
	// "(type;flags;rights;object;inherited object;sid)". It must be
	// protected (P: nothing inherited from the directory) and hold exactly
	// one entry, allowing (A) full file access (FA) to the user, with no
	// flags that would pass it on: nobody else has access.
	m := regexp.MustCompile(`^D:([A-Z]*)((?:\([^()]*\))*)$`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("ownerOnlySDDL = %q: not a DACL alone", got)
	}
	if m[1] != "P" {
		t.Errorf("DACL flags %q, want P (protected) alone: %q", m[1], got)
	}
	aces := regexp.MustCompile(`\(([^()]*)\)`).FindAllStringSubmatch(m[2], -1)
	if len(aces) != 1 {
		t.Fatalf("%d entries, want 1: %q", len(aces), got)
	}
	fields := strings.Split(aces[0][1], ";")
	if len(fields) != 6 {
		t.Fatalf("entry %q has %d fields, want 6", aces[0][1], len(fields))
	}
	for i, want := range []string{"A", "", "FA", "", "", sid} {
		if fields[i] != want {
			t.Errorf("entry %q: field %d is %q, want %q", aces[0][1], i, fields[i], want)
		}
	}
	// Anything but a SID is refused: an SDDL alias such as WD (Everyone) or
	// a string that would add entries must never reach the descriptor.
	for _, bad := range []string{"", "WD", "BA", "S-1-1-0)(A;;FA;;;WD", "S-1", "s-1-5-18", "S-1-5-x"} {
		if got, err := ownerOnlySDDL(bad); err == nil {
			t.Errorf("ownerOnlySDDL(%q) = %q, want an error", bad, got)
		}
	}
}
