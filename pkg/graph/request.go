package graph

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/bulkreset/bulkreset/pkg/secret"
	"log/slog"
	"strings"

	"github.com/bulkreset/bulkreset/internal/guid"
)

// redacted replaces every secret in text output.
const redacted = "[REDACTED]"

// Request is one Graph request, sent inside a $batch (Client.Batch) or on
// its own (Client.Do). Body may hold a password: String, GoString, Format,
// LogValue and MarshalJSON never show it, and no error mentions it.
type Request struct {
	// ID identifies the request inside its batch; responses are matched by it.
	ID string
	// Method is the HTTP method, e.g. PATCH.
	Method string
	// URL is relative to the version root, e.g. /users/{id}, see UserPath.
	URL string
	// Headers are sent with the request. A request with a Body gets
	// Content-Type: application/json unless it sets one.
	Headers map[string]string
	// Body, when not nil, is marshalled as a JSON object.
	Body any
}

// String describes r without its body.
func (r Request) String() string {
	body := "none"
	if r.Body != nil {
		body = redacted
	}
	return fmt.Sprintf("{id:%s %s %s body:%s}", r.ID, r.Method, r.URL, body)
}

// GoString describes r without its body, for %#v.
func (r Request) GoString() string {
	body := "nil"
	if r.Body != nil {
		body = fmt.Sprintf("%q", redacted)
	}
	return fmt.Sprintf("graph.Request{ID:%q, Method:%q, URL:%q, Body:%s}", r.ID, r.Method, r.URL, body)
}

// Format makes every fmt verb (%v, %+v, %#v, %s, %d, …) use String or
// GoString, so that no verb prints the body field by field.
func (r Request) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, r.GoString())
		return
	}
	fmt.Fprint(f, r.String())
}

// LogValue implements slog.LogValuer without the body.
func (r Request) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("id", r.ID), slog.String("method", r.Method), slog.String("url", r.URL)}
	if r.Body != nil {
		attrs = append(attrs, slog.String("body", redacted))
	}
	return slog.GroupValue(attrs...)
}

// MarshalJSON encodes r without its body, so that a Request dumped as JSON
// for debugging leaks nothing. The wire format is built separately.
func (r Request) MarshalJSON() ([]byte, error) {
	v := struct {
		ID     string `json:"id"`
		Method string `json:"method"`
		URL    string `json:"url"`
		Body   string `json:"body,omitempty"`
	}{ID: r.ID, Method: r.Method, URL: r.URL}
	if r.Body != nil {
		v.Body = redacted
	}
	return json.Marshal(v)
}

// PasswordProfile is the user's passwordProfile resource
// (https://learn.microsoft.com/graph/api/resources/passwordprofile). It
// redacts its password in every text form except the JSON sent to Graph.
type PasswordProfile struct {
	Password                             secret.Value `json:"password,omitempty"`
	ForceChangePasswordNextSignIn        bool         `json:"forceChangePasswordNextSignIn"`
	ForceChangePasswordNextSignInWithMfa bool         `json:"forceChangePasswordNextSignInWithMfa"`
}

// String describes p with its password redacted.
func (p PasswordProfile) String() string {
	return fmt.Sprintf("{password:%s forceChangePasswordNextSignIn:%t forceChangePasswordNextSignInWithMfa:%t}",
		p.Password, p.ForceChangePasswordNextSignIn, p.ForceChangePasswordNextSignInWithMfa)
}

// errPasswordJSON is returned by PasswordProfile.MarshalJSON.
var errPasswordJSON = errors.New("graph: a PasswordProfile is encoded only by the client for Graph (use PasswordRequest); other JSON would expose the password")

// MarshalJSON refuses to encode p: JSON is how a password would reach a
// JSON log (slog's JSON handler marshals structs that contain p), and
// writing "[REDACTED]" instead could send that text to Graph as a real
// password. The client encodes the body of PasswordRequest itself. The
// struct tags still serve json.Unmarshal.
func (p PasswordProfile) MarshalJSON() ([]byte, error) {
	return nil, errPasswordJSON
}

// wireBody is implemented by request bodies whose JSON for Graph is not what
// json.Marshal gives (json.Marshal must not reveal their secrets).
type wireBody interface {
	graphJSON() ([]byte, error)
}

