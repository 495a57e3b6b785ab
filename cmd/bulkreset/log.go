package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/bulkreset/bulkreset/pkg/progress"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/bulkreset/bulkreset/pkg/report"
)

// logOptions are the logging flags of a command.
type logOptions struct {
	format  string // "text" or "json"
	file    string // --log-file, or ""
	quiet   bool   // standard error: warnings and errors only
	verbose bool   // standard error: debug records too (each retry)
}

// stderrLevel is the level of the records shown on standard error.
func (o logOptions) stderrLevel() slog.Level {
	switch {
	case o.quiet:
		return slog.LevelWarn
	case o.verbose:
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// runLog is the logging of one run: records on standard error and, with
// --log-file, in that file too. The file always gets every record down to
// Debug (each retry and throttle, with its row's line and Graph's
// request-id), whatever --quiet or --verbose chose for the terminal: a
// scheduled task's standard error is often lost, and its log file is then
// the only record of the run.
type runLog struct {
	*slog.Logger              // standard error, and the file
	file         *slog.Logger // the file only; nil without --log-file
	fileW        io.Writer    // the file; nil without --log-file
	stderr       *progress.SwitchWriter
	json         bool
	close        func()
}

// newLogger opens the run's logging.
func newLogger(e *env, o logOptions) (*runLog, error) {
	l := &runLog{stderr: progress.NewSwitchWriter(e.stderr), json: o.format == "json", close: func() {}}
	newHandler := func(w io.Writer, level slog.Level) slog.Handler {
		opts := &slog.HandlerOptions{Level: level, ReplaceAttr: visibleAttr}
		if l.json {
			return slog.NewJSONHandler(w, opts)
		}
		return slog.NewTextHandler(w, opts)
	}
	h := newHandler(l.stderr, o.stderrLevel())
	if o.file != "" {
		f, err := report.OpenLog(o.file)
		if err != nil {
			return nil, fmt.Errorf("--log-file: %w", err)
		}
		fh := newHandler(f, slog.LevelDebug)
		l.file, l.fileW = slog.New(fh), f
		l.close = func() { f.Close() }
		h = slog.NewMultiHandler(h, fh)
	}
	l.Logger = slog.New(h)
	return l, nil
}

// visibleAttr makes the text of a log record visible (see report.Visible):
// the message, string values and errors, which may hold an input cell or
// Graph's error message, never reach a terminal or a log file with a raw
// control character. (slog's JSON handler escapes only C0 characters, and
// its text handler quotes but keeps the escape's text.)
func visibleAttr(_ []string, a slog.Attr) slog.Attr {
	switch v := a.Value; v.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(report.Visible(v.String()))
	case slog.KindAny:
		if err, ok := v.Any().(error); ok {
			a.Value = slog.StringValue(report.Visible(err.Error()))
		}
	}
	return a
}

// logFileOnly records err in the log file; standard error gets it from run.
func (l *runLog) logFileOnly(msg string, err error) {
	if l.file != nil {
		l.file.Error(msg, "error", flagError(err))
	}
}

// writeSummary writes the end-of-run summary: on standard error as text
// for a person, or as one JSON record (the last line) with --log-format
// json; and in the log file as one record. exitCode is the process's exit
// code, which a fatal error makes differ from the one the rows call for.
func (l *runLog) writeSummary(s *report.Summary, exitCode int, now time.Time) error {
	if l.json {
		line, err := summaryRecord(s, exitCode, now)
		if err != nil {
			return err
		}
		if l.fileW != nil {
			l.fileW.Write(line) // best effort: standard error has it too
		}
		_, err = l.stderr.Write(line)
		return err
	}
	if l.file != nil {
		l.file.Info("summary", summaryAttrs(s, exitCode)...)
	}
	return s.WriteText(l.stderr)
}

// summaryRecord is the summary as one JSON log record: "time", "level" and
// "msg" as slog writes them, then report.Summary's own fields in their
// order, with exit_code the process's.
func summaryRecord(s *report.Summary, exitCode int, now time.Time) ([]byte, error) {
	body, err := s.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("summary: %w", err)
	}
	var b bytes.Buffer
	head, _ := json.Marshal(map[string]string{"time": now.Format(time.RFC3339Nano)})
	b.Write(head[:len(head)-1]) // {"time":"…"
	b.WriteString(`,"level":"INFO","msg":"summary"`)
	dec := json.NewDecoder(bytes.NewReader(body))
	if _, err := dec.Token(); err != nil { // {
		return nil, fmt.Errorf("summary: %w", err)
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("summary: %w", err)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("summary: %w", err)
		}
		key, _ := k.(string)
		if key == "exit_code" {
			v = json.RawMessage(fmt.Sprint(exitCode))
		}
		kb, _ := json.Marshal(key)
		b.WriteByte(',')
		b.Write(kb)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteString("}\n")
	return b.Bytes(), nil
}

