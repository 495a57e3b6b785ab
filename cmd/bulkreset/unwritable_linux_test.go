//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bulkreset/bulkreset/pkg/graphsim"
	"github.com/bulkreset/bulkreset/pkg/pipeline"
	"github.com/bulkreset/bulkreset/pkg/report"
)

// TestUnwritableOutputs fills the disk under a run (RLIMIT_FSIZE: writes
// past a size fail as on a full disk) and checks that it stops within one
// batch with exit 1, that no user has a password that is not recorded, and
// that --resume, once there is room, finishes the job.
func TestUnwritableOutputs(t *testing.T) {
	tests := []struct {
		name string
		// limit is the file size at which writes start to fail.
		limit uint64
		// resultsToStdout sends the results to standard output, so that
		// the secrets file is the one that fills up.
		resultsToStdout bool
	}{
		{"secrets file full", 30 << 10, true},
		{"results file full", 40 << 10, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			users, csv, rows := planRows(t, 1500)
			tn := startTenant(t, graphsim.Options{Latency: 10 * time.Millisecond}, users)
			dir := t.TempDir()
			results, secrets := filepath.Join(dir, "results.csv"), filepath.Join(dir, "secrets.csv")
			out := results
			if tc.resultsToStdout {
				out = "-"
			}
			const concurrency, batch = 4, 20
			cmd, stderr := tn.command(t, dir, "reset", "-i", "-", "-o", out, "--secrets", secrets, "--yes",
				"--concurrency", "4", "--batch-size", "20")
			var stdout strings.Builder
			cmd.Stdout = &stdout
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			// The run waits for its input: limit its file sizes first.
			lim := unix.Rlimit{Cur: tc.limit, Max: tc.limit}
			if err := unix.Prlimit(cmd.Process.Pid, unix.RLIMIT_FSIZE, &lim, nil); err != nil {
				cmd.Process.Kill()
				t.Fatalf("prlimit: %v", err)
			}
			go func() {
				stdin.Write([]byte(csv))
				stdin.Close()
			}()
			code := exitCode(t, cmd.Wait())
			if code != exitFatal {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitFatal, stderr.String())
			}
			if !strings.Contains(stderr.String(), "file too large") {
				t.Errorf("stderr does not give the write error:\n%s", stderr.String())
			}
			// No user has a password that is not in the secrets file.
			checkKnownPasswords(t, tn, secrets)
			// It stopped within one round of batches: no more users were
			// changed than have a result, plus the batches in flight.
			var resultRows int
			if tc.resultsToStdout {
				rs, err := report.ReadResults(strings.NewReader(stdout.String()))
				if err != nil {
					t.Fatalf("results on stdout: %v", err)
				}
				resultRows = len(rs)
			} else {
				f, err := os.Open(results)
				if err != nil {
					t.Fatal(err)
				}
				rs, _ := report.ReadResults(f) // may end in a torn row
				f.Close()
				resultRows = len(rs)
			}
			// Every user reset has its result in the file or, for the rows
			// the file could not take, in the log; and only the batches in
			// flight and the results not yet written came after the failure.
			applied := tn.sim.Stats().WritesApplied
			logged := strings.Count(stderr.String(), "result not written to the results file")
			if applied > resultRows+logged {
				t.Errorf("%d passwords set but only %d results in the file and %d in the log", applied, resultRows, logged)
			}
			if bound := pipeline.ResultsFlushRows + pipeline.ResultQueue + concurrency*batch; logged > bound {
				t.Errorf("%d results logged as not written: more than the unflushed (%d) and queued (%d) results and one round of batches (%d) came after the failure",
					logged, pipeline.ResultsFlushRows, pipeline.ResultQueue, concurrency*batch)
			}
			if applied >= len(rows)-10 {
				t.Fatalf("the run did not stop early (%d passwords set): the disk never filled", applied)
			}
			if tc.resultsToStdout {
				return
			}
			// With room again, --resume finishes the job.
			again, stderr2 := tn.command(t, dir, "reset", "-i", filepath.Join(dir, "in.csv"), "-o", results, "--secrets", secrets, "--yes", "--resume")
			if err := os.WriteFile(filepath.Join(dir, "in.csv"), []byte(csv), 0o644); err != nil {
				t.Fatal(err)
			}
			if code := exitCode(t, again.Run()); code != exitRowsFailed {
				t.Fatalf("--resume exited %d, want %d; stderr:\n%s", code, exitRowsFailed, stderr2.String())
			}
			checkRun(t, tn, rows, results, secrets)
		})
	}
}
