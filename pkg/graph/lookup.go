package graph

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// lookupSelect are the properties a preflight lookup needs. Graph returns
// accountEnabled, onPremisesSyncEnabled and userType only when they are
// selected (https://learn.microsoft.com/graph/api/user-get); $select also
// lowers the read's cost to 1 resource unit
// (https://learn.microsoft.com/graph/throttling-limits).
//
// lastPasswordChangeDateTime and signInSessionsValidFromDateTime, also
// returned only when selected, are what bulkreset verify reads back.
const lookupSelect = "id,userPrincipalName,accountEnabled,onPremisesSyncEnabled,userType,lastPasswordChangeDateTime,signInSessionsValidFromDateTime"

// LookupRequest returns the GET that resolves user (an object id or a UPN,
// see UserPath) to the properties in UserInfo.
func LookupRequest(id, user string) Request {
	return Request{ID: id, Method: "GET", URL: UserPath(user) + "?$select=" + lookupSelect}
}

// UserInfo is what a preflight lookup learns about a user.
type UserInfo struct {
	// ID is the object id.
	ID string `json:"id"`
	// UserPrincipalName is the user's UPN as the directory holds it.
	UserPrincipalName string `json:"userPrincipalName"`
	// AccountEnabled is false for a disabled (blocked) account; nil when
	// Graph did not say.
	AccountEnabled *bool `json:"accountEnabled"`
	// OnPremisesSyncEnabled is true for a user synchronised from
	// on-premises Active Directory, false for one that was synchronised
	// once, nil for a cloud-only user.
	OnPremisesSyncEnabled *bool `json:"onPremisesSyncEnabled"`
	// UserType is "Member" or "Guest".
	UserType string `json:"userType"`
	// LastPasswordChangeDateTime is when the password was last set (by
	// anyone, the user included), or the account created; nil when Graph
	// did not say.
	LastPasswordChangeDateTime *time.Time `json:"lastPasswordChangeDateTime"`
	// SignInSessionsValidFromDateTime is when the sign-in sessions were
	// last revoked (tokens issued before are invalid); nil when Graph did
	// not say.
	SignInSessionsValidFromDateTime *time.Time `json:"signInSessionsValidFromDateTime"`
}

// Synced reports whether the user is mastered on-premises: its password
// is changed there, or through the resetPassword action with writeback.
func (u UserInfo) Synced() bool { return u.OnPremisesSyncEnabled != nil && *u.OnPremisesSyncEnabled }

// Disabled reports whether the account is disabled.
func (u UserInfo) Disabled() bool { return u.AccountEnabled != nil && !*u.AccountEnabled }

// Guest reports whether the user is a guest (B2B) user.
func (u UserInfo) Guest() bool { return strings.EqualFold(u.UserType, "Guest") }

// ExternalGuest reports whether the user principal name is an external
// guest's: one with #EXT# (in any case), the mark Entra gives a B2B user who
// signs in at their home organisation, so that a password set in this
// tenant is not the one they use.
func (u UserInfo) ExternalGuest() bool {
	return strings.Contains(strings.ToUpper(u.UserPrincipalName), "#EXT#")
}

// Domain returns the domain of the user principal name (after its last @),
// in lower case; "" when it has none. For an external guest it is this
// tenant's own domain, not their home organisation's.
func (u UserInfo) Domain() string {
	i := strings.LastIndexByte(u.UserPrincipalName, '@')
	if i < 0 {
		return ""
	}
	return strings.ToLower(u.UserPrincipalName[i+1:])
}

// ParseUserInfo reads the body of a successful LookupRequest.
func ParseUserInfo(body json.RawMessage) (UserInfo, error) {
	var u UserInfo
	if err := json.Unmarshal(body, &u); err != nil {
		return UserInfo{}, fmt.Errorf("%w: a user lookup answer is not a user object: %w", ErrMalformedResponse, err)
	}
	if u.ID == "" {
		return UserInfo{}, fmt.Errorf("%w: a user lookup answer has no id", ErrMalformedResponse)
	}
	return u, nil
}

