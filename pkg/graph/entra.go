package graph

import (
	"errors"
	"strconv"
)

// EntraError is what Entra's token endpoint answered when a token request
// failed: its OAuth error and its AADSTS codes. Its description is not
// kept: a token endpoint (or something posing as one) can write anything
// there, the client secret it was sent included.
type EntraError struct {
	Status     int
	OAuthError string // the OAuth error, such as "unauthorized_client"
	Codes      []int  // error_codes, such as 700016
}

// Has reports whether Entra answered with the AADSTS code c.
func (e *EntraError) Has(c int) bool {
	for _, x := range e.Codes {
		if x == c {
			return true
		}
	}
	return false
}

// AsEntraError returns the token endpoint's answer carried by err (a
// *TokenError from a credential made by NewCredential, wrapped), or false
// when err has none (a network failure, a credential that never reached
// Entra, an answer that was not an OAuth error).
func AsEntraError(err error) (*EntraError, bool) {
	var te *TokenError
	if !errors.As(err, &te) || te.entra == nil {
		return nil, false
	}
	return te.entra, true
}

// SignInCause is what an administrator must fix after a failed sign-in,
// read from the AADSTS codes Entra answered or from which credential
// failed how. A command line words each as what to set or do (it knows
// its flags); this package only tells them apart.
type SignInCause int

// The causes DiagnoseSignIn tells apart. Codes:
// https://learn.microsoft.com/entra/identity-platform/reference-error-codes
// and what users report for the codes it leaves out.
const (
	CauseUnknown SignInCause = iota
	// CauseNoCredential: --auth auto found nothing to sign in with (every
	// credential of azidentity's chain was unavailable).
	CauseNoCredential
	// CauseWrongSecret: AADSTS7000215, the client secret is not one of the
	// app's (often its Secret ID given for its Value).
	CauseWrongSecret
	// CauseSecretExpired: AADSTS7000222.
	CauseSecretExpired
	// CauseCertificateNotRegistered: AADSTS700027, the certificate's key
	// is not one of the app's (or the assertion's signature is wrong).
	CauseCertificateNotRegistered
	// CauseCertificateExpired: AADSTS1000502, the certificate is outside
	// its validity.
	CauseCertificateExpired
	// CauseClockSkew: AADSTS700024, the signed assertion is outside its
	// valid time: this machine's clock is wrong.
	CauseClockSkew
	// CauseAppNotConsented: AADSTS700016 (the app is not in the tenant),
	// 7000229 (no service principal there) or 65001 (no consent).
	CauseAppNotConsented
	// CauseAppDisabled: AADSTS7000112.
	CauseAppDisabled
	// CauseTenantNotFound: AADSTS90002.
	CauseTenantNotFound
	// CauseInvalidTenant: AADSTS900023, neither a tenant id nor a domain.
	CauseInvalidTenant
	// CauseGraphUnavailable: AADSTS500011, Microsoft Graph's service
	// principal is not in the tenant.
	CauseGraphUnavailable
	// CauseConditionalAccess: AADSTS53003, a Conditional Access policy
	// blocks the sign-in.
	CauseConditionalAccess
	// CauseManagedIdentityUnavailable: no managed-identity endpoint
	// answered (not an Azure host).
	CauseManagedIdentityUnavailable
	// CauseManagedIdentityNotAssigned: the managed-identity endpoint
	// answered 400: the host has no identity, or not the one asked for.
	CauseManagedIdentityNotAssigned
)

// entraCauses maps AADSTS codes to their cause.
var entraCauses = map[int]SignInCause{
	7000215: CauseWrongSecret,
	7000222: CauseSecretExpired,
	700027:  CauseCertificateNotRegistered,
	1000502: CauseCertificateExpired,
	700024:  CauseClockSkew,
	700016:  CauseAppNotConsented,
	7000229: CauseAppNotConsented,
	65001:   CauseAppNotConsented,
	7000112: CauseAppDisabled,
	90002:   CauseTenantNotFound,
	900023:  CauseInvalidTenant,
	500011:  CauseGraphUnavailable,
	53003:   CauseConditionalAccess,
}

// SignInFailure is a diagnosed sign-in failure.
type SignInFailure struct {
	Cause SignInCause
	// Code is the AADSTS code the cause was read from ("AADSTS7000215"),
	// "" when it came from no code.
	Code string
}

// DiagnoseSignIn tells why the sign-in that returned err failed (err from
// a credential made by NewCredential, wrapped or not). ok is false when
// err is no sign-in failure of those, or not one of the causes above.
func DiagnoseSignIn(err error) (f SignInFailure, ok bool) {
	var te *TokenError
	if !errors.As(err, &te) {
		return SignInFailure{}, false
	}
	if te.entra != nil {
		for _, c := range te.entra.Codes {
			if cause, known := entraCauses[c]; known {
				return SignInFailure{Cause: cause, Code: "AADSTS" + strconv.Itoa(c)}, true
			}
		}
	}
	switch {
	case te.credential == "DefaultAzureCredential" && te.unavailable:
		return SignInFailure{Cause: CauseNoCredential}, true
	case te.credential == "ManagedIdentityCredential" && te.status == 0 && te.cause == nil:
		return SignInFailure{Cause: CauseManagedIdentityUnavailable}, true
	case te.credential == "ManagedIdentityCredential" && te.status == 400:
		return SignInFailure{Cause: CauseManagedIdentityNotAssigned}, true
	}
	return SignInFailure{}, false
}
