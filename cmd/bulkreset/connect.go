package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/bulkreset/bulkreset/internal/plural"
	"github.com/bulkreset/bulkreset/pkg/graph"
)

// confirm asks the person at the terminal before anything is changed,
// saying what will happen: the tenant, the number of users and each action.
func confirm(ctx context.Context, e *env, o *resetOptions, t *target, lg *runLog) error {
	if !isTerminal(e.stdin) {
		return usagef("standard input is not a terminal: pass --yes to confirm the reset without a prompt")
	}
	question := confirmation(o, t.describe(ctx, lg.Logger))
	if lg.json {
		// Every line of standard error stays a JSON object: the question is
		// a record, and the answer is typed on the next line.
		lg.Warn(question+"\nType yes to continue.", "input", o.inputName(), "tenant", t.tenant)
	} else {
		fmt.Fprintf(e.stderr, "%s\nType yes to continue: ", question)
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fatalError{fmt.Errorf("reading the confirmation: %w", err)}
	}
	if strings.ToLower(strings.TrimSpace(line)) != "yes" {
		if lg.json {
			lg.Warn("Nothing was changed.")
		} else {
			fmt.Fprintln(e.stderr, "Nothing was changed.")
		}
		return exitError{exitUsage}
	}
	return nil
}

// confirmation is the question confirm asks: who, where, and each action,
// one a line.
func confirmation(o *resetOptions, tenant string) string {
	var b strings.Builder
	who := "every user"
	if o.inputCounted {
		who = plural.N(o.inputRows, "user")
	}
	if o.resume {
		who = "the users not finished yet among the " + who
	}
	subject := who + " of " + o.input
	if len(o.users) > 0 {
		subject = namedUsers(o.users)
	}
	fmt.Fprintf(&b, "This will change %s in %s:", subject, tenant)
	for _, action := range o.actions() {
		b.WriteString("\n  - " + action)
	}
	// Column passwords are in the input: only random ones can be lost.
	if o.discardPasswords && o.passwordMode == "random" && o.secrets == "" {
		b.WriteString("\nPasswords are discarded: nobody will know them (users must use self-service password reset).")
	}
	if o.shown != nil {
		b.WriteString("\nThe new password is shown here once, after the reset, and saved nowhere.")
	}
	return b.String()
}

// actions describes, for a person, what the run does to each user.
func (o *resetOptions) actions() []string {
	var out []string
	next := ""
	if o.forceChange {
		next = ", to change at next sign-in"
		if o.requireMFA {
			next = ", to change at next sign-in after MFA"
		}
	}
	switch o.passwordMode {
	case "random":
		out = append(out, "set a new random password for each user"+next)
	case "column":
		if o.passwordStdin {
			out = append(out, "set the password read from standard input"+next)
			break
		}
		out = append(out, "set the password of the Password column for each user"+next)
	case "none":
		out = append(out, "require a password change at next sign-in (no new password is set)")
	case "keep":
		out = append(out, "change no password")
	}
	switch {
	case o.revokeSessions && o.revokeOnlyIfReset:
		out = append(out, "revoke the sign-in sessions of every user whose password is reset")
	case o.revokeSessions && o.passwordMode == "keep":
		out = append(out, "revoke the sign-in sessions of every user found")
	case o.revokeSessions:
		out = append(out, "revoke the sign-in sessions of every user found, whatever happens to its reset")
	}
	if o.blockSignIn {
		out = append(out, "block sign-in (accountEnabled false) for every user found")
	}
	return out
}

// describe names the tenant for the confirmation: its display name and id
// from GET /organization, or the id alone when the app may not read it
// (Organization.Read.All) or for many tenants.
func (t *target) describe(ctx context.Context, logger *slog.Logger) string {
	if t.client == nil {
		return "the tenants of the TenantId column"
	}
	org, err := t.client.GetOrganization(ctx)
	if err != nil {
		logger.Debug("reading the tenant's name for the confirmation", "error", err)
		name := "tenant " + t.tenant
		if t.tenant == "" {
			name = "the tenant signed in to"
		}
		return name + " (its name is not shown: the app may not read the organization)"
	}
	return fmt.Sprintf("tenant %s (%s)", org.DisplayName, org.ID)
}

