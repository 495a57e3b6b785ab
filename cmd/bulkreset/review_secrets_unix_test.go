//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/pkg/report"
)

// TestResumeDiffNeverRepeatsPrivateKey: a --resume compares the given
// --secrets-recipient (and the lines of --secrets-recipients-file) with the
// recorded ones before they are parsed. A private key given by mistake
// where the public key belongs (the flag, or the key file given to
// --secrets-recipients-file in place of --secrets-identity) must not be
// repeated back in the list of differences, as it is not in a new run.
func TestResumeDiffNeverRepeatsPrivateKey(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", "UserPrincipalName\na@contoso.com\n")
	id, keyFile := ageKey(t)
	results := filepath.Join(dir, "r.csv")
	secrets := filepath.Join(dir, "s.csv.age")
	first := runCLI(t, t.Context(), func(string) string { return "" }, "reset", "--sandbox", "-i", in, "-o", results,
		"--secrets", secrets, "--secrets-recipient", id.Recipient().String(), "--yes", "--quiet")
	if _, err := os.Stat(report.RunSettingsPath(results)); err != nil {
		t.Fatalf("the first run recorded no settings (exit %d): %v\n%s", first.code, err, first.stderr)
	}
	for _, args := range [][]string{
		{"--secrets-recipient", id.String()},
		{"--secrets-recipients-file", keyFile},
	} {
		res := runCLI(t, t.Context(), func(string) string { return "" },
			append([]string{"reset", "--sandbox", "--resume", "-o", results, "--yes", "--quiet"}, args...)...)
		if res.code != exitUsage {
			t.Errorf("%q: exit %d, want %d", args[0], res.code, exitUsage)
		}
		if strings.Contains(res.stderr+res.stdout, id.String()) {
			t.Errorf("%q: the private key is repeated in the output:\n%s", args[0], res.stderr)
		}
	}
}
