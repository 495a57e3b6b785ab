package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/password"
)

// The baselines are what administrators run today, written as small honest
// Go clients on net/http against the same emulated tenant: one PATCH
// /users/{upn} per user, no $batch, a unique random password each.

// sdkMaxRetries is what the Microsoft Graph SDKs' retry handler (Kiota's
// RetryHandlerOption, under the Graph PowerShell module) does with a 429,
// 503 or 504: up to 3 retries, each after the Retry-After.
const sdkMaxRetries = 3

// naiveWorkers and naiveAttempts shape the concurrent baseline: 16 PATCHes
// in flight, each retried at once on a 429 (no Retry-After handling), up to
// 8 attempts (bulkreset's default --max-attempts).
const (
	naiveWorkers  = 16
	naiveAttempts = 8
)

// restClient sends single Graph requests with a client-credentials token.
type restClient struct {
	hc    *http.Client
	graph string
	token string
}

func newRESTClient(ctx context.Context, t *tenant) (*restClient, error) {
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {benchClient},
		"client_secret": {benchSecret},
		"scope":         {t.srv.URL + "/.default"},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.srv.URL+"/"+benchTenant+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := t.srv.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
		return nil, fmt.Errorf("token: HTTP %d, no access token (%v)", resp.StatusCode, err)
	}
	return &restClient{hc: t.srv.Client, graph: t.srv.URL + "/v1.0", token: tok.AccessToken}, nil
}

// setPassword PATCHes the user's passwordProfile and returns the status and
// the Retry-After of the answer.
func (c *restClient) setPassword(ctx context.Context, upn, pw string) (int, time.Duration, error) {
	body, err := json.Marshal(map[string]any{"passwordProfile": map[string]any{
		"password": pw, "forceChangePasswordNextSignIn": true,
	}})
	if err != nil {
		return 0, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPatch, c.graph+"/users/"+url.PathEscape(upn), bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, retryAfter(resp.Header.Get("Retry-After")), nil
}

// retryAfter reads Retry-After as the tool does: (fractional) seconds or
// an HTTP date; 0 when absent or unreadable.
func retryAfter(v string) time.Duration {
	d, _ := graph.ParseRetryAfter(v, time.Now())
	return d
}

// sequential resets every user one after the other, as a PowerShell
// foreach over Update-MgUser does: a 429, 503 or 504 is retried up to
// sdkMaxRetries times after its Retry-After, then the user is left failed.
func sequential(ctx context.Context, t *tenant) error {
	c, err := newRESTClient(ctx, t)
	if err != nil {
		return err
	}
	for _, u := range t.users {
		pw, err := password.Generate(password.DefaultLength)
		if err != nil {
			return err
		}
		for retry := 0; ; retry++ {
			status, wait, err := c.setPassword(ctx, u.UPN, pw)
			if err != nil {
				return err
			}
			if retry == sdkMaxRetries || (status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable && status != http.StatusGatewayTimeout) {
				break
			}
			time.Sleep(wait)
		}
	}
	return nil
}

// concurrent resets the users from naiveWorkers goroutines, each PATCH on
// its own, a 429 retried at once, up to naiveAttempts attempts.
func concurrent(ctx context.Context, t *tenant) error {
	c, err := newRESTClient(ctx, t)
	if err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	work := make(chan string)
	g.Go(func() error {
		defer close(work)
		for _, u := range t.users {
			select {
			case work <- u.UPN:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	})
	for range naiveWorkers {
		g.Go(func() error {
			for upn := range work {
				pw, err := password.Generate(password.DefaultLength)
				if err != nil {
					return err
				}
				for range naiveAttempts {
					status, _, err := c.setPassword(ctx, upn, pw)
					if err != nil {
						return err
					}
					if status != http.StatusTooManyRequests {
						break
					}
				}
			}
			return nil
		})
	}
	return g.Wait()
}
