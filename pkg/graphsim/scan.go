package graphsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/bulkreset/bulkreset/internal/wirejson"
)

// The emulator's requests are read in one pass without reflection when they
// have the usual shape: at a million users, encoding/json's reading of the
// batches and their PATCH bodies (and the garbage it leaves for the
// collector) was half the emulator's CPU, on the cores the client being
// measured runs on. Anything else is read by encoding/json as before, which
// stays the reference: FuzzScanBatchRequests and FuzzScanPatch hold the
// fast readers to it, so the emulator behaves exactly as it did.

// subRequestKeys are the keys of a $batch request item.
var subRequestKeys = []string{"id", "method", "url", "headers", "body", "dependsOn"}

// Methods, header names and values that most batch items carry, kept as
// constants rather than allocated again for every item (see
// wirejson.StringOf).
var (
	commonMethods      = []string{"GET", "PATCH", "POST"}
	commonHeaderNames  = []string{"Content-Type", "content-type", "x-ms-throttle-priority", "client-request-id"}
	commonHeaderValues = []string{"application/json", "Low", "Normal", "High"}
)

// scanBatchRequests reads {"requests":[...]} in one pass. It reports false
// for anything it does not read exactly as json.Unmarshal into a
// batchRequest would (malformed JSON, nulls, values of another type, keys
// in another case or given twice).
func scanBatchRequests(body []byte) ([]subRequest, bool) {
	var reqs []subRequest
	s := wirejson.NewScanner(body)
	_, ok := s.Fields([]string{"requests"}, func(int) bool {
		reqs = make([]subRequest, 0, maxBatchRequests)
		return s.Array(func() bool {
			q, ok := scanSubRequest(s)
			reqs = append(reqs, q)
			return ok
		})
	})
	return reqs, ok && s.End()
}

func scanSubRequest(s *wirejson.Scanner) (subRequest, bool) {
	var q subRequest
	_, ok := s.Fields(subRequestKeys, func(field int) (ok bool) {
		switch field {
		case 0:
			q.ID, ok = s.String()
		case 1:
			q.Method, ok = s.StringOf(commonMethods)
		case 2:
			q.URL, ok = s.String()
		case 3:
			q.Headers = map[string]string{}
			ok = s.ObjectOf(commonHeaderNames, func(key string) bool {
				v, ok := s.StringOf(commonHeaderValues)
				q.Headers[key] = v
				return ok
			})
		case 4:
			// A null body is left to encoding/json, which keeps it as "null".
			if q.Body, ok = s.Skip(); ok && string(q.Body) == "null" {
				ok = false
			}
		case 5:
			q.DependsOn = []string{}
			ok = s.Array(func() bool {
				d, ok := s.String()
				q.DependsOn = append(q.DependsOn, d)
				return ok
			})
		}
		return ok
	})
	return q, ok
}

// patchBody is a PATCH /users body as read.
type patchBody struct {
	profile passwordProfile
	present bool      // the body has a passwordProfile
	bad     *apiError // a null or unreadable passwordProfile, answered once the user is found
}

// readPatch reads a PATCH body: in one pass when it is the usual
// {"passwordProfile":{...}}, else with encoding/json. The error is for a
// body that is not an object or updates anything else, which is refused
// before the quota is charged.
func readPatch(body []byte) (patchBody, *apiError) {
	if p, ok := scanPatch(body); ok {
		return p, nil
	}
	return decodePatch(body)
}

// profileKeys are the keys of a passwordProfile.
var profileKeys = []string{"password", "forceChangePasswordNextSignIn", "forceChangePasswordNextSignInWithMfa"}

// scanPatch reads a body whose only key is passwordProfile, an object of
// strings and booleans (no nulls).
func scanPatch(body []byte) (patchBody, bool) {
	var p patchBody
	s := wirejson.NewScanner(body)
	ok := s.Object(func(key string) bool {
		if key != "passwordProfile" || p.present {
			return false
		}
		p.present = true
		_, ok := s.Fields(profileKeys, func(field int) bool {
			switch field {
			case 0:
				v, ok := s.String()
				p.profile.Password = &v
				return ok
			case 1:
				v, ok := s.Bool()
				p.profile.ForceChangePasswordNextSignIn = &v
				return ok
			default:
				v, ok := s.Bool()
				p.profile.ForceChangePasswordNextSignInWithMfa = &v
				return ok
			}
		})
		return ok
	})
	return p, ok && s.End()
}

// decodePatch reads a PATCH body with encoding/json.
func decodePatch(body []byte) (patchBody, *apiError) {
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
