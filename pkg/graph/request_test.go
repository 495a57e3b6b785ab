package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/bulkreset/bulkreset/pkg/secret"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestUserPath(t *testing.T) {
	tests := []struct {
		name string
		user string
		want string
	}{
		{name: "object id", user: "87d349ed-44d7-43e1-9a83-5f2406dee5bd", want: "/users/87d349ed-44d7-43e1-9a83-5f2406dee5bd"},
		{name: "object id upper case", user: "87D349ED-44D7-43E1-9A83-5F2406DEE5BD", want: "/users/87D349ED-44D7-43E1-9A83-5F2406DEE5BD"},
		{name: "plain upn", user: "adele.vance@contoso.com", want: "/users/adele.vance@contoso.com"},
		{name: "guest upn", user: "alex_fabrikam.com#EXT#@contoso.onmicrosoft.com", want: "/users/alex_fabrikam.com%23EXT%23@contoso.onmicrosoft.com"},
		{name: "dollar upn", user: "$svc@contoso.com", want: "/users('$svc@contoso.com')"},
		{name: "dollar upn with apostrophe", user: "$o'neil@contoso.com", want: "/users('$o''neil@contoso.com')"},
		{name: "dollar guest upn", user: "$x_f.com#EXT#@c.com", want: "/users('$x_f.com%23EXT%23@c.com')"},
		{name: "apostrophe", user: "conor.o'brien@contoso.com", want: "/users/conor.o'brien@contoso.com"},
		{name: "dollar inside", user: "a$b@contoso.com", want: "/users/a$b@contoso.com"},
		{name: "allowed specials", user: "a.b-c_d!e^f~g@contoso.com", want: "/users/a.b-c_d!e%5Ef~g@contoso.com"},
		{name: "slash question percent space", user: "a/b?c%d e@contoso.com", want: "/users/a%2Fb%3Fc%25d%20e@contoso.com"},
		{name: "plus and parentheses", user: "a+b(c)@contoso.com", want: "/users/a%2Bb%28c%29@contoso.com"},
		{name: "non-ascii", user: "jos\u00e9@contoso.com", want: "/users/jos%C3%A9@contoso.com"},
		{name: "not quite a guid", user: "87d349ed-44d7-43e1-9a83-5f2406dee5bz", want: "/users/87d349ed-44d7-43e1-9a83-5f2406dee5bz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := UserPath(tt.user)
			if got != tt.want {
				t.Errorf("UserPath(%q) = %q, want %q", tt.user, got, tt.want)
			}
			if back, err := decodeUserPath(got); err != nil || back != tt.user {
				t.Errorf("decoding %q gave %q (error %v), want %q", got, back, err, tt.user)
			}
		})
	}
}

// decodeUserPath reads a /users path the way Graph would: the URL path is
// percent-decoded, then the key form ('…') is unquoted.
func decodeUserPath(p string) (string, error) {
	u, err := url.Parse("https://graph.microsoft.com/v1.0" + p)
	if err != nil {
		return "", err
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("path %q leaks into query or fragment", p)
	}
	escaped, ok := strings.CutPrefix(u.EscapedPath(), "/v1.0/users")
	if !ok {
		return "", fmt.Errorf("path %q is not under /users", p)
	}
	if seg, ok := strings.CutPrefix(escaped, "/"); ok {
		if strings.Contains(seg, "/") {
			return "", fmt.Errorf("path %q is not one segment", p)
		}
		return url.PathUnescape(seg)
	}
	rest, err := url.PathUnescape(escaped)
	if err != nil {
		return "", err
	}
	if key, ok := strings.CutPrefix(rest, "('"); ok {
		key, ok = strings.CutSuffix(key, "')")
		if !ok || strings.Count(strings.ReplaceAll(key, "''", ""), "'") != 0 {
			return "", fmt.Errorf("bad key form %q", p)
		}
		return strings.ReplaceAll(key, "''", "'"), nil
	}
	return "", fmt.Errorf("path %q is neither /users/{key} nor /users('{key}')", p)
}

func FuzzUserPath(f *testing.F) {
	for _, s := range []string{
		"alex_fabrikam.com#EXT#@contoso.onmicrosoft.com", "$svc@contoso.com", "conor.o'brien@contoso.com",
		"$o'neil@contoso.com", "a/b?c%d e@x", "87d349ed-44d7-43e1-9a83-5f2406dee5bd", "'", "$", "$'", "%zz", "\x00\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, user string) {
		if user == "" || user == "$" {
			return // not a user
		}
		p := UserPath(user)
		for i := 0; i < len(p); i++ {
			if c := p[i]; c <= ' ' || c >= 0x7f || c == '#' || c == '?' || c == '%' && (i+2 >= len(p)) {
				t.Fatalf("UserPath(%q) = %q has unsafe byte %q at %d", user, p, c, i)
			}
		}
		back, err := decodeUserPath(p)
		if err != nil {
			t.Fatalf("UserPath(%q) = %q: %v", user, p, err)
		}
		if back != user {
			t.Fatalf("UserPath(%q) = %q decodes to %q", user, p, back)
		}
	})
}

func TestNewRequestID(t *testing.T) {
	guid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		id := NewRequestID()
		if !guid.MatchString(id) {
			t.Fatalf("NewRequestID() = %q, want a version 4 GUID", id)
		}
		if seen[id] {
			t.Fatalf("NewRequestID() returned %q twice", id)
		}
		seen[id] = true
	}
}

