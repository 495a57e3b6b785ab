package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Exit codes (docs/exit-codes.md): scripts and scheduled tasks depend on them.
const (
	exitOK          = 0
	exitFatal       = 1
	exitUsage       = 2
	exitRowsFailed  = 3
	exitInterrupted = 130
)

// version is stamped by the Makefile with -ldflags "-X main.version=…".
var version = ""

// env is what a command may use of the outside world; tests build their own.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	args           []string // the command line, for the resume command
}

// usageError is a problem with the command line or its input file: exit 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// exitError ends a command with a given exit code after it has said why.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// run is the whole program; main only adds signals and os.Exit.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	e := &env{args: args, stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	root := newRootCmd(e)
	root.SetArgs(sandboxFileArgs(args))
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code // the command has said why
	}
	code := exitFatal
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		code = exitUsage
	}
	jsonLogs := wantsJSONLogs(args)
	if f := flagOf(cmd, "log-format"); f != nil && f.Changed {
		jsonLogs = f.Value.String() == "json"
	}
	printError(stderr, jsonLogs, flagError(err), code)
	return code
}

// isCobraUsage reports whether err came from cobra's own flag or argument
// parsing, which are usage errors. Cobra does not type them, so every error
// that does not come from our commands' RunE is one: RunE errors pass
// through typed, which makes every other error a fatalError.
func isCobraUsage(err error) bool {
	var fe fatalError
	return !errors.As(err, &fe)
}

// typed returns err as one of our error types: usageError, exitError and
// fatalError pass, anything else becomes a fatalError.
func typed(err error) error {
	var (
		ue usageError
		ee exitError
		fe fatalError
	)
	if err == nil || errors.As(err, &ue) || errors.As(err, &ee) || errors.As(err, &fe) {
		return err
	}
	return fatalError{err}
}

// fatalError is a run-time failure: exit 1.
type fatalError struct{ err error }

func (e fatalError) Error() string { return e.err.Error() }
func (e fatalError) Unwrap() error { return e.err }

func flagOf(cmd *cobra.Command, name string) *pflag.Flag {
	if cmd == nil {
		return nil
	}
	return cmd.Flags().Lookup(name)
}

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "bulkreset",
		Short: "Reset Microsoft Entra ID passwords in bulk through Microsoft Graph",
		Long: `bulkreset resets Microsoft Entra ID (Microsoft 365) passwords in bulk.

It reads a CSV or Excel file of users, sends the resets to Microsoft Graph in
$batch requests at the tenant's write quota, and writes one result row per
input row to a results CSV, and the passwords it set to a separate secrets
file readable only by you.

Sign-in comes from the environment, never from a flag value:
  AZURE_TENANT_ID, AZURE_CLIENT_ID          tenant and app (or --tenant, --client-id)
  AZURE_CLIENT_SECRET                       a client secret
  AZURE_CLIENT_CERTIFICATE_PATH, _PASSWORD  a certificate (or --certificate) and its password
  AZURE_FEDERATED_TOKEN_FILE                workload identity (Kubernetes, GitHub Actions)
  AZURE_AUTHORITY_HOST, SSL_CERT_FILE       a sign-in host; extra trusted certificate authorities
A flag beats its environment variable, which beats the default.

Exit codes: 0 all done, 1 fatal error, 2 usage error, 3 some rows failed or
were invalid, 130 interrupted.`,
		Example: `  # Try it first on the built-in sandbox tenant (no credentials, nothing leaves this machine):
  bulkreset reset --sandbox -i users.csv --secrets secrets.csv

  # Reset for real, with an app registration's client secret from the environment:
  export AZURE_TENANT_ID=contoso.onmicrosoft.com AZURE_CLIENT_ID=<app id> AZURE_CLIENT_SECRET=<secret>
  bulkreset reset -i users.csv --secrets secrets.csv

  # Help on one command, with its own examples:
  bulkreset reset --help

  # Tab completion for your shell:
  source <(bulkreset completion bash)`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newResetCmd(e), newPlanCmd(e), newVersionCmd(e))
	root.AddCommand(newVerifyCmd(e))
	addCompletionCmd(root)
	root.AddCommand(newCheckCmd(e))
	return root
}

// addCompletionCmd adds cobra's completion command, visible, with examples
// for each shell.
func addCompletionCmd(root *cobra.Command) {
	root.CompletionOptions.HiddenDefaultCmd = false
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Name() != "completion" {
			continue
		}
		c.Short = "Print a tab-completion script for bash, zsh, fish or PowerShell"
		c.Example = `  bulkreset completion bash > /etc/bash_completion.d/bulkreset     # bash (needs bash-completion)
  bulkreset completion zsh > "${fpath[1]}/_bulkreset"               # zsh
  bulkreset completion fish > ~/.config/fish/completions/bulkreset.fish
  bulkreset completion powershell | Out-String | Invoke-Expression  # PowerShell, this session`
		examples := map[string]string{
			"bash":       "  source <(bulkreset completion bash)",
			"zsh":        "  source <(bulkreset completion zsh)",
			"fish":       "  bulkreset completion fish | source",
			"powershell": "  bulkreset completion powershell | Out-String | Invoke-Expression\n\n  # Every session: add it to your profile\n  bulkreset completion powershell >> $PROFILE",
		}
		for _, sub := range c.Commands() {
			sub.Example = examples[sub.Name()]
		}
		// "bulkreset completion tcsh" is an error, not the help page.
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return usagef("no completion for %q: the shells are bash, zsh, fish and powershell", args[0])
		}
	}
}

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the version of bulkreset",
		Example: "  bulkreset version",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Fprintf(e.stdout, "bulkreset %s\n", buildVersion())
			return nil
		},
	}
}

// buildVersion is the stamped version, else the module version of a
// `go install`, else "dev".
func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// isTerminal reports whether f is an *os.File attached to a terminal.
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && isTerminalFd(file.Fd())
}
