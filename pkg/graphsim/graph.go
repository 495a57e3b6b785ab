package graphsim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"strings"
	"time"
)

const (
	// maxBatchRequests is Graph's limit on sub-requests in one $batch
	// (https://learn.microsoft.com/graph/json-batching#batch-size-limitations).
	maxBatchRequests = 20
	// maxBodyBytes is Graph's 4 MB request size limit.
	maxBodyBytes = 4 << 20

	odataJSON     = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
	agsDiagnostic = `{"ServerInfo":{"DataCenter":"Loopback","Slice":"E","Ring":"0","ScaleUnit":"000","RoleInstance":"graphsim"}}`
	metadataBase  = "https://graph.microsoft.com/v1.0/$metadata#"
)

// Wire types of JSON batching (https://learn.microsoft.com/graph/json-batching).
type (
	batchRequest struct {
		Requests []subRequest `json:"requests"`
	}
	subRequest struct {
		ID        string            `json:"id"`
		Method    string            `json:"method"`
		URL       string            `json:"url"`
		Headers   map[string]string `json:"headers,omitempty"`
		Body      json.RawMessage   `json:"body,omitempty"`
		DependsOn []string          `json:"dependsOn,omitempty"`
	}
	batchResponse struct {
		Responses []subResponse `json:"responses"`
	}
	subResponse struct {
		ID      string            `json:"id"`
		Status  int               `json:"status"`
		Headers map[string]string `json:"headers,omitempty"`
		Body    json.RawMessage   `json:"body,omitempty"`
	}
)

// Graph's error envelope.
type (
	errorEnvelope struct {
		Error errorDetail `json:"error"`
	}
	errorDetail struct {
		Code       string     `json:"code"`
		Message    string     `json:"message"`
		InnerError innerError `json:"innerError"`
	}
	innerError struct {
		Date            string `json:"date"`
		RequestID       string `json:"request-id"`
		ClientRequestID string `json:"client-request-id"`
	}
)

// Handler returns the handler that serves both Graph (/v1.0/...) and the token
// endpoint (/{tenant}/...).
func (s *Sim) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Sim) serveHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/v1.0/$batch":
		s.serveGraph(w, r, true)
	case strings.HasPrefix(p, "/v1.0/"):
		s.serveGraph(w, r, false)
	case p == ManagedIdentityPath:
		s.serveManagedIdentity(w, r)
	default:
		if parts := strings.Split(p, "/"); len(parts) == 5 && parts[0] == "" && parts[1] != "" {
			switch strings.Join(parts[2:], "/") {
			case "v2.0/.well-known/openid-configuration":
				s.serveOpenIDConfiguration(w, r, parts[1])
				return
			case "oauth2/v2.0/token":
				s.serveToken(w, r, parts[1])
				return
			case "oauth2/v2.0/devicecode":
				s.serveDeviceCode(w, r, parts[1])
				return
			}
		}
		rc := startGraphResponse(w, r)
		s.writeError(w, rc, badRequest("Invalid version."))
	}
}

// reqIDs are the ids of one HTTP exchange, and its x-ms-throttle-priority.
type reqIDs struct {
	requestID, clientRequestID string
	priority                   string
	base                       string // scheme and host the client used, for Location headers
	delegated                  bool   // the token was issued to a signed-in user
}

// startGraphResponse sets the headers every Graph response carries: a fresh
// request-id, and the client's client-request-id echoed (or the request-id).
func startGraphResponse(w http.ResponseWriter, r *http.Request) reqIDs {
	rc := reqIDs{requestID: newGUID(), clientRequestID: r.Header.Get("client-request-id"), priority: r.Header.Get("x-ms-throttle-priority"), base: baseURL(r)}
	if rc.clientRequestID == "" {
		rc.clientRequestID = rc.requestID
	}
	h := w.Header()
	h.Set("request-id", rc.requestID)
	h.Set("client-request-id", rc.clientRequestID)
	h.Set("x-ms-ags-diagnostic", agsDiagnostic)
	h.Set("Cache-Control", "no-cache")
	return rc
}

