// Package csvin streams the users to reset from an input file, one Row per
// record, accepting the file as administrators have it: comma, semicolon or
// tab delimited (detected), Excel's "sep=" line, a UTF-8 byte-order mark,
// UTF-16 text (Excel's "Unicode Text"), the Entra admin center's
// bulk-operation templates and user exports, and a headerless list of UPNs.
//
// A record that cannot be used is still a Row, with a Reason; only a failure
// to read the input is an error. Memory does not grow with the size of the
// input.
package csvin

import (
	"bufio"
	"errors"
	"fmt"
	"github.com/bulkreset/bulkreset/pkg/secret"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bulkreset/bulkreset/pkg/report"
)

// Formats reported in Info.Format.
const (
	FormatCSV           = "csv"
	FormatEntraTemplate = "entra-template" // CSV with the template's "version:v1.0" first line
	FormatXLSX          = "xlsx"           // an .xlsx workbook's sheet
	// FormatXLSXEntraTemplate is an Entra template saved as a workbook:
	// "version:v1.0" in the sheet's first row.
	FormatXLSXEntraTemplate = "xlsx-entra-template"
)

// ErrUnsupported is wrapped by the error for an input in a format the
// reader does not read.
var ErrUnsupported = errors.New("unsupported input format")

// Row is one record of the input.
type Row struct {
	// Line is the 1-based line of the file where the record starts, as an
	// editor shows it.
	Line int
	// UPN and ID identify the user, trimmed; either may be empty. A valid
	// ID is an object id (GUID) in lower case. When both are present, ID
	// is the one sent. Both are empty in a malformed row.
	UPN, ID string
	// Password is the Password column's value, untrimmed: a password's
	// spaces are its own. It is empty when the row is invalid.
	Password secret.Value
	// ForceChange and ForceChangeMFA are the row's
	// ForceChangePasswordNextSignIn(WithMfa) values; nil when the column is
	// absent or the cell empty.
	ForceChange, ForceChangeMFA *bool
	// Reason is "" for a row that can be sent, else one of the
	// report.Reason constants of the input reader.
	Reason report.Reason
	// Problem explains Reason to a person. It never holds the Password
	// value, nor any other cell of a malformed row.
	Problem string
	// Example marks the Entra template's example row (Reason
	// report.ReasonExampleRow).
	Example bool
	// Tenant is the tenant of the user, from the TenantId column (or
	// Options.DefaultTenant for an empty cell): a tenant id (a GUID, lower
	// case) or a domain name (lower case). It is "" when the input has no
	// TenantId column, or the row's tenant is not valid.
	Tenant string
	// Extra are the cells, trimmed, of the columns CopyColumns named, in
	// that order; nil when it was not called or the row is invalid.
	Extra []string
}

// String describes the row without its password.
func (r Row) String() string {
	s := fmt.Sprintf("line %d %s", r.Line, r.Display())
	if r.Reason != "" {
		s += " (" + string(r.Reason) + ")"
	}
	return s
}

// Target returns what identifies the user to Graph: the ID if set, else the
// UPN.
func (r Row) Target() string {
	if r.ID != "" {
		return r.ID
	}
	return r.UPN
}

// Display returns the user as the results file shows it: the UPN if set,
// else the ID.
func (r Row) Display() string {
	if r.UPN != "" {
		return r.UPN
	}
	return r.ID
}

// Key returns the row's duplicate key, "id:"+ID or "upn:"+UPN in lower case
// (UPNs compare without regard to case), or "" for a row without a user.
// A row with a Tenant has the tenant in its key too ("tenant\x00id:..."):
// the same user name in two tenants is two users. A tenant given once by
// its id and once by a domain name counts as two tenants.
func (r Row) Key() string {
	var k string
	switch {
	case r.ID != "":
		k = "id:" + r.ID
	case r.UPN != "":
		k = "upn:" + strings.ToLower(r.UPN)
	default:
		return ""
	}
	if r.Tenant != "" {
		return r.Tenant + "\x00" + k
	}
	return k
}

