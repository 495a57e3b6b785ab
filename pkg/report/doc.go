// Package report writes what a bulkreset run produces: the results CSV (one
// row per input row), the secrets CSV (the passwords set, made durable before
// they are sent) and the end-of-run summary with its exit code.
//
// The column lists, outcomes and file rules are fixed by docs/files.md,
// docs/outcomes.md and docs/exit-codes.md: scripts and scheduled tasks
// depend on them.
package report
