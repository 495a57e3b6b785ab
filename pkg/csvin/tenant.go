package csvin

import (
	"fmt"
	"strings"
)

// maxDomain is the longest domain name DNS allows.
const maxDomain = 253

// CheckTenant checks a tenant as the TenantId column or --tenant gives it:
// a tenant id (a GUID, with or without braces) or a domain name verified in
// the tenant, such as contoso.onmicrosoft.com. It returns the tenant
// normalized to lower case, or a problem for a person ("is not ...") that
// repeats the value, which is no secret.
//
// The multi-tenant authorities "common", "organizations" and "consumers"
// are refused: an app signs in to one tenant at a time with the
// client-credentials flow
// (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-client-creds-grant-flow).
func CheckTenant(v string) (string, string) {
	if g, ok := parseGUID(v); ok {
		return g, ""
	}
	d := strings.ToLower(strings.TrimSuffix(v, "."))
	switch d {
	case "common", "organizations", "consumers":
		return "", fmt.Sprintf("is %q, which names no single tenant: give the tenant id (a GUID) or a domain of the tenant, such as contoso.onmicrosoft.com", v)
	}
	if !isDomain(d) {
		return "", fmt.Sprintf("%q is not a tenant id (a GUID) nor a domain name such as contoso.onmicrosoft.com", short(v))
	}
	return d, ""
}

// isDomain reports whether d is a lower-case DNS name of at least two
// labels, each 1 to 63 letters, digits and inner hyphens, the last not all
// digits.
func isDomain(d string) bool {
	if len(d) == 0 || len(d) > maxDomain {
		return false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	last := labels[len(labels)-1]
	return strings.Trim(last, "0123456789") != ""
}

// short cuts a value quoted in a message to 64 characters.
func short(v string) string {
	if r := []rune(v); len(r) > 64 {
		return string(r[:64]) + "…"
	}
	return v
}