// Options tune how an input is read.
type Options struct {
	// Name is the input's file name, for messages and for the one
	// decision made by extension: a .tsv file prefers tabs. Open uses its
	// path when empty.
	Name string
	// Sheet is the worksheet of a workbook, matched without regard to
	// case; "" is the first visible sheet. A sheet the workbook does not
	// have is a *SheetError; a Sheet for a text input is an error too.
	Sheet string
	// DefaultTenant is the tenant of a row whose TenantId cell is empty
	// (the --tenant flag); with none, such a row is invalid
	// (report.ReasonMissingTenant). It is not used for an input without a
	// TenantId column.
	DefaultTenant string
	// UserColumn and IDColumn name the header of the user (UPN) column
	// and of the object id column, for an input whose headers are not
	// the names the reader knows ("Employee Email", "Objekt-ID"). A name
	// is matched exactly, else without regard to case and surrounding
	// spaces, else as the known names are (without inner spaces, dashes
	// or underscores). When either is given, the named columns are the
	// only ones that identify users: a column the reader would have
	// taken for the user or the object id by its known name is ignored
	// (Info.Replaced). A name the header does not have, or has twice, is
	// a *ColumnError; so is a name given for a file without a header.
	UserColumn, IDColumn string
}

// Info describes what the reader found in the input.
type Info struct {
	// Encoding is "UTF-8", "UTF-8 BOM", "UTF-16LE" or "UTF-16BE" (with
	// " (no BOM)" when guessed), "Windows-1252" for a text that is not
	// UTF-8, or "" for a workbook.
	Encoding  string
	Delimiter string // ",", ";", "\t", or the one named by a "sep=" line; "" for a workbook
	Format    string // FormatCSV, FormatEntraTemplate, FormatXLSX or FormatXLSXEntraTemplate
	// Sheet is the worksheet read from a workbook; "" for text.
	Sheet string
	// Headerless is set for a file without a header line: its first
	// column holds the users (UPNs, or object ids).
	Headerless bool
	// Columns maps each column used (ColumnUPN, ColumnID, ...) to its
	// header as found ("" in a headerless file).
	Columns map[string]string
	// Positions maps each column used to its 1-based position in the
	// record (the spreadsheet's column A is 1).
	Positions map[string]int
	// HasPassword reports a Password column.
	HasPassword bool
	// HasTenant reports a TenantId column: the rows name their tenants.
	HasTenant bool
	// Ignored lists the headers of the columns not used.
	Ignored []string
	// Named holds the columns (ColumnUPN, ColumnID) found by the names
	// given in Options.UserColumn and Options.IDColumn.
	Named map[string]bool
	// Replaced maps ColumnUPN and ColumnID to the column the reader
	// would have used for it by its known name, had no column been
	// named: a named column replaced it, and it is ignored.
	Replaced map[string]Column
}

// Column is a column of the input.
type Column struct {
	Header   string // as found, trimmed
	Position int    // 1-based: the spreadsheet's column A is 1
}

// Reader reads Rows from an input. It is not safe for concurrent use.
type Reader struct {
	src     recordSource
	file    io.Closer
	info    Info
	cols    [numColumns]int
	nfields int        // cells per record; 0 until known
	pending *rawRecord // a record read while looking for the header
	dataAt  int        // first line after the header
	// defaultTenant is Options.DefaultTenant.
	defaultTenant string
	// names are the columns named in Options.
	names naming
	// header is the header's cells (nil for an input without one), and
	// extra the indexes of the columns CopyColumns named.
	header []string
	extra  []int
	// workbook is set for a workbook's sheet, whose rows have no quoting
	// to break and end at their last non-empty cell: a short row is not
	// malformed, and cells past the header's are ignored like any
	// unlabelled column.
	workbook bool
}

// recordSource yields the input's records: the CSV parser, or a workbook's
// rows. It returns io.EOF after the last record and other errors as they
// come from the input.
type recordSource interface {
	next() (rawRecord, error)
	// lastLine is the last line read, for error messages.
	lastLine() int
}

