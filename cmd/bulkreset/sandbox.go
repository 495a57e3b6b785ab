package main

import (
	"fmt"
	"log/slog"
	"os"

	"github.com/bulkreset/bulkreset/pkg/graph"
	"github.com/bulkreset/bulkreset/pkg/graphsim"
)

// connectSandbox starts the Graph emulator in this process, on loopback
// with TLS, and connects to it exactly as to a real tenant: client-secret
// auth through azidentity against the emulator's token endpoint, and $batch
// over HTTPS. No credentials of a real tenant are needed or used.
func connectSandbox(o *resetOptions, logger *slog.Logger) (*target, error) {
	tenant := graphsim.Tenant{Users: graphsim.SandboxTenant()}
	if o.sandbox != sandboxBuiltin {
		f, err := os.Open(o.sandbox)
		if err != nil {
			if o.sandboxTenant != "" {
				return nil, usagef("--sandbox-tenant: %w", err)
			}
			return nil, usagef("--sandbox: %w", err)
		}
		tenant, err = graphsim.LoadTenantFile(f)
		f.Close()
		if err != nil {
			return nil, usagef("--sandbox %s: %w", o.sandbox, err)
		}
	}
	users := tenant.Users
	sim := graphsim.New(graphsim.Options{Domains: tenant.Domains})
	for _, u := range users {
		if err := sim.AddUser(u); err != nil {
			return nil, usagef("--sandbox: %w", err)
		}
	}
	srv, err := sim.Start()
	if err != nil {
		return nil, fatalError{fmt.Errorf("starting the sandbox: %w", err)}
	}
	cred, err := graph.NewCredential(graph.AuthOptions{
		Kind:          "client-secret",
		TenantID:      graphsim.SandboxTenantID,
		ClientID:      graphsim.SandboxClientID,
		ClientSecret:  graphsim.SandboxClientSecret,
		AuthorityHost: srv.URL,
		Transport:     srv.Client,
	})
	if err != nil {
		srv.Close()
		return nil, fatalError{fmt.Errorf("sandbox credential: %w", err)}
	}
	client, err := graph.NewClient(graph.ClientOptions{
		GraphURL:   srv.URL,
		Credential: cred,
		Scope:      srv.URL + "/.default",
		HTTPClient: srv.Client,
		Timeout:    o.requestTimeout,
		UserAgent:  "bulkreset/" + buildVersion(),
		Priority:   o.priority,
	})
	if err != nil {
		srv.Close()
		return nil, fatalError{err}
	}
	logger.Info("using the sandbox tenant: an in-process Graph emulator; nothing leaves this machine",
		"users", len(users), "url", srv.URL)
	return &target{
		client:   client,
		tenant:   graphsim.SandboxTenantID + " (sandbox)",
		graphURL: srv.URL,
		close: func() {
			st := sim.Stats()
			logger.Info("sandbox finished", "batches", st.Batches, "writes_applied", st.WritesApplied)
			srv.Close()
		},
	}, nil
}
