package worker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/bulkreset/bulkreset/pkg/graph"
)

// FederatedAdvice is the error_message of a user of a federated domain
// skipped by the preflight.
const FederatedAdvice = "the user's domain is federated: the password lives with the identity provider (AD FS or a third-party IdP), " +
	"and Graph cannot set it. Reset it there (for AD FS, in on-premises Active Directory); revoking sessions and blocking sign-in still work here"

// ExternalGuestAdvice is the error_message of an external guest whose reset
// the preflight skipped.
const ExternalGuestAdvice = "the user is an external guest (#EXT#): they sign in at their home organisation, so a password set in this tenant is not the one they use. " +
	"Revoking their sessions (--revoke-sessions) and blocking their sign-in (--block-sign-in) are what contain them; --include-guests resets them anyway"

// domainsPermission names what lets the preflight read the tenant's domains.
const domainsPermission = "Domain.Read.All (application permission, or a role that reads domains for a signed-in administrator)"

// loadDomains reads the tenant's federated domains, following every page,
// retrying throttled and transient failures like lookups. It returns the
// federated domain names in lower case. When they cannot be read it logs
// one warning that names the permission and returns none: the run goes on,
// and users of a federated domain then fail as Graph answers their reset.
// It returns an error only when the run must stop (authentication failed);
// when ctx ends it returns no domains and no error.
func (p *Preflight) loadDomains(ctx context.Context) (map[string]bool, error) {
	federated := map[string]bool{}
	if p.opts.KeepPasswords {
		return federated, nil // no password is set: federation does not matter
	}
	next := graph.DomainsRequest("domains").URL
	pages := 0
	for next != "" {
		page, err := p.domainPage(ctx, next)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil
			}
			if errors.Is(err, graph.ErrAuthentication) {
				return nil, fmt.Errorf("%w: reading the tenant's domains: %w", ErrAuth, err)
			}
			p.opts.Logger.Warn("cannot read the tenant's domains, so users of federated domains are not told apart before their reset "+
				"(Graph then refuses it); grant the app "+domainsPermission+" to have them skipped as federated_user",
				"error", err)
			return nil, nil
		}
		for _, d := range page.Domains {
			if d.Federated() {
				federated[strings.ToLower(d.ID)] = true
			}
		}
		pages++
		if pages > maxDomainPages {
			p.opts.Logger.Warn("the tenant's domains did not end after many pages; going on with those read", "pages", pages)
			break
		}
		next = page.Next
	}
	if len(federated) > 0 {
		names := make([]string, 0, len(federated))
		for d := range federated {
			names = append(names, d)
		}
		slices.Sort(names)
		p.opts.Logger.Info("federated domains: their users' resets are skipped (federated_user)", "domains", strings.Join(names, ","))
	}
	return federated, nil
}

// maxDomainPages bounds the pages of domains followed, so that an answer
// whose next link never ends (a proxy, a bug) cannot hold the run; a
// tenant's domains fit in far fewer pages at any page size Graph uses.
const maxDomainPages = 100

// domainPage gets one page of domains (url relative to the version root),
// as a one-request $batch like every other request of the preflight.
func (p *Preflight) domainPage(ctx context.Context, url string) (graph.DomainPage, error) {
	for attempt := 1; ; attempt++ {
		req := graph.DomainsRequest("domains")
		req.URL = url
		p.stats.Reads.Add(1)
		var delay time.Duration
		res, err := p.send.Batch(ctx, []graph.Request{req})
		var gerr *graph.Error
		switch {
		case err != nil && ctx.Err() != nil:
			return graph.DomainPage{}, err
		case err != nil && errors.Is(err, graph.ErrAuthentication):
			return graph.DomainPage{}, err
		case err != nil && errors.As(err, &gerr):
			if !retryable(gerr.Status) {
				return graph.DomainPage{}, err
			}
			delay = lookupDelay(attempt, gerr.RetryAfter, gerr.HasRetryAfter, p.opts.Jitter())
		case err != nil:
			delay = lookupDelay(attempt, 0, false, p.opts.Jitter())
		default:
			resp, ok := res.Responses[req.ID]
			if !ok {
				err = errors.New("no response for the domains request in the $batch answer")
				delay = lookupDelay(attempt, 0, false, p.opts.Jitter())
				break
			}
			if gerr = resp.Err(p.opts.Now()); gerr == nil {
				page, perr := graph.ParseDomains(resp.Body)
				if perr != nil {
					return graph.DomainPage{}, perr
				}
				return page, nil
			}
			err = gerr
			if !retryable(gerr.Status) {
				return graph.DomainPage{}, err
			}
			delay = lookupDelay(attempt, gerr.RetryAfter, gerr.HasRetryAfter, p.opts.Jitter())
		}
		if gerr != nil && gerr.Status == http.StatusTooManyRequests {
			p.stats.Throttled.Add(1)
		}
		if attempt >= p.opts.MaxAttempts {
			return graph.DomainPage{}, fmt.Errorf("gave up after %d attempts: %w", attempt, err)
		}
		p.opts.Logger.Debug("retrying the domains request", "after", delay, "error", err)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return graph.DomainPage{}, ctx.Err()
		}
	}
}