// Open opens the file at path and reads its header. What the file holds
// decides how it is read, not its name: an .xlsx workbook (a zip file)
// saved as users.csv is read as a workbook, and a CSV file named
// users.xlsx as text. Reading standard input is the caller's business: see
// NewReader.
func Open(path string, opts Options) (*Reader, error) {
	if opts.Name == "" {
		opts.Name = path
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("csvin: %w", err)
	}
	// Look at the first bytes through the buffer NewReader uses, not by
	// seeking: the path may be a pipe (bash's <(...), /dev/stdin).
	br := bufio.NewReaderSize(f, 64<<10)
	head, err := br.Peek(len(zipMagic))
	if err != nil && err != io.EOF {
		f.Close()
		return nil, fmt.Errorf("csvin: %s: %w", opts.Name, err)
	}
	switch string(head) {
	case zipMagic:
		// One open file for the check and for excelize: what is checked
		// is what is read.
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return nil, fmt.Errorf("csvin: %s: %w", opts.Name, err)
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("csvin: %s: a workbook is read from a file, not from a pipe: %w", opts.Name, ErrUnsupported)
		}
		return openWorkbook(f, fi.Size(), opts)
	case oleMagic:
		f.Close()
		return nil, fmt.Errorf("csvin: %s: a legacy .xls workbook, or a workbook protected by a password: save the sheet as .xlsx without a password, or as \"CSV UTF-8\": %w", opts.Name, ErrUnsupported)
	}
	r, err := NewReader(br, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	r.file = f
	return r, nil
}

// The first bytes of a zip file (.xlsx) and of an OLE compound file (.xls,
// and an .xlsx encrypted with a password).
const (
	zipMagic = "PK\x03\x04"
	oleMagic = "\xD0\xCF\x11\xE0"
)

// NewReader reads the header of a CSV input from src and returns a Reader
// for its rows. It returns a *HeaderError when the input has no user
// column. Close does not close src.
func NewReader(src io.Reader, opts Options) (*Reader, error) {
	if opts.Sheet != "" {
		return nil, fmt.Errorf("csvin: a sheet (%q) was given, but %s is not a workbook", opts.Sheet, displayName(opts.Name))
	}
	br := bufio.NewReaderSize(src, 64<<10)
	enc, text, err := decode(br)
	if err != nil {
		return nil, fmt.Errorf("csvin: %s: %w", displayName(opts.Name), err)
	}
	p := newParser(text, 0)
	r := &Reader{src: p, info: Info{Encoding: enc, Format: FormatCSV}, defaultTenant: opts.DefaultTenant, names: namesOf(opts)}
	if err := r.readCSVHeader(p, opts); err != nil {
		return nil, err
	}
	return r, nil
}

// namesOf returns the columns opts names.
func namesOf(opts Options) naming {
	return naming{user: trim(opts.UserColumn), id: trim(opts.IDColumn)}
}

func displayName(name string) string {
	if name == "" || name == "-" {
		return "standard input"
	}
	return name
}

