package graph

import (
	"encoding/json"
	"fmt"
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
