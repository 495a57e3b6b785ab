package graphsim

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The token endpoint emulates what MSAL Go (under azidentity) needs for the
// client-credentials flow against a custom authority with instance discovery
// disabled: it GETs /{tenant}/v2.0/.well-known/openid-configuration, which must
// name authorization_endpoint, token_endpoint and an issuer on the authority's
// host (MSAL's authority.TenantDiscoveryResponse.Validate and
// ValidateIssuerMatchesAuthority), then POSTs a form to token_endpoint
// (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow).

const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Refusal makes the token endpoint refuse the app's token requests as
// Entra does for a state of the app registration or of the tenant that no
// request shows: a client secret past its end date, a multi-tenant app with
// no service principal in the tenant, an app whose permissions nobody
// consented to. A wrong secret, an unknown app or tenant and a certificate
// not registered or expired need no Refusal: the request shows them.
// Codes and texts: https://learn.microsoft.com/entra/identity-platform/reference-error-codes
// and the answers users report (AADSTS7000222 in
// https://github.com/MicrosoftDocs/azure-docs/issues/48669).
type Refusal string

const (
	// RefuseSecretExpired answers a request with the right client secret
	// AADSTS7000222 (invalid_client, 401): the secret is expired.
	RefuseSecretExpired Refusal = "secret_expired"
	// RefuseNoServicePrincipal answers a client-credentials request
	// AADSTS7000229 (invalid_client, 400): the app has no service
	// principal in the tenant (it was never consented there).
	RefuseNoServicePrincipal Refusal = "no_service_principal"
	// RefuseNotConsented answers every grant AADSTS65001 (invalid_grant,
	// 400): no administrator consented to the app's permissions.
	RefuseNotConsented Refusal = "not_consented"
)

// refusing is the Refusal in force: Options.Refuse once
// Options.RefuseAfter tokens were issued.
func (s *Sim) refusing() Refusal {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stats.TokensIssued < s.opts.RefuseAfter {
		return ""
	}
	return s.opts.Refuse
}

// refuseConsent answers AADSTS65001 for clientID.
func (s *Sim) refuseConsent(w http.ResponseWriter, r *http.Request, clientID string) {
	s.aadError(w, r, http.StatusBadRequest, "invalid_grant", 65001, fmt.Sprintf("The user or administrator has not consented to use the application with ID '%s' named 'bulkreset'. Send an interactive authorization request for this user and resource.", clientID))
}

// refuseTenant answers for a tenant the Sim does not know: AADSTS90002
// (tenant not found) for a GUID or a domain name, AADSTS900023 for a
// value that is neither.
func (s *Sim) refuseTenant(w http.ResponseWriter, r *http.Request, tenant, oauthError string) {
	if !isGUID(tenant) && !strings.Contains(tenant, ".") {
		s.aadError(w, r, http.StatusBadRequest, "invalid_request", 900023, fmt.Sprintf("Specified tenant identifier '%s' is neither a valid DirectoryName nor a valid ObjectId.", tenant))
		return
	}
	s.aadError(w, r, http.StatusBadRequest, oauthError, 90002, tenantNotFound(tenant))
}

// isGUID reports whether v is a GUID in its 8-4-4-4-12 hex form.
func isGUID(v string) bool {
	if len(v) != 36 {
		return false
	}
	for i, c := range v {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}

// assertionSkew is how far a client assertion's exp may be in the past.
const assertionSkew = 5 * time.Minute

func (s *Sim) tenantKnown(t string) bool {
	return strings.EqualFold(t, s.opts.TenantID) || strings.EqualFold(t, s.opts.TenantDomain)
}

// baseURL is the scheme and host the client used, so that the issuer and
// endpoints are on the authority's host.
func baseURL(r *http.Request) string {
	if r.TLS == nil {
		return "http://" + r.Host
	}
	return "https://" + r.Host
}

// startEntraResponse sets the ids Entra answers with: x-ms-request-id (the
// trace id of error descriptions) and the client's client-request-id.
func startEntraResponse(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-ms-request-id", newGUID())
	if crid := r.Header.Get("client-request-id"); crid != "" {
		w.Header().Set("client-request-id", crid)
	}
}

func (s *Sim) serveOpenIDConfiguration(w http.ResponseWriter, r *http.Request, tenant string) {
	startEntraResponse(w, r)
	if !s.tenantKnown(tenant) {
		s.refuseTenant(w, r, tenant, "invalid_tenant")
		return
	}
	authority := baseURL(r) + "/" + s.opts.TenantID
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        authority + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              authority + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                authority + "/v2.0",
		"authorization_endpoint":                authority + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         authority + "/oauth2/v2.0/devicecode",
		"end_session_endpoint":                  authority + "/oauth2/v2.0/logout",
		"tenant_region_scope":                   "NA",
		"cloud_instance_name":                   "microsoftonline.com",
		"msgraph_host":                          "graph.microsoft.com",
	})
}

