package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/pipeline"
	"github.com/bulkreset/bulkreset/pkg/worker"
)

// An input with a TenantId column resets users of many tenants (README
// "Many tenants"): one multi-tenant app registration signs in to each
// tenant with the same client id and secret or certificate, and each
// tenant gets its own token, Graph client, preflight and pacer, because
// Graph's quotas are per application and tenant. The tenants run at once.

// useTenantColumn prepares a run for an input with a TenantId column: the
// results, plan and secrets files get the trailing tenant column, and the
// sign-in must be one that can switch tenants.
func (o *resetOptions) useTenantColumn(e *env) error {
	o.columns.Tenant = true
	if o.sandbox != "" {
		return usagef("--sandbox serves one tenant: remove the TenantId column, or run against real tenants")
	}
	kind, err := tenantAuthKind(e, o)
	if err != nil {
		return err
	}
	o.auth = kind
	if o.clientID == "" {
		return usagef("a TenantId column needs --client-id (or AZURE_CLIENT_ID): the multi-tenant app registration that signs in to each tenant")
	}
	return nil
}

// tenantAuthKind is the --auth kind of a multi-tenant run: an application
// credential, which signs in to any tenant that consented to the app.
// Managed identities and the Azure CLI sign in to their own tenant only,
// and the interactive kinds would ask a person once per tenant.
func tenantAuthKind(e *env, o *resetOptions) (string, error) {
	switch kind := strings.ToLower(strings.TrimSpace(o.auth)); kind {
	case graph.AuthClientSecret, graph.AuthCertificate, graph.AuthWorkloadIdentity:
		return kind, nil
	case "", graph.AuthAuto:
		switch {
		case e.getenv("AZURE_CLIENT_SECRET") != "":
			return graph.AuthClientSecret, nil
		case o.certificate != "":
			return graph.AuthCertificate, nil
		case e.getenv("AZURE_FEDERATED_TOKEN_FILE") != "":
			return graph.AuthWorkloadIdentity, nil
		}
		return "", usagef("a TenantId column needs an app credential that can sign in to every tenant: AZURE_CLIENT_SECRET, a certificate (--certificate) or a federated token (AZURE_FEDERATED_TOKEN_FILE), with --client-id")
	default:
		return "", usagef("--auth %s signs in to one tenant only; a TenantId column needs --auth client-secret, certificate or workload-identity with a multi-tenant app registration", kind)
	}
}

// tenantSet signs in to the tenants of a multi-tenant run as the rows
// name them.
type tenantSet struct {
	e        *env
	o        *resetOptions
	hc       *http.Client
	lg       *runLog
	cloud    graph.Cloud
	graphURL string
}

// connectTenants checks the endpoints of a multi-tenant run; no tenant is
// signed in to before its first row.
func connectTenants(e *env, o *resetOptions, hc *http.Client, lg *runLog) (*target, error) {
	cloud, graphURL, err := endpoints(o)
	if err != nil {
		return nil, err
	}
	// Every tenant's requests go to the one Graph host: keep enough idle
	// connections for a few tenants' batches in flight.
	if tr, ok := hc.Transport.(*http.Transport); ok {
		tr.MaxIdleConnsPerHost = max(tr.MaxIdleConnsPerHost, 8*o.concurrency)
	}
	ts := &tenantSet{e: e, o: o, hc: hc, lg: lg, cloud: cloud, graphURL: graphURL}
	// A credential for a tenant that is only checked, not used: a missing
	// secret or an unreadable certificate is a usage error now, not a
	// failure of every tenant later.
	if _, err := ts.credential("organizations"); err != nil {
		return nil, usagef("authentication: %w", err)
	}
	return &target{tenant: "per row (TenantId column)", graphURL: graphURL, tenants: ts}, nil
}

// credential is the app's credential in tenant.
func (ts *tenantSet) credential(tenant string) (azcore.TokenCredential, error) {
	return graph.NewCredential(authOptions(ts.e, ts.o, tenant, ts.cloud, ts.hc))
}

// client signs in to tenant and returns its Graph client. A refusal that
// concerns this tenant only is a *worker.TenantError; any other failed
// sign-in ends the run, said as what to set or do.
func (ts *tenantSet) client(ctx context.Context, tenant string) (*graph.Client, error) {
	cred, err := ts.credential(tenant)
	if err != nil {
		return nil, fatalError{fmt.Errorf("authentication for tenant %s: %w", tenant, err)}
	}
	client, err := graph.NewClient(clientOptions(ts.o, ts.graphURL, cred, ts.hc))
	if err != nil {
		return nil, fatalError{err}
	}
	if err := client.SignIn(ctx); err != nil {
		if te := tenantSignInError(tenant, ts.o, err); te != nil {
			return nil, te
		}
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, explainSignIn(err, ts.o.signInContext(tenant), ts.lg.Logger)
	}
	return client, nil
}

