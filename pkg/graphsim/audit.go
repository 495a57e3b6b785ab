package graphsim

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The directory audit log, as Microsoft Entra keeps it
// (https://learn.microsoft.com/graph/api/resources/directoryaudit) and
// GET /auditLogs/directoryAudits lists it
// (https://learn.microsoft.com/graph/api/directoryaudit-list): every change
// the emulator applies is recorded, with the activity names of Microsoft's
// audit activity reference
// (https://learn.microsoft.com/entra/identity/monitoring-health/reference-audit-activities)
// and of real reports:
//
//   - a passwordProfile PATCH that sets a password: "Reset user password",
//     Core Directory, UserManagement
//     (https://www.m365corner.com/m365-powershell/track-admin-password-resets-graph-powershell.html);
//   - a passwordProfile PATCH of the flags only (--password-mode none):
//     "Update PasswordProfile", which is not a password change
//     (https://m365corner.com/m365-powershell/monitor-forced-password-changes-graph-powershell.html);
//   - the resetPassword action, once its operation succeeds: "Reset password
//     (by admin)", Self-service Password Management
//     (https://kqlsearch.com/query/SSPR-PasswordResetInitiatedviaMSGraph&clmoyl16n005omc0kgaxaf4qi);
//   - a PATCH of accountEnabled: "Update user", with AccountEnabled among
//     the modified properties; Core Directory;
//   - revokeSignInSessions: "Update StsRefreshTokenValidFrom Timestamp",
//     Core Directory
//     (https://kqlsearch.com/query/HQ-007-BulkRefreshToken-Revocation%26cmqstqx69002ujqzc5ekbiev1).
//
// The initiator is the application (appId, display name, service principal)
// or, for a delegated sign-in, the administrator. The correlationId is the
// sub-request's client-request-id (else the $batch's): Azure Monitor's
// AuditLogs schema describes it as an optional GUID passed by the client
// (https://learn.microsoft.com/azure/azure-monitor/reference/tables/auditlogs);
// whether Entra does so for Graph requests is not documented, and verify
// does not depend on it. A record is listed only Options.AuditDelay after
// the change (Entra's audit log lags by minutes: 2 minutes at the 95th
// percentile, 5 at the 99th, by its old latency reference,
// https://www.michev.info/blog/post/5749/microsoft-365-azure-ad-audit-logs-and-reports-latency-data).

// Audit activity names the emulator records (see above).
const (
	ActivityResetUserPassword  = "Reset user password"
	ActivityResetByAdmin       = "Reset password (by admin)"
	ActivityChangeUserPassword = "Change user password"
	ActivityUpdatePassword     = "Update PasswordProfile"
	ActivityUpdateUser         = "Update user"
	ActivityRevokeSessions     = "Update StsRefreshTokenValidFrom Timestamp"

	ServiceCoreDirectory = "Core Directory"
	ServiceSSPR          = "Self-service Password Management"
)

// AppDisplayName is the display name of the emulated application in audit
// records.
const AppDisplayName = "bulkreset (graphsim)"

// maxAuditPage is the largest $top the audit list accepts.
const maxAuditPage = 1000

// AuditRecord is one directory audit record.
type AuditRecord struct {
	ID                  string
	Category            string
	CorrelationID       string
	Result              string
	ActivityDisplayName string
	ActivityDateTime    time.Time
	LoggedByService     string
	OperationType       string
	// Initiator: AppID and AppName for an application, else the user.
	AppID, AppName, ServicePrincipalID string
	UserID, UserUPN                    string
	// Target is the user changed.
	TargetID, TargetUPN, TargetName string
	// Modified are the names of the modified properties.
	Modified []string

	seq int64 // order of recording, for paging
}

// AuditRecords returns every audit record, visible or not yet, in the order
// recorded.
func (s *Sim) AuditRecords() []AuditRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleOperationsLocked()
	return slices.Clone(s.audit)
}

// SetAuditDelay sets how long after a change its audit record is listed.
func (s *Sim) SetAuditDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.AuditDelay = d
}

