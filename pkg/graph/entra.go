package graph

import "errors"

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
