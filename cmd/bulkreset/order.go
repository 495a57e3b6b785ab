package main

import (
	"context"
	"log/slog"

	"github.com/bulkreset/bulkreset/pkg/report"
)

// beforeOrderKey is the context key of a func(string) called with the
// results file's path just before it is put in input order: a seam for the
// tests that compare the file before and after. A value of the run's
// context, not a package variable, so that it is seen by that run alone.
type beforeOrderKey struct{}

// orderResults puts the results file of a completed run in input line
// order (report.OrderResultsFile). Results on standard output stay in the
// order the rows finished. A failure changes nothing but the order: the
// file holds every row, so the run ends as it would have, with a warning.
// Call it after the outputs are closed and before they are released.
func orderResults(ctx context.Context, o *resetOptions, out *report.Outputs, logger *slog.Logger) {
	if o.output == "-" {
		return
	}
	if hook, ok := ctx.Value(beforeOrderKey{}).(func(string)); ok {
		hook(o.output)
	}
	rewritten, err := out.OrderResults(ctx)
	if err != nil && rewritten {
		logger.Warn("the results file is in input order, but its directory could not be synced: a power cut now could bring back the file in the order the rows finished", "results", o.output, "error", err)
		return
	}
	if err != nil {
		logger.Warn("the results file holds every row, but in the order they finished, not in input order", "results", o.output, "error", err)
		return
	}
	if rewritten {
		logger.Debug("results file put in input order", "results", o.output)
	}
}
