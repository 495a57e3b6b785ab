package main

import (
	"os"
	"syscall"
)

// maxRSSKB is the child's peak resident set size; Linux reports it in KB.
func maxRSSKB(ps *os.ProcessState) int64 {
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return 0
}