// passwordBody is the body of a password reset: {"passwordProfile": {...}}.
type passwordBody struct {
	PasswordProfile PasswordProfile
}

// graphJSON encodes the body as Graph expects it.
func (b passwordBody) graphJSON() ([]byte, error) {
	p := b.PasswordProfile
	return json.Marshal(struct {
		PasswordProfile wireProfile `json:"passwordProfile"`
	}{wireProfile{Password: p.Password.Reveal(), ForceChangePasswordNextSignIn: p.ForceChangePasswordNextSignIn,
		ForceChangePasswordNextSignInWithMfa: p.ForceChangePasswordNextSignInWithMfa}})
}

// wireProfile is a PasswordProfile as Graph reads it: the same fields,
// without the MarshalJSON that keeps a PasswordProfile out of other JSON.
type wireProfile struct {
	Password                             string `json:"password,omitempty"`
	ForceChangePasswordNextSignIn        bool   `json:"forceChangePasswordNextSignIn"`
	ForceChangePasswordNextSignInWithMfa bool   `json:"forceChangePasswordNextSignInWithMfa"`
}

// MarshalJSON refuses, like PasswordProfile.MarshalJSON.
func (b passwordBody) MarshalJSON() ([]byte, error) {
	return nil, errPasswordJSON
}

// String describes the body with the password redacted.
func (b passwordBody) String() string {
	return "{passwordProfile:" + b.PasswordProfile.String() + "}"
}

// PasswordRequest returns the PATCH that sets user's passwordProfile
// (https://learn.microsoft.com/graph/api/user-update). user is an object id
// or a UPN; see UserPath.
func PasswordRequest(id, user string, p PasswordProfile) Request {
	return Request{ID: id, Method: "PATCH", URL: UserPath(user), Body: passwordBody{PasswordProfile: p}}
}

// accountBody is the body of a PATCH that sets accountEnabled. The field
// is not omitted when false: false is the value that blocks sign-in.
type accountBody struct {
	AccountEnabled bool `json:"accountEnabled"`
}

// BlockSignInRequest returns the PATCH that blocks user's sign-in by
// setting accountEnabled to false
// (https://learn.microsoft.com/graph/api/user-update). Sign-ins stop; the
// sessions already open live on until they are revoked
// (RevokeSessionsRequest). user is best an object id; see UserPath.
func BlockSignInRequest(id, user string) Request {
	return Request{ID: id, Method: "PATCH", URL: UserPath(user), Body: accountBody{AccountEnabled: false}}
}

// UserPath returns the URL, relative to the version root, of a user given
// its object id or its userPrincipalName, following the tips of
// https://learn.microsoft.com/graph/api/user-get:
//   - an object id (a GUID) gives /users/{id};
//   - a UPN is percent-encoded as one path segment: '#' of guest UPNs
//     (…#EXT#@…) becomes %23, '/' %2F, '%' %25, and so on; letters, digits,
//     "-._~", '@', '!', '$' and the apostrophe stay as they are;
//   - a UPN beginning with '$' uses the key form /users('$x@contoso.com'),
//     because a segment starting with '$' is read as an OData system
//     segment; inside the quotes an apostrophe is doubled.
func UserPath(user string) string {
	if guid.Valid(user) {
		return "/users/" + user
	}
	if strings.HasPrefix(user, "$") {
		return "/users('" + escapeUPN(strings.ReplaceAll(user, "'", "''")) + "')"
	}
	return "/users/" + escapeUPN(user)
}

// escapeUPN percent-encodes s for one path segment, keeping the characters
// UserPath documents.
func escapeUPN(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if keepInUPN(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// keepInUPN reports whether c may stay unencoded in a UPN path segment.
func keepInUPN(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '-', '.', '_', '~', '@', '!', '$', '\'':
		return true
	}
	return false
}

// NewRequestID returns a random (version 4) GUID from crypto/rand, for the
// client-request-id header.
func NewRequestID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])  // crypto/rand.Read never returns an error (Go 1.24+)
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	var buf [36]byte
	hex.Encode(buf[0:8], u[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], u[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], u[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], u[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], u[10:])
	return string(buf[:])
}

// BodyJSON returns the JSON the client sends as r's body. For a password
// reset it contains the password: it is for code that speaks the wire
// format itself (a test double of Graph), never for logs.
func (r Request) BodyJSON() (json.RawMessage, error) { return encodeBody(r) }
