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
	bad     *apiError // a null or unreadable passwordProfile, answered once the user is found
}

// kind is the kind of write the PATCH is, for DenyWrites; "" for a PATCH
// that changes nothing.
func (p patchBody) kind() WriteKind {
	if p.present {
		return WritePassword
	}
	return ""
}

// readPatch reads a PATCH body. The error is for a body that is not an
// object or updates anything else, which is refused before the quota is
// charged; a null or unreadable passwordProfile is answered once the user
// is found.
func readPatch(body []byte) (patchBody, *apiError) {
	var p patchBody
	var patch map[string]json.RawMessage
	if err := json.Unmarshal(body, &patch); err != nil {
		return p, badRequest(msgUnreadableJSON)
	}
	var rawProfile json.RawMessage
	for k, v := range patch {
		if !strings.EqualFold(k, "passwordProfile") {
			return p, newAPIError(http.StatusNotImplemented, codeNotImplemented, "graphsim: only passwordProfile updates are emulated.")
		}
		rawProfile = v
	}
	if rawProfile == nil {
		return p, nil // nothing to change
	}
	p.present = true
	if string(bytes.TrimSpace(rawProfile)) == "null" {
		p.bad = newAPIError(http.StatusBadRequest, codeRequestBad, "Invalid value specified for property 'passwordProfile' of resource 'User'.")
		return p, nil
	}
	if err := json.Unmarshal(rawProfile, &p.profile); err != nil {
		p.bad = badRequest(msgUnreadableJSON)
	}
	return p, nil
}