func (s *Sim) serveGraph(w http.ResponseWriter, r *http.Request, batch bool) {
	rc := startGraphResponse(w, r)
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBodyBytes))
	if err != nil {
		if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
			s.writeError(w, rc, newAPIError(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "graphsim: the request body is larger than 4 MB."))
		}
		return // otherwise the client has gone
	}
	if !s.delay(r.Context()) {
		// The client gave up. Returning would send an empty 200, which a client
		// that is just giving up could still read; close the connection instead.
		dropConnection(w)
		return
	}

	s.mu.Lock()
	aerr := s.authenticateLocked(r.Header.Get("Authorization"))
	rc.delegated = aerr == nil && s.delegatedLocked(r.Header.Get("Authorization"))
	if aerr == nil && batch && s.chanceLocked(s.opts.Faults.TokenRevoke) {
		s.faultLocked(FaultTokenRevoke)
		aerr = tokenError(msgTokenExpired)
	}
	switch {
	case aerr != nil:
		s.stats.Unauthorized++
	case batch:
		s.stats.Batches++
	default:
		s.stats.DirectRequests++
	}
	s.mu.Unlock()
	if aerr != nil {
		s.writeError(w, rc, aerr)
		return
	}
	if batch {
		s.serveBatch(w, r, rc, body)
	} else {
		s.serveDirect(w, r, rc, body)
	}
}

// delay waits for the configured latency; false means the client gave up.
func (s *Sim) delay(ctx context.Context) bool {
	d := s.opts.Latency
	if j := s.opts.LatencyJitter; j > 0 {
		d += rand.N(j) // jitter needs no determinism, so it leaves the seeded generator alone
	}
	if f := s.opts.LatencyFunc; f != nil {
		d = f()
	}
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func tokenError(message string) *apiError {
	e := newAPIError(http.StatusUnauthorized, codeInvalidToken, message)
	e.header = map[string]string{"WWW-Authenticate": `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`}
	return e
}

// authenticateLocked checks an Authorization header against the issued tokens.
func (s *Sim) authenticateLocked(authz string) *apiError {
	tok := bearer(authz)
	if tok == "" {
		return tokenError(msgTokenEmpty)
	}
	exp, ok := s.tokens[tok]
	if !ok {
		return tokenError(msgTokenUnparsable)
	}
	if !s.now().Before(exp) {
		return tokenError(msgTokenExpired)
	}
	return nil
}

// envelope wraps an error in Graph's envelope.
func (s *Sim) envelope(e *apiError, requestID, clientRequestID string) []byte {
	b, _ := json.Marshal(errorEnvelope{Error: errorDetail{
		Code:    e.code,
		Message: e.message,
		InnerError: innerError{
			Date:            s.now().UTC().Format("2006-01-02T15:04:05"),
			RequestID:       requestID,
			ClientRequestID: clientRequestID,
		},
	}})
	return b
}

// writeError answers the whole HTTP request with e.
func (s *Sim) writeError(w http.ResponseWriter, rc reqIDs, e *apiError) {
	h := w.Header()
	for k, v := range e.header {
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/json")
	w.WriteHeader(e.status)
	_, _ = w.Write(s.envelope(e, rc.requestID, rc.clientRequestID))
}

func isJSONMediaType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

func (s *Sim) serveBatch(w http.ResponseWriter, r *http.Request, rc reqIDs, body []byte) {
	if r.Method != http.MethodPost {
		s.writeError(w, rc, newAPIError(http.StatusMethodNotAllowed, codeRequestBad, msgMethod))
		return
	}
	if !isJSONMediaType(r.Header.Get("Content-Type")) {
		s.writeError(w, rc, newAPIError(http.StatusUnsupportedMediaType, "UnsupportedMediaType", "graphsim: a $batch request must have Content-Type: application/json."))
		return
	}
	reqs, aerr := parseBatch(body)
	if aerr != nil {
		s.writeError(w, rc, aerr)
		return
	}
	s.mu.Lock()
	out := s.runBatchLocked(reqs, rc)
	s.mu.Unlock()

	switch out.fault {
	case FaultOuter503:
		e := newAPIError(http.StatusServiceUnavailable, "ServiceUnavailable", "graphsim: the service is temporarily unavailable.")
		e.header = map[string]string{"Retry-After": "1"}
		s.writeError(w, rc, e)
	case FaultOuter429Date:
		e := newAPIError(http.StatusTooManyRequests, codeThrottled, msgThrottled)
		e.header = map[string]string{"Retry-After": s.now().Add(2 * time.Second).UTC().Format(http.TimeFormat)}
		s.writeError(w, rc, e)
	case FaultDropBeforeApply, FaultDropAfterApply:
		dropConnection(w)
	case FaultTimeout:
		s.mu.Lock()
		hook := s.onHold
		s.mu.Unlock()
		if hook != nil {
			hook()
		}
		<-r.Context().Done()
		dropConnection(w) // never an empty 200
	default:
		data, _ := json.Marshal(batchResponse{Responses: out.responses})
		if out.fault == FaultTruncatedJSON {
			data = data[:len(data)/2]
		}
		w.Header().Set("Content-Type", odataJSON)
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(data)
	}
}

// dropConnection closes the client's connection without an answer.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		_ = conn.Close()
		return
	}
	// HTTP/2 cannot hijack; aborting the handler resets the stream instead.
	panic(http.ErrAbortHandler)
}

