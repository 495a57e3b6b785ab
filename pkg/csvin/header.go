package csvin

import (
	"fmt"
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
	return &HeaderError{Found: found, Expected: expectedUserColumns}
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
}

func (c *columnSet) hasUser() bool { return c.index[colUPN] >= 0 || c.index[colID] >= 0 }

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

// mapHeader finds the columns in a header record.
func mapHeader(cells []string) columnSet {
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
