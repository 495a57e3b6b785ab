package csvin

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// The columns the reader uses: the keys of Info.Columns.
const (
	ColumnUPN            = "userPrincipalName"
	ColumnID             = "id"
	ColumnPassword       = "password"
	ColumnForceChange    = "forceChangePasswordNextSignIn"
	ColumnForceChangeMFA = "forceChangePasswordNextSignInWithMfa"
	// ColumnTenant is the optional tenant of each row's user (a tenant id
	// or a verified domain), for a partner resetting users of many tenants.
	ColumnTenant = "tenantId"
)

// Indexes of the columns in columnSet.
const (
	colUPN = iota
	colID
	colPassword
	colForceChange
	colForceChangeMFA
	colTenant
	numColumns
)

// columnNames lists, per column, the header names that select it, already
// normalized (see normalizeHeader), best first: when two header cells name
// the same column, the better name wins, then the first cell.
// "passwordprofile" is the Entra bulk-create template's password column
// ("Initial password [passwordProfile] Required").
var columnNames = [numColumns]struct {
	column string
	names  []string
}{
	colUPN:            {ColumnUPN, []string{"userprincipalname", "upn", "user", "signinname"}},
	colID:             {ColumnID, []string{"id", "objectid", "userid"}},
	colPassword:       {ColumnPassword, []string{"password", "passwordprofile"}},
	colForceChange:    {ColumnForceChange, []string{"forcechangepasswordnextsignin"}},
	colForceChangeMFA: {ColumnForceChangeMFA, []string{"forcechangepasswordnextsigninwithmfa"}},
	// "Directory ID" is what the Entra admin center calls the tenant id.
	colTenant: {ColumnTenant, []string{"tenantid", "tenant", "tenantdomain", "tenantname", "directoryid"}},
}

// expectedUserColumns is what HeaderError offers in place of a user column.
var expectedUserColumns = []string{"UserPrincipalName", "UPN", "User", "SignInName", "Id", "ObjectId", "UserId"}

// HeaderError reports an input whose header has no user column.
type HeaderError struct {
	// Found holds the header's cells as found (at most 20, each cut to 40
	// characters). It is empty when Detail explains the problem instead:
	// in particular when the first line looks like data, whose values are
	// not repeated in an error.
	Found []string
	// Expected lists the header names accepted for the user column.
	Expected []string
	// Detail says what is wrong when it is not the cells found.
	Detail string
}

// Error describes the header found and the names expected.
func (e *HeaderError) Error() string {
	var b strings.Builder
	b.WriteString("no user column: ")
	if e.Detail != "" {
		b.WriteString(e.Detail)
	} else {
		b.WriteString("found [")
		for i, f := range e.Found {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%q", f)
		}
		b.WriteString("]")
	}
	b.WriteString("; expected one of UserPrincipalName (UPN, User, SignInName) or Id (ObjectId, UserId)")
	return b.String()
}

func newHeaderError(cells []string) *HeaderError {
	return &HeaderError{Found: foundCells(cells), Expected: expectedUserColumns}
}

// foundCells is a header's cells for an error: at most 20, each trimmed
// and cut to 40 characters.
func foundCells(cells []string) []string {
	const maxCells, maxLen = 20, 40
	found := make([]string, 0, min(len(cells), maxCells))
	for i, c := range cells {
		if i == maxCells {
			found = append(found, fmt.Sprintf("… %d more", len(cells)-maxCells))
			break
		}
		c = trim(c)
		if r := []rune(c); len(r) > maxLen {
			c = string(r[:maxLen]) + "…"
		}
		found = append(found, c)
	}
	return found
}

// ColumnError reports a column named by Options.UserColumn or
// Options.IDColumn that the header does not have, or has more than once.
type ColumnError struct {
	// Column is the column named: ColumnUPN or ColumnID.
	Column string
	// Name is the name given for it.
	Name string
	// Found holds the header's cells as found (as in HeaderError.Found)
	// when none has the name; empty when Detail or Matches says what is
	// wrong instead.
	Found []string
	// Matches holds the 1-based positions of the columns that have the
	// name, when more than one has it.
	Matches []int
	// Detail says what is wrong when it is not the cells found: an empty
	// file, a first line that is data, a malformed header.
	Detail string
	// Other is the column also named for this one (ColumnUPN, when the
	// user and the object id are named to be the same column), at
	// Matches[0].
	Other string
}

