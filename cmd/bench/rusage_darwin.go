package main

import (
	"os"
	"syscall"
)

// maxRSSKB is the child's peak resident set size; macOS reports it in bytes.
func maxRSSKB(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss / 1024
	}
	return 0
}
