package report

import "slices"

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
}

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
	if c.Tenant {
		return append(slices.Clone(SecretsHeader), TenantColumn)
	}
	return SecretsHeader
}

// ResultsHeaderFor returns the header of a results (or plan) file with the
// columns c.
func ResultsHeaderFor(c Columns) []string { return slices.Clone(c.resultsHeader()) }

// SecretsHeaderFor returns the header of a secrets file with the columns c.
func SecretsHeaderFor(c Columns) []string { return slices.Clone(c.secretsHeader()) }