// Error says which name was not found and what the header has instead.
func (e *ColumnError) Error() string {
	what := map[string]string{ColumnUPN: "the user", ColumnID: "the object id"}
	switch {
	case e.Other != "":
		return fmt.Sprintf("%s and %s are named to be one column, %q (column %d)", what[e.Other], what[e.Column], e.Name, e.Matches[0])
	case len(e.Matches) > 1:
		pos := make([]string, len(e.Matches))
		for i, m := range e.Matches {
			pos[i] = strconv.Itoa(m)
		}
		return fmt.Sprintf("%d columns are named %q (columns %s and %s): rename one of them in the file, so that %s's column is clear",
			len(e.Matches), e.Name, strings.Join(pos[:len(pos)-1], ", "), pos[len(pos)-1], what[e.Column])
	case e.Detail != "":
		return fmt.Sprintf("no column %q for %s: %s", e.Name, what[e.Column], e.Detail)
	}
	quoted := make([]string, len(e.Found))
	for i, f := range e.Found {
		quoted[i] = strconv.Quote(f)
	}
	return fmt.Sprintf("no column %q for %s: the header has %s", e.Name, what[e.Column], strings.Join(quoted, ", "))
}

// naming holds the columns named by Options.UserColumn and
// Options.IDColumn, trimmed; "" for a column not named.
type naming struct{ user, id string }

func (n naming) given() bool { return n.user != "" || n.id != "" }

// headerError is the error for an input whose header could not be used,
// for detail: a *ColumnError when a column was named (it names the user
// column first), else a *HeaderError.
func (n naming) headerError(detail string) error {
	switch {
	case n.user != "":
		return &ColumnError{Column: ColumnUPN, Name: n.user, Detail: detail}
	case n.id != "":
		return &ColumnError{Column: ColumnID, Name: n.id, Detail: detail}
	}
	return &HeaderError{Expected: expectedUserColumns, Detail: detail}
}

// findNamed returns the index of the header cell that name names: the
// cell equal to it, else the one equal without regard to case and
// surrounding spaces, else the one that matches as the known names do
// (normalizeHeader: without inner spaces, dashes or underscores, an Entra
// template's bracketed name). Two cells that match at the first level
// that has a match are an error: the name does not say which is meant.
func findNamed(cells []string, column, name string) (int, *ColumnError) {
	switch at := namedMatches(cells, name); len(at) {
	case 0:
		return -1, &ColumnError{Column: column, Name: name, Found: foundCells(cells)}
	case 1:
		return at[0] - 1, nil
	default:
		return -1, &ColumnError{Column: column, Name: name, Matches: at}
	}
}

// namedMatches returns the 1-based positions of the cells that match name
// at the first level that has a match (see findNamed), or none.
func namedMatches(cells []string, name string) []int {
	norm := normalizeHeader(name)
	levels := []func(cell string) bool{
		func(cell string) bool { return cell == name },
		func(cell string) bool { return strings.EqualFold(trim(cell), name) },
		// A name of dashes alone must not find an empty header cell.
		func(cell string) bool { return norm != "" && normalizeHeader(cell) == norm },
	}
	for _, match := range levels {
		var at []int
		for i, cell := range cells {
			if match(cell) {
				at = append(at, i+1)
			}
		}
		if len(at) > 0 {
			return at
		}
	}
	return nil
}

// normalizeHeader reduces a header cell to the name it is matched by: the
// bracketed property name of an Entra template header ("User name
// [userPrincipalName] Required"), else the whole cell; then without case,
// spaces, underscores or dashes.
func normalizeHeader(cell string) string {
	if i := strings.IndexByte(cell, '['); i >= 0 {
		if j := strings.IndexByte(cell[i+1:], ']'); j >= 0 {
			if inner := trim(cell[i+1 : i+1+j]); inner != "" {
				cell = inner
			}
		}
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '_' || r == '-' || r == '\uFEFF' || r == '\u200B' {
			return -1
		}
		return unicode.ToLower(r)
	}, cell)
}

// columnSet maps each column to its field index in a record.
type columnSet struct {
	index   [numColumns]int // -1 when absent
	found   map[string]string
	ignored []string
	// named and replaced are Info.Named and Info.Replaced; err is set
	// when a named column is not in the header (or is there twice).
	named    map[string]bool
	replaced map[string]Column
	err      *ColumnError
}

func (c *columnSet) hasUser() bool {
	return c.err == nil && (c.index[colUPN] >= 0 || c.index[colID] >= 0)
}