// decode detects the input's encoding from its first bytes and returns a
// reader of its text in UTF-8.
func decode(br *bufio.Reader) (string, *bufio.Reader, error) {
	head, err := br.Peek(4)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return "", nil, err
	}
	utf16 := func(name string, bom int, bigEndian bool) (string, *bufio.Reader, error) {
		br.Discard(bom)
		return name, bufio.NewReaderSize(newUTF16Reader(br, bigEndian), 64<<10), nil
	}
	switch h := string(head); {
	case strings.HasPrefix(h, zipMagic):
		return "", nil, fmt.Errorf("this is a zip file, probably an .xlsx workbook, which is read from a file, not from standard input: %w", ErrUnsupported)
	case strings.HasPrefix(h, oleMagic):
		return "", nil, fmt.Errorf("this is a legacy .xls workbook, or a workbook protected by a password; save the sheet as \"CSV UTF-8\": %w", ErrUnsupported)
	case strings.HasPrefix(h, "\xFF\xFE\x00\x00"), strings.HasPrefix(h, "\x00\x00\xFE\xFF"):
		return "", nil, fmt.Errorf("UTF-32 text is not supported; save the file as UTF-8 or UTF-16: %w", ErrUnsupported)
	case strings.HasPrefix(h, "\xEF\xBB\xBF"):
		br.Discard(3)
		return "UTF-8 BOM", br, nil
	case strings.HasPrefix(h, "\xFF\xFE"):
		return utf16("UTF-16LE", 2, false)
	case strings.HasPrefix(h, "\xFE\xFF"):
		return utf16("UTF-16BE", 2, true)
	case len(h) >= 2 && h[0] != 0 && h[1] == 0:
		// No byte-order mark, but ASCII text in UTF-16 has every other
		// byte zero, and a CSV file has no NUL characters.
		return utf16("UTF-16LE (no BOM)", 0, false)
	case len(h) >= 2 && h[0] == 0 && h[1] != 0:
		return utf16("UTF-16BE (no BOM)", 0, true)
	}
	// What the first read brought (64 KiB of a file) decides: peeking
	// further would wait on a slow pipe, and would surface a read error
	// here instead of at the row it hits.
	text, _ := br.Peek(br.Buffered())
	if !isUTF8Prefix(text, true) {
		return "Windows-1252", bufio.NewReaderSize(newCP1252Reader(br), 64<<10), nil
	}
	return "UTF-8", br, nil
}

// readCSVHeader reads the lines before the first row: blank lines, a
// "sep=" line and the template's "version:" line; then it picks the
// delimiter from the header line and hands the header to useHeader.
func (r *Reader) readCSVHeader(p *parser, opts Options) error {
	var (
		header  physLine
		comma   byte
		version bool
	)
	for {
		l, err := p.lines.next()
		if err == io.EOF {
			return r.names.headerError("the file is empty")
		}
		if err != nil {
			return fmt.Errorf("csvin: reading the header: %w", err)
		}
		if l.tooLong {
			return r.names.headerError(fmt.Sprintf("line %d is longer than %d bytes", l.num, p.lines.max))
		}
		text := string(l.text)
		if trim(text) == "" {
			continue
		}
		if c, ok := sepLine(text); ok && comma == 0 {
			comma = c
			continue
		}
		if isVersionLine(text) && !version {
			version = true
			r.info.Format = FormatEntraTemplate
			continue
		}
		header = l
		break
	}

	if comma == 0 {
		comma = sniffDelimiter(header.text, strings.EqualFold(filepath.Ext(opts.Name), ".tsv"), r.names)
	}
	p.comma = comma
	r.info.Delimiter = string(comma)
	p.lines.unread(header)
	rec, err := p.next()
	if err != nil {
		return fmt.Errorf("csvin: reading the header: %w", err)
	}
	return r.useHeader(rec)
}

// sniffDelimiter picks the delimiter of a header line: the one that makes a
// user column of a cell (the named ones, when n names any), then the one that splits the line into the most
// cells (a headerless file's first line). Delimiters inside quotes do not
// count. Ties go to the comma, or to the tab for a .tsv file.
func sniffDelimiter(line []byte, tsv bool, n naming) byte {
	candidates := []byte{',', ';', '\t'}
	if tsv {
		candidates = []byte{'\t', ',', ';'}
	}
	const userBonus = 1 << 20
	best, bestScore := candidates[0], -1
	for _, c := range candidates {
		rec := parseLine(line, c)
		score := len(rec.fields)
		if cs := mapHeader(rec.fields, n); cs.hasUser() {
			score += userBonus
		}
		if rec.problem != "" {
			score = 0 // a delimiter that breaks the line's quoting comes last
		}
		if score > bestScore {
			best, bestScore = c, score
		}
	}
	return best
}

