package report

import "testing"

// TestReasonsKeepTheirWords pins every reason to the word results files
// have always had: scripts filter on them, so a rename is a breaking change.
// (Two constants sharing a word would not compile: duplicate map keys.)
func TestReasonsKeepTheirWords(t *testing.T) {
	words := map[Reason]string{
		ReasonMissingUser:            "missing_user",
		ReasonInvalidUPN:             "invalid_upn",
		ReasonInvalidID:              "invalid_id",
		ReasonBadValue:               "bad_value",
		ReasonMalformedRow:           "malformed_row",
		ReasonMissingTenant:          "missing_tenant",
		ReasonExampleRow:             "example_row",
		ReasonMissingPassword:        "missing_password",
		ReasonPasswordPolicy:         "password_policy",
		ReasonPasswordFormula:        "password_formula",
		ReasonSynced:                 "synced_user",
		ReasonDisabled:               "disabled",
		ReasonGuest:                  "guest",
		ReasonInvalidObjectID:        "invalid_object_id",
		ReasonNotFound:               "not_found",
		ReasonInsufficientPrivileges: "insufficient_privileges",
		ReasonBadRequest:             "bad_request",
		ReasonThrottled:              "throttled",
		ReasonUnauthorized:           "unauthorized",
		ReasonServiceError:           "service_error",
		ReasonRedirected:             "redirected",
		ReasonNetworkError:           "network_error",
		ReasonOperationFailed:        "reset_operation_failed",
		ReasonOperationUnknown:       "reset_operation_unknown",
		ReasonAuthenticationFailed:   "authentication_failed",
		ReasonWouldReset:             "would_reset",
		ReasonRevokeFailed:           "revoke_failed",
		ReasonBlockFailed:            "block_failed",
		ReasonWouldApply:             "would_apply",
		HTTPReason(409):              "http_409",
	}
	for r, w := range words {
		if string(r) != w {
			t.Errorf("reason %q, want %q", r, w)
		}
	}
}
