package main

import (
	"fmt"
	"log/slog"
)

// logUnresettableNotes says, after a run, how many users the preflight
// found whose password this tool cannot set the usual way: external
// guests (skipped unless --include-guests) and users of federated domains.
// A lockdown run (--password-mode keep) resets nobody, so it says nothing.
func logUnresettableNotes(logger *slog.Logger, o *resetOptions, externalGuests, federated int64) {
	if o.passwordMode == "keep" {
		return
	}
	were := func(n int64) string {
		switch {
		case o.plan:
			return "would be"
		case n == 1:
			return "was"
		}
		return "were"
	}
	if n := externalGuests; n > 0 {
		guests := "external guests"
		if n == 1 {
			guests = "external guest"
		}
		if o.includeGuests {
			logger.Info(fmt.Sprintf("%d %s (#EXT#) %s reset too (--include-guests): they sign in at their home organisation, where this password does not apply", n, guests, were(n)),
				"external_guests", n)
		} else {
			logger.Info(fmt.Sprintf("%d %s (#EXT#) %s skipped: they sign in at their home organisation; revoking sessions and blocking sign-in contain them (see error_message)", n, guests, were(n)),
				"external_guests", n)
		}
	}
	if n := federated; n > 0 {
		users := "users"
		if n == 1 {
			users = "user"
		}
		logger.Warn(fmt.Sprintf("%d %s of a federated domain %s skipped: their passwords live with the identity provider; reset them there (see error_message)", n, users, were(n)),
			"federated", n)
	}
}
