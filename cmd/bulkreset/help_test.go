package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

func noEnv(string) string { return "" }

// TestHelpHasExamples: every command's --help shows examples, so that an
// administrator can use the tool without the README.
func TestHelpHasExamples(t *testing.T) {
	root := newRootCmd(&env{getenv: noEnv})
	var paths [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		if c.Hidden || c.Name() == "help" {
			return
		}
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string{}, path...), sub.Name()))
		}
	}
	walk(root, nil)
	seen := map[string]bool{}
	for _, p := range paths {
		name := strings.Join(append([]string{"bulkreset"}, p...), " ")
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			res := runCLI(t, t.Context(), noEnv, append(p, "--help")...)
			if res.code != exitOK {
				t.Fatalf("%s --help: exit %d, stderr:\n%s", name, res.code, res.stderr)
			}
			if !strings.Contains(res.stdout, "Examples:\n") || !strings.Contains(res.stdout, "  "+name) {
				t.Errorf("%s --help has no example that runs it:\n%s", name, res.stdout)
			}
		})
	}
	for _, want := range []string{"bulkreset reset", "bulkreset version", "bulkreset completion", "bulkreset completion powershell"} {
		if !seen[want] {
			t.Errorf("no visible command %q", want)
		}
	}

	res := runCLI(t, t.Context(), noEnv, "--help")
	for _, want := range []string{"completion", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_FEDERATED_TOKEN_FILE",
		"SSL_CERT_FILE", "A flag beats its environment variable", "Exit codes"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("bulkreset --help does not mention %q", want)
		}
	}
	res = runCLI(t, t.Context(), noEnv, "reset", "--help")
	for _, want := range []string{"--verbose", "--log-file", "--quiet", "--sandbox", "AZURE_TENANT_ID", "Exit codes"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("bulkreset reset --help does not mention %q", want)
		}
	}
}

// TestCompletionScripts: a completion script for each of bash, zsh, fish
// and PowerShell; the bash one is valid shell.
func TestCompletionScripts(t *testing.T) {
	markers := map[string]string{
		"bash":       "complete -o default -F __start_bulkreset bulkreset",
		"zsh":        "#compdef bulkreset",
		"fish":       "complete -c bulkreset",
		"powershell": "Register-ArgumentCompleter -CommandName 'bulkreset'",
	}
	for shell, marker := range markers {
		t.Run(shell, func(t *testing.T) {
			res := runCLI(t, t.Context(), noEnv, "completion", shell)
			if res.code != exitOK || !strings.Contains(res.stdout, marker) {
				t.Fatalf("completion %s: exit %d, script without %q; stderr:\n%s", shell, res.code, marker, res.stderr)
			}
			if shell != "bash" {
				return
			}
			bash, err := exec.LookPath("bash")
			if err != nil {
				return // bash is what the bash script is for; no bash, nothing to check it with
			}
			f := filepath.Join(t.TempDir(), "bulkreset.bash")
			if err := os.WriteFile(f, []byte(res.stdout), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(bash, "-n", f).CombinedOutput(); err != nil {
				t.Errorf("bash -n: the completion script is not valid bash: %v\n%s", err, out)
			}
		})
	}
	if res := runCLI(t, t.Context(), noEnv, "completion", "tcsh"); res.code != exitUsage {
		t.Errorf("completion tcsh: exit %d, want %d", res.code, exitUsage)
	}
}

// TestCompletionValues: tab completion offers the values of reset's flags
// (what the shells' scripts ask the binary through __complete).
func TestCompletionValues(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "reset", "--password-mode", ""}, []string{"random", "column", "none"}},
		{[]string{"__complete", "reset", "--auth", ""}, []string{"certificate", "managed-identity", "workload-identity"}},
		{[]string{"__complete", "reset", "--cloud", ""}, []string{"global", "usgov", "usgov-dod", "china"}},
		{[]string{"__complete", "reset", "--log-format", ""}, []string{"text", "json"}},
		{[]string{"__complete", "reset", "-i", ""}, []string{"csv", "xlsx", ":8"}}, // 8: filter files by extension
		{[]string{"__complete", ""}, []string{"reset", "version", "completion"}},
	}
	for _, tt := range tests {
		res := runCLI(t, t.Context(), noEnv, tt.args...)
		lines := strings.Split(res.stdout, "\n")
		for _, w := range tt.want {
			found := false
			for _, l := range lines {
				if l == w || strings.HasPrefix(l, w+"\t") {
					found = true
				}
			}
			if !found {
				t.Errorf("%q: no %q in\n%s", tt.args, w, res.stdout)
			}
		}
	}
}
