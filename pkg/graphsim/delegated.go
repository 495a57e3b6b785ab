package graphsim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Delegated sign-in and the authentication-methods resetPassword action.
//
// resetPassword is the only Graph way to reset a user synchronised from
// on-premises AD so that password writeback applies, and it supports
// delegated permissions only
// (https://learn.microsoft.com/graph/api/authenticationmethod-resetpassword):
// an administrator signs in, here with the device code flow
// (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code),
// which is what MSAL Go under azidentity's DeviceCodeCredential speaks. The
// action answers 202 with a Location to poll
// (https://learn.microsoft.com/graph/api/longrunningoperation-get); the
// emulated operation answers "running" to its first Options.OperationPolls
// polls and then its terminal state, and the password takes effect when the
// operation succeeds.

// PasswordMethodID is the id of every user's password authentication method.
const PasswordMethodID = "28c10230-6103-485e-b985-444c60001490"

const (
	grantDeviceCode      = "urn:ietf:params:oauth:grant-type:device_code"
	grantDeviceCodeShort = "device_code" // what MSAL sends; Entra takes both
	grantRefreshToken    = "refresh_token"
	actionResetPassword  = "resetPassword"
	actionOperation      = "operations"
	deviceLoginURL       = "https://microsoft.com/devicelogin"
	msgNoWriteback       = "graphsim: password writeback is not enabled, so the password of a user synchronised from on-premises AD cannot be reset in the cloud."
)

// delegatedState is the emulator's record of delegated sign-ins and
// password-reset operations. Guarded by Sim.mu.
type delegatedState struct {
	users   map[string]struct{}     // delegated access tokens
	devices map[string]int          // device code -> polls so far
	refresh map[string]string       // refresh token -> signed-in UPN
	ops     map[string]*pwOperation // operation id -> operation
	// pending are the operations that end on the clock (OperationDelay),
	// in the order they end.
	pending []*pwOperation
}

// pwOperation is one resetPassword long-running operation.
type pwOperation struct {
	id, userID, password string
	c                    opCtx // the caller that started it, for its audit record
	status, detail       string
	polls                int
	created, last        time.Time
}

func newDelegatedState() delegatedState {
	return delegatedState{users: map[string]struct{}{}, devices: map[string]int{}, refresh: map[string]string{}, ops: map[string]*pwOperation{}}
}

// Operation statuses (https://learn.microsoft.com/graph/api/resources/longrunningoperation).
const (
	OperationNotStarted = "notStarted"
	OperationRunning    = "running"
	OperationSucceeded  = "succeeded"
	OperationFailed     = "failed"
)

// delegatedOID is the object id of the administrator who signs in.
const delegatedOID = "61616161-6161-4161-a161-616161616161"

// delegatedUser is the administrator who signs in on the device.
func (s *Sim) delegatedUser() string {
	if s.opts.DelegatedUser != "" {
		return s.opts.DelegatedUser
	}
	return "admin@" + s.opts.TenantDomain
}

