// Package interrupt turns a process's interrupt signals into what a run
// needs: the first (Ctrl+C, SIGTERM) cancels a context, so that the run
// stops sending, finishes what is in flight and flushes its files; the
// second exits at once.
package interrupt

import (
	"context"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

// Notify returns a context that the first SIGINT or SIGTERM cancels; the
// second calls exit(code). stop releases the signals; calling it again does
// nothing.
func Notify(parent context.Context, exit func(int), code int) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancel(parent)
	sigs := make(chan os.Signal, 2)
	done := make(chan struct{})
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-sigs:
			cancel() // the first: stop sending, finish what is in flight, flush
		case <-done:
			return
		}
		select {
		case <-sigs:
			exit(code) // the second: at once
		case <-done:
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(sigs)
			close(done)
			cancel()
		})
	}
}