func tenantNotFound(tenant string) string {
	return fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", tenant)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store, no-cache")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// aadError answers with Entra's OAuth error JSON; description never contains
// anything the client sent except identifiers.
func (s *Sim) aadError(w http.ResponseWriter, r *http.Request, status int, code string, aadsts int, description string) {
	trace := w.Header().Get("x-ms-request-id")
	corr := r.Header.Get("client-request-id")
	if corr == "" {
		corr = newGUID()
	}
	ts := s.now().UTC().Format("2006-01-02 15:04:05Z")
	writeJSON(w, status, map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", aadsts, description, trace, corr, ts),
		"error_codes":       []int{aadsts},
		"timestamp":         ts,
		"trace_id":          trace,
		"correlation_id":    corr,
		"error_uri":         baseURL(r) + "/error?code=" + strconv.Itoa(aadsts),
	})
}

// oidcScopes are the scopes MSAL adds to every request; they name no resource.
var oidcScopes = map[string]bool{"openid": true, "offline_access": true, "profile": true}

func (s *Sim) serveToken(w http.ResponseWriter, r *http.Request, tenant string) {
	startEntraResponse(w, r)
	missing := func(param string) {
		s.aadError(w, r, http.StatusBadRequest, "invalid_request", 900144, fmt.Sprintf("The request body must contain the following parameter: '%s'.", param))
	}
	if !s.acceptForm(w, r, tenant) {
		return
	}
	if err := r.ParseForm(); err != nil {
		missing("grant_type")
		return
	}
	form := r.PostForm
	grant, clientID, scope := form.Get("grant_type"), form.Get("client_id"), form.Get("scope")
	switch {
	case grant == "":
		missing("grant_type")
		return
	case grant == grantDeviceCode || grant == grantDeviceCodeShort || grant == grantRefreshToken:
		if !strings.EqualFold(clientID, s.opts.ClientID) {
			s.aadError(w, r, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'.", clientID, tenant))
			return
		}
		if s.refusing() == RefuseNotConsented {
			s.refuseConsent(w, r, clientID)
			return
		}
		s.serveDelegatedToken(w, r, form, grant, scope)
		return
	case grant != "client_credentials":
		s.aadError(w, r, http.StatusBadRequest, "unsupported_grant_type", 70003, fmt.Sprintf("The app requested an unsupported grant type '%s'.", grant))
		return
	case clientID == "":
		missing("client_id")
		return
	case !strings.EqualFold(clientID, s.opts.ClientID):
		s.aadError(w, r, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", clientID, tenant))
		return
	case s.refusing() == RefuseNoServicePrincipal:
		s.aadError(w, r, http.StatusBadRequest, "invalid_client", 7000229, fmt.Sprintf("The client application %s is missing service principal in the tenant %s. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119", clientID, s.opts.TenantID))
		return
	case s.refusing() == RefuseNotConsented:
		s.refuseConsent(w, r, clientID)
		return
	case scope == "":
		missing("scope")
		return
	case !validClientCredentialsScope(scope):
		s.aadError(w, r, http.StatusBadRequest, "invalid_scope", 1002012, fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", scope))
		return
	}

	secret, assertion := form.Get("client_secret"), form.Get("client_assertion")
	switch {
	case secret != "":
		if subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) != 1 {
			s.aadError(w, r, http.StatusUnauthorized, "invalid_client", 7000215, fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", s.opts.ClientID))
			return
		}
		if s.refusing() == RefuseSecretExpired {
			s.aadError(w, r, http.StatusUnauthorized, "invalid_client", 7000222, fmt.Sprintf("The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", s.opts.ClientID))
			return
		}
	case assertion != "":
		if form.Get("client_assertion_type") != clientAssertionType {
			s.aadError(w, r, http.StatusBadRequest, "invalid_request", 50027, "Invalid client_assertion_type.")
			return
		}
		if err := s.verifyAssertion(assertion); err != nil {
			var ae *assertionError
			if errors.As(err, &ae) {
				s.aadError(w, r, http.StatusUnauthorized, "invalid_client", ae.code, ae.description)
				return
			}
			s.aadError(w, r, http.StatusUnauthorized, "invalid_client", 700027, "Client assertion failed signature validation or its claims are not valid.")
			return
		}
	default:
		s.aadError(w, r, http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	}

	tok := s.issueAppToken()
	secs := max(int64(s.opts.TokenLifetime/time.Second), 1)
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     secs,
		"ext_expires_in": secs,
		"access_token":   tok,
	})
}

// issueAppToken makes and records an application (not delegated) access
// token.
func (s *Sim) issueAppToken() string {
	tok := newToken()
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for t, exp := range s.tokens {
		if now.Sub(exp) > s.opts.TokenLifetime { // long expired: forget it
			delete(s.tokens, t)
		}
	}
	s.tokens[tok] = now.Add(s.opts.TokenLifetime)
	if len(s.issued) == maxIssuedKept {
		s.issued = s.issued[1:]
	}
	s.issued = append(s.issued, tok)
	s.stats.TokensIssued++
	return tok
}

// acceptForm checks what every Entra form endpoint checks first, a POST to a
// known tenant, and limits the body; false means it answered with an error.
func (s *Sim) acceptForm(w http.ResponseWriter, r *http.Request, tenant string) bool {
	if r.Method != http.MethodPost {
		s.aadError(w, r, http.StatusBadRequest, "invalid_request", 900561, fmt.Sprintf("The endpoint only accepts POST, OPTIONS requests. Received a %s request.", r.Method))
		return false
	}
	if !s.tenantKnown(tenant) {
		s.refuseTenant(w, r, tenant, "invalid_request")
		return false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	return true
}

// validClientCredentialsScope requires one or more resource scopes, each ending
// in /.default (AADSTS1002012), besides the OIDC scopes MSAL always adds.
func validClientCredentialsScope(scope string) bool {
	resources := 0
	for _, sc := range strings.Fields(scope) {
		if oidcScopes[sc] {
			continue
		}
		if !strings.HasSuffix(sc, "/.default") || sc == "/.default" {
			return false
		}
		resources++
	}
	return resources > 0
}

// newToken returns an opaque random access token.
func newToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// assertion is a parsed client assertion (a JWS compact serialisation).
type assertion struct {
	alg        string
	thumbprint string // the certificate's thumbprint from x5t#S256 or x5t, upper-case hex

	issuer       string
	subject      string
	audience     string
	expires      time.Time
	signingInput string
	signature    []byte
}

var errAssertion = errors.New("graphsim: malformed client assertion")

// parseAssertion reads header.claims.signature without verifying anything.
func parseAssertion(jws string) (assertion, error) {
	parts := strings.Split(jws, ".")
	if len(parts) != 3 {
		return assertion{}, errAssertion
	}
	var header struct {
		Alg       string `json:"alg"`
		X5T       string `json:"x5t"`
		X5TSHA256 string `json:"x5t#S256"`
	}
	var claims struct {
		Iss string          `json:"iss"`
		Sub string          `json:"sub"`
		Aud json.RawMessage `json:"aud"`
		Exp json.Number     `json:"exp"`
	}
	for i, dst := range []any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return assertion{}, fmt.Errorf("%w: part %d: %w", errAssertion, i, err)
		}
		if err := json.Unmarshal(b, dst); err != nil {
			return assertion{}, fmt.Errorf("%w: part %d: %w", errAssertion, i, err)
		}
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return assertion{}, fmt.Errorf("%w: signature: %w", errAssertion, err)
	}
	exp, err := strconv.ParseFloat(claims.Exp.String(), 64)
	if err != nil || exp < 0 || exp > 1<<40 {
		return assertion{}, fmt.Errorf("%w: exp", errAssertion)
	}
	a := assertion{
		alg:          header.Alg,
		thumbprint:   thumbprint(header.X5TSHA256, header.X5T),
		issuer:       claims.Iss,
		subject:      claims.Sub,
		expires:      time.Unix(int64(exp), 0),
		signingInput: parts[0] + "." + parts[1],
		signature:    sig,
	}
	// aud is a string or an array of strings.
	var auds []string
	if json.Unmarshal(claims.Aud, &a.audience) != nil {
		if json.Unmarshal(claims.Aud, &auds) != nil || len(auds) == 0 {
			return assertion{}, fmt.Errorf("%w: aud", errAssertion)
		}
		a.audience = auds[0]
	}
	return a, nil
}

// thumbprint is the upper-case hex of the first base64url thumbprint that
// decodes, or "".
func thumbprint(encoded ...string) string {
	for _, e := range encoded {
		if b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(e, "=")); err == nil && len(b) > 0 {
			return strings.ToUpper(hex.EncodeToString(b))
		}
	}
	return ""
}

