package graphsim

import (
	"fmt"
	"net/http"
)

// Write names a kind of write to a user, for FailWrite (one user's writes
// of that kind fail) and DenyWrites (every write of that kind is refused,
// as for an app without its permission or role).
type Write string

// The kinds of writes.
const (
	// WriteReset is a password reset: a passwordProfile PATCH (for
	// FailWrite, the resetPassword action too).
	WriteReset Write = "reset"
	// WriteResetPassword is the authentication-methods resetPassword
	// action, for DenyWrites (its permission and roles are its own).
	WriteResetPassword Write = "resetPassword"
	// WriteBlock is a PATCH of accountEnabled (block sign-in).
	WriteBlock Write = "block"
	// WriteRevoke is revokeSignInSessions.
	WriteRevoke Write = "revoke"
	// AllWrites stands for every kind, for DenyWrites.
	AllWrites Write = "all"
)

// msgBlockPrivileged is the answer to a PATCH of accountEnabled for an
// administrator: updating it for a user with a privileged role needs a
// higher privileged role than the app's (https://learn.microsoft.com/graph/api/user-update,
// "Who can perform sensitive actions").
const msgBlockPrivileged = msgDenied

// FailWrite makes every write w to the user idOrUPN fail with status until
// it is called again with status 0: a 5xx (ServiceUnavailable and friends,
// which a client retries until its attempts run out), 403
// Authorization_RequestDenied, or any other status with a generic code.
// The write is not applied; it is charged to the quotas like any write,
// and the other writes to the user work as usual.
func (s *Sim) FailWrite(idOrUPN string, w Write, status int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.lookupLocked(idOrUPN)
	if u == nil {
		return fmt.Errorf("graphsim: FailWrite: no user %q", idOrUPN)
	}
	if s.failing == nil {
		s.failing = make(map[string]map[Write]int)
	}
	if s.failing[u.ID] == nil {
		s.failing[u.ID] = make(map[Write]int)
	}
	if status == 0 {
		delete(s.failing[u.ID], w)
		return nil
	}
	s.failing[u.ID][w] = status
	return nil
}

// failure is the error FailWrite set for the write w to u, nil for none.
func (s *Sim) failure(u *User, w Write) *apiError {
	status := s.failing[u.ID][w]
	switch {
	case status == 0:
		return nil
	case status == http.StatusForbidden:
		return newAPIError(status, codeDenied, msgDenied)
	case status >= 500:
		for _, st := range innerStatuses {
			if st.status == status {
				return newAPIError(st.status, st.code, st.message)
			}
		}
	}
	return newAPIError(status, fmt.Sprintf("graphsim_%d", status), fmt.Sprintf("graphsim: this %s write is made to fail with %d (FailWrite).", w, status))
}

// setAccountEnabledLocked applies a PATCH of accountEnabled to u. An
// administrator is refused, like its password reset: accountEnabled is a
// sensitive property of privileged users. A user synchronised from
// on-premises AD is refused: accountEnabled is mastered there (it is
// changed in Active Directory, and synchronised).
func (s *Sim) setAccountEnabledLocked(u *User, enabled bool) (int, any, *apiError) {
	switch {
	case s.failure(u, WriteBlock) != nil:
		return 0, nil, s.failure(u, WriteBlock)
	case u.Kind == KindAdmin:
		return 0, nil, newAPIError(http.StatusForbidden, codeDenied, msgBlockPrivileged)
	case u.Kind == KindSynced:
		return 0, nil, newAPIError(http.StatusBadRequest, codeRequestBad, msgSynced)
	}
	u.Enabled = &enabled
	s.stats.WritesApplied++
	return http.StatusNoContent, nil, nil
}
