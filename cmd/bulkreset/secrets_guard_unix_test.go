//go:build unix

package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
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

// TestEncryptedFinishFailsLoudly: when the encrypted secrets file cannot be
// written from its journal at the end of a completed run (here: the
// FILE.compact it is written to cannot be created), FILE does not exist and
// every password set is only in the journal, which only a --resume with the
// private key reads. The run must not end as a success (exit 0) with a
// warning about refused passwords: it must fail and say how to finish.
func TestEncryptedFinishFailsLoudly(t *testing.T) {
	users := graphsim.GenerateUsers(3, testDomain)
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	in := writeFile(t, t.TempDir(), "users.csv", "UserPrincipalName\n"+users[0].UPN+"\n"+users[1].UPN+"\n"+users[2].UPN+"\n")
	id, keyFile := ageKey(t)
	results, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv.age")
	ctx := context.WithValue(t.Context(), beforeCompactKey{}, func(path string) {
		// A directory that is not empty: os.Remove of the leftover fails.
		if err := os.MkdirAll(filepath.Join(path+".compact", "x"), 0o700); err != nil {
			t.Fatal(err)
		}
	})
	res := runCLI(t, ctx, tn.getenv(nil), append([]string{"reset", "-i", in, "-o", results, "--secrets", secrets,
		"--secrets-recipient", id.Recipient().String(), "--yes"}, tn.authArgs()...)...)
	if _, err := os.Stat(secrets); err == nil {
		t.Fatal("the secrets file was written: the test does not exercise a failed finish")
	}
	if _, err := os.Stat(report.JournalPath(secrets)); err != nil {
		t.Fatalf("the journal is gone too: %v", err)
	}
	if res.code == exitOK {
		t.Errorf("exit 0 with no secrets file, every password only in the journal; stderr:\n%s", res.stderr)
	}
	if !strings.Contains(res.stderr, "--secrets-identity") {
		t.Errorf("stderr does not say the run must be finished with --resume --secrets-identity:\n%s", res.stderr)
	}
	// Once the cause is gone, the resume with the key writes the file.
	os.RemoveAll(secrets + ".compact")
	again := runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "--resume", "-o", results, "--secrets-identity", keyFile, "--yes"}, tn.authArgs()...)...)
	if again.code != exitOK {
		t.Fatalf("resume: exit %d:\n%s", again.code, again.stderr)
	}
	if _, err := os.Stat(secrets); err != nil {
		t.Errorf("the resume did not write the secrets file: %v", err)
	}
	if n := tn.sim.Stats().WritesApplied; n != 3 {
		t.Errorf("%d writes applied, want 3 (the resume sends none)", n)
	}
}