// assertionError is a client assertion Entra refuses with its own AADSTS
// code and description.
type assertionError struct {
	code        int
	description string
}

func (e *assertionError) Error() string {
	return fmt.Sprintf("graphsim: AADSTS%d: %s", e.code, e.description)
}

// verifyAssertion checks a client assertion's claims (issuer and subject are
// the client ID, the audience a token endpoint, not expired) and, when
// Options.ClientCertificates is set, its RS256 or PS256 signature, by a
// certificate within its validity: as Entra, a signature by no registered
// certificate is AADSTS700027 (the key was not found), and one by a
// registered certificate past its end date AADSTS1000502.
func (s *Sim) verifyAssertion(jws string) error {
	a, err := parseAssertion(jws)
	if err != nil {
		return err
	}
	now := s.now()
	switch {
	case !strings.EqualFold(a.issuer, s.opts.ClientID) || !strings.EqualFold(a.subject, s.opts.ClientID):
		return errors.New("graphsim: client assertion iss or sub is not the client ID")
	case !strings.HasSuffix(a.audience, "/oauth2/v2.0/token"):
		return errors.New("graphsim: client assertion aud is not a token endpoint")
	case now.After(a.expires.Add(assertionSkew)):
		return &assertionError{700024, fmt.Sprintf("Client assertion is not within its valid time range. Current time: %s, expiry time of assertion %s. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials",
			now.UTC().Format("2006-01-02T15:04:05.0000000Z"), a.expires.UTC().Format("2006-01-02T15:04:05.0000000Z"))}
	}
	if len(s.opts.ClientCertificates) == 0 {
		return nil
	}
	digest := sha256.Sum256([]byte(a.signingInput))
	for _, cert := range s.opts.ClientCertificates {
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			continue
		}
		switch a.alg {
		case "RS256":
			err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], a.signature)
		case "PS256":
			err = rsa.VerifyPSS(pub, crypto.SHA256, digest[:], a.signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
		default:
			return fmt.Errorf("graphsim: client assertion algorithm %q is not supported", a.alg)
		}
		if err == nil {
			if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
				return &assertionError{1000502, "The provided certificate is not within its specified validity window."}
			}
			return nil
		}
	}
	return &assertionError{700027, fmt.Sprintf("The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '%s', "+
		"Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments to determine the corresponding service endpoint and "+
		"https://docs.microsoft.com/en-us/graph/api/application-get?view=graph-rest-1.0&tabs=http to build a query request URL, such as 'https://graph.microsoft.com/beta/applications/%s']", a.thumbprint, s.opts.ClientID, s.opts.ClientID)}
}

