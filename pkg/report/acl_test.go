package report

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

func TestOwnerOnlySDDL(t *testing.T) {
	const sid = "S-1-5-21-3623811015-3361044348-30300820-1013"
	got, err := ownerOnlySDDL(sid)
	if err != nil {
		t.Fatal(err)
	}
	// A protected DACL (no inherited entry) with one entry: full access
	// for the user, nobody else.
	if want := "D:P(A;;FA;;;" + sid + ")"; got != want {
		t.Errorf("ownerOnlySDDL = %q, want %q", got, want)
	}
	// Anything but a SID is refused: an SDDL alias such as WD (Everyone) or
	// a string that would add entries must never reach the descriptor.
	for _, bad := range []string{"", "WD", "BA", "S-1-1-0)(A;;FA;;;WD", "S-1", "s-1-5-18", "S-1-5-x"} {
		if got, err := ownerOnlySDDL(bad); err == nil {
			t.Errorf("ownerOnlySDDL(%q) = %q, want an error", bad, got)
		}
	}
}

// TestVetForWindows vets this package as built for Windows, where the
// secrets file gets its owner-only ACL and the lock its LockFileEx: code
// this machine does not run must still compile and pass vet. (make lint
// does the same for the whole module.)
func TestVetForWindows(t *testing.T) {
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	cmd := exec.Command(gobin, "vet", ".")
	cmd.Env = append(os.Environ(), "GOOS=windows", "GOARCH=amd64", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=windows go vet: %v\n%s", err, out)
	}
}
