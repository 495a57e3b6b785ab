//go:build unix

package interrupt

import (
	"context"
	"syscall"
	"testing"
	"time"
)

func TestNotify(t *testing.T) {
	exited := make(chan int, 1)
	ctx, stop := Notify(context.Background(), func(code int) { exited <- code }, 130)
	defer stop()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done(): // the first signal cancels
	case <-time.After(10 * time.Second):
		t.Fatal("the first signal did not cancel the context")
	}
	select {
	case code := <-exited:
		t.Fatalf("exit(%d) on the first signal", code)
	default:
	}
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-exited:
		if code != 130 {
			t.Errorf("exit(%d) on the second signal, want 130", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the second signal did not exit")
	}
}

// TestStopTwice: stop releases the signals once, and a second call is
// harmless (a deferred stop after an explicit one).
func TestStopTwice(t *testing.T) {
	ctx, stop := Notify(context.Background(), func(int) { t.Error("exit called") }, 130)
	stop()
	stop()
	if ctx.Err() == nil {
		t.Error("the context is not cancelled after stop")
	}
}
