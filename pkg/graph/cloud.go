package graph

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Cloud is a Microsoft national cloud: where Graph lives and where its
// tokens come from. Values come from Microsoft's national cloud deployments
// (https://learn.microsoft.com/graph/deployments).
type Cloud struct {
	// Name is the value of --cloud: global, usgov, usgov-dod or china.
	Name string
	// GraphURL is the Graph root without a trailing slash and without /v1.0.
	GraphURL string
	// AuthorityHost is the Entra sign-in host without a trailing slash.
	AuthorityHost string
}

// clouds lists the national clouds in the order shown to users.
var clouds = []Cloud{
	{Name: "global", GraphURL: "https://graph.microsoft.com", AuthorityHost: "https://login.microsoftonline.com"},
	{Name: "usgov", GraphURL: "https://graph.microsoft.us", AuthorityHost: "https://login.microsoftonline.us"},
	{Name: "usgov-dod", GraphURL: "https://dod-graph.microsoft.us", AuthorityHost: "https://login.microsoftonline.us"},
	{Name: "china", GraphURL: "https://microsoftgraph.chinacloudapi.cn", AuthorityHost: "https://login.chinacloudapi.cn"},
}

// CloudNames returns the names LookupCloud accepts, in display order.
func CloudNames() []string {
	names := make([]string, len(clouds))
	for i, c := range clouds {
		names[i] = c.Name
	}
	return names
}

// LookupCloud returns the cloud called name (case-insensitive). An unknown
// name is an error that lists the valid names.
func LookupCloud(name string) (Cloud, error) {
	for _, c := range clouds {
		if strings.EqualFold(c.Name, strings.TrimSpace(name)) {
			return c, nil
		}
	}
	return Cloud{}, fmt.Errorf("unknown cloud %q: valid clouds are %s", name, strings.Join(CloudNames(), ", "))
}

// Scope returns the token scope for the cloud's Graph: GraphURL + "/.default".
func (c Cloud) Scope() string {
	return strings.TrimSuffix(c.GraphURL, "/") + "/.default"
}

// IsKnownAuthority reports whether host is one of the public Entra
// authority hosts of the clouds above. MSAL's instance discovery (a call to
// login.microsoftonline.com) stays on only for these; for any other host it
// must be turned off, or MSAL would ask Microsoft about a host it does not
// know. host may be a bare host name or an https URL with an empty path.
func IsKnownAuthority(host string) bool {
	h := strings.TrimSpace(host)
	if strings.Contains(h, "://") {
		u, err := url.Parse(h)
		if err != nil || !strings.EqualFold(u.Scheme, "https") || (u.Path != "" && u.Path != "/") ||
			u.RawQuery != "" || u.Fragment != "" || u.User != nil || (u.Port() != "" && u.Port() != "443") {
			return false
		}
		h = u.Hostname()
	}
	h = strings.ToLower(h)
	for _, c := range clouds {
		u, err := url.Parse(c.AuthorityHost)
		if err == nil && u.Hostname() == h {
			return true
		}
	}
	return false
}

// errEndpoint is wrapped by every error CheckEndpoint returns.
var errEndpoint = errors.New("invalid endpoint")

// CheckEndpoint validates a --graph-url or --authority-host value. It must
// be an absolute URL without user info, query or fragment, using https,
// except that http is allowed for loopback hosts (127.0.0.0/8, ::1,
// localhost), where the emulator and tests run. A trailing slash is trimmed
// from the path.
func CheckEndpoint(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		// url.Parse's message quotes the whole value, which may hold a
		// password in its user information: leave it out.
		return nil, fmt.Errorf("%w: %q is not a valid URL", errEndpoint, redactURL(raw))
	}
	shown := u.Redacted()
	switch {
	case !u.IsAbs() || u.Host == "" || u.Opaque != "":
		return nil, fmt.Errorf("%w %q: want an absolute URL such as https://graph.microsoft.com", errEndpoint, shown)
	case u.User != nil:
		return nil, fmt.Errorf("%w %q: user information is not allowed in the URL", errEndpoint, shown)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(raw, "#"):
		return nil, fmt.Errorf("%w %q: a query or fragment is not allowed", errEndpoint, shown)
	case u.Hostname() == "":
		return nil, fmt.Errorf("%w %q: no host", errEndpoint, shown)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("%w %q: https is required (http is allowed only for loopback addresses)", errEndpoint, shown)
		}
	default:
		return nil, fmt.Errorf("%w %q: scheme %q is not https", errEndpoint, shown, u.Scheme)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Path = strings.TrimRight(u.Path, "/")
	if u.RawPath != "" {
		u.RawPath = strings.TrimRight(u.RawPath, "/")
	}
	return u, nil
}

// redactURL hides the user information of a URL that did not parse.
func redactURL(raw string) string {
	if i := strings.LastIndex(raw, "@"); i >= 0 {
		if j := strings.Index(raw, "://"); j >= 0 && j < i {
			return raw[:j+3] + "xxxxx" + raw[i:]
		}
	}
	return raw
}

// isLoopback reports whether host (without port) is localhost or a loopback
// IP address.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