// useHeader maps the columns of the header record, or finds that the input
// has no header: its first record is then its first row.
func (r *Reader) useHeader(rec rawRecord) error {
	cs := mapHeader(rec.fields, r.names)
	if rec.problem == "" && cs.hasUser() {
		r.cols = cs.index
		r.header = slices.Clone(rec.fields)
		r.nfields = len(rec.fields)
		r.dataAt = rec.last + 1
		r.info.Columns = cs.found
		r.info.Positions = cs.positions()
		r.info.Ignored = cs.ignored
		r.info.HasPassword = cs.index[colPassword] >= 0
		r.info.HasTenant = cs.index[colTenant] >= 0
		r.info.Named = cs.named
		r.info.Replaced = cs.replaced
		return nil
	}
	if r.names.given() {
		// Named columns need a header: a first line of data is not
		// taken for the users of a headerless file, nor repeated.
		switch {
		case rec.problem != "":
			return r.names.headerError("the header is malformed: " + rec.problem)
		case slices.ContainsFunc(rec.fields, looksLikeData):
			return r.names.headerError(fmt.Sprintf("line %d looks like data, not a header (a named column needs a header line)", rec.line))
		case cs.err != nil:
			return cs.err
		}
	}
	if len(rec.fields) > 0 && looksLikeData(rec.fields[0]) {
		// A list without a header: the users are in the first column.
		r.info.Headerless = true
		r.info.Columns = map[string]string{ColumnUPN: ""}
		r.info.Positions = map[string]int{ColumnUPN: 1}
		for i := 1; i < len(rec.fields); i++ {
			r.info.Ignored = append(r.info.Ignored, fmt.Sprintf("column %d", i+1))
		}
		r.cols = [numColumns]int{colUPN: 0, colID: -1, colPassword: -1, colForceChange: -1, colForceChangeMFA: -1, colTenant: -1}
		if rec.problem == "" {
			r.nfields = len(rec.fields)
		}
		r.dataAt = rec.line
		r.pending = &rec
		return nil
	}
	if rec.problem != "" {
		return &HeaderError{Expected: expectedUserColumns, Detail: "the header is malformed: " + rec.problem}
	}
	for _, f := range rec.fields {
		if looksLikeData(f) {
			return &HeaderError{Expected: expectedUserColumns, Detail: fmt.Sprintf(
				"line %d looks like data, not a header (a file without a header must have the users in its first column)", rec.line)}
		}
	}
	return newHeaderError(rec.fields)
}

// Info describes the input.
func (r *Reader) Info() Info { return r.info }

// Read returns the next row, or io.EOF after the last one. A record that
// cannot be used is a Row with a Reason, not an error; an error means the
// input could not be read. Blank lines and records of empty cells yield no
// row.
func (r *Reader) Read() (Row, error) {
	for {
		var rec rawRecord
		var err error
		if r.pending != nil {
			rec, r.pending = *r.pending, nil
		} else {
			rec, err = r.src.next()
		}
		if err == io.EOF {
			return Row{}, io.EOF
		}
		if err != nil {
			return Row{}, fmt.Errorf("csvin: reading after line %d: %w", r.src.lastLine(), err)
		}
		if rec.problem == "" && blank(rec.fields) {
			continue
		}
		return r.row(rec), nil
	}
}

func cells(n int) string {
	if n == 1 {
		return "1 cell"
	}
	return fmt.Sprintf("%d cells", n)
}

func blank(fields []string) bool {
	for _, f := range fields {
		if trim(f) != "" {
			return false
		}
	}
	return true
}

