package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/bulkreset/bulkreset/internal/plural"
	"github.com/bulkreset/bulkreset/pkg/csvin"
	"github.com/bulkreset/bulkreset/pkg/password"
	"github.com/bulkreset/bulkreset/pkg/pipeline"
	"github.com/bulkreset/bulkreset/pkg/report"
	"github.com/bulkreset/bulkreset/pkg/secret"
)

// One user, no file: `reset --user UPN` (repeatable) runs the pipeline on
// the users named on the command line instead of an input file. The
// results go to standard output unless -o is given; no settings file is
// recorded (such a run is run again, not resumed). A random password is
// shown once on the terminal when there is no --secrets file and standard
// output is a terminal; --password-stdin reads a chosen password from
// standard input, so that it is never an argument or in shell history.

// addUserFlags defines --user and --password-stdin.
func addUserFlags(f *pflag.FlagSet, o *resetOptions) {
	f.StringArrayVar(&o.users, "user", nil, "a user to reset, by UPN or object id, instead of an input file (repeatable; not with -i): results go to standard output unless -o is given")
	f.BoolVar(&o.passwordStdin, "password-stdin", false, "with one --user: set the password read from standard input (its first line; typed without echo at a terminal) instead of a random one")
}

// inputSource is where a run's rows come from: the input file
// (*csvin.Reader) or the users of --user (*csvin.UserList).
type inputSource interface {
	pipeline.Source
	Info() csvin.Info
	Close() error
}

// openSource opens the run's input: the --user list, or the input file.
func openSource(e *env, o *resetOptions) (inputSource, error) {
	if len(o.users) > 0 {
		return csvin.NewUserList(o.users, o.password), nil
	}
	return openInput(e, o)
}

// validateUsers checks --user and --password-stdin, before the other
// flags: it sets what they imply (results on standard output, the column
// password mode, the number of users) and whether a random password is to
// be shown on the terminal.
func (o *resetOptions) validateUsers(e *env) error {
	if o.passwordStdin && o.input == "-" {
		return usagef("--password-stdin and -i - both read standard input: give the users with --user, or the passwords in the input's Password column (--password-mode column)")
	}
	if len(o.users) == 0 {
		if o.passwordStdin {
			return usagef("--password-stdin sets the password of the user named with --user; with an input file, the passwords come from its Password column (--password-mode column)")
		}
		return nil
	}
	switch {
	case o.input != "":
		return usagef("-i and --user cannot be used together: name the users with --user, or list them in the input file")
	case o.sheet != "":
		return usagef("--sheet names a worksheet of an input file, and --user has none")
	case o.userColumn != "" || o.idColumn != "":
		return usagef("--user-column and --id-column name columns of an input file, and --user has none")
	case o.resume:
		return usagef("a --user run records no settings and is not resumed: run it again (the password set last is the one in force)")
	case o.passwordStdin && len(o.users) > 1:
		return usagef("--password-stdin sets one chosen password, so it takes one --user, not %d: give each user its own run, or random passwords (--secrets FILE)", len(o.users))
	case o.passwordStdin && o.flags != nil && o.flags.Changed("password-mode") && o.passwordMode != "column":
		return usagef("--password-stdin sets the password read from standard input, so it cannot be used with --password-mode %s", o.passwordMode)
	case o.passwordStdin && !o.yes && !o.plan && !isTerminal(e.stdin):
		return usagef("--password-stdin reads the password from standard input, which is not a terminal, so there is no prompt to confirm the reset at: pass --yes")
	case !o.passwordStdin && o.passwordMode == "column":
		return usagef("--password-mode column takes the passwords from the input's Password column; with --user, give the password with --password-stdin")
	}
	if o.passwordStdin {
		o.passwordMode = "column"
	}
	if o.output == "" {
		o.output = "-"
	}
	o.inputRows, o.inputCounted = int64(len(o.users)), true
	// Only a terminal is a person's screen: standard output redirected may
	// be a log file, a pipe to a mail, a CI job's output kept for months.
	if o.passwordMode == "random" && o.secrets == "" && !o.discardPasswords && !o.plan && isTerminal(e.stdout) {
		o.shown = &shownPasswords{stdout: e.stdout, pending: map[int]secret.Value{}}
	}
	return nil
}

// randomNeedsSecretsHint completes the usage error of random passwords
// without --secrets for a --user run.
func (o *resetOptions) randomNeedsSecretsHint() string {
	if len(o.users) == 0 {
		return ""
	}
	return "; at a terminal, without --secrets, the password of a --user run is shown once instead (standard output is not a terminal here)"
}

// readPassword reads the --password-stdin password: typed twice without
// echo at a terminal, else the first line of standard input. It is
// checked like a Password cell, and refused with a usage error that never
// holds it.
func (o *resetOptions) readPassword(e *env) error {
	if !o.passwordStdin {
		return nil
	}
	var (
		pw  string
		err error
	)
	if f, ok := e.stdin.(*os.File); ok && isTerminal(f) {
		pw, err = typePassword(int(f.Fd()), e.stderr, o.users[0])
	} else {
		pw, err = firstLine(e.stdin)
	}
	if err != nil {
		return err
	}
	if err := checkChosenPassword(pw); err != nil {
		return err
	}
	o.password = secret.New(pw)
	return nil
}

// maxPasswordLine bounds the line --password-stdin reads: Entra's longest
// password is 256 characters.
const maxPasswordLine = 4096

