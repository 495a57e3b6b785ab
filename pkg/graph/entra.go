package graph

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// EntraError is what Entra's token endpoint answered when a token request
// failed: its OAuth error, its AADSTS codes, and the first sentence of its
// description (without the trace and correlation ids and the timestamp).
// It never holds a secret: Entra's descriptions name only identifiers.
type EntraError struct {
	Status      int
	OAuthError  string // the OAuth error, such as "unauthorized_client"
	Codes       []int  // error_codes, such as 700016
	Description string
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

// AsEntraError returns the token endpoint's answer carried by err (an
// azidentity.AuthenticationFailedError, wrapped), or false when err has
// none (a network failure, a credential that never reached Entra).
func AsEntraError(err error) (*EntraError, bool) {
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) || afe.RawResponse == nil {
		return nil, false
	}
	body, rerr := runtime.Payload(afe.RawResponse)
	if rerr != nil {
		return nil, false
	}
	var w struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
		Codes       []int  `json:"error_codes"`
	}
	if json.Unmarshal(body, &w) != nil || (w.Error == "" && len(w.Codes) == 0) {
		return nil, false
	}
	d := w.Description
	// "AADSTS700016: Application with identifier ... Trace ID: ... Correlation ID: ..."
	if i := strings.Index(d, " Trace ID:"); i >= 0 {
		d = d[:i]
	}
	return &EntraError{Status: afe.RawResponse.StatusCode, OAuthError: w.Error, Codes: w.Codes, Description: strings.TrimSpace(d)}, true
}