// parseBatch reads a $batch body and checks it as Graph does before running
// anything: valid JSON, 1 to 20 requests, unique ids (without regard to case,
// https://github.com/microsoftgraph/microsoft-graph-docs/issues/4449), an id,
// method and url on each, and dependsOn naming earlier requests only.
func parseBatch(body []byte) ([]subRequest, *apiError) {
	var b batchRequest
	if json.Unmarshal(body, &b) != nil {
		return nil, badRequest(msgBatchFormat)
	}
	reqs := b.Requests
	if len(reqs) == 0 {
		return nil, badRequest(msgBatchFormat)
	}
	if len(reqs) > maxBatchRequests {
		return nil, badRequest(msgBatchLimit)
	}
	seen := make(map[string]bool, len(reqs))
	for _, q := range reqs {
		if q.ID == "" || q.Method == "" || q.URL == "" {
			return nil, badRequest(msgBatchFormat)
		}
		id := strings.ToLower(q.ID)
		if seen[id] {
			return nil, badRequest(fmt.Sprintf(msgBatchDuplicate, q.ID))
		}
		for _, d := range q.DependsOn {
			if !seen[strings.ToLower(d)] {
				return nil, badRequest(msgBatchFormat)
			}
		}
		seen[id] = true
	}
	return reqs, nil
}

// batchOutcome is what runBatchLocked decided: a fault that changes the whole
// answer, if any, and the sub-responses.
type batchOutcome struct {
	fault     FaultKind
	responses []subResponse
}

