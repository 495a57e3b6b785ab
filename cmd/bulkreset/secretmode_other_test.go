//go:build !unix

package main

import "testing"

// checkSecretMode has nothing to check where file modes do not exist.
func checkSecretMode(*testing.T, string) {}