// row turns a record into a Row. The cells of a malformed record are left
// out: when a record has a cell too few, its password can sit in the user
// column.
func (r *Reader) row(rec rawRecord) Row {
	row := Row{Line: rec.line}
	if rec.problem != "" {
		row.Reason, row.Problem = report.ReasonMalformedRow, rec.problem
		return row
	}
	if isExample(rec.fields[0]) || (r.cols[colUPN] >= 0 && r.cols[colUPN] < len(rec.fields) && isExample(rec.fields[r.cols[colUPN]])) {
		row.Example = true
		row.Reason, row.Problem = report.ReasonExampleRow, "the example row of the Entra template; delete it from the file"
		return row
	}
	if r.nfields == 0 {
		// A headerless file whose first line was malformed: the first
		// good record sets the number of cells.
		r.nfields = len(rec.fields)
	}
	if len(rec.fields) != r.nfields && !r.workbook {
		what := "the header has"
		if r.info.Headerless {
			what = "the first line has"
		}
		row.Reason, row.Problem = report.ReasonMalformedRow, fmt.Sprintf("the row has %s, %s %d (a cell with the delimiter in it needs quotes)", cells(len(rec.fields)), what, r.nfields)
		return row
	}
	cell := func(col int) string {
		if i := r.cols[col]; i >= 0 && i < len(rec.fields) {
			return rec.fields[i]
		}
		return ""
	}
	// The tenant first, so that a row invalid for another reason still
	// shows its tenant in the results.
	var tenantProblem string
	if r.info.HasTenant {
		row.Tenant, tenantProblem = r.tenant(trim(cell(colTenant)))
	}
	upn, id := trim(cell(colUPN)), trim(cell(colID))
	if r.workbook {
		upn, id = plainNumber(upn), plainNumber(id)
	}
	if r.info.Headerless {
		if _, ok := parseGUID(upn); ok {
			upn, id = "", upn
		}
	}
	row.UPN = upn
	switch {
	case id != "":
		if g, ok := parseGUID(id); ok {
			row.ID = g
		} else {
			row.ID = id
			row.Reason, row.Problem = report.ReasonInvalidID, "the object id is not a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"
		}
	case upn == "":
		row.Reason, row.Problem = report.ReasonMissingUser, "the row has no user: "+r.userColumns()+" empty"
	default:
		if msg := checkUPN(upn); msg != "" {
			row.Reason, row.Problem = report.ReasonInvalidUPN, msg
		}
	}
	if row.Reason != "" {
		return row
	}
	for _, b := range []struct {
		col int
		dst **bool
	}{{colForceChange, &row.ForceChange}, {colForceChangeMFA, &row.ForceChangeMFA}} {
		v, ok := parseBool(trim(cell(b.col)))
		if !ok {
			row.ForceChange, row.ForceChangeMFA = nil, nil
			row.Reason, row.Problem = report.ReasonBadValue, r.info.Columns[columnNames[b.col].column]+" is not a yes/no value (true/false, yes/no or 1/0)"
			return row
		}
		*b.dst = v
	}
	if tenantProblem != "" {
		row.ForceChange, row.ForceChangeMFA = nil, nil
		row.Reason, row.Problem = report.ReasonBadValue, tenantProblem
		if trim(cell(colTenant)) == "" && r.defaultTenant == "" {
			row.Reason = report.ReasonMissingTenant
		}
		return row
	}
	row.Password = secret.New(cell(colPassword))
	if len(r.extra) > 0 {
		row.Extra = make([]string, len(r.extra))
		for i, col := range r.extra {
			if col < len(rec.fields) {
				row.Extra[i] = trim(rec.fields[col])
			}
		}
	}
	return row
}

// tenant returns the tenant of a row whose TenantId cell is v, normalized,
// or a problem for a person.
func (r *Reader) tenant(v string) (string, string) {
	column := r.info.Columns[ColumnTenant]
	if v == "" {
		if r.defaultTenant == "" {
			return "", "the tenant is missing: " + column + " is empty, and no default tenant was given (--tenant or AZURE_TENANT_ID)"
		}
		t, problem := CheckTenant(r.defaultTenant)
		if problem != "" {
			return "", column + " is empty, and the default tenant (--tenant) " + problem
		}
		return t, ""
	}
	t, problem := CheckTenant(v)
	if problem != "" {
		return "", column + " " + problem
	}
	return t, ""
}

// userColumns names the user columns of the header, for messages.
func (r *Reader) userColumns() string {
	var names []string
	for _, col := range []int{colUPN, colID} {
		if r.cols[col] >= 0 {
			if h := r.info.Columns[columnNames[col].column]; h != "" {
				names = append(names, h)
			}
		}
	}
	switch len(names) {
	case 0:
		return "the user cell is"
	case 1:
		return names[0] + " is"
	}
	return strings.Join(names, " and ") + " are"
}

// Close closes the file opened by Open. It does nothing for a Reader made
// by NewReader.
func (r *Reader) Close() error {
	if r.file == nil {
		return nil
	}
	err := r.file.Close()
	r.file = nil
	return err
}
