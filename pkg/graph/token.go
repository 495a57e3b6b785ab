package graph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

const (
	// refreshMargin is how long before expiry a token is renewed, as azcore
	// and MSAL do.
	refreshMargin = 5 * time.Minute
	// eagerRefreshBackoff spaces early renewal attempts while the current
	// token is still valid, as azcore's temporal.Resource does.
	eagerRefreshBackoff = 30 * time.Second
)

// tokenSource caches the access token so that every request does not call
// the credential (AzureCLICredential, for one, runs the az command on every
// GetToken), and renews it before it expires or when Graph rejects it.
type tokenSource struct {
	cred  azcore.TokenCredential
	scope string
	now   func() time.Time

	// sem is a one-slot lock that a waiting caller can abandon when its
	// context ends; it guards the fields below.
	sem         chan struct{}
	tok         azcore.AccessToken
	lastAttempt time.Time
	renewedFrom string // the rejected token the last renew asked about
}

// newTokenSource returns a tokenSource for scope.
func newTokenSource(cred azcore.TokenCredential, scope string, now func() time.Time) *tokenSource {
	return &tokenSource{cred: cred, scope: scope, now: now, sem: make(chan struct{}, 1)}
}

// lock takes the lock, or gives up when ctx ends.
func (s *tokenSource) lock(ctx context.Context) error {
	select {
	case s.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("graph: waiting for an access token: %w", ctx.Err())
	}
}

// unlock releases the lock.
func (s *tokenSource) unlock() { <-s.sem }

// get returns a valid token: the cached one, or a new one when it is
// missing or expired. Within refreshMargin of expiry (or after RefreshOn)
// it tries to renew early, at most every eagerRefreshBackoff, and keeps the
// current token if that fails.
func (s *tokenSource) get(ctx context.Context) (string, error) {
	if err := s.lock(ctx); err != nil {
		return "", err
	}
	defer s.unlock()
	now := s.now()
	switch {
	case s.tok.Token == "" || !now.Before(s.tok.ExpiresOn):
		if err := s.fetch(ctx, ""); err != nil {
			return "", err
		}
	case s.refreshDue(now) && now.Sub(s.lastAttempt) >= eagerRefreshBackoff:
		_ = s.fetch(ctx, "") // the current token is still valid; try again later
	}
	return s.tok.Token, nil
}

// refreshDue reports whether the cached token should be renewed early.
func (s *tokenSource) refreshDue(now time.Time) bool {
	if !s.tok.RefreshOn.IsZero() {
		return !now.Before(s.tok.RefreshOn)
	}
	return !now.Before(s.tok.ExpiresOn.Add(-refreshMargin))
}

// renew asks the credential again after Graph rejected the token rejected,
// passing claims from a claims challenge when there was one. Concurrent 401s
// for the same token cost one renewal: if another caller has renewed it
// meanwhile, that token is returned; if another caller has just asked about
// the same token without claims and got it back unchanged (MSAL's cache, see
// Client.sendWith), asking again within eagerRefreshBackoff would not
// change the answer.
func (s *tokenSource) renew(ctx context.Context, rejected, claims string) (string, error) {
	if err := s.lock(ctx); err != nil {
		return "", err
	}
	defer s.unlock()
	now := s.now()
	valid := s.tok.Token != "" && now.Before(s.tok.ExpiresOn)
	switch {
	case valid && s.tok.Token != rejected:
		return s.tok.Token, nil
	case valid && claims == "" && s.renewedFrom == rejected && now.Sub(s.lastAttempt) < eagerRefreshBackoff:
		return s.tok.Token, nil
	}
	if err := s.fetch(ctx, claims); err != nil {
		return "", err
	}
	s.renewedFrom = rejected
	return s.tok.Token, nil
}

// fetch calls the credential and stores the token; the lock is held.
func (s *tokenSource) fetch(ctx context.Context, claims string) error {
	s.lastAttempt = s.now()
	tok, err := s.cred.GetToken(ctx, policy.TokenRequestOptions{
		Scopes:    []string{s.scope},
		Claims:    claims,
		EnableCAE: true,
	})
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("graph: getting an access token: %w", ctx.Err())
		}
		return fmt.Errorf("graph: %w: getting an access token for %s: %w", ErrAuthentication, s.scope, err)
	}
	if tok.Token == "" {
		return fmt.Errorf("graph: %w: the credential returned an empty access token", ErrAuthentication)
	}
	s.tok = tok
	return nil
}

var (
	// challengeRE matches one challenge with quoted parameters: scheme, params.
	challengeRE = regexp.MustCompile(`(\w+) ((?:\w+="[^"]*",?\s*)+)`)
	// paramRE matches one key="value" parameter.
	paramRE = regexp.MustCompile(`(\w+)="([^"]*)"`)
)

// claimsChallenge returns the decoded claims of a Continuous Access
// Evaluation challenge among WWW-Authenticate values
// (Bearer ... error="insufficient_claims", claims="<base64 JSON>"), or ""
// when there is none or its claims are not a base64-encoded JSON object.
func claimsChallenge(values []string) string {
	for _, h := range values {
		for _, m := range challengeRE.FindAllStringSubmatch(h, -1) {
			if !strings.EqualFold(m[1], "Bearer") {
				continue
			}
			params := map[string]string{}
			for _, p := range paramRE.FindAllStringSubmatch(m[2], -1) {
				params[strings.ToLower(p[1])] = p[2]
			}
			if params["error"] != "insufficient_claims" || params["claims"] == "" {
				continue
			}
			if claims := decodeClaims(params["claims"]); claims != "" {
				return claims
			}
		}
	}
	return ""
}

// decodeClaims decodes base64 (padded or not) claims and checks they are a
// JSON object.
func decodeClaims(v string) string {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		b, err := enc.DecodeString(v)
		if err != nil {
			continue
		}
		var obj map[string]any
		if json.Unmarshal(b, &obj) == nil && obj != nil {
			return string(b)
		}
	}
	return ""
}