// emptyBody is the body of actions that take none: inside a $batch every
// POST needs a JSON body and a Content-Type, or Graph refuses it
// (https://github.com/microsoftgraph/msgraph-sdk-dotnet/issues/2628).
type emptyBody struct{}

// RevokeSessionsRequest returns the POST that invalidates user's refresh
// tokens and session cookies
// (https://learn.microsoft.com/graph/api/user-revokesigninsessions).
// user is best an object id; see UserPath.
func RevokeSessionsRequest(id, user string) Request {
	return Request{ID: id, Method: "POST", URL: UserPath(user) + "/revokeSignInSessions", Body: emptyBody{}}
}

// domainsURL lists the tenant's domains with the one property the
// preflight needs (https://learn.microsoft.com/graph/api/domain-list;
// least privileged application permission Domain.Read.All). No page size
// is documented; the answer is a domain collection, which may carry an
// @odata.nextLink like any Graph collection, and DomainPage follows it.
const domainsURL = "/domains?$select=id,authenticationType"

// DomainsRequest returns the GET of the first page of the tenant's domains.
func DomainsRequest(id string) Request {
	return Request{ID: id, Method: "GET", URL: domainsURL}
}

// Domain is one domain of the tenant, as DomainsRequest returns it.
type Domain struct {
	// ID is the domain name, such as contoso.com.
	ID string `json:"id"`
	// AuthenticationType is "Managed" (Entra ID holds the passwords) or
	// "Federated" (an identity provider such as AD FS does).
	AuthenticationType string `json:"authenticationType"`
}

// Federated reports whether the domain's users sign in at an identity
// provider, which holds their passwords.
func (d Domain) Federated() bool { return strings.EqualFold(d.AuthenticationType, "Federated") }

// DomainPage is one page of the answer to DomainsRequest.
type DomainPage struct {
	Domains []Domain
	// Next is the URL of the next page, relative to the version root like
	// every Request URL; "" on the last page.
	Next string
}

// ParseDomains reads the body of a successful DomainsRequest, or of the
// request for a page it pointed to.
func ParseDomains(body json.RawMessage) (DomainPage, error) {
	var wire struct {
		Value    []Domain `json:"value"`
		NextLink string   `json:"@odata.nextLink"`
	}
	if err := json.Unmarshal(body, &wire); err != nil {
		return DomainPage{}, fmt.Errorf("%w: a domains answer is not a domain collection: %w", ErrMalformedResponse, err)
	}
	if wire.Value == nil {
		return DomainPage{}, fmt.Errorf("%w: a domains answer has no value", ErrMalformedResponse)
	}
	page := DomainPage{Domains: wire.Value}
	if wire.NextLink != "" {
		next, err := domainsNext(wire.NextLink)
		if err != nil {
			return DomainPage{}, err
		}
		page.Next = next
	}
	return page, nil
}

// domainsNext turns an @odata.nextLink (an absolute URL such as
// https://graph.microsoft.com/v1.0/domains?$skiptoken=...) into a URL
// relative to the version root, refusing one that leads anywhere but the
// domains collection of the same version.
func domainsNext(link string) (string, error) {
	u, err := url.Parse(link)
	if err != nil {
		return "", fmt.Errorf("%w: a domains answer has an unreadable @odata.nextLink: %w", ErrMalformedResponse, err)
	}
	rel, ok := strings.CutPrefix(u.EscapedPath(), "/v1.0")
	if !ok || !strings.EqualFold(rel, "/domains") {
		return "", fmt.Errorf("%w: a domains answer's @odata.nextLink leads elsewhere (%s)", ErrMalformedResponse, quoteCut(u.Path, 80))
	}
	if u.RawQuery != "" {
		rel += "?" + u.RawQuery
	}
	return rel, nil
}
