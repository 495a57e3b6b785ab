package graphsim

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
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
		s.aadError(w, r, http.StatusBadRequest, "invalid_tenant", 90002, tenantNotFound(tenant))
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
	case assertion != "":
		if form.Get("client_assertion_type") != clientAssertionType {
			s.aadError(w, r, http.StatusBadRequest, "invalid_request", 50027, "Invalid client_assertion_type.")
			return
		}
		if err := s.verifyAssertion(assertion); err != nil {
			s.aadError(w, r, http.StatusUnauthorized, "invalid_client", 700027, "Client assertion failed signature validation or its claims are not valid.")
			return
		}
	default:
		s.aadError(w, r, http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	}

	tok := newToken()
	now := s.now()
	s.mu.Lock()
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
	s.mu.Unlock()

	secs := max(int64(s.opts.TokenLifetime/time.Second), 1)
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"expires_in":     secs,
		"ext_expires_in": secs,
		"access_token":   tok,
	})
}

// acceptForm checks what every Entra form endpoint checks first, a POST to a
// known tenant, and limits the body; false means it answered with an error.
func (s *Sim) acceptForm(w http.ResponseWriter, r *http.Request, tenant string) bool {
	if r.Method != http.MethodPost {
		s.aadError(w, r, http.StatusBadRequest, "invalid_request", 900561, fmt.Sprintf("The endpoint only accepts POST, OPTIONS requests. Received a %s request.", r.Method))
		return false
	}
	if !s.tenantKnown(tenant) {
		s.aadError(w, r, http.StatusBadRequest, "invalid_request", 90002, tenantNotFound(tenant))
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
	alg          string
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
		Alg string `json:"alg"`
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

// verifyAssertion checks a client assertion's claims (issuer and subject are
// the client ID, the audience a token endpoint, not expired) and, when
// Options.ClientCertificates is set, its RS256 or PS256 signature.
func (s *Sim) verifyAssertion(jws string) error {
	a, err := parseAssertion(jws)
	if err != nil {
		return err
	}
	switch {
	case !strings.EqualFold(a.issuer, s.opts.ClientID) || !strings.EqualFold(a.subject, s.opts.ClientID):
		return errors.New("graphsim: client assertion iss or sub is not the client ID")
	case !strings.HasSuffix(a.audience, "/oauth2/v2.0/token"):
		return errors.New("graphsim: client assertion aud is not a token endpoint")
	case s.now().After(a.expires.Add(assertionSkew)):
		return errors.New("graphsim: client assertion has expired")
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
			return nil
		}
	}
	return errors.New("graphsim: client assertion signature does not verify with any configured certificate")
}
