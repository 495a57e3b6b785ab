package graph

import (
	"strings"
	"testing"
)

func TestLookupCloud(t *testing.T) {
	tests := []struct {
		name          string
		wantGraph     string
		wantAuthority string
		wantScope     string
	}{
		{name: "global", wantGraph: "https://graph.microsoft.com", wantAuthority: "https://login.microsoftonline.com", wantScope: "https://graph.microsoft.com/.default"},
		{name: "usgov", wantGraph: "https://graph.microsoft.us", wantAuthority: "https://login.microsoftonline.us", wantScope: "https://graph.microsoft.us/.default"},
		{name: "usgov-dod", wantGraph: "https://dod-graph.microsoft.us", wantAuthority: "https://login.microsoftonline.us", wantScope: "https://dod-graph.microsoft.us/.default"},
		{name: "china", wantGraph: "https://microsoftgraph.chinacloudapi.cn", wantAuthority: "https://login.chinacloudapi.cn", wantScope: "https://microsoftgraph.chinacloudapi.cn/.default"},
		{name: "USGov-DoD", wantGraph: "https://dod-graph.microsoft.us", wantAuthority: "https://login.microsoftonline.us", wantScope: "https://dod-graph.microsoft.us/.default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LookupCloud(tt.name)
			if err != nil {
				t.Fatalf("LookupCloud(%q) error: %v", tt.name, err)
			}
			if c.GraphURL != tt.wantGraph || c.AuthorityHost != tt.wantAuthority {
				t.Errorf("LookupCloud(%q) = %+v, want GraphURL %s, AuthorityHost %s", tt.name, c, tt.wantGraph, tt.wantAuthority)
			}
			if got := c.Scope(); got != tt.wantScope {
				t.Errorf("Scope() = %q, want %q", got, tt.wantScope)
			}
			if !IsKnownAuthority(c.AuthorityHost) {
				t.Errorf("IsKnownAuthority(%q) = false, want true", c.AuthorityHost)
			}
		})
	}
}

func TestLookupCloudUnknown(t *testing.T) {
	for _, name := range []string{"", "azure", "gcc-high", "public"} {
		_, err := LookupCloud(name)
		if err == nil {
			t.Fatalf("LookupCloud(%q): got nil error, want an error", name)
		}
		for _, valid := range []string{"global", "usgov", "usgov-dod", "china"} {
			if !strings.Contains(err.Error(), valid) {
				t.Errorf("LookupCloud(%q) error %q does not list %q", name, err, valid)
			}
		}
	}
}

func TestIsKnownAuthority(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{host: "login.microsoftonline.com", want: true},
		{host: "LOGIN.microsoftonline.com", want: true},
		{host: "https://login.microsoftonline.com", want: true},
		{host: "https://login.microsoftonline.com/", want: true},
		{host: "https://login.microsoftonline.us", want: true},
		{host: "https://login.chinacloudapi.cn/", want: true},
		{host: "https://login.microsoftonline.com:443", want: true},
		{host: "http://login.microsoftonline.com", want: false},
		{host: "https://login.microsoftonline.com/tenant", want: false},
		{host: "https://login.microsoftonline.com:8443", want: false},
		{host: "https://login.microsoftonline.com.evil.example", want: false},
		{host: "https://127.0.0.1:8443", want: false},
		{host: "login.microsoft.com", want: false},
		{host: "", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			if got := IsKnownAuthority(tt.host); got != tt.want {
				t.Errorf("IsKnownAuthority(%q) = %t, want %t", tt.host, got, tt.want)
			}
		})
	}
}

func TestCheckEndpoint(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    string // "" means an error is expected
		wantErr string
	}{
		{name: "https", raw: "https://graph.microsoft.com", want: "https://graph.microsoft.com"},
		{name: "https trailing slash", raw: "https://graph.microsoft.com/", want: "https://graph.microsoft.com"},
		{name: "https path", raw: "https://proxy.example/graph//", want: "https://proxy.example/graph"},
		{name: "upper-case scheme", raw: "HTTPS://graph.microsoft.us", want: "https://graph.microsoft.us"},
		{name: "http 127.0.0.1", raw: "http://127.0.0.1:8080", want: "http://127.0.0.1:8080"},
		{name: "http 127.1.2.3", raw: "http://127.1.2.3:8080/", want: "http://127.1.2.3:8080"},
		{name: "http ::1", raw: "http://[::1]:9000", want: "http://[::1]:9000"},
		{name: "http localhost", raw: "http://localhost:9000", want: "http://localhost:9000"},
		{name: "http remote", raw: "http://graph.microsoft.com", wantErr: "https is required"},
		{name: "http private address", raw: "http://10.0.0.1", wantErr: "https is required"},
		{name: "http localhost lookalike", raw: "http://localhost.evil.example", wantErr: "https is required"},
		{name: "other scheme", raw: "ftp://graph.microsoft.com", wantErr: "not https"},
		{name: "relative", raw: "graph.microsoft.com", wantErr: "absolute URL"},
		{name: "empty", raw: "", wantErr: "absolute URL"},
		{name: "query", raw: "https://graph.microsoft.com/?a=b", wantErr: "query or fragment"},
		{name: "empty query", raw: "https://graph.microsoft.com/?", wantErr: "query or fragment"},
		{name: "fragment", raw: "https://graph.microsoft.com/#x", wantErr: "query or fragment"},
		{name: "user info", raw: "https://user:pw@graph.microsoft.com", wantErr: "user information"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := CheckEndpoint(tt.raw)
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("CheckEndpoint(%q) = %v, want an error containing %q", tt.raw, u, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("CheckEndpoint(%q) error %q, want it to contain %q", tt.raw, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("CheckEndpoint(%q) error: %v", tt.raw, err)
			}
			if got := u.String(); got != tt.want {
				t.Errorf("CheckEndpoint(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestCheckEndpointHidesUserPassword(t *testing.T) {
	for _, raw := range []string{"https://admin:hunter2@graph.microsoft.com", "https://admin:hunter2@graph.microsoft.com/%zz", "http://admin:hunter2@10.0.0.1"} {
		_, err := CheckEndpoint(raw)
		if err == nil {
			t.Fatalf("CheckEndpoint(%q): got nil error, want an error", raw)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("CheckEndpoint error shows the password from the URL: %v", err)
		}
	}
}
