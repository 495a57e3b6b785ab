package main

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// TestCompactionUnderLock: the secrets file is compacted (the passwords
// Graph refused are dropped) while the run still holds the locks of its
// outputs, so that an overlapping --resume cannot take them in between and
// have its work removed by the rewrite. The seam beforeCompactKey, a value
// of the run's context, runs just before the rewrite; there, another run's
// Lock must be refused.
func TestCompactionUnderLock(t *testing.T) {
	users := graphsim.GenerateUsers(3, testDomain)
	users[1].Kind = graphsim.KindAdmin // the app may not reset it: 403, refused for good
	tn := startTenant(t, graphsim.Options{}, users)
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", "UserPrincipalName\n"+users[0].UPN+"\n"+users[1].UPN+"\n"+users[2].UPN+"\n")
	results, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")

	compacted := false
	ctx := context.WithValue(t.Context(), beforeCompactKey{}, func(path string) {
		if path != secrets {
			t.Errorf("compacting %s, want %s", path, secrets)
		}
		compacted = true
		for _, p := range []string{results, secrets} {
			unlock, err := report.Lock(p)
			if err == nil {
				unlock()
				t.Errorf("another run could lock %s while the secrets file was being compacted", filepath.Base(p))
			} else if !errors.Is(err, report.ErrLocked) {
				t.Errorf("Lock %s: %v, want ErrLocked", filepath.Base(p), err)
			}
		}
	})
	res := runCLI(t, ctx, tn.getenv(nil), append([]string{"reset", "-i", in, "-o", results, "--secrets", secrets, "--yes"}, tn.authArgs()...)...)
	if res.code != exitRowsFailed {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitRowsFailed, res.stderr)
	}
	if !compacted {
		t.Fatal("the secrets file was not compacted: the test does not exercise it")
	}
	got := readSecrets(t, secrets)
	if _, ok := got[strings.ToLower(users[1].UPN)]; ok || len(got) != 2 {
		t.Errorf("secrets file after compaction: %d passwords, admin's kept %v; want the 2 in force only", len(got), ok)
	}
	// The locks are released once the run is over.
	for _, p := range []string{results, secrets} {
		unlock, err := report.Lock(p)
		if err != nil {
			t.Fatalf("after the run: %v", err)
		}
		unlock()
	}
}
