package graph

import (
	"encoding/json"
	"fmt"
	"github.com/bulkreset/bulkreset/pkg/secret"
	"net/url"
	"strings"
)

// PasswordMethodID is the id of every user's password authentication method
// (https://learn.microsoft.com/graph/api/resources/passwordauthenticationmethod).
const PasswordMethodID = "28c10230-6103-485e-b985-444c60001490"

// ResetPasswordRequest returns the POST of the authentication-methods
// resetPassword action for user
// (https://learn.microsoft.com/graph/api/authenticationmethod-resetpassword):
// the only Graph call that resets a user synchronised from on-premises AD so
// that password writeback carries the password there. It needs delegated
// permissions (an administrator signed in), answers 202 with a Location to
// poll (OperationRequest), and makes the user change the password at next
// sign-in. The password is never shown by String, Format or LogValue.
func ResetPasswordRequest(id, user string, password secret.Value) Request {
	return Request{ID: id, Method: "POST", URL: UserPath(user) + "/authentication/methods/" + PasswordMethodID + "/resetPassword",
		Body: resetPasswordBody{password: password}}
}

// resetPasswordBody is {"newPassword": "…"}.
type resetPasswordBody struct{ password secret.Value }

func (b resetPasswordBody) graphJSON() ([]byte, error) {
	return json.Marshal(struct {
		NewPassword string `json:"newPassword"`
	}{b.password.Reveal()})
}

// MarshalJSON refuses, so that the password is only ever encoded on its way
// to Graph.
func (b resetPasswordBody) MarshalJSON() ([]byte, error) { return nil, errPasswordJSON }

// String describes the body with the password redacted.
func (b resetPasswordBody) String() string { return "{newPassword:" + redacted + "}" }

// OperationPath turns the Location of an accepted resetPassword into a URL
// relative to the version root, for OperationRequest. Graph gives an
// absolute URL (https://graph.microsoft.com/v1.0/users/{id}/authentication/operations/{op}?…);
// only its path after the version segment and its query are kept, so that
// the poll goes to the Graph host the tool was configured with and the
// token is never sent anywhere else.
//
// A Location whose path has a "." or ".." segment (written plainly or
// percent-encoded) is refused: the poll must stay on the operation named.
// Errors quote at most 100 bytes of the Location, escaped.
func OperationPath(location string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(location))
	if err != nil || location == "" {
		return "", fmt.Errorf("graph: the Location of the reset operation %s is not a URL", quoteCut(location, 100))
	}
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return "", fmt.Errorf("graph: the Location of the reset operation %s has a %q segment", quoteCut(location, 100), seg)
		}
	}
	p := u.EscapedPath()
	for _, v := range []string{"/v1.0/", "/beta/"} {
		if i := strings.Index(p, v); i >= 0 {
			p = p[i+len(v)-1:]
			break
		}
	}
	if !strings.Contains(strings.ToLower(p), "/authentication/operations/") {
		return "", fmt.Errorf("graph: the Location of the reset operation %s is not an authentication operation", quoteCut(location, 100))
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p, nil
}

// OperationRequest returns the GET that polls a reset operation, path from
// OperationPath (https://learn.microsoft.com/graph/api/longrunningoperation-get).
func OperationRequest(id, path string) Request {
	return Request{ID: id, Method: "GET", URL: path}
}

// Operation statuses of a long-running operation, in lower case.
const (
	OperationNotStarted = "notstarted"
	OperationRunning    = "running"
	OperationSucceeded  = "succeeded"
	OperationFailed     = "failed"
)

// Operation is the state of a long-running operation.
type Operation struct {
	// Status is one of the Operation* constants (lower-cased as read).
	Status string
	// Detail is statusDetail: why it failed, when Graph says.
	Detail string
}

// ParseOperation reads a long-running operation from a poll's body.
func ParseOperation(body []byte) (Operation, error) {
	var o struct {
		Status       string `json:"status"`
		StatusDetail string `json:"statusDetail"`
	}
	if err := json.Unmarshal(body, &o); err != nil || o.Status == "" {
		return Operation{}, fmt.Errorf("graph: the reset operation's state is unreadable")
	}
	return Operation{Status: strings.ToLower(o.Status), Detail: o.StatusDetail}, nil
}

// Terminal reports whether the operation has ended.
func (o Operation) Terminal() bool {
	return o.Status == OperationSucceeded || o.Status == OperationFailed
}
