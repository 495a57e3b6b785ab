// Command bench prints how fast bulkreset resets passwords against the Graph
// emulator, and how that compares with the minimum Graph's write quota
// allows and with what administrators use today: figures, not tests, all
// measured in one run and printed as one table.
//
// It runs the real binary (built by `make bench`) as an administrator would,
// against pkg/graphsim on loopback with client-secret auth through
// azidentity. The quota is Entra's documented one, with every window
// shortened by -time-scale (90 by default: a burst of 3,000 writes, then
// 1,800 a second instead of 20), so that resetting ten times the burst takes
// seconds instead of 22 minutes. Latencies are shortened by the same factor.
//
// The figures:
//   - 1,000 users at 20 ms latency without throttling (issue 2's acceptance);
//   - the pacing matrix: three bucket shapes (the documented burst of 3,000
//     and 20/s; 8/s when another app takes the rest of the tenant's quota;
//     a small fast bucket of 500 and 60/s) × the four ways a throttled
//     write may come back (every header, Retry-After only, a constant
//     Retry-After: 1, nothing), throttled attempts costing a quarter of a
//     write: bulkreset's time against the quota-bound minimum, its share
//     of writes throttled, and the users left failed;
//   - the same N with the baselines: one PATCH per user in sequence (a
//     PowerShell foreach over Update-MgUser, whose SDK retries a 429 three
//     times after its Retry-After), and unbatched concurrent PATCHes that
//     retry a 429 at once;
//   - 2,000 users at 50 ms latency within the burst, against the sequential
//     baseline;
//   - 1,000,000 users without throttling or latency: users per second and
//     the peak memory (RSS) of the bulkreset process;
//   - 3 tenants at once against one after another, and 12 tenants at once
//     against the application's own limit across tenants;
//   - verify of 100,000 rows: users per second and peak memory.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	bin := flag.String("bin", "bin/bulkreset", "the bulkreset binary to measure")
	timeScale := flag.Float64("time-scale", 90, "divide the quota's windows and the latencies by this")
	users := flag.Int("overhead-users", 1_000_000, "users in the local overhead figure")
	only := flag.String("only", "", "run only these figures (comma-separated: latency, matrix, baselines, burst, overhead, check, tenants, app, verify)")
	cpuProfile := flag.String("cpuprofile", "", "write the bench's own CPU profile (the emulator's side) to this file")
	flag.Parse()
	if _, err := os.Stat(*bin); err != nil {
		return fmt.Errorf("%w (run `make build` first)", err)
	}
	if *timeScale < 1 {
		return fmt.Errorf("-time-scale %g: want at least 1", *timeScale)
	}
	// This process is the emulator, which holds up to a million users and
	// shares the two cores with the process being measured: its garbage
	// collector runs only when its heap nears 3 GiB, not every time the
	// heap doubles. With a million users live (about 600 MB) a limit of
	// 1.5 GiB still ran a full collection every 3 to 4 seconds, each a
	// second of CPU taken from the process being measured. (The child does
	// not inherit this.)
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(3 << 30)
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	b := &bench{bin: *bin, timeScale: *timeScale, overheadUsers: *users, progress: os.Stderr}

	// Each figure adds its rows to the one table.
	figures := []struct {
		name string
		run  func(*table) error
	}{
		{"latency", b.latency1000},
		{"matrix", b.pacingMatrix},
		{"baselines", b.quotaBaselines},
		{"burst", b.withinBurst},
		{"overhead", b.localOverhead},
		{"check", b.checkFigure},
		{"tenants", b.manyTenants},
		{"app", b.appLimitTenants},
		{"verify", b.verifyFigure},
	}
	start := time.Now()
	var t table
	for _, f := range figures {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), f.name) {
			continue
		}
		if err := f.run(&t); err != nil {
			return err
		}
	}
	b.logf("done in %v", time.Since(start).Round(time.Second))
	return t.print(os.Stdout, b.legend())
}
