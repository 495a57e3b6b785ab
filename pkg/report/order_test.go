package report

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeShuffledResults writes a results file with the columns c holding
// rows for lines 2..n+1 in the order perm gives, some of them with cells
// that need quoting, and returns its path.
func writeShuffledResults(t testing.TB, dir string, n int, c Columns, rng *rand.Rand) string {
	t.Helper()
	path := filepath.Join(dir, "results.csv")
	f, err := CreateResultsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := NewResultsColumns(bufio.NewWriterSize(f, 1<<20), c)
	if err != nil {
		t.Fatal(err)
	}
	lines := make([]int, n)
	for i := range lines {
		lines[i] = i + 2
	}
	if rng != nil {
		rng.Shuffle(n, func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	}
	yes, no := true, false
	at := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	for i, line := range lines {
		r := Result{Line: line, User: fmt.Sprintf("user%07d@contoso.example", line), Outcome: Succeeded,
			Attempts: 1, RequestID: fmt.Sprintf("req-%d", line), FinishedAt: at.Add(time.Duration(i) * time.Millisecond),
			Revoked: &yes, Blocked: &no, Tenant: "contoso.example"}
		switch line % 7 {
		case 3:
			r.Outcome, r.Reason, r.HTTPStatus, r.ErrorCode = Failed, ReasonNotFound, 404, "Request_ResourceNotFound"
			r.ErrorMessage = `Resource 'x' does not exist, or one of its "queried" reference-property objects are not present.`
		case 5:
			r.User = "=cmd|' /C calc'!A0, \"quoted\"" // escaped and quoted
			r.Outcome, r.Reason = Invalid, ReasonInvalidUPN
		}
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := w.w.(*bufio.Writer).Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// fileLines splits a file into its header and its rows, raw, and sorts the
// rows: the file as a multiset of lines.
func fileLines(t *testing.T, path string) (header string, rows []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.SplitAfter(string(data), "\n")
	if all[len(all)-1] == "" {
		all = all[:len(all)-1]
	}
	rows = slices.Clone(all[1:])
	slices.Sort(rows)
	return all[0], rows
}

// checkInLineOrder reads the results file at path with the package's
// reader and checks that its rows come in line order, lines 2..n+1.
func checkInLineOrder(t *testing.T, path string, n int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rs, err := ReadResults(f)
	if err != nil {
		t.Fatalf("the rewritten file does not read back: %v", err)
	}
	if len(rs) != n {
		t.Fatalf("%d rows, want %d", len(rs), n)
	}
	for i, r := range rs {
		if r.Line != i+2 {
			t.Fatalf("row %d has line %d, want %d", i+1, r.Line, i+2)
		}
	}
}

// onlyFiles fails t unless dir holds exactly names: no temporary file left.
func onlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if !slices.Equal(got, names) {
		t.Errorf("the directory holds %v, want %v", got, names)
	}
}

// TestOrderResultsShuffled sorts a shuffled file of 10,000 rows with both
// optional columns: in memory (the default chunk) and externally with a
// chunk of a few rows and a fan-in of 8, which takes two rounds of merges.
func TestOrderResultsShuffled(t *testing.T) {
	const n = 10_000
	for _, tc := range []struct {
		name string
		c    orderConfig
	}{
		{"one chunk", orderConfig{}},
		{"external", orderConfig{chunkBytes: 4 << 10, fanIn: 8}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := writeShuffledResults(t, dir, n, Columns{Blocked: true, Tenant: true}, rand.New(rand.NewPCG(1, 2)))
			if err := os.Chmod(path, 0o640); err != nil {
				t.Fatal(err)
			}
			wantHeader, wantRows := fileLines(t, path)
			if wantHeader != "line,user,object_id,outcome,reason,http_status,error_code,error_message,attempts,revoked,request_id,finished_at,blocked,tenant\n" {
				t.Fatalf("header %q", wantHeader)
			}
			rewritten, err := orderResults(t.Context(), path, tc.c)
			if err != nil || !rewritten {
				t.Fatalf("orderResults: rewritten %v, error %v", rewritten, err)
			}
			checkInLineOrder(t, path, n)
			header, rows := fileLines(t, path)
			if header != wantHeader || !slices.Equal(rows, wantRows) {
				t.Errorf("the rewritten file does not hold the same header and rows, byte for byte")
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o640 {
				t.Errorf("mode %v, want the original's 0640", fi.Mode().Perm())
			}
			onlyFiles(t, dir, "results.csv")
		})
	}
}

// TestOrderResultsAlreadyInOrder: a file in order is not rewritten (same
// file, same modification time), whatever its size.
func TestOrderResultsAlreadyInOrder(t *testing.T) {
	dir := t.TempDir()
	path := writeShuffledResults(t, dir, 3000, Columns{Tenant: true}, nil)
	old := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	rewritten, err := orderResults(t.Context(), path, orderConfig{chunkBytes: 1 << 10})
	if err != nil || rewritten {
		t.Fatalf("orderResults: rewritten %v, error %v; want a file in order left alone", rewritten, err)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) || !after.ModTime().Equal(old) {
		t.Errorf("the file in order was replaced or written to")
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
		t.Errorf("the file in order changed")
	}
	onlyFiles(t, dir, "results.csv")
}

// errDiskFull is the error of a full disk, injected.
var errDiskFull = errors.New("no space left on device (injected)")

// TestOrderResultsFailureKeepsFile: a rewrite that fails (a full disk while
// writing the new file, a temporary file that cannot be made, the run
// interrupted) leaves the original file as it was, and no temporary file.
func TestOrderResultsFailureKeepsFile(t *testing.T) {
	for _, tc := range []struct {
		name  string
		c     orderConfig
		setup func(t *testing.T, path string) context.Context
		want  error
	}{
		{"full disk", orderConfig{chunkBytes: 8 << 10, wrap: func(io.Writer) io.Writer { return &failingWriter{n: 50_000, err: errDiskFull} }},
			func(t *testing.T, path string) context.Context { return t.Context() }, errDiskFull},
		{"cannot create the new file", orderConfig{chunkBytes: 8 << 10}, func(t *testing.T, path string) context.Context {
			// A directory where the new file goes (root ignores modes, not this).
			if err := os.MkdirAll(filepath.Join(path+".order.tmp", "x"), 0o700); err != nil {
				t.Fatal(err)
			}
			return t.Context()
		}, os.ErrExist},
		{"interrupted", orderConfig{chunkBytes: 8 << 10}, func(t *testing.T, path string) context.Context {
			ctx, cancel := context.WithCancel(t.Context())
			cancel()
			return ctx
		}, context.Canceled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := writeShuffledResults(t, dir, 2000, Columns{}, rand.New(rand.NewPCG(3, 4)))
			data, _ := os.ReadFile(path)
			before, _ := os.Stat(path)
			ctx := tc.setup(t, path)
			rewritten, err := orderResults(ctx, path, tc.c)
			if rewritten || !errors.Is(err, tc.want) {
				t.Fatalf("orderResults: rewritten %v, error %v; want %v", rewritten, err, tc.want)
			}
			after, _ := os.Stat(path)
			if got, _ := os.ReadFile(path); !bytes.Equal(got, data) || !os.SameFile(before, after) {
				t.Errorf("the original file changed")
			}
			want := []string{"results.csv"}
			if tc.name == "cannot create the new file" {
				want = append(want, "results.csv.order.tmp")
			}
			onlyFiles(t, dir, want...)
		})
	}
}

// TestReadRecord: a record ends at a newline outside quotes, raw bytes
// kept; data after the last newline is a torn row.
func TestReadRecord(t *testing.T) {
	in := "2,a,\"x\"\"\ny\",z\n3,b\r\n4,\"c,\"\"\"\n5,torn"
	rd := bufio.NewReaderSize(strings.NewReader(in), 16) // records longer than the buffer too
	var got []string
	for {
		rec, err := readRecord(rd, nil)
		if err != nil {
			if !errors.Is(err, ErrTruncated) {
				t.Fatalf("error %v, want ErrTruncated for the last row", err)
			}
			break
		}
		got = append(got, string(rec))
	}
	want := []string{"2,a,\"x\"\"\ny\",z\n", "3,b\r\n", "4,\"c,\"\"\"\n"}
	if !slices.Equal(got, want) {
		t.Errorf("records %q, want %q", got, want)
	}
	for rec, key := range map[string]int{"12,a\n": 12, "x,a\n": noLine, ",a\n": noLine, "-1,a\n": noLine} {
		if k := lineKey([]byte(rec)); k != key {
			t.Errorf("lineKey(%q) = %d, want %d", rec, k, key)
		}
	}
}