// serveManagedIdentity is an Azure App Service managed-identity endpoint
// (GET IDENTITY_ENDPOINT?api-version=2019-08-01&resource=..., header
// X-IDENTITY-HEADER), as MSAL's managed-identity client calls it:
// https://learn.microsoft.com/azure/app-service/overview-managed-identity#rest-endpoint-reference.
// It issues application tokens for Options.ManagedIdentity; a host with no
// identity assigned, or a client_id that is not its identity's, is a 400
// whose message App Service users report.
func (s *Sim) serveManagedIdentity(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	fail := func(status int, message string) {
		writeJSON(w, status, map[string]any{"statusCode": status, "message": message, "correlationId": newGUID()})
	}
	switch {
	case r.Method != http.MethodGet:
		fail(http.StatusMethodNotAllowed, "The requested resource does not support http method '"+r.Method+"'.")
		return
	case r.Header.Get("X-IDENTITY-HEADER") == "":
		fail(http.StatusUnauthorized, "The X-IDENTITY-HEADER header is missing.")
		return
	case q.Get("resource") == "":
		fail(http.StatusBadRequest, "The resource parameter is missing.")
		return
	case s.opts.ManagedIdentity == "",
		q.Get("client_id") != "" && !strings.EqualFold(q.Get("client_id"), s.opts.ManagedIdentity),
		q.Get("mi_res_id") != "", q.Get("principal_id") != "":
		fail(http.StatusBadRequest, "Unable to load the proper Managed Identity.")
		return
	}
	tok := s.issueAppToken()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"expires_on":   strconv.FormatInt(s.now().Add(s.opts.TokenLifetime).Unix(), 10),
		"resource":     q.Get("resource"),
		"token_type":   "Bearer",
		"client_id":    s.opts.ManagedIdentity,
	})
}

// ManagedIdentityPath is the path of the App Service managed-identity
// endpoint: IDENTITY_ENDPOINT is the Sim's URL and this path.
const ManagedIdentityPath = "/msi/token"