// firstLine reads the first line of r, without its line ending: what
// `pass show` or a secret manager prints first. The rest is not read.
func firstLine(r io.Reader) (string, error) {
	br := bufio.NewReaderSize(r, maxPasswordLine)
	line, err := br.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull):
		return "", usagef("--password-stdin: the first line of standard input is longer than %d bytes: it is not a password", maxPasswordLine)
	case err != nil && !errors.Is(err, io.EOF):
		return "", fatalError{fmt.Errorf("--password-stdin: reading standard input: %w", err)}
	}
	s := strings.TrimSuffix(strings.TrimSuffix(string(line), "\n"), "\r")
	clear(line)
	return s, nil
}

// typePassword asks for the password at the terminal fd, twice, without
// echo; the prompts go to prompt (standard error).
func typePassword(fd int, prompt io.Writer, user string) (string, error) {
	read := func(question string) (string, error) {
		fmt.Fprint(prompt, question)
		b, err := term.ReadPassword(fd)
		fmt.Fprintln(prompt) // the Enter typed was not echoed
		if err != nil {
			return "", fatalError{fmt.Errorf("--password-stdin: reading the password: %w", err)}
		}
		s := string(b)
		clear(b)
		return s, nil
	}
	first, err := read(fmt.Sprintf("New password for %s (not shown as you type): ", report.Visible(user)))
	if err != nil || first == "" {
		return first, err
	}
	again, err := read("Type it again: ")
	if err != nil {
		return "", err
	}
	if !secret.New(first).Equal(secret.New(again)) {
		return "", usagef("--password-stdin: the two passwords typed differ: nothing was changed")
	}
	return first, nil
}

// secureStringText is what PowerShell sends a program for a SecureString
// piped to it (Read-Host -AsSecureString): the type's name.
const secureStringText = "System.Security.SecureString"

// checkChosenPassword refuses a --password-stdin password that is empty,
// breaks Entra's password policy, or would be a formula in the secrets
// file: what --password-mode column makes an invalid row.
func checkChosenPassword(pw string) error {
	if pw == "" {
		return usagef("--password-stdin: the password is empty (standard input gave an empty first line)")
	}
	if pw == secureStringText {
		// It passes Entra's policy: it would be set, and nobody would know it.
		return usagef("--password-stdin: standard input gave the text %s, not a password: PowerShell pipes a SecureString as its type name; "+
			"pipe the plain text (Get-Secret -AsPlainText), or leave out the pipe and type the password at bulkreset's prompt", secureStringText)
	}
	if err := password.Check(pw); err != nil {
		return usagef("--password-stdin: the password is refused: %w", err)
	}
	if report.NeedsEscape(pw) {
		return usagef("--password-stdin: the password begins with = + - or @ (after any quotes), which a spreadsheet runs as a formula " +
			"when the secrets file is opened; choose a password that begins otherwise")
	}
	return nil
}

// inputName names the run's input in its log: the input file, or the
// users of --user.
func (o *resetOptions) inputName() string {
	if len(o.users) > 0 {
		return "--user " + namedUsers(o.users)
	}
	return o.input
}

// namedUsers names the users of a --user run for the confirmation.
func namedUsers(users []string) string {
	const shown = 5
	names := make([]string, 0, shown)
	for i, u := range users {
		if i == shown {
			break
		}
		names = append(names, report.Visible(strings.TrimSpace(u)))
	}
	if len(users) == 1 {
		return names[0]
	}
	list := strings.Join(names, ", ")
	if len(users) > shown {
		list += fmt.Sprintf(" and %d more", len(users)-shown)
	}
	return plural.N(int64(len(users)), "user") + " (" + list + ")"
}

// shownPasswords shows the random passwords of a --user run once, on the
// terminal that is standard output, when there is no secrets file: the
// pool records each password here (in memory) before it is sent, and the
// results writer shows it once the row's result is written. Nothing else
// ever gets it: not standard error, not the log file, not the results.
type shownPasswords struct {
	stdout io.Writer

	mu      sync.Mutex
	pending map[int]secret.Value // by line
}

// Record keeps the passwords about to be sent (worker.Recorder).
func (s *shownPasswords) Record(_ context.Context, rows []report.SecretRow) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rows {
		s.pending[r.Line] = r.Password
	}
	return nil
}

// take returns the password recorded for line and forgets it.
func (s *shownPasswords) take(line int) (secret.Value, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pw, ok := s.pending[line]
	delete(s.pending, line)
	return pw, ok
}

// results wraps the results writer w so that a row's password is shown
// after its result: w alone when no password is to be shown.
func (s *shownPasswords) results(w pipeline.ResultWriter) pipeline.ResultWriter {
	if s == nil {
		return w
	}
	return &showingResults{ResultWriter: w, shown: s}
}

// showingResults is a results writer that shows the password of each row
// whose reset succeeded (or may have set it) right after the row, flushed
// first so that the row is on the screen above it.
type showingResults struct {
	pipeline.ResultWriter
	shown *shownPasswords
}

func (w *showingResults) Write(r report.Result) error {
	if err := w.ResultWriter.Write(r); err != nil {
		return err
	}
	pw, ok := w.shown.take(r.Line)
	if !ok || r.Outcome != report.Succeeded && !r.MaybeSet {
		return nil
	}
	if err := w.ResultWriter.Flush(); err != nil {
		return err
	}
	what := "New password for %s (shown once, saved nowhere): %s\n"
	if r.Outcome != report.Succeeded {
		what = "The password of %s may be in force (its reset's outcome is unknown; shown once, saved nowhere): %s\n"
	}
	_, err := fmt.Fprintf(w.shown.stdout, what, report.Visible(r.User), pw.Reveal())
	if err != nil {
		return fmt.Errorf("showing the password: %w", err)
	}
	return nil
}
