package graph

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// The directory audit log (https://learn.microsoft.com/graph/api/directoryaudit-list):
// GET /auditLogs/directoryAudits, which needs AuditLog.Read.All and
// Directory.Read.All (application or delegated) and, for a signed-in
// administrator, the Reports Reader, Security Reader or Security
// Administrator role. It supports $filter (eq, ge, le, startswith) on the
// fields of directoryAudit that say so
// (https://learn.microsoft.com/graph/api/resources/directoryaudit), $top
// and paging by @odata.nextLink.

// MaxAuditPage is the $top the audit list is asked for: 200 records of a
// kilobyte or two each keep a page well under the bound on one answer
// (maxResponseBytes, 512 KiB), which is kept for every request.
const MaxAuditPage = 200

// DirectoryAudit is one directory audit record, as far as verify reads it.
type DirectoryAudit struct {
	ID                  string    `json:"id"`
	Category            string    `json:"category"`
	CorrelationID       string    `json:"correlationId"`
	Result              string    `json:"result"`
	ActivityDisplayName string    `json:"activityDisplayName"`
	ActivityDateTime    time.Time `json:"activityDateTime"`
	LoggedByService     string    `json:"loggedByService"`
	InitiatedBy         struct {
		App *struct {
			AppID       string `json:"appId"`
			DisplayName string `json:"displayName"`
		} `json:"app"`
		User *struct {
			ID                string `json:"id"`
			UserPrincipalName string `json:"userPrincipalName"`
		} `json:"user"`
	} `json:"initiatedBy"`
	TargetResources []struct {
		ID                string `json:"id"`
		Type              string `json:"type"`
		UserPrincipalName string `json:"userPrincipalName"`
	} `json:"targetResources"`
}

// Initiator names who made the change: the application (display name and
// appId) or the signed-in user (user principal name).
func (a DirectoryAudit) Initiator() string {
	switch by := a.InitiatedBy; {
	case by.App != nil && by.App.AppID != "":
		if by.App.DisplayName != "" {
			return fmt.Sprintf("app %s (%s)", by.App.DisplayName, by.App.AppID)
		}
		return "app " + by.App.AppID
	case by.User != nil && by.User.UserPrincipalName != "":
		return "user " + by.User.UserPrincipalName
	case by.User != nil:
		return "user " + by.User.ID
	}
	return ""
}

// AuditPage is one page of the audit list.
type AuditPage struct {
	Value    []DirectoryAudit `json:"value"`
	NextLink string           `json:"@odata.nextLink"`
}

// ParseAuditPage reads the body of a successful audit list page.
func ParseAuditPage(body json.RawMessage) (AuditPage, error) {
	var p AuditPage
	if err := json.Unmarshal(body, &p); err != nil {
		return AuditPage{}, fmt.Errorf("%w: an audit log page is not a collection of directory audits: %w", ErrMalformedResponse, err)
	}
	return p, nil
}

// AuditActivityPath is the first page of the records of one activity
// between from and to (inclusive), MaxAuditPage at a time.
func AuditActivityPath(activity string, from, to time.Time) string {
	f := fmt.Sprintf("activityDisplayName eq '%s' and activityDateTime ge %s and activityDateTime le %s",
		strings.ReplaceAll(activity, "'", "''"), from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	return "/auditLogs/directoryAudits?$filter=" + url.QueryEscape(f) + fmt.Sprintf("&$top=%d", MaxAuditPage)
}

// NextPath turns an @odata.nextLink into a path for Do. A link that does
// not point below this client's Graph root is refused: the access token is
// never sent anywhere else.
func (c *Client) NextPath(next string) (string, error) {
	rest, ok := strings.CutPrefix(next, c.base)
	if !ok || !strings.HasPrefix(rest, "/") {
		return "", fmt.Errorf("%w: an @odata.nextLink points outside %s", ErrMalformedResponse, c.base)
	}
	return rest, nil
}
