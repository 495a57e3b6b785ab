//go:build unix

package report

import (
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"syscall"
	"testing"
	"time"
)

// BenchmarkOrderResults puts a results file of a million rows (both
// optional columns, about 190 MB) in input order: shuffled, and already in
// order (the check alone). It reports rows per second, the peak of the Go
// heap during the rewrite (sampled every millisecond) and the peak RSS of
// the whole test process. Run it with
//
//	go test -run '^$' -bench OrderResults -benchtime 1x ./pkg/report
func BenchmarkOrderResults(b *testing.B) {
	const n = 1_000_000
	for _, tc := range []struct {
		name    string
		shuffle bool
	}{{"shuffled", true}, {"in_order", false}} {
		b.Run(tc.name, func(b *testing.B) {
			dir := b.TempDir()
			var rng *rand.Rand
			if tc.shuffle {
				rng = rand.New(rand.NewPCG(7, 8))
			}
			master := writeShuffledResults(b, dir, n, Columns{Blocked: true, Tenant: true}, rng)
			path := filepath.Join(dir, "run.csv")
			var peak uint64
			var elapsed time.Duration
			for b.Loop() {
				b.StopTimer()
				copyFile(b, master, path)
				runtime.GC()
				stop := sampleHeap(&peak)
				b.StartTimer()
				start := time.Now()
				rewritten, err := orderResults(b.Context(), path, orderConfig{})
				elapsed += time.Since(start)
				b.StopTimer()
				stop()
				if err != nil || rewritten != tc.shuffle {
					b.Fatalf("rewritten %v, error %v", rewritten, err)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(b.N)/elapsed.Seconds(), "rows/s")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			var ru syscall.Rusage
			if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
				b.ReportMetric(float64(ru.Maxrss)/1024, "process-maxrss-MiB") // KiB on Linux
			}
			if fi, err := os.Stat(master); err == nil {
				b.ReportMetric(float64(fi.Size())/(1<<20), "file-MiB")
			}
		})
	}
}

// sampleHeap records in *peak the largest Go heap seen until stop is called.
func sampleHeap(peak *uint64) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(finished)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			*peak = max(*peak, s[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// copyFile copies the file src to dst.
func copyFile(b *testing.B, src, dst string) {
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	os.Remove(dst)
	out, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
}
