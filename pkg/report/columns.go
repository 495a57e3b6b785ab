package report

import (
	"slices"
	"strings"
)

// Columns says which optional trailing columns a results, plan or secrets
// file has. The zero value is the fixed header of docs/files.md, byte for
// byte; the optional columns extend it for inputs that need them (README
// "Many tenants"), so that scripts written for the fixed header keep
// working on every file of a single-tenant run.
type Columns struct {
	// Tenant appends a "tenant" column: the tenant of the row's user. It
	// is set when, and only when, the input has a TenantId column.
	Tenant bool
	// Blocked appends a "blocked" column to the results and plan files
	// (before the tenant column): whether sign-in was blocked. It is set
	// when, and only when, the run blocks sign-in (--block-sign-in).
	Blocked bool
	// ClientRequestID appends a "client_request_id" column to the results
	// file, after every other optional column: the client-request-id header
	// of the password write that succeeded, which Microsoft Entra may carry
	// as the audit record's correlationId (bulkreset verify matches on it).
	// Every reset run sets it; a plan sends nothing and has none. New
	// columns are only ever appended: scripts should read them by name.
	ClientRequestID bool
	// SecretsExtra names input columns copied into the secrets file after
	// its fixed columns and the tenant column (--secrets-columns), so that
	// a mail merge needs no join with the input. The results file never
	// has them.
	SecretsExtra ExtraColumns
}

// ExtraColumns are the names of the input columns a secrets file copies
// (Columns.SecretsExtra). It is a comparable value, so that Columns stays
// one: two ExtraColumns are equal when they name the same columns in the
// same order.
type ExtraColumns struct {
	joined string // the names, each followed by extraSep
}

// extraSep ends each name in ExtraColumns.joined: a control character,
// which no header cell written by this package holds (see Visible).
const extraSep = "\x00"

// NewExtraColumns returns the ExtraColumns naming names, in that order.
func NewExtraColumns(names ...string) ExtraColumns {
	var b strings.Builder
	for _, n := range names {
		b.WriteString(Visible(n))
		b.WriteString(extraSep)
	}
	return ExtraColumns{joined: b.String()}
}

// Names returns the names, in order; nil for none.
func (e ExtraColumns) Names() []string {
	if e.joined == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(e.joined, extraSep), extraSep)
}

// Len returns the number of names.
func (e ExtraColumns) Len() int { return strings.Count(e.joined, extraSep) }

// TenantColumn is the name of the optional trailing tenant column.
const TenantColumn = "tenant"

// BlockedColumn is the name of the optional blocked column of the results
// and plan files: after finished_at, before the tenant column.
const BlockedColumn = "blocked"

// resultsOptional are the optional columns of a results file, in the
// order they follow the fixed header; a file has any of them, in this
// order.
var resultsOptional = []string{BlockedColumn, TenantColumn, ClientRequestIDColumn}

// ClientRequestIDColumn is the name of the optional last column of a
// results file: the client-request-id of the write that set the password.
const ClientRequestIDColumn = "client_request_id"

// resultsHeader returns the header of a results file with these columns.
func (c Columns) resultsHeader() []string {
	if !c.Blocked && !c.Tenant && !c.ClientRequestID {
		return ResultsHeader
	}
	h := slices.Clone(ResultsHeader)
	if c.Blocked {
		h = append(h, BlockedColumn)
	}
	if c.Tenant {
		h = append(h, TenantColumn)
	}
	if c.ClientRequestID {
		h = append(h, ClientRequestIDColumn)
	}
	return h
}

// secretsHeader returns the header of a secrets file with these columns.
func (c Columns) secretsHeader() []string {
	h := SecretsHeader
	if c.Tenant {
		h = append(slices.Clone(h), TenantColumn)
	}
	if c.SecretsExtra.Len() > 0 {
		h = slices.Clone(h)
		for _, name := range c.SecretsExtra.Names() {
			h = append(h, escapeCell(name))
		}
	}
	return h
}

// ResultsHeaderFor returns the header of a results (or plan) file with the
// columns c.
func ResultsHeaderFor(c Columns) []string { return slices.Clone(c.resultsHeader()) }

// SecretsHeaderFor returns the header of a secrets file with the columns c.
func SecretsHeaderFor(c Columns) []string { return slices.Clone(c.secretsHeader()) }

// ReservedColumn reports whether name, without regard to case, is a column
// bulkreset writes itself in a results or secrets file: it cannot be the
// name of an input column copied into the secrets file.
func ReservedColumn(name string) bool {
	for _, h := range [][]string{ResultsHeader, SecretsHeader, resultsOptional} {
		for _, c := range h {
			if strings.EqualFold(c, strings.TrimSpace(name)) {
				return true
			}
		}
	}
	return false
}
