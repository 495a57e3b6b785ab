package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/bulkreset/bulkreset/internal/plural"
	"github.com/bulkreset/bulkreset/pkg/csvin"
	"github.com/bulkreset/bulkreset/pkg/report"
	"github.com/bulkreset/bulkreset/pkg/worker"
)

// checkOptions are the flags of check.
type checkOptions struct {
	input                string
	sheet                string
	userColumn, idColumn string
	passwordMode         string
	maxProblems          int
}

func newCheckCmd(e *env) *cobra.Command {
	o := &checkOptions{}
	cmd := &cobra.Command{
		Use:   "check -i users.csv [--sheet NAME] [--user-column NAME] [--id-column NAME] [--password-mode random|column|none|keep]",
		Short: "Check an input file offline: what was detected, and which rows would not be sent",
		Long: `check reads the input exactly as reset would, without signing in or sending
anything: no network, no credentials. It prints what it detected (file type,
encoding, delimiter, which column maps to what, the columns it ignores), the
number of rows per outcome, and the first problems with their line numbers.

The columns are found by their headers (UserPrincipalName, UPN, ObjectId,
Password, the Entra templates' and exports' names ...). An input whose user
column has another name ("Employee Email", "Benutzerprinzipalname") names it
with --user-column, as reset and plan do; --id-column names an object id
column. A named column is the only one that identifies users: a
UserPrincipalName or Id column beside it is listed as not used.

A row is invalid when reset would refuse to send it: no user, a malformed UPN
or object id, a yes/no cell it cannot read, broken quoting or a wrong number
of cells, and with --password-mode column an empty Password cell or one that
breaks Entra's password policy. Duplicates (reset once) and the example row of
an Entra template (never sent) are listed, but are not problems.

Whether a user exists, is synced from on-premises or may be reset by the app
only Graph knows; check does not ask it.

Exit codes: 0 every row can be sent (duplicates and the template's example
row included), 3 some rows are invalid, 2 usage error (flags, missing file,
no user column or a named one missing, unknown sheet), 1 the file could not
be read to the end.`,
		Example: `  # What does bulkreset make of the file HR sent?
  bulkreset check -i offboarding.csv

  # The users are on the second sheet of a workbook:
  bulkreset check -i users.xlsx --sheet Users

  # An HR export whose users are in "Employee Email":
  bulkreset check -i hr-export.csv --user-column "Employee Email"

  # Check the Password column against Entra's password policy too:
  bulkreset check -i onboarding.csv --password-mode column

  # In a script: reset only when every row is valid.
  bulkreset check -i users.csv && bulkreset reset -i users.csv --secrets s.csv --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCheck(e, o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.input, "input", "i", "", "input file: .csv, .txt, .tsv or .xlsx; - is standard input (CSV)")
	f.StringVar(&o.sheet, "sheet", "", "worksheet of an .xlsx input (default: the first visible sheet)")
	addColumnFlags(f, &o.userColumn, &o.idColumn)
	f.StringVar(&o.passwordMode, "password-mode", "random", "as for reset: column also checks the Password column; random, none and keep ignore it")
	f.IntVar(&o.maxProblems, "max-problems", 20, "problems to list; 0 lists them all")
	return cmd
}

// runCheck is `bulkreset check`.
func runCheck(e *env, o *checkOptions) error {
	if o.input == "" {
		return usagef("--input is required")
	}
	mode := worker.Mode(o.passwordMode)
	switch mode {
	case worker.ModeRandom, worker.ModeColumn, worker.ModeNone, worker.ModeKeep:
	default:
		return usagef("--password-mode must be random, column, none or keep, not %q", o.passwordMode)
	}
	if o.maxProblems < 0 {
		return usagef("--max-problems must not be negative")
	}
	if o.input == "-" && o.sheet != "" {
		return usagef("--sheet is for a workbook file; standard input is read as CSV")
	}
	// An empty TenantId cell takes the default tenant, as in reset.
	in, err := openInput(e, &resetOptions{input: o.input, sheet: o.sheet, tenant: e.getenv("AZURE_TENANT_ID"), userColumn: o.userColumn, idColumn: o.idColumn})
	if err != nil {
		return err
	}
	defer in.Close()
	info := in.Info()
	if mode == worker.ModeColumn && !info.HasPassword {
		return usagef("--password-mode column needs a Password column in %s", o.input)
	}

	// The same Preparer as reset, so that check and reset never disagree
	// on a row. A random password cannot make a row invalid, and nothing
	// is sent here: random mode is checked as none, without generating a
	// password per row.
	prepMode := mode
	if mode == worker.ModeRandom {
		prepMode = worker.ModeNone
	}
	prep := worker.NewPreparer(worker.PrepareOptions{Mode: prepMode})
	c := newChecker(o.maxProblems)
	for {
		row, err := in.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// What was read is still worth seeing, but not a verdict.
			c.write(e.stdout, o, info, mode, false)
			return fatalError{fmt.Errorf("reading %s: %w", o.input, err)}
		}
		_, res, err := prep.Prepare(row)
		if err != nil {
			return fatalError{err}
		}
		c.add(res)
	}
	if err := c.write(e.stdout, o, info, mode, true); err != nil {
		return fatalError{fmt.Errorf("writing the report: %w", err)}
	}
	if code := c.summary.ExitCode(); code != exitOK {
		return exitError{code}
	}
	return nil
}

// checker counts the rows of an input and keeps the first of them that
// would not be sent.
type checker struct {
	max      int // 0: keep all
	valid    int
	summary  report.Summary // the rows that would not be sent
	problems []report.Result
	notSent  []report.Result // duplicates and example rows
}

func newChecker(maxProblems int) *checker { return &checker{max: maxProblems} }

// add counts one row: res is its final result when it would not be sent,
// nil when it would.
func (c *checker) add(res *report.Result) {
	if res == nil {
		c.valid++
		return
	}
	c.summary.Add(*res)
	keep := func(list *[]report.Result) {
		if c.max == 0 || len(*list) < c.max {
			*list = append(*list, *res)
		}
	}
	if res.Outcome == report.Invalid {
		keep(&c.problems)
	} else {
		keep(&c.notSent)
	}
}

// write prints the report; complete is false when reading stopped early.
func (c *checker) write(w io.Writer, o *checkOptions, info csvin.Info, mode worker.Mode, complete bool) error {
	ew := bufio.NewWriter(w) // keeps the first error of w, and writes nothing after it
	writeInputInfo(ew, o, info, mode)

	rows := c.valid + c.summary.Rows()
	fmt.Fprintf(ew, "\nRows: %d\n", rows)
	type count struct {
		label string
		n     int
	}
	counts := []count{{"  valid", c.valid}}
	reasons := c.summary.Reasons()
	for _, out := range []report.Outcome{report.Invalid, report.Duplicate, report.Skipped} {
		if c.summary.Count(out) == 0 {
			continue
		}
		counts = append(counts, count{"  " + string(out), c.summary.Count(out)})
		for _, r := range reasons {
			if r.Outcome == out {
				counts = append(counts, count{"    " + string(r.Reason), r.Count})
			}
		}
	}
	width, digits := 0, len(strconv.Itoa(rows))
	for _, ct := range counts {
		width = max(width, len(ct.label))
	}
	for _, ct := range counts {
		fmt.Fprintf(ew, "%-*s  %*d\n", width, ct.label, digits, ct.n)
	}

	nInvalid := c.summary.Count(report.Invalid)
	if nInvalid > 0 {
		fmt.Fprintf(ew, "\nProblems%s:\n", shownOf(len(c.problems), nInvalid))
		c.list(ew, c.problems)
	}
	if n := len(c.notSent); n > 0 {
		fmt.Fprintf(ew, "\nNot sent, not problems%s:\n", shownOf(n, c.summary.Rows()-nInvalid))
		c.list(ew, c.notSent)
	}
	fmt.Fprintln(ew)
	switch {
	case !complete:
		fmt.Fprintf(ew, "Stopped: the file could not be read to the end; the counts above are of the %s read.\n", plural.Of(rows, "row", "rows"))
	case nInvalid > 0:
		fmt.Fprintf(ew, "%s invalid: reset would not send %s (exit code 3).\n", plural.Of(nInvalid, "row is", "rows are"), plural.Word(nInvalid, "it", "them"))
	case rows == 0:
		fmt.Fprintln(ew, "No users: the file has a header but no rows.")
	default:
		fmt.Fprintf(ew, "Every row can be sent: %s.\n", plural.Of(c.valid, "user to reset", "users to reset"))
	}
	return ew.Flush()
}

// writeInputInfo writes what check found out about the input file: its
// format, encoding, delimiter and columns, aligned.
func writeInputInfo(w io.Writer, o *checkOptions, info csvin.Info, mode worker.Mode) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	input := shown(o.input)
	if o.input == "-" {
		input = "- (standard input)"
	}
	fmt.Fprintf(tw, "Input\t%s\n", input)
	fmt.Fprintf(tw, "Format\t%s\n", describeFormat(info))
	if info.Encoding != "" {
		fmt.Fprintf(tw, "Encoding\t%s\n", describeEncoding(info.Encoding))
	}
	if info.Delimiter != "" && !info.Headerless {
		fmt.Fprintf(tw, "Delimiter\t%s\n", describeDelimiter(info.Delimiter))
	}
	writeColumns(tw, info, mode)
	if len(info.Ignored) > 0 {
		fmt.Fprintf(tw, "Ignored\t%s\n", listHeaders(info.Ignored, 8))
	}
	tw.Flush()
}

// writeColumns writes the Columns lines of check's report: which input
// column is used for each column the reader knows, with the flag that
// named it; the user columns a named one replaced; the columns not found.
func writeColumns(tw io.Writer, info csvin.Info, mode worker.Mode) {
	label := "Columns"
	line := func(format string, a ...any) {
		fmt.Fprintf(tw, "%s\t%s\n", label, fmt.Sprintf(format, a...))
		label = ""
	}
	var missing []string
	for _, col := range []string{csvin.ColumnUPN, csvin.ColumnID, csvin.ColumnPassword, csvin.ColumnForceChange, csvin.ColumnForceChangeMFA, csvin.ColumnTenant} {
		header, ok := info.Columns[col]
		if !ok {
			missing = append(missing, col)
			continue
		}
		where := columnName(info.Positions[col], info.Sheet != "")
		if header != "" {
			where = strconv.Quote(header) + " (" + where + ")"
		}
		var notes []string
		if info.Named[col] {
			notes = append(notes, "named by "+columnFlags[col])
		}
		switch {
		case col == csvin.ColumnID && info.Columns[csvin.ColumnUPN] != "":
			notes = append(notes, "wins over the UPN when a row has both")
		case col == csvin.ColumnPassword && mode != worker.ModeColumn:
			notes = append(notes, "ignored in --password-mode "+string(mode))
		case col == csvin.ColumnTenant:
			notes = append(notes, "one sign-in and one quota per tenant; an empty cell is the tenant of --tenant ($AZURE_TENANT_ID)")
		}
		note := ""
		if len(notes) > 0 {
			note = "; " + strings.Join(notes, "; ")
		}
		line("%s <- %s%s", col, where, note)
	}
	if len(info.Replaced) > 0 {
		var replaced, flags []string
		for _, col := range []string{csvin.ColumnUPN, csvin.ColumnID} {
			if c, ok := info.Replaced[col]; ok {
				replaced = append(replaced, strconv.Quote(c.Header)+" ("+columnName(c.Position, info.Sheet != "")+")")
			}
			if info.Named[col] {
				flags = append(flags, columnFlags[col])
			}
		}
		line("not used: %s: with %s, only the named %s users", strings.Join(replaced, ", "), strings.Join(flags, " and "),
			plural.Word(len(flags), "column identifies", "columns identify"))
	}
	if len(missing) > 0 {
		line("not found: %s", strings.Join(missing, ", "))
	}
}

// list prints results as "line N  outcome/reason  user: message".
func (c *checker) list(w io.Writer, rs []report.Result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rs {
		what := string(r.Outcome)
		if r.Reason != "" {
			what = string(r.Reason)
			if r.Outcome != report.Invalid {
				what = string(r.Outcome) + "/" + string(r.Reason)
			}
		}
		msg := r.ErrorMessage
		if r.User != "" {
			msg = shown(r.User) + ": " + msg
		}
		fmt.Fprintf(tw, "  line %d\t%s\t%s\n", r.Line, what, msg)
	}
	tw.Flush()
}

func describeFormat(info csvin.Info) string {
	var s string
	switch info.Format {
	case csvin.FormatEntraTemplate:
		s = `Entra bulk-operation template (CSV with a "version:" first line)`
	case csvin.FormatXLSX:
		s = fmt.Sprintf("Excel workbook, sheet %q", info.Sheet)
	case csvin.FormatXLSXEntraTemplate:
		s = fmt.Sprintf(`Entra bulk-operation template in an Excel workbook, sheet %q`, info.Sheet)
	default:
		s = "CSV"
	}
	if info.Headerless {
		s += ", no header: the users are in the first column"
	}
	return s
}

func describeEncoding(enc string) string {
	switch {
	case enc == "UTF-8 BOM":
		return "UTF-8 with a byte-order mark (Excel's \"CSV UTF-8\")"
	case strings.HasPrefix(enc, "UTF-16"):
		return enc + " (Excel's \"Unicode Text\")"
	case enc == "Windows-1252":
		return "Windows-1252 (not UTF-8: Excel's \"CSV\" in a Western European or American locale)"
	}
	return enc
}

func describeDelimiter(d string) string {
	switch d {
	case ",":
		return "comma"
	case ";":
		return "semicolon"
	case "\t":
		return "tab"
	}
	return strconv.Quote(d)
}

// columnName names a 1-based column position: "column 3", or "column C" in
// a workbook.
func columnName(pos int, letters bool) string {
	if !letters {
		return fmt.Sprintf("column %d", pos)
	}
	var b []byte
	for n := pos; n > 0; n = (n - 1) / 26 {
		b = append([]byte{byte('A' + (n-1)%26)}, b...)
	}
	return "column " + string(b)
}

// listHeaders quotes up to max headers, then says how many more.
func listHeaders(hs []string, max int) string {
	var parts []string
	for i, h := range hs {
		if i == max {
			parts = append(parts, fmt.Sprintf("and %d more", len(hs)-max))
			break
		}
		parts = append(parts, strconv.Quote(cut(h)))
	}
	return strings.Join(parts, ", ")
}

// shown makes a cell from the input safe to print on a terminal: quoted
// when it holds control or invisible characters (an escape sequence in a
// file must not drive the terminal), and cut when very long.
func shown(s string) string {
	s = cut(s)
	if v := report.Visible(s); v != s {
		return `"` + v + `"`
	}
	return s
}

// cut shortens s to 80 characters.
func cut(s string) string {
	const maxRunes = 80
	if utf8.RuneCountInString(s) > maxRunes {
		return string([]rune(s)[:maxRunes]) + "…"
	}
	return s
}

func shownOf(shown, total int) string {
	if shown == total {
		return ""
	}
	return fmt.Sprintf(" (first %d of %d; --max-problems 0 lists all)", shown, total)
}
