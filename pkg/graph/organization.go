package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Organization is the tenant a client is signed in to.
type Organization struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
}

// GetOrganization reads the id and display name of the tenant signed in
// to (GET /organization, https://learn.microsoft.com/graph/api/organization-list:
// its least privileged permission is Organization.Read.All for an
// application, User.Read for a signed-in user). A refusal (403, the app
// lacks the permission) is an *Error, as every answer that is not 2xx.
func (c *Client) GetOrganization(ctx context.Context) (Organization, error) {
	resp, err := c.Do(ctx, Request{ID: "organization", Method: "GET", URL: "/organization?$select=id,displayName"})
	if err != nil {
		return Organization{}, err
	}
	if gerr := resp.Err(time.Now()); gerr != nil {
		return Organization{}, gerr
	}
	var list struct {
		Value []Organization `json:"value"`
	}
	if err := json.Unmarshal(resp.Body, &list); err != nil {
		return Organization{}, fmt.Errorf("%w: the organization answer: %w", ErrMalformedResponse, err)
	}
	if len(list.Value) == 0 || list.Value[0].ID == "" {
		return Organization{}, fmt.Errorf("%w: the organization answer names no tenant", ErrMalformedResponse)
	}
	return list.Value[0], nil
}
