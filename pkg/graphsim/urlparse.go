package graphsim

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Graph error codes and messages. Sources: Microsoft's Graph documentation
// (https://learn.microsoft.com/graph/api/user-update,
// https://learn.microsoft.com/graph/json-batching,
// https://learn.microsoft.com/graph/throttling) and issue threads reporting
// real answers; messages beginning with "graphsim:" are this emulator's own,
// for requests it does not emulate.
const (
	codeBadRequest       = "BadRequest"
	codeRequestBad       = "Request_BadRequest"
	codeNotFound         = "Request_ResourceNotFound"
	codeDenied           = "Authorization_RequestDenied"
	codeThrottled        = "TooManyRequests"
	codeInvalidToken     = "InvalidAuthenticationToken"
	codeNotImplemented   = "NotImplemented"
	codeFailedDependency = "FailedDependency"

	msgNotFound         = "Resource '%s' does not exist or one of its queried reference-property objects are not present."
	msgDenied           = "Insufficient privileges to complete the operation."
	msgSynced           = "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration."
	msgComplexity       = "The specified password does not comply with password complexity requirements. Please provide a different password."
	msgThrottled        = "Please retry again later."
	msgNoContentType    = "Write request id : %s does not contain Content-Type header or body."
	msgBatchLimit       = "Number of requests inside batch exceed the limit."
	msgBatchDuplicate   = "Request Id %s has to be unique in a batch."
	msgBatchFormat      = "Invalid batch payload format."
	msgUnreadableJSON   = "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format."
	msgEmptyPayload     = "Empty Payload. JSON content expected."
	msgSegment          = "Resource not found for the segment '%s'."
	msgQuerySyntax      = "Bad Request - Error in query syntax."
	msgInvalidURL       = "Bad Request - Invalid URL"
	msgMethod           = "Specified HTTP method is not allowed for the request target."
	msgSelectProperty   = "Parsing OData Select and Expand failed: Could not find a property named '%s' on type 'microsoft.graph.user'."
	msgTokenEmpty       = "Access token is empty."
	msgTokenExpired     = "Access token has expired or is not yet valid."
	msgTokenUnparsable  = "CompactToken parsing failed with error code: 80049217"
	msgFailedDependency = "graphsim: a request this one depends on failed."
)

// apiError is a Graph error answer before it is given its envelope.
type apiError struct {
	status  int
	code    string
	message string
	header  map[string]string // extra response headers, such as Retry-After
}

func newAPIError(status int, code, message string) *apiError {
	return &apiError{status: status, code: code, message: message}
}

func badRequest(message string) *apiError {
	return newAPIError(http.StatusBadRequest, codeBadRequest, message)
}

// target is what a request URL addresses: one user, and perhaps an action on it.
type target struct {
	key    string     // the user's id or UPN, as the server sees it
	action string     // "", actionRevoke, actionResetPassword or actionOperation
	sub    string     // the authentication method or operation id of action
	query  url.Values // decoded query
}

const actionRevoke = "revokeSignInSessions"

// parseUserURL reads a Graph URL relative to /v1.0 (a $batch item's "url", or a
// direct request's path and query) the way a server does: a raw '#' starts a
// fragment, which is cut; the query starts at the first '?'; the path is then
// percent-decoded. It accepts /users/{key}[/action] and /users('{key}')[/action]
// (a doubled quote inside the quotes is a quote), with or without the leading
// slash; action is revokeSignInSessions, optionally prefixed microsoft.graph.
// A path key that begins with '$' is an OData system segment, never a user.
func parseUserURL(raw string) (target, *apiError) {
	if i := strings.IndexByte(raw, '#'); i >= 0 {
		raw = raw[:i]
	}
	rawPath, rawQuery, _ := strings.Cut(raw, "?")
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return target{}, badRequest(msgQuerySyntax)
	}
	p, err := url.PathUnescape(rawPath)
	if err != nil {
		return target{}, badRequest(msgInvalidURL)
	}
	p = strings.TrimPrefix(p, "/")
	const users = "users"
	if len(p) < len(users) || !strings.EqualFold(p[:len(users)], users) {
		first, _, _ := strings.Cut(p, "/")
		first, _, _ = strings.Cut(first, "(")
		return target{}, badRequest(fmt.Sprintf(msgSegment, first))
	}
	rest := p[len(users):]
	t := target{query: query}
	var after string
	switch {
	case strings.HasPrefix(rest, "("):
		key, tail, ok := parseQuotedKey(rest[1:])
		if !ok {
			return target{}, badRequest(msgQuerySyntax)
		}
		t.key = key
		switch {
		case tail == "":
		case tail[0] == '/':
			after = tail[1:]
		default:
			return target{}, badRequest(msgQuerySyntax)
		}
	case strings.HasPrefix(rest, "/"):
		t.key, after, _ = strings.Cut(rest[1:], "/")
		if strings.HasPrefix(t.key, "$") {
			return target{}, badRequest(fmt.Sprintf(msgSegment, t.key))
		}
	case rest == "":
	default:
		first, _, _ := strings.Cut(p, "/")
		return target{}, badRequest(fmt.Sprintf(msgSegment, first))
	}
	if t.key == "" {
		return target{}, newAPIError(http.StatusNotImplemented, codeNotImplemented, "graphsim: only single users are emulated, not the /users collection.")
	}
	after = strings.TrimSuffix(after, "/")
	switch {
	case after == "":
	case strings.EqualFold(after, actionRevoke), strings.EqualFold(after, "microsoft.graph."+actionRevoke):
		t.action = actionRevoke
	default:
		if action, id, ok := parseAuthAction(after); ok {
			t.action, t.sub = action, id
			break
		}
		seg, _, _ := strings.Cut(after, "/")
		return target{}, badRequest(fmt.Sprintf(msgSegment, seg))
	}
	return t, nil
}

// parseQuotedKey reads 'key') from the start of s, where a doubled quote stands for one,
// and returns the key and what follows the closing parenthesis.
func parseQuotedKey(s string) (key, tail string, ok bool) {
	if !strings.HasPrefix(s, "'") {
		return "", "", false
	}
	var b strings.Builder
	i := 1
	for {
		if i >= len(s) {
			return "", "", false
		}
		if s[i] == '\'' {
			if i+1 < len(s) && s[i+1] == '\'' {
				b.WriteByte('\'')
				i += 2
				continue
			}
			i++
			break
		}
		b.WriteByte(s[i])
		i++
	}
	if i >= len(s) || s[i] != ')' || b.Len() == 0 {
		return "", "", false
	}
	return b.String(), s[i+1:], true
}