// DenyAuditLog makes GET /auditLogs/directoryAudits answer 403, as for an
// application without AuditLog.Read.All, until it is called with false.
func (s *Sim) DenyAuditLog(deny bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.auditDenied = deny
}

// DropAudit removes every audit record whose target is the user idOrUPN,
// as if Entra had lost them, and returns how many it removed.
func (s *Sim) DropAudit(idOrUPN string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleOperationsLocked()
	u := s.lookupLocked(idOrUPN)
	if u == nil {
		return 0
	}
	n := len(s.audit)
	s.audit = slices.DeleteFunc(s.audit, func(r AuditRecord) bool { return r.TargetID == u.ID })
	return n - len(s.audit)
}

// ChangePassword changes the password of the user idOrUPN out of band, at
// the time at: another administrator, in the admin center, after the run.
// It is recorded in the audit log, initiated by that administrator.
func (s *Sim) ChangePassword(idOrUPN, password string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.lookupLocked(idOrUPN)
	if u == nil {
		return fmt.Errorf("graphsim: ChangePassword: no user %q", idOrUPN)
	}
	u.Password = password
	u.PasswordSets++
	u.PasswordChangedAt = at
	s.changes = append(s.changes, Change{UserID: u.ID, UPN: u.UPN, Password: password, At: at,
		ForceChangePasswordNextSignIn: u.ForceChangePasswordNextSignIn, ForceChangePasswordNextSignInWithMfa: u.ForceChangePasswordNextSignInWithMfa})
	s.recordAuditAt(at, opCtx{clientRequestID: newGUID(), delegated: true}, "helpdesk@"+s.opts.TenantDomain, u,
		ActivityResetUserPassword, ServiceCoreDirectory)
	return nil
}

// recordAuditLocked records a change to u made by the caller of c now.
func (s *Sim) recordAuditLocked(c opCtx, u *User, activity, service string, modified ...string) {
	s.recordAuditAt(s.now(), c, s.delegatedUser(), u, activity, service, modified...)
}

// recordAuditAt records a change to u at the time at; admin is the
// initiator of a delegated change.
func (s *Sim) recordAuditAt(at time.Time, c opCtx, admin string, u *User, activity, service string, modified ...string) {
	s.auditSeq++
	r := AuditRecord{
		ID:                  "Directory_" + newGUID() + "_" + strconv.FormatInt(s.auditSeq, 10),
		Category:            "UserManagement",
		CorrelationID:       c.clientRequestID,
		Result:              "success",
		ActivityDisplayName: activity,
		ActivityDateTime:    at.UTC(),
		LoggedByService:     service,
		OperationType:       "Update",
		TargetID:            u.ID,
		TargetUPN:           u.UPN,
		TargetName:          u.DisplayName,
		Modified:            modified,
		seq:                 s.auditSeq,
	}
	if r.CorrelationID == "" {
		r.CorrelationID = newGUID()
	}
	if c.delegated {
		r.UserID, r.UserUPN = delegatedOID, admin
		if !strings.EqualFold(admin, s.delegatedUser()) {
			r.UserID = guidFor(admin)
		}
	} else {
		r.AppID, r.AppName, r.ServicePrincipalID = s.opts.ClientID, AppDisplayName, guidFor("sp:"+s.opts.ClientID)
	}
	s.audit = append(s.audit, r)
}