// newHTTPClient is the client for Graph and the token endpoint. It trusts
// the system's certificate authorities, plus those in $SSL_CERT_FILE (read
// here so that it works on every OS, not only where Go's system pool does).
func newHTTPClient(e *env, concurrency int) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = max(concurrency*2, 8)
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if path := e.getenv("SSL_CERT_FILE"); path != "" {
		pem, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("SSL_CERT_FILE: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("SSL_CERT_FILE %s: no PEM certificate in it", path)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	tr.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return &http.Client{Transport: tr}, nil
}

// target is the tenant a run talks to.
type target struct {
	client   *graph.Client
	tenant   string
	graphURL string
	close    func()
	// tenants is set for a multi-tenant run (client is then nil): each
	// tenant is signed in to on its first row.
	tenants *tenantSet
}

// Close releases the target (stops an in-process sandbox). Calls after
// the first do nothing.
func (t *target) Close() {
	if t.close != nil {
		t.close()
		t.close = nil
	}
}

// connect builds the credential and the Graph client, for a real tenant or
// the sandbox.
func connect(e *env, o *resetOptions, hc *http.Client, lg *runLog) (*target, error) {
	if o.columns.Tenant {
		return connectTenants(e, o, hc, lg)
	}
	if o.sandbox != "" {
		return connectSandbox(o, lg.Logger)
	}
	cloud, graphURL, err := endpoints(o)
	if err != nil {
		return nil, err
	}
	ao := authOptions(e, o, o.tenant, cloud, hc)
	ao.DeviceCodeMessage = func(_ context.Context, msg string) error {
		if lg.json {
			lg.Warn(msg) // the sign-in instruction, as a JSON record
			return nil
		}
		_, err := fmt.Fprintln(lg.stderr, msg)
		return err
	}
	cred, err := graph.NewCredential(ao)
	if err != nil {
		return nil, usagef("authentication: %w", err)
	}
	client, err := graph.NewClient(clientOptions(o, graphURL, cred, hc))
	if err != nil {
		return nil, fatalError{err}
	}
	return &target{client: client, tenant: o.tenant, graphURL: graphURL}, nil
}

// endpoints resolves --cloud, --graph-url and --authority-host, and checks
// them.
func endpoints(o *resetOptions) (graph.Cloud, string, error) {
	cloud, err := graph.LookupCloud(o.cloud)
	if err != nil {
		return graph.Cloud{}, "", usagef("--cloud: %w", err)
	}
	graphURL := cloud.GraphURL
	if o.graphURL != "" {
		u, err := graph.CheckEndpoint(o.graphURL)
		if err != nil {
			return graph.Cloud{}, "", usagef("--graph-url: %w", err)
		}
		graphURL = u.String()
	}
	if o.authorityHost != "" {
		if _, err := graph.CheckEndpoint(o.authorityHost); err != nil {
			return graph.Cloud{}, "", usagef("--authority-host: %w", err)
		}
	}
	return cloud, graphURL, nil
}

// authOptions are the credential's options for tenant, from the flags and
// the environment.
func authOptions(e *env, o *resetOptions, tenant string, cloud graph.Cloud, hc *http.Client) graph.AuthOptions {
	return graph.AuthOptions{
		Kind:                o.auth,
		TenantID:            tenant,
		ClientID:            o.clientID,
		ClientSecret:        e.getenv("AZURE_CLIENT_SECRET"),
		CertificatePath:     o.certificate,
		CertificatePassword: e.getenv("AZURE_CLIENT_CERTIFICATE_PASSWORD"),
		FederatedTokenFile:  e.getenv("AZURE_FEDERATED_TOKEN_FILE"),
		AuthorityHost:       o.authorityHost,
		Cloud:               cloud,
		Transport:           hc,
	}
}

// clientOptions are the Graph client's options.
func clientOptions(o *resetOptions, graphURL string, cred azcore.TokenCredential, hc *http.Client) graph.ClientOptions {
	return graph.ClientOptions{
		GraphURL:   graphURL,
		Credential: cred,
		Scope:      strings.TrimSuffix(graphURL, "/") + "/.default",
		HTTPClient: hc,
		Timeout:    o.requestTimeout,
		UserAgent:  "bulkreset/" + buildVersion(),
		// Sent on every request (https://learn.microsoft.com/graph/throttling-limits#request-headers):
		// when Graph must throttle, low-priority requests go first.
		Priority: o.priority,
	}
}

// signInContext is what a sign-in message of this run names, for tenant.
func (o *resetOptions) signInContext(tenant string) signInContext {
	return signInContext{tenant: tenant, clientID: o.clientID, certificate: o.certificate, tenantColumn: o.columns.Tenant}
}
