package main

import (
	"fmt"
	"log/slog"

	"github.com/bulkreset/bulkreset/internal/plural"
)

// syncedNote is the end-of-run note on the synced users skipped (by plan:
// that would be).
func syncedNote(n int64, plan bool) string {
	were := plural.Word(n, "was", "were")
	if plan {
		were = "would be"
	}
	return fmt.Sprintf("%s synced from on-premises AD %s skipped: reset them on-premises (see error_message)", plural.N(n, "user"), were)
}

// logUnresettableNotes says, after a run, how many users the preflight
// found whose password this tool cannot set the usual way: external
// guests (skipped unless --include-guests) and users of federated domains.
// A lockdown run (--password-mode keep) resets nobody, so it says nothing.
func logUnresettableNotes(logger *slog.Logger, o *resetOptions, externalGuests, federated int64) {
	if o.passwordMode == "keep" {
		return
	}
	were := func(n int64) string {
		if o.plan {
			return "would be"
		}
		return plural.Word(n, "was", "were")
	}
	if n := externalGuests; n > 0 {
		if o.includeGuests {
			logger.Info(fmt.Sprintf("%s (#EXT#) %s reset too (--include-guests): they sign in at their home organisation, where this password does not apply", plural.N(n, "external guest"), were(n)),
				"external_guests", n)
		} else {
			logger.Info(fmt.Sprintf("%s (#EXT#) %s skipped: they sign in at their home organisation; revoking sessions and blocking sign-in contain them (see error_message)", plural.N(n, "external guest"), were(n)),
				"external_guests", n)
		}
	}
	if n := federated; n > 0 {
		logger.Warn(fmt.Sprintf("%s of a federated domain %s skipped: their passwords live with the identity provider; reset them there (see error_message)", plural.N(n, "user"), were(n)),
			"federated", n)
	}
}
