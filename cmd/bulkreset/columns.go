package main

import (
	"errors"

	"github.com/bulkreset/bulkreset/pkg/csvin"
)

// columnFlags names the flag that names each of the user's columns.
var columnFlags = map[string]string{csvin.ColumnUPN: "--user-column", csvin.ColumnID: "--id-column"}

// csvOptions are the options the input is read with, as name (for
// messages and the .tsv rule): the sheet, the columns named by
// --user-column and --id-column, and the default tenant of an empty
// TenantId cell.
func (o *resetOptions) csvOptions(name string) csvin.Options {
	return csvin.Options{Name: name, Sheet: o.sheet, DefaultTenant: o.tenant, UserColumn: o.userColumn, IDColumn: o.idColumn}
}

// inputError is the usage error for an input that could not be opened:
// one whose header has no user column says which flags name one, and a
// named column that is not there is said with its flag.
func inputError(input string, err error) error {
	var he *csvin.HeaderError
	if errors.As(err, &he) && len(he.Found) > 0 {
		return usagef("input %s: %w; name the user column with --user-column NAME (or the object id column with --id-column NAME)", input, err)
	}
	var ce *csvin.ColumnError
	if errors.As(err, &ce) {
		return usagef("input %s: %s: %w", input, columnFlags[ce.Column], err)
	}
	return usagef("input %s: %w", input, err)
}