// json renders the record as Graph does.
func (r AuditRecord) json() map[string]any {
	var app, user any
	if r.AppID != "" {
		app = map[string]any{"appId": r.AppID, "displayName": r.AppName, "servicePrincipalId": r.ServicePrincipalID, "servicePrincipalName": nil}
	} else {
		user = map[string]any{"id": r.UserID, "displayName": nil, "userPrincipalName": r.UserUPN, "ipAddress": "127.0.0.1", "userType": nil, "homeTenantId": nil, "homeTenantName": nil}
	}
	mods := make([]any, 0, len(r.Modified))
	for _, m := range r.Modified {
		mods = append(mods, map[string]any{"displayName": m, "oldValue": nil, "newValue": nil})
	}
	return map[string]any{
		"id":                  r.ID,
		"category":            r.Category,
		"correlationId":       r.CorrelationID,
		"result":              r.Result,
		"resultReason":        "",
		"activityDisplayName": r.ActivityDisplayName,
		"activityDateTime":    r.ActivityDateTime.Format("2006-01-02T15:04:05.0000000Z"),
		"loggedByService":     r.LoggedByService,
		"operationType":       r.OperationType,
		"initiatedBy":         map[string]any{"app": app, "user": user},
		"targetResources": []any{map[string]any{
			"id": r.TargetID, "displayName": r.TargetName, "type": "User", "userPrincipalName": r.TargetUPN,
			"groupType": nil, "modifiedProperties": mods,
		}},
		"additionalDetails": []any{},
	}
}

// isAuditURL reports whether a URL relative to /v1.0 addresses the
// directory audit log.
func isAuditURL(raw string) bool {
	p, _, _ := strings.Cut(raw, "?")
	return strings.EqualFold(strings.Trim(p, "/"), "auditLogs/directoryAudits")
}

// listAuditsLocked answers GET /auditLogs/directoryAudits: the visible
// records that pass $filter, newest first, $top at a time (default and most
// 1000, or Options.AuditPageSize), with an @odata.nextLink holding a
// $skiptoken while more remain. It is a read: it costs a resource unit.
func (s *Sim) listAuditsLocked(o op, c opCtx) (int, any, *apiError) {
	if aerr := s.readLocked(o, c); aerr != nil {
		return 0, nil, aerr
	}
	if s.auditDenied {
		return 0, nil, newAPIError(http.StatusForbidden, codeDenied, msgDenied)
	}
	_, rawQuery, _ := strings.Cut(o.url, "?")
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return 0, nil, badRequest(msgQuerySyntax)
	}
	match, aerr := parseAuditFilter(q.Get("$filter"))
	if aerr != nil {
		return 0, nil, aerr
	}
	page := maxAuditPage
	if s.opts.AuditPageSize > 0 {
		page = min(page, s.opts.AuditPageSize)
	}
	if top := q.Get("$top"); top != "" {
		n, err := strconv.Atoi(top)
		if err != nil || n < 1 || n > maxAuditPage {
			return 0, nil, badRequest(fmt.Sprintf("graphsim: $top must be 1 to %d.", maxAuditPage))
		}
		page = min(page, n)
	}
	before := int64(-1) // the seq the previous page ended at
	if tok := q.Get("$skiptoken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err == nil {
			before, err = strconv.ParseInt(string(b), 10, 64)
		}
		if err != nil || before < 0 {
			return 0, nil, badRequest("graphsim: the $skiptoken is not one this service gave.")
		}
	}
	now := s.now()
	var value []any
	next := ""
	for i := len(s.audit) - 1; i >= 0; i-- { // newest first
		r := s.audit[i]
		if before >= 0 && r.seq >= before {
			continue
		}
		if now.Before(r.ActivityDateTime.Add(s.opts.AuditDelay)) || !match(r) {
			continue
		}
		if len(value) == page {
			q.Set("$skiptoken", base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(s.audit[i+1].seq, 10))))
			next = c.base + "/v1.0/auditLogs/directoryAudits?" + q.Encode()
			break
		}
		value = append(value, r.json())
	}
	if value == nil {
		value = []any{}
	}
	out := map[string]any{"@odata.context": metadataBase + "auditLogs/directoryAudits", "value": value}
	if next != "" {
		out["@odata.nextLink"] = next
	}
	return http.StatusOK, out, nil
}

