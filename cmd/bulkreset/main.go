// Command bulkreset resets Microsoft Entra ID passwords in bulk through
// Microsoft Graph. See the README for usage.
package main

import (
	"context"
	"os"

	"github.com/bulkreset/bulkreset/internal/interrupt"
)

func main() {
	// The first Ctrl+C or SIGTERM stops sending, finishes what is in flight
	// and flushes; the second exits at once.
	ctx, stop := interrupt.Notify(context.Background(), os.Exit, exitInterrupted)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}