// runBatchLocked evaluates a parsed batch: outer faults, each sub-request,
// answer faults, then the shuffle.
func (s *Sim) runBatchLocked(reqs []subRequest, rc reqIDs) batchOutcome {
	var out batchOutcome
	f := s.opts.Faults
	switch out.fault = s.forcedLocked(FaultOuter503, FaultOuter429Date, FaultDropBeforeApply, FaultTimeout); {
	case out.fault == FaultOuter429Date:
		s.stats.Throttled++
	case out.fault != "":
	case s.chanceLocked(f.Outer503):
		out.fault = FaultOuter503
	case s.chanceLocked(f.Outer429Date):
		out.fault = FaultOuter429Date
		s.stats.Throttled++
	case s.chanceLocked(f.DropBeforeApply):
		out.fault = FaultDropBeforeApply
	case s.chanceLocked(f.Timeout):
		out.fault = FaultTimeout
	}
	if out.fault != "" {
		s.faultLocked(out.fault)
		return out
	}

	status := make(map[string]int, len(reqs))
	out.responses = make([]subResponse, 0, len(reqs)+1)
	for _, q := range reqs {
		s.stats.SubRequests++
		resp := s.runSubLocked(q, rc, status)
		status[strings.ToLower(q.ID)] = resp.Status
		out.responses = append(out.responses, resp)
	}

	switch out.fault = s.forcedLocked(FaultDropAfterApply); {
	case out.fault != "":
	case s.chanceLocked(f.DropAfterApply):
		out.fault = FaultDropAfterApply
	case s.chanceLocked(f.TruncatedJSON):
		out.fault = FaultTruncatedJSON
	case s.chanceLocked(f.MissingID):
		out.fault = FaultMissingID
		i := s.rng.IntN(len(out.responses))
		out.responses = append(out.responses[:i], out.responses[i+1:]...)
	case s.chanceLocked(f.UnknownID):
		out.fault = FaultUnknownID
		out.responses = append(out.responses, subResponse{
			ID: "graphsim-unknown-" + newGUID(), Status: http.StatusNoContent, Headers: noContentHeaders(),
		})
	case s.chanceLocked(f.DuplicateID):
		out.fault = FaultDuplicateID
		out.responses = append(out.responses, out.responses[s.rng.IntN(len(out.responses))])
	}
	if out.fault != "" {
		s.faultLocked(out.fault)
	}
	s.rng.Shuffle(len(out.responses), func(i, j int) {
		out.responses[i], out.responses[j] = out.responses[j], out.responses[i]
	})
	return out
}

// innerStatuses are the 5xx answers Inner5xx picks from.
var innerStatuses = []struct {
	status        int
	code, message string
}{
	{http.StatusInternalServerError, "InternalServerError", "graphsim: an internal server error occurred."},
	{http.StatusBadGateway, "BadGateway", "graphsim: bad gateway."},
	{http.StatusServiceUnavailable, "ServiceUnavailable", "graphsim: the service is temporarily unavailable."},
	{http.StatusGatewayTimeout, "GatewayTimeout", "graphsim: gateway timeout."},
}

// runSubLocked evaluates one sub-request of a batch. status holds the answers
// so far, by lower-case id, for dependsOn.
func (s *Sim) runSubLocked(q subRequest, rc reqIDs, status map[string]int) subResponse {
	c := opCtx{
		// errorRequestID stays empty: errorAnswer makes a fresh one for each
		// failed item, and none for the others.
		requestID:       rc.requestID,
		clientRequestID: headerValue(q.Headers, "client-request-id"),
		priority:        headerValue(q.Headers, "x-ms-throttle-priority"),
		base:            rc.base,
		delegated:       rc.delegated,
	}
	if c.clientRequestID == "" {
		c.clientRequestID = rc.clientRequestID
	}
	if c.priority == "" {
		c.priority = rc.priority
	}
	resp := subResponse{ID: q.ID}
	answer := func(e *apiError) subResponse {
		resp.Status, resp.Headers, resp.Body = s.errorAnswer(e, c)
		return resp
	}
	for _, d := range q.DependsOn {
		if st := status[strings.ToLower(d)]; st < 200 || st > 299 {
			return answer(newAPIError(http.StatusFailedDependency, codeFailedDependency, msgFailedDependency))
		}
	}

	f := s.opts.Faults
	switch {
	case s.chanceLocked(f.InnerThrottle):
		s.faultLocked(FaultInnerThrottle)
		s.stats.Throttled++
		e := newAPIError(http.StatusTooManyRequests, codeThrottled, msgThrottled)
		e.header = map[string]string{"Retry-After": "1"}
		return answer(e)
	case s.chanceLocked(f.InnerThrottleFractional):
		s.faultLocked(FaultInnerThrottleFractional)
		s.stats.Throttled++
		wait := 50*time.Millisecond + time.Duration(s.rng.Int64N(int64(450*time.Millisecond)))
		e := newAPIError(http.StatusTooManyRequests, codeThrottled, msgThrottled)
		e.header = map[string]string{"Retry-After": formatRetryAfter(wait, true)}
		return answer(e)
	case s.chanceLocked(f.Inner5xx):
		s.faultLocked(FaultInner5xx)
		st := innerStatuses[s.rng.IntN(len(innerStatuses))]
		return answer(newAPIError(st.status, st.code, st.message))
	}

	var body []byte
	if len(q.Body) > 0 && string(q.Body) != "null" {
		body = q.Body
	}
	o := op{
		method:      strings.ToUpper(q.Method),
		url:         q.URL,
		contentType: headerValue(q.Headers, "content-type"),
		body:        body,
		inBatch:     true,
		batchID:     q.ID,
	}
	resp.Status, resp.Headers, resp.Body = s.execLocked(o, c)
	return resp
}

