package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
)

// TestEveryFaultKind runs 2,000 users while graphsim injects every fault it
// knows at 5%: connections reset before and after the batch was applied,
// timeouts, truncated JSON, answers missing an id, with an unknown id or an
// id twice, 5xx inside and outside the batch, an outer 429 whose
// Retry-After is an HTTP date, throttles with whole and fractional
// Retry-After, tokens refused as expired — and access tokens that really
// expire every two seconds. Every resettable user ends reset, with the
// recorded password, in a bounded number of attempts, and nothing is lost.
func TestEveryFaultKind(t *testing.T) {
	const rate = 0.05
	users, csv, rows := planRows(t, 2000)
	withoutPreflight(rows)
	tn := startTenant(t, graphsim.Options{
		TokenLifetime:        2 * time.Second,
		FractionalRetryAfter: true,
		Faults: graphsim.Faults{
			InnerThrottle: rate, InnerThrottleFractional: rate, Inner5xx: rate,
			Outer503: rate, Outer429Date: rate, DropBeforeApply: rate, DropAfterApply: rate, Timeout: rate,
			TruncatedJSON: rate, MissingID: rate, UnknownID: rate, DuplicateID: rate, TokenRevoke: rate,
		},
		Seed: 11,
	}, users)
	dir := t.TempDir()
	in := writeFile(t, dir, "users.csv", csv)
	results, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
	const maxAttempts = 15
	// The preflight's lookups under the same faults are TestPreflightUnderFaults;
	// here every fault lands on the writes. Without a lookup the synced user
	// is sent its reset, which Graph refuses.
	res := runCLI(t, t.Context(), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", results, "--secrets", secrets,
		"--yes", "--quiet", "--max-attempts", "15", "--request-timeout", "1s", "--preflight=false"}, tn.authArgs()...)...)
	if res.code != exitRowsFailed {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitRowsFailed, res.stderr)
	}
	checkRun(t, tn, rows, results, secrets)
	for line, r := range readResults(t, results) {
		if r.Attempts > maxAttempts {
			t.Errorf("line %d: %d attempts, more than --max-attempts %d", line, r.Attempts, maxAttempts)
		}
	}
	st := tn.sim.Stats()
	for _, k := range []graphsim.FaultKind{
		graphsim.FaultInnerThrottle, graphsim.FaultInnerThrottleFractional, graphsim.FaultInner5xx,
		graphsim.FaultOuter503, graphsim.FaultOuter429Date, graphsim.FaultDropBeforeApply, graphsim.FaultDropAfterApply,
		graphsim.FaultTimeout, graphsim.FaultTruncatedJSON, graphsim.FaultMissingID, graphsim.FaultUnknownID,
		graphsim.FaultDuplicateID, graphsim.FaultTokenRevoke,
	} {
		if st.Faults[k] == 0 {
			t.Errorf("fault %s was never injected: the test does not exercise it", k)
		}
	}
	if st.TokensIssued < 2 {
		t.Errorf("%d tokens issued: the token never expired during the run", st.TokensIssued)
	}
	t.Logf("faults injected: %v; tokens issued: %d; batches: %d", st.Faults, st.TokensIssued, st.Batches)
	checkNoSecrets(t, tn, secrets, map[string]string{"stdout": res.stdout, "stderr": res.stderr, "results file": readFile(t, results)})
}
