package report

import "strconv"

// Reason is the results file's reason column: a stable snake_case word
// that says why a row ended as it did, for filters and scripts (the
// error_message column says it to a person). Empty on a plain success.
// Every reason bulkreset writes is a constant below, except HTTPReason's
// "http_<status>" for a Graph status no constant names. The list is the
// contract described in docs/outcomes.md: a reason once written is never
// renamed.
type Reason string

// Reasons of rows the input reader refuses (outcome invalid, or skipped for
// ReasonExampleRow).
const (
	// ReasonMissingUser: the row has neither a UPN nor an object id.
	ReasonMissingUser Reason = "missing_user"
	// ReasonInvalidUPN: the user principal name is not one Entra accepts.
	ReasonInvalidUPN Reason = "invalid_upn"
	// ReasonInvalidID: the object id is not a GUID.
	ReasonInvalidID Reason = "invalid_id"
	// ReasonBadValue: a cell holds a value its column does not take (a
	// yes/no column, a tenant).
	ReasonBadValue Reason = "bad_value"
	// ReasonMalformedRow: the row has too many or too few cells, or bad
	// quoting.
	ReasonMalformedRow Reason = "malformed_row"
	// ReasonMissingTenant: the TenantId cell is empty when no --tenant
	// names a default.
	ReasonMissingTenant Reason = "missing_tenant"
	// ReasonExampleRow: the example row of an Entra bulk-operation
	// template ("Example: chris@contoso.com"), which people forget to
	// delete (Microsoft even asks to keep it when adding one user). It is
	// never sent; reset reports it as skipped, not as an error.
	ReasonExampleRow Reason = "example_row"
)

// Reasons of rows refused for their password before anything is sent
// (outcome invalid), or refused by Graph for it (outcome failed).
const (
	// ReasonMissingPassword: --password-mode column and the Password cell
	// is empty.
	ReasonMissingPassword Reason = "missing_password"
	// ReasonPasswordPolicy: the password breaks Entra's password policy,
	// checked locally or answered so by Graph.
	ReasonPasswordPolicy Reason = "password_policy"
	// ReasonPasswordFormula: the Password cell is one a spreadsheet would
	// run as a formula.
	ReasonPasswordFormula Reason = "password_formula"
)

// Reasons the preflight lookup gives to rows it does not pass on.
const (
	// ReasonSynced: the user is synchronised from on-premises Active
	// Directory (skipped by --synced skip, or refused so by Graph).
	ReasonSynced Reason = "synced_user"
	// ReasonDisabled: the account is disabled (--skip-disabled).
	ReasonDisabled Reason = "disabled"
	// ReasonGuest: the user is a guest (--skip-guests).
	ReasonGuest Reason = "guest"
	// ReasonInvalidObjectID: the lookup answered an object id that is not
	// a GUID; no write is sent with it.
	ReasonInvalidObjectID Reason = "invalid_object_id"
)

// Reasons from Graph's answers (outcome failed), chosen by HTTP status and
// error code.
const (
	ReasonNotFound               Reason = "not_found"
	ReasonInsufficientPrivileges Reason = "insufficient_privileges"
	ReasonBadRequest             Reason = "bad_request"
	ReasonThrottled              Reason = "throttled"
	ReasonUnauthorized           Reason = "unauthorized"
	ReasonServiceError           Reason = "service_error"
	ReasonRedirected             Reason = "redirected"
	// ReasonNetworkError: every attempt failed below HTTP (a connection
	// dropped, an answer without the row) until the attempts ran out.
	ReasonNetworkError Reason = "network_error"
)

// Reasons of rows reset through the resetPassword action.
const (
	// ReasonOperationFailed: Graph reported the reset operation failed
	// (for a synced user, typically password writeback).
	ReasonOperationFailed Reason = "reset_operation_failed"
	// ReasonOperationUnknown: Graph accepted the reset, but its operation
	// could not be followed to an end, so whether it applied is unknown.
	ReasonOperationUnknown Reason = "reset_operation_unknown"
)

// ReasonAuthenticationFailed is the reason of the rows of a tenant the
// application could not sign in to.
const ReasonAuthenticationFailed Reason = "authentication_failed"

// ReasonWouldReset is the reason of a plan row that reset would send
// (outcome succeeded).
const ReasonWouldReset Reason = "would_reset"

// Reasons of the actions a run takes besides the reset (block sign-in,
// revoke sessions). They make the outcome only in a run that keeps
// passwords (--password-mode keep, a lockdown); in a run that resets, the
// outcome stays the reset's and the revoked and blocked columns say how
// the actions went.
const (
	// ReasonRevokeFailed: revoking the user's sign-in sessions failed
	// (outcome failed, lockdown runs only).
	ReasonRevokeFailed Reason = "revoke_failed"
	// ReasonBlockFailed: blocking the user's sign-in failed (outcome
	// failed, lockdown runs only).
	ReasonBlockFailed Reason = "block_failed"
	// ReasonWouldApply is the reason of a plan row of a lockdown run
	// whose actions would be sent (outcome succeeded).
	ReasonWouldApply Reason = "would_apply"
)

// HTTPReason is the reason of a Graph answer with a status no other reason
// names: "http_" and the status.
func HTTPReason(status int) Reason {
	return Reason("http_" + strconv.Itoa(status))
}
