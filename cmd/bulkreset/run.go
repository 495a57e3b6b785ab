package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Exit codes (SPEC.md "Exit codes"): scripts and scheduled tasks depend on them.
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
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	root := newRootCmd(e)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintf(stderr, "bulkreset: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		fmt.Fprintln(stderr, "Run 'bulkreset --help' for usage.")
		return exitUsage
	}
	return exitFatal
}

// isCobraUsage reports whether err came from cobra's own flag or argument
// parsing, which are usage errors. Cobra does not type them, so every error
// that does not come from our commands' RunE is one: RunE errors are all
// usageError, exitError or fatal errors wrapped by fatalError.
func isCobraUsage(err error) bool {
	var fe fatalError
	return !errors.As(err, &fe)
}

// fatalError is a run-time failure: exit 1.
type fatalError struct{ err error }

func (e fatalError) Error() string { return e.err.Error() }
func (e fatalError) Unwrap() error { return e.err }

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "bulkreset",
		Short: "Reset Microsoft Entra ID passwords in bulk through Microsoft Graph",
		Long: `bulkreset resets Microsoft Entra ID (Microsoft 365) passwords in bulk.

It reads a CSV or Excel file of users, sends the resets to Microsoft Graph in
$batch requests at the tenant's write quota, and writes one result row per
input row to a results CSV, and the passwords it set to a separate secrets
file readable only by you.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.CompletionOptions.HiddenDefaultCmd = false
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newResetCmd(e), newVersionCmd(e))
	root.AddCommand(newCheckCmd(e))
	return root
}

func newVersionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of bulkreset",
		Args:  cobra.NoArgs,
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
