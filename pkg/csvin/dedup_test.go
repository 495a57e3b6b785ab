package csvin

import (
	"runtime"
	"strconv"
	"testing"
)

func TestDedup(t *testing.T) {
	d := NewDedup()
	steps := []struct {
		key  string
		want bool
	}{
		{key: "upn:adele@contoso.com", want: false},
		{key: "upn:alex@contoso.com", want: false},
		{key: "upn:adele@contoso.com", want: true},
		{key: "id:" + guidAdele, want: false},
		{key: "id:" + guidAdele, want: true},
		{key: "", want: false},
		{key: "", want: true},
	}
	for i, s := range steps {
		if got := d.Seen(s.key); got != s.want {
			t.Errorf("step %d: Seen(%q): got %v, want %v", i, s.key, got, s.want)
		}
	}
	if got, want := d.Len(), 4; got != want {
		t.Errorf("Len: got %d, want %d", got, want)
	}
}

// TestDedupRowKeys checks that Row.Key and Dedup together find a user
// written in another case.
func TestDedupRowKeys(t *testing.T) {
	d := NewDedup()
	a := Row{UPN: "Megan.Bowen@contoso.com"}
	b := Row{UPN: "megan.bowen@CONTOSO.COM"}
	if d.Seen(a.Key()) {
		t.Fatalf("first row: got seen, want new")
	}
	if !d.Seen(b.Key()) {
		t.Errorf("same UPN in another case: got new, want seen")
	}
}

// dedupKeys adds n distinct keys and returns the heap bytes they hold.
func dedupKeys(d *Dedup, n int) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	buf := make([]byte, 0, 64)
	for i := range n {
		buf = strconv.AppendInt(append(buf[:0], "upn:first.last."...), int64(i), 10)
		buf = append(buf, "@contoso.onmicrosoft.com"...)
		if d.Seen(string(buf)) {
			panic("distinct key seen twice")
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	return after.HeapAlloc - before.HeapAlloc
}

// TestDedupMillion adds a million distinct keys, finds every one again,
// and checks that memory stays small: a hash per key, not the key (these
// keys are 45 bytes long; with their string headers and the map's overhead
// they would take well over 100 bytes each).
func TestDedupMillion(t *testing.T) {
	const n = 1_000_000
	d := NewDedup()
	heap := dedupKeys(d, n)
	perKey := float64(heap) / n
	if d.Len() != n {
		t.Fatalf("Len: got %d, want %d", d.Len(), n)
	}
	if perKey > 32 {
		t.Errorf("memory: got %.1f bytes a key, want at most 32", perKey)
	}
	buf := make([]byte, 0, 64)
	for i := 0; i < n; i += 997 {
		buf = strconv.AppendInt(append(buf[:0], "upn:first.last."...), int64(i), 10)
		buf = append(buf, "@contoso.onmicrosoft.com"...)
		if !d.Seen(string(buf)) {
			t.Fatalf("key %d: got new, want seen", i)
		}
	}
	runtime.KeepAlive(d)
}

// BenchmarkDedup reports the memory per key of a million-key Dedup and the
// time per Seen.
func BenchmarkDedup(b *testing.B) {
	const n = 1_000_000
	var heap uint64
	for b.Loop() {
		d := NewDedup()
		heap = dedupKeys(d, n)
		runtime.KeepAlive(d)
	}
	b.ReportMetric(float64(heap)/n, "bytes/key")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/key")
}

// TestDedupAgainstMap checks the table against a map of the keys, across
// many growths, with keys repeated at random.
func TestDedupAgainstMap(t *testing.T) {
	d := NewDedup()
	want := make(map[string]bool)
	x := uint64(1)
	for i := range 200_000 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		key := strconv.FormatUint(x%50_000, 10)
		if got := d.Seen(key); got != want[key] {
			t.Fatalf("step %d: Seen(%q): got %v, want %v", i, key, got, want[key])
		}
		want[key] = true
	}
	if d.Len() != len(want) {
		t.Errorf("Len: got %d, want %d", d.Len(), len(want))
	}
}