func TestPasswordRequest(t *testing.T) {
	p := PasswordProfile{Password: secret.New("Tr0ub4dor&3x"), ForceChangePasswordNextSignIn: true} // & is escaped by encoding/json
	req := PasswordRequest("7", "alex_fabrikam.com#EXT#@contoso.onmicrosoft.com", p)
	if req.ID != "7" || req.Method != "PATCH" || req.URL != "/users/alex_fabrikam.com%23EXT%23@contoso.onmicrosoft.com" {
		t.Errorf("PasswordRequest = id %q method %q url %q, want 7 PATCH /users/alex_fabrikam.com%%23EXT%%23@contoso.onmicrosoft.com", req.ID, req.Method, req.URL)
	}
	b, err := encodeBody(req)
	if err != nil {
		t.Fatalf("marshalling the body: %v", err)
	}
	want := `{"passwordProfile":{"password":"Tr0ub4dor\u00263x","forceChangePasswordNextSignIn":true,"forceChangePasswordNextSignInWithMfa":false}}`
	if string(b) != want {
		hide := strings.NewReplacer(`Tr0ub4dor\u00263x`, "<password>", "Tr0ub4dor&3x", "<password>")
		t.Errorf("body JSON = %s, want %s", hide.Replace(string(b)), hide.Replace(want))
	}
	none, _ := encodeBody(PasswordRequest("1", "a@b.c", PasswordProfile{ForceChangePasswordNextSignIn: true}))
	if want := `{"passwordProfile":{"forceChangePasswordNextSignIn":true,"forceChangePasswordNextSignInWithMfa":false}}`; string(none) != want {
		t.Errorf("body without password = %s, want %s", none, want)
	}
}

// TestBlockSignInRequest: the block is a PATCH of accountEnabled false on
// the user, its body encoded by the path every request body takes, with
// the false written out (an omitted field would change nothing).
func TestBlockSignInRequest(t *testing.T) {
	req := BlockSignInRequest("3", "$svc_fabrikam.com#EXT#@contoso.onmicrosoft.com")
	if req.ID != "3" || req.Method != "PATCH" || req.URL != "/users('$svc_fabrikam.com%23EXT%23@contoso.onmicrosoft.com')" {
		t.Errorf("BlockSignInRequest = id %q method %q url %q", req.ID, req.Method, req.URL)
	}
	b, err := req.BodyJSON()
	if err != nil || string(b) != `{"accountEnabled":false}` {
		t.Errorf("body JSON = %s (%v), want {\"accountEnabled\":false}", b, err)
	}
	if s := fmt.Sprint(req); !strings.Contains(s, "PATCH") || !strings.Contains(s, redacted) {
		t.Errorf("String() = %q, want the method and the body redacted like every body", s)
	}
}

// secretPassword is the password the redaction tests look for.
const secretPassword = "Zq7!unlikely-Secret-42"

func TestNothingShowsThePassword(t *testing.T) {
	p := PasswordProfile{Password: secret.New(secretPassword), ForceChangePasswordNextSignIn: true, ForceChangePasswordNextSignInWithMfa: true}
	req := PasswordRequest("1", "conor.o'brien@contoso.com", p)
	e := &Error{Status: 400, Code: "Request_BadRequest", Message: "The specified password does not comply with password complexity requirements.", RequestID: "r-1"}
	type wrapper struct {
		R Request
		P PasswordProfile
		B any
	}
	values := map[string]any{
		"Request":          req,
		"*Request":         &req,
		"[]Request":        []Request{req, req},
		"map":              map[string]Request{"a": req},
		"PasswordProfile":  p,
		"*PasswordProfile": &p,
		"Body":             req.Body,
		"wrapper":          wrapper{R: req, P: p, B: req.Body},
		"Error":            e,
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%T"}
	for name, v := range values {
		for _, verb := range verbs {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, secretPassword) || strings.Contains(out, fmt.Sprintf("%x", secretPassword)) {
				t.Errorf("fmt %s of %s shows the password", verb, name)
			}
		}
		for _, h := range []func(*bytes.Buffer) slog.Handler{
			func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
			func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		} {
			var buf bytes.Buffer
			slog.New(h(&buf)).Info("sending", "value", v, slog.Any("again", v))
			if strings.Contains(buf.String(), secretPassword) {
				t.Errorf("slog of %s shows the password", name)
			}
		}
	}
	for name, v := range map[string]any{"Request": req, "AuthOptions": AuthOptions{ClientSecret: secretPassword, CertificatePassword: secretPassword}} {
		if b, err := json.Marshal(v); err != nil || strings.Contains(string(b), secretPassword) || !strings.Contains(string(b), redacted) {
			t.Errorf("json.Marshal(%s) shows the secret, has no redaction mark, or failed (%v)", name, err)
		}
	}
	for name, v := range map[string]any{"PasswordProfile": p, "Body": req.Body, "wrapper": wrapper{P: p}} {
		b, err := json.Marshal(v)
		if err == nil {
			t.Errorf("json.Marshal(%s) = %d bytes, want an error", name, len(b))
		}
		if strings.Contains(string(b), secretPassword) || err != nil && strings.Contains(err.Error(), secretPassword) {
			t.Errorf("json.Marshal(%s) shows the password", name)
		}
	}
	if !strings.Contains(fmt.Sprint(req), redacted) || !strings.Contains(fmt.Sprint(p), redacted) {
		t.Errorf("String() does not say the body/password was redacted: %v / %v", req, p)
	}
	if got := fmt.Sprintf("%+v", p); !strings.Contains(got, "forceChangePasswordNextSignIn:true") {
		t.Errorf("PasswordProfile %%+v = %q, want the flags shown", got)
	}
	if !utf8.ValidString(fmt.Sprintf("%#v", req)) {
		t.Errorf("GoString is not valid UTF-8")
	}
}