// serveDeviceCode starts a device code sign-in: POST
// /{tenant}/oauth2/v2.0/devicecode with client_id and scope.
func (s *Sim) serveDeviceCode(w http.ResponseWriter, r *http.Request, tenant string) {
	startEntraResponse(w, r)
	if !s.acceptForm(w, r, tenant) {
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("client_id") == "" {
		s.aadError(w, r, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'client_id'.")
		return
	}
	if clientID := r.PostForm.Get("client_id"); !strings.EqualFold(clientID, s.opts.ClientID) {
		s.aadError(w, r, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", clientID, tenant))
		return
	}
	device := newToken()
	user := strings.ToUpper(newToken()[:9])
	s.mu.Lock()
	s.del.devices[device] = 0
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"user_code":        user,
		"device_code":      device,
		"verification_uri": deviceLoginURL,
		"expires_in":       900,
		"interval":         5,
		"message":          fmt.Sprintf("To sign in, use a web browser to open the page %s and enter the code %s to authenticate.", deviceLoginURL, user),
	})
}

// serveDelegatedToken answers the token endpoint's public-client grants: the
// device code (pending on its first poll, as if the administrator were still
// signing in, then granted) and the refresh token.
func (s *Sim) serveDelegatedToken(w http.ResponseWriter, r *http.Request, form map[string][]string, grant, scope string) {
	get := func(k string) string {
		if v := form[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	s.mu.Lock()
	var user string
	switch grant {
	case grantDeviceCode, grantDeviceCodeShort:
		code := get("device_code")
		polls, ok := s.del.devices[code]
		switch {
		case !ok:
			s.mu.Unlock()
			s.aadError(w, r, http.StatusBadRequest, "expired_token", 70019, "Verification code expired.")
			return
		case polls == 0:
			s.del.devices[code]++
			s.mu.Unlock()
			s.aadError(w, r, http.StatusBadRequest, "authorization_pending", 70016, "OAuth 2.0 device flow error. Authorization is pending. Continue polling.")
			return
		}
		delete(s.del.devices, code)
		user = s.delegatedUser()
	case grantRefreshToken:
		var ok bool
		rt := get("refresh_token")
		if user, ok = s.del.refresh[rt]; !ok {
			s.mu.Unlock()
			s.aadError(w, r, http.StatusBadRequest, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
			return
		}
		delete(s.del.refresh, rt) // refresh tokens rotate
	}
	tok, refresh := newToken(), newToken()
	now := s.now()
	s.tokens[tok] = now.Add(s.opts.TokenLifetime)
	if len(s.issued) == maxIssuedKept {
		s.issued = s.issued[1:]
	}
	s.issued = append(s.issued, tok)
	s.del.users[tok] = struct{}{}
	s.del.refresh[refresh] = user
	s.stats.TokensIssued++
	s.mu.Unlock()

	authority := baseURL(r) + "/" + s.opts.TenantID + "/v2.0"
	claims, _ := json.Marshal(map[string]any{
		"aud": s.opts.ClientID, "iss": authority, "iat": now.Unix(), "nbf": now.Unix(),
		"exp": now.Add(time.Hour).Unix(), "name": "Administrator", "oid": delegatedOID, "sub": delegatedOID,
		"preferred_username": user, "tid": s.opts.TenantID, "ver": "2.0",
	})
	enc := base64.RawURLEncoding.EncodeToString
	// An unsigned id token: MSAL reads its claims to know the account and
	// does not verify it; nothing here is a credential.
	idToken := enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(claims) + "."
	clientInfo, _ := json.Marshal(map[string]string{"uid": delegatedOID, "utid": s.opts.TenantID})
	var granted []string
	for _, sc := range strings.Fields(scope) {
		if !oidcScopes[sc] {
			granted = append(granted, sc)
		}
	}
	secs := max(int64(s.opts.TokenLifetime/time.Second), 1)
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"scope":          strings.Join(granted, " "),
		"expires_in":     secs,
		"ext_expires_in": secs,
		"access_token":   tok,
		"refresh_token":  refresh,
		"id_token":       idToken,
		"client_info":    enc(clientInfo),
	})
}

// delegatedLocked reports whether the bearer token in authz was issued to a
// signed-in user (delegated) rather than to the application itself.
func (s *Sim) delegatedLocked(authz string) bool {
	_, ok := s.del.users[bearer(authz)]
	return ok
}

// parseAuthAction reads what follows /users/{key}/ for the authentication
// methods: methods/{PasswordMethodID}/resetPassword and operations/{id}.
func parseAuthAction(after string) (action, sub string, ok bool) {
	rest, found := cutFold(after, "authentication/")
	if !found {
		return "", "", false
	}
	if m, found := cutFold(rest, "methods/"); found {
		id, act, _ := strings.Cut(m, "/")
		if strings.EqualFold(act, actionResetPassword) || strings.EqualFold(act, "microsoft.graph."+actionResetPassword) {
			return actionResetPassword, id, true
		}
		return "", "", false
	}
	if id, found := cutFold(rest, "operations/"); found && id != "" && !strings.Contains(id, "/") {
		return actionOperation, id, true
	}
	return "", "", false
}

// cutFold is strings.CutPrefix without regard to ASCII case.
func cutFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// answer is a payload with extra response headers (Location).
type answer struct {
	payload any
	header  map[string]string
}

// resetPasswordLocked starts a password reset operation.
func (s *Sim) resetPasswordLocked(t target, body []byte, c opCtx) (int, any, *apiError) {
	if !c.delegated {
		// Application permissions are not supported for this API.
		return 0, nil, newAPIError(http.StatusForbidden, codeDenied, msgDenied)
	}
	if !strings.EqualFold(t.sub, PasswordMethodID) {
		return 0, nil, notFound(t.sub)
	}
	var req struct {
		NewPassword *string `json:"newPassword"`
	}
	if body != nil {
		if err := json.Unmarshal(body, &req); err != nil {
			return 0, nil, badRequest(msgUnreadableJSON)
		}
	}
	if aerr := s.spendWriteLocked(c); aerr != nil {
		return 0, nil, aerr
	}
	if aerr := s.deniedLocked(WriteResetPassword); aerr != nil {
		return 0, nil, aerr
	}
	u := s.lookupLocked(t.key)
	switch {
	case u == nil:
		return 0, nil, notFound(t.key)
	case s.failure(u, WriteReset) != nil:
		return 0, nil, s.failure(u, WriteReset)
	case u.Kind == KindAdmin:
		return 0, nil, newAPIError(http.StatusForbidden, codeDenied, msgDenied)
	case req.NewPassword == nil && u.Kind == KindSynced:
		return 0, nil, badRequest("graphsim: newPassword is required for a user synchronised from on-premises AD.")
	case req.NewPassword == nil:
		return 0, nil, newAPIError(http.StatusNotImplemented, codeNotImplemented, "graphsim: system-generated passwords are not emulated.")
	case !passwordAllowed(*req.NewPassword, u, s.opts.TenantDomain):
		return 0, nil, newAPIError(http.StatusBadRequest, codeRequestBad, msgComplexity)
	}
	now := s.now()
	o := &pwOperation{id: newGUID(), userID: u.ID, password: *req.NewPassword, status: OperationNotStarted, created: now, last: now, c: c}
	s.del.ops[o.id] = o
	if s.opts.OperationDelay > 0 {
		s.del.pending = append(s.del.pending, o)
	}
	s.stats.OperationsStarted++
	if f := s.opts.OperationAccepted; f != nil {
		f()
	}
	loc := c.base + "/v1.0/users/" + u.ID + "/authentication/operations/" + o.id + "?aadgdc=SIM01&aadgsu=ssprprod-a"
	return http.StatusAccepted, answer{
		payload: map[string]any{"@odata.context": metadataBase + "microsoft.graph.passwordResetResponse", "newPassword": nil},
		header:  map[string]string{"Location": loc},
	}, nil
}

// getOperationLocked answers a poll of a password reset operation, moving it
// on: it runs for Options.OperationPolls polls, then succeeds (the password
// takes effect, and the user must change it at next sign-in) or fails (a
// synced user without password writeback).
func (s *Sim) getOperationLocked(t target, c opCtx) (int, any, *apiError) {
	if !c.delegated {
		return 0, nil, newAPIError(http.StatusForbidden, codeDenied, msgDenied)
	}
	s.stats.Reads++
	if aerr := s.chargeLocked(c, 1, 0); aerr != nil {
		return 0, nil, aerr
	}
	u := s.lookupLocked(t.key)
	if u == nil {
		return 0, nil, notFound(t.key)
	}
	o := s.del.ops[strings.ToLower(t.sub)]
	if o == nil || o.userID != u.ID {
		return 0, nil, notFound(t.sub)
	}
	now := s.now()
	if o.status == OperationNotStarted || o.status == OperationRunning {
		o.polls++
		o.last = now
		if o.polls <= s.opts.OperationPolls || s.opts.OperationDelay > 0 {
			o.status = OperationRunning
		} else {
			s.endOperationLocked(o, u, now, c.requestID)
		}
	}
	var detail any
	if o.detail != "" {
		detail = o.detail
	}
	return http.StatusOK, map[string]any{
		"@odata.context":     metadataBase + "users('" + u.ID + "')/authentication/operations/$entity",
		"id":                 o.id,
		"status":             o.status,
		"createdDateTime":    o.created.UTC().Format(time.RFC3339Nano),
		"lastActionDateTime": o.last.UTC().Format(time.RFC3339Nano),
		"resourceLocation":   nil,
		"statusDetail":       detail,
	}, nil
}

// endOperationLocked ends o at the time at: it fails for a synced user
// without password writeback, and otherwise succeeds and sets the password
// (the user is "prompted to change their password on their next sign in").
func (s *Sim) endOperationLocked(o *pwOperation, u *User, at time.Time, requestID string) {
	o.last = at
	if u.Kind == KindSynced && s.opts.NoWriteback {
		o.status, o.detail = OperationFailed, msgNoWriteback
		return
	}
	o.status = OperationSucceeded
	u.Password = o.password
	u.PasswordSets++
	u.ForceChangePasswordNextSignIn = true
	u.PasswordChangedAt = at
	s.recordAuditAt(at, o.c, s.delegatedUser(), u, ActivityResetByAdmin, ServiceSSPR)
	s.changes = append(s.changes, Change{
		UserID: u.ID, UPN: u.UPN, Password: o.password,
		ForceChangePasswordNextSignIn:        true,
		ForceChangePasswordNextSignInWithMfa: u.ForceChangePasswordNextSignInWithMfa,
		At:                                   at, RequestID: requestID,
	})
	s.stats.WritesApplied++
}

// settleOperationsLocked ends the operations whose OperationDelay has
// passed, whether or not anyone polled them. It runs before every Graph
// operation and every look at the tenant, so that the tenant's state and
// its record of changes follow the clock.
func (s *Sim) settleOperationsLocked() {
	now := s.now()
	for len(s.del.pending) > 0 {
		o := s.del.pending[0]
		due := o.created.Add(s.opts.OperationDelay)
		if now.Before(due) {
			return
		}
		s.del.pending = s.del.pending[1:]
		if u := s.byID[o.userID]; u != nil {
			s.endOperationLocked(o, u, due, "")
		}
	}
}
