package csvin

import (
	"fmt"
	"strings"
)

// CopyColumnError reports a column CopyColumns was asked for that the input
// does not have, with the columns it has.
type CopyColumnError struct {
	// Name is the column asked for.
	Name string
	// Have are the input's header cells, trimmed; empty for an input
	// without a header.
	Have []string
}

// Error names the missing column and lists the columns there are.
func (e *CopyColumnError) Error() string {
	if len(e.Have) == 0 {
		return fmt.Sprintf("no column %q: the input has no header, so its columns have no names", e.Name)
	}
	return fmt.Sprintf("no column %q in the input; its columns are %s", e.Name, quoteAll(e.Have))
}

// CopyColumns makes every later row carry the cells of the named columns
// in Row.Extra, in the order given: input columns (a display name, a
// manager, a personal e-mail address) copied into the secrets file so that
// a mail merge needs no join. A name matches a header cell without regard
// to case, spaces, underscores or dashes, and by the bracketed property
// name of an Entra template header too ("Name [displayName]" is both
// "Name [displayName]" and "displayName"); a cell equal to the name as
// written wins over one that only normalizes to it, then the first cell. A
// name no header cell matches is a *CopyColumnError. Call it before the first
// Read.
func (r *Reader) CopyColumns(names []string) error {
	r.extra = r.extra[:0]
	for _, name := range names {
		i := r.findColumn(name)
		if i < 0 {
			have := make([]string, len(r.header))
			for j, c := range r.header {
				have[j] = trim(c)
			}
			return &CopyColumnError{Name: name, Have: have}
		}
		r.extra = append(r.extra, i)
	}
	return nil
}

// findColumn returns the index of the header cell name selects, or -1: the
// first of the cells that match it at the first level of the named columns'
// rules (namedMatches).
func (r *Reader) findColumn(name string) int {
	if at := namedMatches(r.header, strings.TrimSpace(name)); len(at) > 0 {
		return at[0] - 1
	}
	return -1
}

// quoteAll quotes each name and joins them with commas.
func quoteAll(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = fmt.Sprintf("%q", n)
	}
	return strings.Join(q, ", ")
}
