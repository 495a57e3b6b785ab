package graphsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
)

// patchBody is a PATCH /users body as read.
type patchBody struct {
	profile passwordProfile
	present bool      // the body has a passwordProfile
	bad     *apiError // a null or unreadable passwordProfile or accountEnabled, answered once the user is found
	// enabled is the accountEnabled sent, nil when the body has none.
	enabled *bool
}

// kind is the kind of write the PATCH is, for DenyWrites: a password
// reset when it sets a passwordProfile, else a block when it sets
// accountEnabled; "" for a PATCH that changes neither.
func (p patchBody) kind() Write {
	switch {
	case p.present:
		return WriteReset
	case p.enabled != nil:
		return WriteBlock
	}
	return ""
}

// readPatch reads a PATCH body: a passwordProfile and/or accountEnabled.
// The error is for a body that is not an object or updates anything else,
// which is refused before the quota is charged; a null or unreadable
// passwordProfile or accountEnabled is answered once the user is found.
func readPatch(body []byte) (patchBody, *apiError) {
	var p patchBody
	var patch map[string]json.RawMessage
	if err := json.Unmarshal(body, &patch); err != nil {
		return p, badRequest(msgUnreadableJSON)
	}
	var rawProfile json.RawMessage
	for k, v := range patch {
		switch {
		case strings.EqualFold(k, "passwordProfile"):
			rawProfile = v
		case strings.EqualFold(k, "accountEnabled"):
			var enabled *bool
			if err := json.Unmarshal(v, &enabled); err != nil || enabled == nil {
				p.bad = newAPIError(http.StatusBadRequest, codeRequestBad, "Invalid value specified for property 'accountEnabled' of resource 'User'.")
				continue
			}
			p.enabled = enabled
		default:
			return p, newAPIError(http.StatusNotImplemented, codeNotImplemented, "graphsim: only passwordProfile and accountEnabled updates are emulated.")
		}
	}
	if rawProfile == nil {
		return p, nil // nothing to change
	}
	p.present = true
	if p.bad != nil {
		return p, nil
	}
	if string(bytes.TrimSpace(rawProfile)) == "null" {
		p.bad = newAPIError(http.StatusBadRequest, codeRequestBad, "Invalid value specified for property 'passwordProfile' of resource 'User'.")
		return p, nil
	}
	if err := json.Unmarshal(rawProfile, &p.profile); err != nil {
		p.bad = badRequest(msgUnreadableJSON)
	}
	return p, nil
}