// parseAuditFilter reads the $filter forms the list supports, joined by
// "and": activityDateTime ge|le DATE; activityDisplayName, category,
// loggedByService, correlationId, id, initiatedBy/app/appId and
// initiatedBy/user/id eq 'VALUE'; targetResources/any(t:t/id eq 'VALUE').
// Anything else is a 400, as Graph answers an unsupported filter.
func parseAuditFilter(filter string) (func(AuditRecord) bool, *apiError) {
	var tests []func(AuditRecord) bool
	for _, clause := range splitAnd(filter) {
		t, ok := auditClause(clause)
		if !ok {
			return nil, badRequest(fmt.Sprintf("graphsim: unsupported or invalid $filter clause %q.", clause))
		}
		tests = append(tests, t)
	}
	return func(r AuditRecord) bool {
		for _, t := range tests {
			if !t(r) {
				return false
			}
		}
		return true
	}, nil
}

// splitAnd splits a filter at " and " outside quotes and parentheses.
func splitAnd(f string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(f); i++ {
		switch c := f[i]; {
		case c == '\'':
			quoted = !quoted // a doubled quote toggles twice
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case depth == 0 && i+5 <= len(f) && strings.EqualFold(f[i:i+5], " and "):
			out = append(out, strings.TrimSpace(f[start:i]))
			start = i + 5
			i += 4
		}
	}
	if last := strings.TrimSpace(f[start:]); last != "" || len(out) > 0 {
		out = append(out, last)
	}
	return out
}

// auditClause reads one comparison of a $filter.
func auditClause(c string) (func(AuditRecord) bool, bool) {
	if rest, ok := cutFold(c, "targetResources/any("); ok {
		v, _, ok := strings.Cut(rest, ":")
		if !ok || !strings.HasSuffix(rest, ")") {
			return nil, false
		}
		inner := strings.TrimSuffix(rest[len(v)+1:], ")")
		field, val, ok := eqClause(inner)
		if !ok || !strings.EqualFold(field, v+"/id") {
			return nil, false
		}
		return func(r AuditRecord) bool { return strings.EqualFold(r.TargetID, val) }, true
	}
	parts := strings.Fields(c)
	if len(parts) == 3 && strings.EqualFold(parts[0], "activityDateTime") {
		at, err := time.Parse(time.RFC3339Nano, parts[2])
		if err != nil {
			return nil, false
		}
		switch strings.ToLower(parts[1]) {
		case "ge":
			return func(r AuditRecord) bool { return !r.ActivityDateTime.Before(at) }, true
		case "le":
			return func(r AuditRecord) bool { return !r.ActivityDateTime.After(at) }, true
		}
		return nil, false
	}
	field, val, ok := eqClause(c)
	if !ok {
		return nil, false
	}
	get := map[string]func(AuditRecord) string{
		"activitydisplayname":   func(r AuditRecord) string { return r.ActivityDisplayName },
		"category":              func(r AuditRecord) string { return r.Category },
		"loggedbyservice":       func(r AuditRecord) string { return r.LoggedByService },
		"correlationid":         func(r AuditRecord) string { return r.CorrelationID },
		"id":                    func(r AuditRecord) string { return r.ID },
		"initiatedby/app/appid": func(r AuditRecord) string { return r.AppID },
		"initiatedby/user/id":   func(r AuditRecord) string { return r.UserID },
	}[strings.ToLower(field)]
	if get == nil {
		return nil, false
	}
	return func(r AuditRecord) bool { return strings.EqualFold(get(r), val) }, true
}

// eqClause reads "field eq 'value'" (a doubled quote is a quote) or, for a
// GUID, "field eq value".
func eqClause(c string) (field, val string, ok bool) {
	field, rest, ok := strings.Cut(strings.TrimSpace(c), " ")
	if !ok {
		return "", "", false
	}
	rest, ok = cutFold(strings.TrimSpace(rest), "eq ")
	if !ok {
		return "", "", false
	}
	rest = strings.TrimSpace(rest)
	if len(rest) >= 2 && rest[0] == '\'' && rest[len(rest)-1] == '\'' {
		return field, strings.ReplaceAll(rest[1:len(rest)-1], "''", "'"), true
	}
	if strings.ContainsAny(rest, " '") || rest == "" {
		return "", "", false
	}
	return field, rest, true
}
