package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
)

// newLogger returns the run's logger: text or JSON lines on standard error,
// and to logFile too when set. quiet keeps warnings and errors only.
func newLogger(e *env, format, logFile string, quiet bool) (*slog.Logger, func(), error) {
	level := slog.LevelInfo
	if quiet {
		level = slog.LevelWarn
	}
	opts := &slog.HandlerOptions{Level: level}
	w := e.stderr
	closeFn := func() {}
	if logFile != "" {
		f, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, nil, fmt.Errorf("--log-file: %w", err)
		}
		w = io.MultiWriter(e.stderr, f)
		closeFn = func() { f.Close() }
	}
	var h slog.Handler
	if format == "json" {
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	return slog.New(h), closeFn, nil
}
