package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestCheckSums(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a", "alpha\n")
	write("b", "beta\n")
	const (
		sumA = "3ea4d6b1fd0bfbd4ccd0e1fd8ef3ce9d8b7c1b4a7c2ba4e6b9a3a7f0bca4c52a" // not alpha's
	)
	good := func() string {
		a, _ := fileSHA256(filepath.Join(dir, "a"))
		b, _ := fileSHA256(filepath.Join(dir, "b"))
		return a + "  a\n" + b + "  b\n"
	}
	tests := []struct {
		name, sums string
		want       string // "" for no problem, else part of the problem
	}{
		{"good", good(), ""},
		{"wrong hash", strings.Replace(good(), good()[:64], sumA, 1), "has SHA-256"},
		{"a file missing from the list", good()[:strings.Index(good(), "\n")+1], "SHA256SUMS lists"},
		{"malformed", "not a checksum line\n", "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			write("SHA256SUMS", tt.sums)
			problems := checkSums(dir, []string{"b", "a"})
			switch {
			case tt.want == "" && len(problems) > 0:
				t.Errorf("problems %q, want none", problems)
			case tt.want != "" && !strings.Contains(strings.Join(problems, "\n"), tt.want):
				t.Errorf("problems %q, want one about %q", problems, tt.want)
			}
		})
	}
}

// TestCheckBinary checks this test's own executable: right for its own
// platform's format, wrong for the others.
func TestCheckBinary(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range platforms {
		err := checkBinary(self, p.os, p.arch)
		if p.os == runtime.GOOS && p.arch == runtime.GOARCH {
			if err != nil && !strings.Contains(err.Error(), "dynamically linked") {
				t.Errorf("%s/%s (this platform): %v", p.os, p.arch, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s/%s: this %s/%s executable passed", p.os, p.arch, runtime.GOOS, runtime.GOARCH)
		}
	}
}
