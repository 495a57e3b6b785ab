package pipeline_test

import (
	"testing"

	"github.com/bulkreset/bulkreset/pkg/pipeline"
	"github.com/bulkreset/bulkreset/pkg/report"
	"github.com/bulkreset/bulkreset/pkg/worker"
)

// discard is a results file that keeps nothing.
type discard struct{}

func (discard) Write(report.Result) error { return nil }
func (discard) Flush() error              { return nil }
func (discard) Flushes() int64            { return 0 }

// BenchmarkPipeline is the pipeline's own cost per row (reader, prepare,
// channels, sink), with plan's sender and a results file that keeps
// nothing: the local overhead a run adds to Graph's time.
func BenchmarkPipeline(b *testing.B) {
	const rows = 100_000
	input := validRows(2, rows)
	b.ReportAllocs()
	for b.Loop() {
		out := pipeline.Run(b.Context(), pipeline.Config{
			Source:  &source{rows: input},
			Prepare: worker.NewPreparer(worker.PrepareOptions{Mode: worker.ModeNone}),
			Send:    pipeline.Plan(worker.Options{}),
			Results: discard{},
		})
		if out.Fatal != nil || out.Written != rows {
			b.Fatalf("fatal %v, %d written", out.Fatal, out.Written)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