// summaryAttrs are the summary as the attributes of one text log record.
func summaryAttrs(s *report.Summary, exitCode int) []any {
	attrs := []any{"rows", s.Rows()}
	for _, o := range []report.Outcome{report.Succeeded, report.Failed, report.Skipped, report.Invalid, report.Duplicate} {
		attrs = append(attrs, string(o), s.Count(o))
	}
	var reasons []any
	for _, r := range s.Reasons() {
		reasons = append(reasons, slog.Int(string(r.Outcome)+"."+string(r.Reason), r.Count))
	}
	if len(reasons) > 0 {
		attrs = append(attrs, slog.Group("reasons", reasons...))
	}
	attrs = append(attrs, "elapsed", s.Elapsed().Round(time.Millisecond), "writes", s.Writes,
		"writes_per_second", fmt.Sprintf("%.1f", s.WritesPerSecond()), "throttled", s.Throttled)
	if s.ResultsPath != "" {
		attrs = append(attrs, "results", s.ResultsPath)
	}
	if s.SecretsPath != "" {
		attrs = append(attrs, "secrets", s.SecretsPath)
	}
	if s.Unfinished > 0 {
		attrs = append(attrs, "unfinished", s.Unfinished)
	}
	if s.Interrupted {
		attrs = append(attrs, "interrupted", true)
	}
	if s.ResumeCommand != "" {
		attrs = append(attrs, "resume_command", s.ResumeCommand)
	}
	return append(attrs, "exit_code", exitCode)
}

// wantsJSONLogs reports whether args ask for --log-format json, for the
// messages printed before (or without) a command's own logger: an error
// in parsing the command line still has to be a JSON line then.
func wantsJSONLogs(args []string) bool {
	for i, a := range args {
		switch {
		case a == "--":
			return false
		case a == "--log-format=json":
			return true
		case a == "--log-format" && i+1 < len(args):
			return args[i+1] == "json"
		}
	}
	return false
}

// printError tells the person (or the log collector) why the command
// stopped, in the format the command line asked for.
func printError(w io.Writer, jsonLogs bool, err error, code int) {
	// The lines of a message stay lines; what is in them is made visible.
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		lines[i] = report.Visible(l)
	}
	msg := strings.Join(lines, "\n")
	hint := ""
	if code == exitUsage {
		hint = "Run 'bulkreset --help' for usage."
	}
	if jsonLogs {
		attrs := []any{"exit_code", code}
		if hint != "" {
			attrs = append(attrs, "hint", hint)
		}
		slog.New(slog.NewJSONHandler(w, nil)).Error(msg, attrs...)
		return
	}
	fmt.Fprintf(w, "bulkreset: %s\n", msg)
	if hint != "" {
		fmt.Fprintln(w, hint)
	}
}

// quoteArgs quotes a command line for the shell the person most likely
// uses: PowerShell on Windows, a POSIX shell elsewhere.
func quoteArgs(args []string, windows bool) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = quoteArg(a, windows)
	}
	return strings.Join(q, " ")
}

// quoteArg quotes a when a shell would change it: in PowerShell a leading
// @ splats and a comma makes an array; in a POSIX shell a backslash escapes.
func quoteArg(a string, windows bool) string {
	safe := a != "" && !strings.ContainsFunc(a, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@+%", r) || (!windows && r == ',') || (windows && r == '\\'))
	})
	if safe && !(windows && strings.HasPrefix(a, "@")) {
		return a
	}
	if windows {
		return "'" + strings.ReplaceAll(a, "'", "''") + "'"
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}

// resumeArgs is the command line that finishes an interrupted run: the
// same arguments, the results file named explicitly (its default name was
// made up from the time), and --resume.
func resumeArgs(args []string, output string) []string {
	out := slices.Clone(args)
	hasOutput := slices.ContainsFunc(out, func(a string) bool {
		return a == "-o" || a == "--output" || strings.HasPrefix(a, "--output=") || (strings.HasPrefix(a, "-o") && len(a) > 2)
	})
	if !hasOutput && output != "" {
		out = append(out, "-o", output)
	}
	if !slices.Contains(out, "--resume") {
		out = append(out, "--resume")
	}
	return out
}

// logRow records a row that did not succeed, at Debug: the results file
// has every row, and the log file keeps the rows that need a look with
// Graph's request-id.
func logRow(logger *slog.Logger, r report.Result) {
	actionFailed := r.Revoked != nil && !*r.Revoked || r.Blocked != nil && !*r.Blocked
	if r.Outcome != report.Failed && r.Outcome != report.Invalid && !actionFailed || !logger.Enabled(context.Background(), slog.LevelDebug) {
		return // a run of a million failing rows without a log file allocates nothing here
	}
	attrs := []any{"line", r.Line, "user", r.User, "outcome", r.Outcome, "reason", r.Reason}
	if r.HTTPStatus != 0 {
		attrs = append(attrs, "status", r.HTTPStatus, "code", r.ErrorCode, "request_id", r.RequestID, "attempts", r.Attempts)
	}
	msg := "row not reset"
	if r.Outcome != report.Failed && r.Outcome != report.Invalid {
		msg = "an action failed for this row"
		if r.Revoked != nil {
			attrs = append(attrs, "revoked", *r.Revoked)
		}
		if r.Blocked != nil {
			attrs = append(attrs, "blocked", *r.Blocked)
		}
	}
	logger.Debug(msg, attrs...)
}
