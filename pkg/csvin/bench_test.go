package csvin

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"
)

// generate returns a CSV input of n rows shaped like an admin-center
// export with a password column.
func generate(n int) []byte {
	var b bytes.Buffer
	b.WriteString("UserPrincipalName,Display name,Department,Password,ForceChangePasswordNextSignIn\r\n")
	for i := range n {
		fmt.Fprintf(&b, "first.last%d@contoso.onmicrosoft.com,\"Last, First %d\",Sales,Pw-%08d!x,true\r\n", i, i, i)
	}
	return b.Bytes()
}

func readCount(tb testing.TB, data []byte) int {
	r, err := NewReader(bytes.NewReader(data), Options{})
	if err != nil {
		tb.Fatal(err)
	}
	n := 0
	for {
		row, err := r.Read()
		if err == io.EOF {
			return n
		}
		if err != nil {
			tb.Fatal(err)
		}
		if row.Reason != "" {
			tb.Fatalf("line %d: got reason %q, want a valid row", row.Line, row.Reason)
		}
		n++
	}
}

// BenchmarkReader reads a generated 100,000-row file and reports rows per
// second; -benchmem gives the allocations.
func BenchmarkReader(b *testing.B) {
	const rows = 100_000
	data := generate(rows)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if n := readCount(b, data); n != rows {
			b.Fatalf("got %d rows, want %d", n, rows)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// TestReaderMemoryIsFlat reads 10 times more rows and checks that the
// memory in use does not grow with them: the reader streams.
func TestReaderMemoryIsFlat(t *testing.T) {
	peak := func(n int) uint64 {
		data := generate(n)
		r, err := NewReader(bytes.NewReader(data), Options{})
		if err != nil {
			t.Fatal(err)
		}
		var top uint64
		var ms runtime.MemStats
		for i := 0; ; i++ {
			if _, err := r.Read(); err == io.EOF {
				break
			}
			if i%(n/4) == n/8 {
				runtime.GC()
				runtime.ReadMemStats(&ms)
				top = max(top, ms.HeapAlloc-uint64(cap(data)))
			}
		}
		runtime.KeepAlive(data)
		return top
	}
	small, large := peak(20_000), peak(200_000)
	if large > small+1<<20 {
		t.Errorf("heap beside the input: got %d bytes for 200,000 rows, want about the %d of 20,000 rows", large, small)
	}
}

// TestReaderBrokenQuotesStayLinear feeds inputs built to make the reader
// read lines again after broken quotes, and checks that time stays linear
// in the input.
func TestReaderBrokenQuotesStayLinear(t *testing.T) {
	shapes := []struct {
		name string
		line func(i int) string
	}{
		{name: "every line opens a quote", line: func(int) string { return "\"a" }},
		{name: "every line closes a quote wrongly", line: func(int) string { return "a@b.co,\"x\"y" }},
		{name: "one quote every 100 lines", line: func(i int) string {
			if i%100 == 0 {
				return "u@contoso.com,\"open"
			}
			return "u@contoso.com,x"
		}},
	}
	for _, s := range shapes {
		t.Run(s.name, func(t *testing.T) {
			var b strings.Builder
			b.WriteString("UPN,Note\n")
			const n = 50_000
			for i := range n {
				b.WriteString(s.line(i))
				b.WriteByte('\n')
			}
			start := time.Now()
			r, err := NewReader(strings.NewReader(b.String()), Options{})
			if err != nil {
				t.Fatal(err)
			}
			rows := readAll(t, r)
			if len(rows) != n {
				t.Errorf("got %d rows, want one per line, %d", len(rows), n)
			}
			// Linear work takes milliseconds; quadratic work on 50,000
			// lines takes minutes. The bound leaves room for -race on a
			// loaded machine.
			if d := time.Since(start); d > 20*time.Second {
				t.Errorf("took %v, want well under 20s", d)
			}
		})
	}
}