// positions maps each column found to its 1-based position.
func (c *columnSet) positions() map[string]int {
	p := make(map[string]int, len(c.found))
	for k, i := range c.index {
		if i >= 0 {
			p[columnNames[k].column] = i + 1
		}
	}
	return p
}

// mapHeader finds the columns in a header record: by the names in
// columnNames, and the user's columns by the names in n when it has any.
func mapHeader(cells []string, n naming) columnSet {
	cs := columnSet{found: make(map[string]string)}
	rank := [numColumns]int{}
	for k := range cs.index {
		cs.index[k] = -1
	}
	used := make([]bool, len(cells))
	for i, cell := range cells {
		name := normalizeHeader(cell)
		for k, cn := range columnNames {
			for r, n := range cn.names {
				if n == name && (cs.index[k] < 0 || r < rank[k]) {
					if cs.index[k] >= 0 {
						used[cs.index[k]] = false
					}
					cs.index[k], rank[k] = i, r
					used[i] = true
				}
			}
		}
	}
	if n.given() {
		cs.useNamed(cells, used, n)
	}
	for k, i := range cs.index {
		if i >= 0 {
			cs.found[columnNames[k].column] = trim(cells[i])
		}
	}
	for i, cell := range cells {
		if !used[i] {
			if c := trim(cell); c != "" {
				cs.ignored = append(cs.ignored, c)
			}
		}
	}
	return cs
}

// useNamed makes the columns named in n the user's columns, in place of
// those found by their known names: when either is named, only the named
// ones identify users (a known UserPrincipalName or Id column beside a
// named one is ignored, and listed in cs.replaced). A named cell that
// the known names gave another meaning (a Password column, say) loses it.
// used marks the cells in use, and is updated.
func (cs *columnSet) useNamed(cells []string, used []bool, n naming) {
	var detected [2]int
	for j, k := range []int{colUPN, colID} {
		detected[j] = cs.index[k]
		if i := cs.index[k]; i >= 0 {
			used[i] = false
			cs.index[k] = -1
		}
	}
	cs.named = make(map[string]bool)
	for _, nc := range []struct {
		k    int
		name string
	}{{colUPN, n.user}, {colID, n.id}} {
		if nc.name == "" {
			continue
		}
		column := columnNames[nc.k].column
		i, err := findNamed(cells, column, nc.name)
		if err != nil {
			cs.err = err
			return
		}
		if nc.k == colID && cs.index[colUPN] == i {
			cs.err = &ColumnError{Column: column, Name: trim(cells[i]), Matches: []int{i + 1}, Other: ColumnUPN}
			return
		}
		for k := range cs.index {
			if cs.index[k] == i {
				cs.index[k] = -1
			}
		}
		cs.index[nc.k] = i
		used[i] = true
		cs.named[column] = true
	}
	for j, k := range []int{colUPN, colID} {
		if i := detected[j]; i >= 0 && !used[i] {
			if cs.replaced == nil {
				cs.replaced = make(map[string]Column)
			}
			cs.replaced[columnNames[k].column] = Column{Header: trim(cells[i]), Position: i + 1}
		}
	}
}

// looksLikeData reports whether a cell holds a user rather than a header
// name: it has an @ or is a GUID.
func looksLikeData(cell string) bool {
	cell = trim(cell)
	if strings.Contains(cell, "@") {
		return true
	}
	_, ok := parseGUID(cell)
	return ok
}

// isVersionLine reports whether a line is the first line of an Entra
// bulk-operation template, "version:v1.0", perhaps followed by the empty
// cells a spreadsheet adds when it saves the template.
func isVersionLine(text string) bool {
	t := strings.ToLower(strings.TrimLeft(trim(text), `"`))
	return strings.HasPrefix(t, "version:")
}

// sepLine reports whether a line is Excel's delimiter hint, "sep=;", and
// which delimiter it names.
func sepLine(text string) (byte, bool) {
	t := strings.TrimRight(text, " ")
	if len(t) >= 7 && t[0] == '"' && t[len(t)-1] == '"' {
		t = t[1 : len(t)-1]
	}
	if len(t) != 5 || !strings.EqualFold(t[:4], "sep=") {
		return 0, false
	}
	c := t[4]
	if c == '"' || c == '\r' || c == '\n' || c >= 0x80 || isAlnum(c) {
		return 0, false
	}
	return c, true
}

// isExample reports whether a cell starts the Entra template's example row
// ("Example: chris@contoso.com" or an "Example:" cell).
func isExample(cell string) bool {
	t := trim(cell)
	return len(t) >= 8 && strings.EqualFold(t[:8], "example:")
}