// tenantCauses are the sign-in failures that concern one tenant: the
// tenant does not exist, the app is not consented or is disabled there,
// Graph is not available there, a Conditional Access policy of the tenant
// blocks it. Any other (a wrong secret fails every tenant alike, a network
// failure is no tenant's) ends the run.
var tenantCauses = map[graph.SignInCause]bool{
	graph.CauseTenantNotFound: true, graph.CauseInvalidTenant: true, graph.CauseAppNotConsented: true,
	graph.CauseAppDisabled: true, graph.CauseGraphUnavailable: true, graph.CauseConditionalAccess: true,
}

// tenantSignInError returns the failure of one tenant for a sign-in that
// Entra refused for reasons of that tenant (tenantCauses), worded as a
// single-tenant run words it, or nil for any other failure.
func tenantSignInError(tenant string, o *resetOptions, err error) *worker.TenantError {
	f, ok := graph.DiagnoseSignIn(err)
	if !ok || !tenantCauses[f.Cause] {
		return nil
	}
	ts := o.signInContext(tenant)
	ts.tenantColumn = true
	return &worker.TenantError{Tenant: tenant, Err: err, Code: f.Code, Message: signInMessage(f, ts)}
}

// router makes the Router of a multi-tenant run: each tenant's lane signs
// in on the tenant's first row and has its own pool (pacer), preflight and
// token; the secrets file and the results file stay shared.
func (ts *tenantSet) router(o *resetOptions, rec worker.Recorder, logger *slog.Logger) *worker.Router {
	// One set of object ids for every lane: a tenant named two ways gets
	// two lanes, and its users must still be reset once.
	ids := worker.NewObjectIDs()
	// One limit for the application across every lane.
	app := worker.NewAppLimit(worker.AppWriteRate, worker.AppWriteBurst, o.batchSize)
	open := func(ctx context.Context, tenant string) (*worker.Lane, error) {
		client, err := ts.client(ctx, tenant)
		if err != nil {
			return nil, err
		}
		lane := &worker.Lane{}
		tl := logger.With("tenant", tenant)
		if o.plan {
			lane.Send = pipeline.Plan(poolOptions(o, tl))
		} else {
			po := poolOptions(o, tl)
			po.App = app
			pool := worker.New(client, worker.TenantRecorder(rec, tenant), po)
			lane.Send, lane.Stats = pool.Run, pool.Stats()
		}
		if o.preflight {
			po := preflightOptions(o, tl)
			po.ObjectIDs = ids
			lane.Preflight = worker.NewPreflight(client, po)
		}
		return lane, nil
	}
	return worker.NewRouter(open, worker.RouterOptions{Logger: logger})
}

// logTenantNotes says, after a multi-tenant run, what each tenant's lane
// did, and the totals logNotes gives for one tenant.
func logTenantNotes(logger *slog.Logger, o *resetOptions, r *worker.Router) {
	tenants, lanes := r.Lanes()
	var synced, externalGuests, federated int64
	var actions worker.Stats // the lanes' action counts, summed
	for i, l := range lanes {
		attrs := []any{"tenant", tenants[i]}
		if l.Stats != nil {
			attrs = append(attrs, "writes", l.Stats.Writes.Load(), "succeeded", l.Stats.Succeeded.Load(), "throttled", l.Stats.Throttled.Load())
			actions.Blocked.Add(l.Stats.Blocked.Load())
			actions.NotBlocked.Add(l.Stats.NotBlocked.Load())
			actions.Revoked.Add(l.Stats.Revoked.Load())
			actions.NotRevoked.Add(l.Stats.NotRevoked.Load())
		}
		if l.Preflight != nil {
			ps := l.Preflight.Stats()
			attrs = append(attrs, "reads", ps.Reads.Load(), "not_found", ps.NotFound.Load())
			synced += ps.Synced.Load()
			externalGuests += ps.ExternalGuests.Load()
			federated += ps.Federated.Load()
		}
		logger.Info("tenant finished", attrs...)
	}
	if synced > 0 && o.synced == string(worker.SyncedSkip) {
		logger.Warn(syncedNote(synced, o.plan), "synced", synced)
	}
	logUnresettableNotes(logger, o, externalGuests, federated)
	if !o.plan {
		logActionNotes(logger, o, &actions)
	}
}

// signIn gets the token of a single-tenant run now, so that a credential
// that does not work is reported before anything is read or written. A
// multi-tenant run signs in to each tenant on its first row.
func (t *target) signIn(ctx context.Context) error {
	if t.tenants != nil {
		return nil
	}
	return t.client.SignIn(ctx)
}
