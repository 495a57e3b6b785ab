package main

import (
	"context"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
)

// orderTenant is a tenant of n users whose Graph answers take a random 0 to
// 20 ms (latency, when set, draws them instead), and an input of all of
// them: with --concurrency 8 and --batch-size 5 their rows finish out of
// input order.
func orderTenant(t *testing.T, n int, latency func() time.Duration) (tn *tenant, dir, in string) {
	t.Helper()
	users := graphsim.GenerateUsers(n, testDomain)
	tn = startTenant(t, graphsim.Options{LatencyJitter: 20 * time.Millisecond, LatencyFunc: latency}, users)
	dir = t.TempDir()
	var b strings.Builder
	b.WriteString("UserPrincipalName\n")
	for _, u := range users {
		b.WriteString(u.UPN + "\n")
	}
	return tn, dir, writeFile(t, dir, "users.csv", b.String())
}

// rawRows splits a results file into its header and its rows, byte for
// byte, and gives the line of each row.
func rawRows(t *testing.T, data []byte) (header string, rows []string, lines []int) {
	t.Helper()
	all := strings.SplitAfter(string(data), "\n")
	if len(all) == 0 || all[len(all)-1] != "" {
		t.Fatalf("the results file does not end with a newline")
	}
	rows = all[1 : len(all)-1]
	for _, r := range rows {
		n, err := strconv.Atoi(r[:strings.IndexByte(r, ',')])
		if err != nil {
			t.Fatalf("row %q: no line", r)
		}
		lines = append(lines, n)
	}
	return all[0], rows, lines
}

// sameRows reports whether a and b hold the same rows, as multisets.
func sameRows(a, b []string) bool {
	return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
}

// beforeOrder is the results file just before it is put in input order.
type beforeOrder struct {
	data []byte
	mode fs.FileMode
}

// captureBeforeOrder returns a context whose run hands the results file,
// as it is just before being put in input order, to got.
func captureBeforeOrder(t *testing.T, got *beforeOrder) context.Context {
	return context.WithValue(t.Context(), beforeOrderKey{}, func(path string) {
		data, err := os.ReadFile(path)
		fi, serr := os.Stat(path)
		if err != nil || serr != nil {
			t.Errorf("results file before ordering: %v %v", err, serr)
			return
		}
		*got = beforeOrder{data: data, mode: fi.Mode()}
	})
}

// checkInputOrder checks the results file of a completed run at path
// against the same file before ordering, before: the same header, the
// same rows byte for byte, one per input line 2..n+1, now in line order,
// and the same mode.
func checkInputOrder(t *testing.T, path string, before beforeOrder, n int) {
	t.Helper()
	if before.data == nil {
		t.Fatal("the completed run did not put its results file in input order")
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode() != before.mode {
		t.Errorf("results file mode %v (%v), want %v as before", fi.Mode(), err, before.mode)
	}
	h0, rows0, lines0 := rawRows(t, before.data)
	h1, rows1, lines1 := rawRows(t, after)
	if slices.IsSorted(lines0) {
		t.Fatalf("the rows finished in input order: this run tests nothing")
	}
	want := make([]int, n)
	for i := range want {
		want[i] = i + 2
	}
	if !slices.Equal(lines1, want) {
		t.Errorf("the results file is not in input order, one row per line: lines %v…", lines1[:min(20, len(lines1))])
	}
	if h1 != h0 || !sameRows(rows0, rows1) {
		t.Errorf("the rows in input order are not those the run wrote, byte for byte")
	}
	readResults(t, path) // the package's reader reads it, each line once
}

// TestResultsInInputOrder: a run whose rows finish out of order ends with
// its results file in input order, each row byte for byte as written, the
// file's mode unchanged.
func TestResultsInInputOrder(t *testing.T) {
	const n = 600
	tn, dir, in := orderTenant(t, n, nil)
	results := filepath.Join(dir, "results.csv")
	var before beforeOrder
	res := runCLI(t, captureBeforeOrder(t, &before), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", results,
		"--secrets", filepath.Join(dir, "secrets.csv"), "--yes", "--concurrency", "8", "--batch-size", "5"}, tn.authArgs()...)...)
	if res.code != exitOK {
		t.Fatalf("exit code %d, want 0; stderr:\n%s", res.code, res.stderr)
	}
	checkInputOrder(t, results, before, n)
}

