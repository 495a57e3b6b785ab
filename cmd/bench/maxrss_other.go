//go:build !linux

package main

import "os"

// maxRSS is unknown here (ru_maxrss is in bytes on macOS and absent on
// Windows); the bench prints n/a.
func maxRSS(*os.ProcessState) int64 { return 0 }
