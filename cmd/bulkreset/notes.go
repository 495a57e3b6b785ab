package main

import (
	"fmt"

	"github.com/bulkreset/bulkreset/internal/plural"
)

// syncedNote is the end-of-run note on the synced users skipped.
func syncedNote(n int64) string {
	return fmt.Sprintf("%s synced from on-premises AD %s skipped: reset them on-premises (see error_message)",
		plural.N(n, "user"), plural.Word(n, "was", "were"))
}

// notRevokedNote is the end-of-run note on the users whose sessions could
// not be revoked.
func notRevokedNote(n int64) string {
	return fmt.Sprintf("%s %s reset but %s sessions could not be revoked: see the rows with revoked=false",
		plural.N(n, "user"), plural.Word(n, "was", "were"), plural.Word(n, "its", "their"))
}