// TestInterruptedResultsNotOrdered: an interrupted run leaves its results
// file in the order the rows finished (its resume appends to it); the
// resume, once complete, puts the whole file, old rows and new, in input
// order.
func TestInterruptedResultsNotOrdered(t *testing.T) {
	const n = 600
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var requests atomic.Int64
	tn, dir, in := orderTenant(t, n, func() time.Duration {
		if requests.Add(1) == 40 { // the first Ctrl-C, some 30 batches in
			cancel()
		}
		return rand.N(20 * time.Millisecond)
	})
	results := filepath.Join(dir, "results.csv")
	args := append([]string{"reset", "-i", in, "-o", results, "--secrets", filepath.Join(dir, "secrets.csv"),
		"--yes", "--concurrency", "8", "--batch-size", "5"}, tn.authArgs()...)
	ordered := false
	res := runCLI(t, context.WithValue(ctx, beforeOrderKey{}, func(string) { ordered = true }), tn.getenv(nil), args...)
	if res.code != exitInterrupted {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", res.code, exitInterrupted, res.stderr)
	}
	if ordered {
		t.Errorf("the interrupted run put its results file in input order")
	}
	interrupted, err := os.ReadFile(results)
	if err != nil {
		t.Fatal(err)
	}
	_, done, lines := rawRows(t, interrupted)
	if len(done) == 0 || len(done) == n {
		t.Fatalf("the interrupted run finished %d rows of %d: the test needs some", len(done), n)
	}
	if slices.IsSorted(lines) {
		t.Errorf("the interrupted run's rows are in input order: finished rows are appended as they finish")
	}

	var before beforeOrder
	res = runCLI(t, captureBeforeOrder(t, &before), tn.getenv(nil), append(args, "--resume")...)
	if res.code != exitOK {
		t.Fatalf("--resume: exit code %d, want 0; stderr:\n%s", res.code, res.stderr)
	}
	checkInputOrder(t, results, before, n)
	_, rows, _ := rawRows(t, before.data)
	if !strings.HasPrefix(string(before.data), string(interrupted)) || len(rows) != n {
		t.Errorf("the resumed run did not append its %d rows to the %d of the interrupted run", n-len(done), len(done))
	}
}

// TestResultsOrderFailureKeepsRun: when the results file cannot be put in
// input order (here its new file cannot be made: a directory stands in its
// place), the run warns and ends with the exit code it would have had, its
// results file as the run wrote it.
func TestResultsOrderFailureKeepsRun(t *testing.T) {
	const n = 300
	tn, dir, in := orderTenant(t, n, nil)
	results := filepath.Join(dir, "results.csv")
	if err := os.MkdirAll(filepath.Join(results+".order.tmp", "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	var before beforeOrder
	res := runCLI(t, captureBeforeOrder(t, &before), tn.getenv(nil), append([]string{"reset", "-i", in, "-o", results,
		"--secrets", filepath.Join(dir, "secrets.csv"), "--yes", "--concurrency", "8", "--batch-size", "5"}, tn.authArgs()...)...)
	if res.code != exitOK {
		t.Fatalf("exit code %d, want 0 as the run would have; stderr:\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "the results file holds every row, but in the order they finished, not in input order") {
		t.Errorf("no warning that the results file is not in input order:\n%s", res.stderr)
	}
	after, err := os.ReadFile(results)
	if err != nil {
		t.Fatal(err)
	}
	if before.data == nil || string(after) != string(before.data) {
		t.Errorf("the results file changed when it could not be put in input order")
	}
	if _, _, lines := rawRows(t, after); len(lines) != n || slices.IsSorted(lines) {
		t.Errorf("%d rows (want %d), in input order %v: want the rows as they finished", len(lines), n, slices.IsSorted(lines))
	}
}