// headerValue looks a header up without regard to the case of its name.
func headerValue(h map[string]string, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func (s *Sim) serveDirect(w http.ResponseWriter, r *http.Request, rc reqIDs, body []byte) {
	rel := strings.TrimPrefix(r.URL.EscapedPath(), "/v1.0")
	if r.URL.RawQuery != "" {
		rel += "?" + r.URL.RawQuery
	}
	if len(body) == 0 {
		body = nil
	}
	o := op{method: r.Method, url: rel, contentType: r.Header.Get("Content-Type"), body: body}
	c := opCtx{requestID: rc.requestID, errorRequestID: rc.requestID, clientRequestID: rc.clientRequestID, priority: rc.priority, base: rc.base, delegated: rc.delegated}
	s.mu.Lock()
	status, header, payload := s.execLocked(o, c)
	s.mu.Unlock()
	for k, v := range header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(status)
	_, _ = w.Write(payload)
}

// op is one Graph operation, from a $batch item or a direct request.
type op struct {
	method      string
	url         string // relative to /v1.0, as sent
	contentType string
	body        []byte // nil when there is none
	inBatch     bool
	batchID     string
}

// opCtx carries the ids an operation answers with, its throttle priority,
// and where the quota notes what it charged.
type opCtx struct {
	requestID       string // of the HTTP exchange; recorded in Change
	errorRequestID  string // innerError.request-id
	clientRequestID string
	priority        string     // x-ms-throttle-priority, as sent
	quota           *quotaNote // set by execLocked
	base            string     // scheme and host of the request, for Location headers
	delegated       bool       // the caller is a signed-in user, not an application
}

func jsonHeaders() map[string]string {
	return map[string]string{"Cache-Control": "no-cache", "Content-Type": odataJSON, "OData-Version": "4.0"}
}

func noContentHeaders() map[string]string {
	return map[string]string{"Cache-Control": "no-cache"}
}

// errorAnswer renders e as a status, headers and an envelope body.
func (s *Sim) errorAnswer(e *apiError, c opCtx) (int, map[string]string, []byte) {
	h := map[string]string{"Cache-Control": "no-cache", "Content-Type": "application/json"}
	for k, v := range e.header {
		h[k] = v
	}
	id := c.errorRequestID
	if id == "" {
		id = newGUID() // each failed item of a batch has its own innerError.request-id
	}
	return e.status, h, s.envelope(e, id, c.clientRequestID)
}

// execLocked runs one operation and renders its answer.
func (s *Sim) execLocked(o op, c opCtx) (int, map[string]string, []byte) {
	s.settleOperationsLocked()
	note := quotaNote{units: 1}
	c.quota = &note
	status, payload, aerr := s.opLocked(o, c)
	if aerr != nil {
		return s.errorAnswer(aerr, c)
	}
	if payload == nil {
		return status, s.usageHeaders(noContentHeaders(), note), nil
	}
	h := jsonHeaders()
	if a, ok := payload.(answer); ok {
		payload = a.payload
		for k, v := range a.header {
			h[k] = v
		}
	}
	b, _ := json.Marshal(payload)
	return status, s.usageHeaders(h, note), b
}

// opLocked runs one operation: request checks, routing, the write quota, then
// the user. It returns the status and a JSON payload (nil for none), or an error.
func (s *Sim) opLocked(o op, c opCtx) (int, any, *apiError) {
	switch o.method {
	case http.MethodPost, http.MethodPatch, http.MethodPut:
		// Graph refuses a bodyless write inside a batch, even one whose API takes
		// no body (https://github.com/microsoftgraph/msgraph-sdk-dotnet/issues/2628).
		if o.inBatch && (o.body == nil || o.contentType == "") {
			return 0, nil, badRequest(fmt.Sprintf(msgNoContentType, o.batchID))
		}
		if !o.inBatch && o.method == http.MethodPatch && o.body == nil {
			return 0, nil, badRequest(msgEmptyPayload)
		}
	}
	// A batch item's body was checked as part of the batch's JSON; only
	// its being an object is left to check.
	if o.body != nil && !(o.inBatch && bytes.HasPrefix(bytes.TrimSpace(o.body), []byte("{"))) && !isJSONObject(o.body) {
		return 0, nil, badRequest(msgUnreadableJSON)
	}
	if isAuditURL(o.url) {
		return s.listAuditsLocked(o, c)
	}
	if isOrganizationURL(o.url) {
		return s.organizationLocked(o, c)
	}
	if ok, query, aerr := isDomainsURL(o.url); ok {
		if aerr == nil && o.method != http.MethodGet {
			aerr = newAPIError(http.StatusMethodNotAllowed, codeRequestBad, msgMethod)
		}
		if aerr != nil {
			return 0, nil, aerr
		}
		return s.listDomainsLocked(query, c)
	}
	t, aerr := parseUserURL(o.url)
	if aerr != nil {
		return 0, nil, aerr
	}
	switch {
	case t.action == "" && o.method == http.MethodGet:
		return s.getUserLocked(t, c)
	case t.action == "" && o.method == http.MethodPatch:
		return s.patchUserLocked(t, o.body, c)
	case t.action == actionRevoke && o.method == http.MethodPost:
		return s.revokeLocked(t, c)
	case t.action == actionResetPassword && o.method == http.MethodPost:
		return s.resetPasswordLocked(t, o.body, c)
	case t.action == actionOperation && o.method == http.MethodGet:
		return s.getOperationLocked(t, c)
	}
	return 0, nil, newAPIError(http.StatusMethodNotAllowed, codeRequestBad, msgMethod)
}

// isJSONObject reports whether b is one valid JSON object.
func isJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

// spendWriteLocked counts a write against the quotas: one resource unit
// and one write (https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits).
func (s *Sim) spendWriteLocked(c opCtx) *apiError { return s.chargeLocked(c, 1, 1) }

func notFound(key string) *apiError {
	return newAPIError(http.StatusNotFound, codeNotFound, fmt.Sprintf(msgNotFound, key))
}

// userProperties are the properties GET can return, with their values.
var userProperties = []struct {
	name  string
	value func(u *User) any
}{
	{"id", func(u *User) any { return u.ID }},
	{"userPrincipalName", func(u *User) any { return u.UPN }},
	{"displayName", func(u *User) any { return u.DisplayName }},
	{"accountEnabled", func(u *User) any { return u.AccountEnabled() }},
	{"onPremisesSyncEnabled", func(u *User) any {
		if u.Kind == KindSynced {
			return true
		}
		return nil // never synced
	}},
	{"userType", func(u *User) any {
		if u.Kind == KindGuest {
			return "Guest"
		}
		return "Member"
	}},
	{"lastPasswordChangeDateTime", func(u *User) any { return graphTime(u.PasswordChangedAt) }},
	{"signInSessionsValidFromDateTime", func(u *User) any { return graphTime(u.SessionsRevokedAt) }},
	{"businessPhones", func(*User) any { return []string{} }},
	{"givenName", func(*User) any { return nil }},
	{"surname", func(*User) any { return nil }},
	{"jobTitle", func(*User) any { return nil }},
	{"mail", func(*User) any { return nil }},
	{"mobilePhone", func(*User) any { return nil }},
	{"officeLocation", func(*User) any { return nil }},
	{"preferredLanguage", func(*User) any { return nil }},
}

// defaultProperties are what Graph v1.0 returns for a user without $select.
var defaultProperties = []string{"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone", "officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id"}

func (s *Sim) getUserLocked(t target, c opCtx) (int, any, *apiError) {
	s.stats.Reads++
	// GET /users/{id} costs one resource unit ($select takes one off, but a
	// cost is never below 1), and no write.
	if aerr := s.chargeLocked(c, 1, 0); aerr != nil {
		return 0, nil, aerr
	}
	u := s.lookupLocked(t.key)
	if u == nil {
		return 0, nil, notFound(t.key)
	}
	names := defaultProperties
	odataContext := metadataBase + "users/$entity"
	sel := t.query.Get("$select")
	if sel == "" {
		sel = t.query.Get("select")
	}
	if sel != "" {
		names = nil
		for _, raw := range strings.Split(sel, ",") {
			name := strings.TrimSpace(raw)
			if name == "" {
				return 0, nil, badRequest(msgQuerySyntax)
			}
			canonical := ""
			for _, p := range userProperties {
				if strings.EqualFold(p.name, name) {
					canonical = p.name
				}
			}
			if canonical == "" {
				return 0, nil, badRequest(fmt.Sprintf(msgSelectProperty, name))
			}
			names = append(names, canonical)
		}
		odataContext = metadataBase + "users(" + strings.Join(names, ",") + ")/$entity"
	}
	out := map[string]any{"@odata.context": odataContext}
	for _, name := range names {
		for _, p := range userProperties {
			if p.name == name {
				out[name] = p.value(u)
			}
		}
	}
	return http.StatusOK, out, nil
}

// passwordProfile is the PATCH body's passwordProfile
// (https://learn.microsoft.com/graph/api/resources/passwordprofile).
type passwordProfile struct {
	Password                             *string `json:"password"`
	ForceChangePasswordNextSignIn        *bool   `json:"forceChangePasswordNextSignIn"`
	ForceChangePasswordNextSignInWithMfa *bool   `json:"forceChangePasswordNextSignInWithMfa"`
}

func (s *Sim) patchUserLocked(t target, body []byte, c opCtx) (int, any, *apiError) {
	patch, aerr := readPatch(body)
	if aerr != nil {
		return 0, nil, aerr
	}
	// The write quota is evaluated before the request reaches the directory, so
	// a write to a missing user costs a token too.
	if aerr := s.spendWriteLocked(c); aerr != nil {
		return 0, nil, aerr
	}
	if aerr := s.deniedLocked(patch.kind()); aerr != nil {
		return 0, nil, aerr
	}
	u := s.lookupLocked(t.key)
	if u == nil {
		return 0, nil, notFound(t.key)
	}
	if patch.bad != nil {
		return 0, nil, patch.bad
	}
	if !patch.present && patch.enabled != nil {
		status, payload, aerr := s.setAccountEnabledLocked(u, *patch.enabled)
		if aerr == nil {
			s.recordAuditLocked(c, u, ActivityUpdateUser, ServiceCoreDirectory, "AccountEnabled")
		}
		return status, payload, aerr
	}
	if !patch.present {
		return http.StatusNoContent, nil, nil // nothing to change
	}
	pp := patch.profile
	switch {
	case s.failure(u, WriteReset) != nil:
		return 0, nil, s.failure(u, WriteReset)
	case u.Kind == KindAdmin:
		return 0, nil, newAPIError(http.StatusForbidden, codeDenied, msgDenied)
	case u.Kind == KindSynced:
		return 0, nil, newAPIError(http.StatusBadRequest, codeRequestBad, msgSynced)
	case s.federatedLocked(u.UPN):
		return 0, nil, newAPIError(http.StatusBadRequest, codeRequestBad, msgFederated)
	case pp.Password != nil && !passwordAllowed(*pp.Password, u, s.opts.TenantDomain):
		return 0, nil, newAPIError(http.StatusBadRequest, codeRequestBad, msgComplexity)
	}

	if pp.Password != nil {
		u.Password = *pp.Password
		u.PasswordSets++
		u.PasswordChangedAt = s.now()
		s.recordAuditLocked(c, u, ActivityResetUserPassword, ServiceCoreDirectory)
	} else {
		// Only the flags: no password change, and not logged as one.
		s.recordAuditLocked(c, u, ActivityUpdatePassword, ServiceCoreDirectory, "PasswordProfile")
	}
	if pp.Password != nil {
		// Sent without the flag, the flag reportedly becomes true
		// (https://github.com/microsoftgraph/entra-powershell/issues/1581).
		u.ForceChangePasswordNextSignIn = true
	}
	if pp.ForceChangePasswordNextSignIn != nil {
		u.ForceChangePasswordNextSignIn = *pp.ForceChangePasswordNextSignIn
	}
	if pp.ForceChangePasswordNextSignInWithMfa != nil {
		u.ForceChangePasswordNextSignInWithMfa = *pp.ForceChangePasswordNextSignInWithMfa
	}
	change := Change{
		UserID:                               u.ID,
		UPN:                                  u.UPN,
		ForceChangePasswordNextSignIn:        u.ForceChangePasswordNextSignIn,
		ForceChangePasswordNextSignInWithMfa: u.ForceChangePasswordNextSignInWithMfa,
		At:                                   s.now(),
		RequestID:                            c.requestID,
	}
	if pp.Password != nil {
		change.Password = *pp.Password
	}
	s.changes = append(s.changes, change)
	s.stats.WritesApplied++
	return http.StatusNoContent, nil, nil
}

func (s *Sim) revokeLocked(t target, c opCtx) (int, any, *apiError) {
	if aerr := s.spendWriteLocked(c); aerr != nil {
		return 0, nil, aerr
	}
	if aerr := s.deniedLocked(WriteRevoke); aerr != nil {
		return 0, nil, aerr
	}
	u := s.lookupLocked(t.key)
	if u == nil {
		return 0, nil, notFound(t.key)
	}
	if e := s.failure(u, WriteRevoke); e != nil {
		return 0, nil, e
	}
	// An application with User.RevokeSessions.All revokes the sessions of
	// any user, administrators included: the permission needs no
	// directory role (https://learn.microsoft.com/graph/api/user-revokesigninsessions).
	u.SessionsRevoked++
	u.SessionsRevokedAt = s.now()
	s.recordAuditLocked(c, u, ActivityRevokeSessions, ServiceCoreDirectory, "StsRefreshTokensValidFrom")
	s.stats.WritesApplied++
	return http.StatusOK, map[string]any{"@odata.context": metadataBase + "Edm.Boolean", "value": true}, nil
}

// accountCreated is when every emulated account was created: its
// lastPasswordChangeDateTime and signInSessionsValidFromDateTime until a
// change sets them.
var accountCreated = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// graphTime renders a user's date-time property as Graph does: UTC, whole
// seconds; the zero time is accountCreated.
func graphTime(t time.Time) string {
	if t.IsZero() {
		t = accountCreated
	}
	return t.UTC().Format(time.RFC3339)
}
