// Command checkrelease verifies what `make release` built, before anyone
// publishes it: the four binaries for their platforms, statically linked
// where the platform allows, the version stamped in them, and SHA256SUMS
// listing exactly those files with their real hashes. It runs the binary
// of the host platform, when there is one, to see `bulkreset version`.
//
//	go run ./scripts/checkrelease -dir dist -version v1.2.3
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
)

// platforms are the release targets (README "Releases").
var platforms = []struct{ os, arch string }{
	{"linux", "amd64"}, {"linux", "arm64"}, {"windows", "amd64"}, {"darwin", "arm64"},
}

func main() {
	dir := flag.String("dir", "dist", "the release directory")
	version := flag.String("version", "", "the version the binaries must carry")
	flag.Parse()
	if *version == "" {
		fmt.Fprintln(os.Stderr, "checkrelease: -version is required")
		os.Exit(2)
	}
	problems := check(*dir, *version)
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, "checkrelease:", p)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
	fmt.Printf("checkrelease: %d binaries and SHA256SUMS in %s are good for version %s\n", len(platforms), *dir, *version)
}

// check returns every problem found with the release in dir.
func check(dir, version string) []string {
	var problems []string
	var names []string
	for _, p := range platforms {
		name := fmt.Sprintf("bulkreset-%s-%s-%s", version, p.os, p.arch)
		if p.os == "windows" {
			name += ".exe"
		}
		names = append(names, name)
		path := filepath.Join(dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if err := checkBinary(path, p.os, p.arch); err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", name, err))
		}
		if !bytes.Contains(data, []byte(version)) {
			problems = append(problems, fmt.Sprintf("%s: version %s is not stamped in it", name, version))
		}
		if p.os == runtime.GOOS && p.arch == runtime.GOARCH {
			out, err := exec.Command(path, "version").Output()
			if got, want := strings.TrimSpace(string(out)), "bulkreset "+version; err != nil || got != want {
				problems = append(problems, fmt.Sprintf("%s version: %q (%v), want %q", name, got, err, want))
			}
		}
		fmt.Printf("  %-44s %-14s %6.1f MB\n", name, p.os+"/"+p.arch, float64(len(data))/1e6)
	}
	return append(problems, checkSums(dir, names)...)
}

// checkBinary checks the executable format and architecture of path, and
// that a Linux binary is static (no interpreter, no shared library), so it
// runs on any distribution.
func checkBinary(path, goos, goarch string) error {
	switch goos {
	case "linux":
		f, err := elf.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		want := map[string]elf.Machine{"amd64": elf.EM_X86_64, "arm64": elf.EM_AARCH64}[goarch]
		if f.Machine != want || f.Type != elf.ET_EXEC {
			return fmt.Errorf("ELF %v %v, want an executable for %v", f.Type, f.Machine, want)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				return errors.New("dynamically linked (it has an ELF interpreter); build with CGO_ENABLED=0")
			}
		}
		if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
			return fmt.Errorf("needs shared libraries %v", libs)
		}
	case "windows":
		f, err := pe.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
			return fmt.Errorf("PE machine %#x, want amd64", f.Machine)
		}
	case "darwin":
		f, err := macho.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if f.Cpu != macho.CpuArm64 || f.Type != macho.TypeExec {
			return fmt.Errorf("Mach-O %v %v, want an arm64 executable", f.Type, f.Cpu)
		}
	default:
		return fmt.Errorf("no check for %s", goos)
	}
	return nil
}

// checkSums checks that dir/SHA256SUMS lists exactly names, each with the
// SHA-256 of its file, in the format sha256sum -c reads.
func checkSums(dir string, names []string) []string {
	f, err := os.Open(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		return []string{err.Error()}
	}
	defer f.Close()
	var problems, listed []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 {
			problems = append(problems, fmt.Sprintf("SHA256SUMS: malformed line %q", sc.Text()))
			continue
		}
		listed = append(listed, name)
		got, err := fileSHA256(filepath.Join(dir, name))
		if err != nil {
			problems = append(problems, err.Error())
		} else if got != sum {
			problems = append(problems, fmt.Sprintf("SHA256SUMS: %s has SHA-256 %s, the file says %s", name, got, sum))
		}
	}
	if err := sc.Err(); err != nil {
		problems = append(problems, err.Error())
	}
	slices.Sort(listed)
	want := slices.Sorted(slices.Values(names))
	if !slices.Equal(listed, want) {
		problems = append(problems, fmt.Sprintf("SHA256SUMS lists %v, want %v", listed, want))
	}
	return problems
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
