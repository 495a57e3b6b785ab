// Package graphsim emulates the parts of Microsoft Graph and of the Microsoft
// Entra token endpoint that bulkreset talks to, on loopback, so that the end-to-end
// tests, the benchmarks and `bulkreset reset --sandbox` can drive the real
// azidentity code and the real Graph client against a tenant whose state can be
// inspected afterwards.
//
// It imports no other bulkreset package on purpose: it is an independent
// emulation of Graph's wire behaviour, so the client cannot agree with itself.
//
// # What it serves
//
// One [http.Handler] ([Sim.Handler], served over TLS on 127.0.0.1 by [Sim.Start])
// answers:
//
//   - GET /{tenant}/v2.0/.well-known/openid-configuration and
//     POST /{tenant}/oauth2/v2.0/token: the client-credentials flow, with a client
//     secret or a signed client assertion (certificate credentials), as MSAL Go
//     and azidentity use them with DisableInstanceDiscovery. {tenant} is the
//     tenant ID or the tenant's domain. Errors are Entra's AADSTS JSON errors.
//     Options.Refuse answers what no request shows (an expired client
//     secret, an app with no service principal or no consent in the
//     tenant); a certificate not registered or expired, an unknown app and
//     an unknown or malformed tenant are answered from the request.
//   - GET /msi/token (ManagedIdentityPath): an App Service managed-identity
//     endpoint, as IDENTITY_ENDPOINT names it, for Options.ManagedIdentity.
//   - POST /v1.0/$batch: JSON batching, at most 20 sub-requests, answered in a
//     shuffled order, each sub-request evaluated (and throttled) on its own.
//   - PATCH /v1.0/users/{id|upn} with a passwordProfile and/or accountEnabled,
//     GET /v1.0/users/{id|upn} with $select, POST
//     /v1.0/users/{id|upn}/revokeSignInSessions, both inside $batch and
//     directly. The /users('{upn}') key form is accepted too. An
//     administrator (KindAdmin) is refused a password reset and an
//     accountEnabled change (403: sensitive properties of privileged users
//     need a higher role than the app's) but has its sessions revoked
//     (User.RevokeSessions.All needs no role); a synced user's
//     accountEnabled is mastered on-premises (400). User.SessionsRevokedAt
//     and User.AccountEnabled show the result. Sim.FailWrite makes one kind
//     of write to one user fail (a 5xx every time, a 403, ...) while the
//     others work.
//   - GET /v1.0/domains, with $select: the tenant's domains (Options.Domains)
//     and their authenticationType, in pages of Options.DomainsPageSize with
//     an absolute @odata.nextLink; 403 with Options.DenyDomains (an app
//     without Domain.Read.All).
//
// Every Graph error, outer or inside a batch, uses Graph's envelope
// {"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}.
// Codes and messages come from Microsoft's documentation and issue trackers where
// they are known (the sources are cited in the code); the answers to requests
// the emulator does not emulate, and the injected 5xx, say "graphsim:" in their
// message.
//
// # Behaviour that clients rely on
//
//   - A sub-request URL is decoded as a server would: everything from a raw '#'
//     is a fragment and is cut, then the path is percent-decoded (%23 becomes '#').
//     An unencoded guest UPN (x#EXT#@domain) therefore becomes "not found".
//     A path key that begins with '$' is an OData system segment, so
//     /users/$x@domain is a 400; /users('$x@domain') works (a quote inside the quotes is doubled).
//   - A write sub-request (POST, PATCH, PUT) in a batch needs a body and a
//     Content-Type header, or it is answered 400 BadRequest "Write request id : {id}
//     does not contain Content-Type header or body." This includes
//     revokeSignInSessions: send "body": {} with it.
//   - Throttling follows Entra's identity limits
//     (https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits),
//     each a token bucket whose size and refill are settable (0 = not enforced;
//     Options.SetDocumentedLimits sets Entra's numbers, optionally scaled down):
//     the application's writes in the tenant (Options.WriteBurst, WriteRate:
//     3,000 per 150 s), the tenant's writes by every application
//     (TenantWriteBurst, TenantWriteRate: 18,000 per 5 minutes), and the
//     application's resource units in the tenant (ResourceUnitBurst,
//     ResourceUnitRate: 3,500, 5,000 or 8,000 per 10 s by tenant size). A
//     PATCH or POST costs one write and one resource unit, a GET one resource
//     unit, charged before the user is even looked up, so requests for
//     missing users cost quota too. A request that does not fit every bucket
//     is answered 429 TooManyRequests with Retry-After (the time until it
//     would fit), x-ms-throttle-scope (Tenant_Application/Write/{app}/{tenant},
//     Tenant/Write/... or Tenant_Application/ReadWrite/...) and
//     x-ms-throttle-information (WriteLimitExceeded, ResourceUnitLimitExceeded).
//     With Options.ThrottledAccrue, throttled requests still take their tokens,
//     down to 0.8 of a bucket below empty, which is how clients that retry all
//     at once keep themselves throttled; with Options.ThrottledCost each
//     throttled request takes that share of a token instead. Options.
//     ThrottleHeaders strips a 429 down to Retry-After only, a constant
//     Retry-After: 1, or nothing, as answers inside a $batch may be.
//     Options.WriteSpent starts the application's write bucket part spent;
//     Options.Competitor is another application taking part of the tenant's
//     write quota (what it took before, and a rate), so that this one gets
//     less than its own quota. Multi.LimitApp adds the application's write
//     quota across all tenants (Application/Write/... in x-ms-throttle-scope). Answers carry x-ms-resource-unit, and
//     x-ms-throttle-limit-percentage ("0.913") once a limit is more than 80%
//     used (unless Options.OmitUsageHeader). x-ms-throttle-priority Low (on the
//     request, or on the $batch for all its requests) is throttled once a
//     limit is 80% used; Normal and High only when it is empty.
//     Stats.WritesByPriority counts the writes by priority.
//   - Sim.DenyWrites refuses every write of a kind (password, resetPassword,
//     revoke, block, or all) with 403 Authorization_RequestDenied
//     "Insufficient privileges to complete the operation.", the answer of an
//     application that lacks the permission or the Entra role (and of an
//     admin user the application may not reset); Sim.GrantWrites lifts it,
//     while the server runs. Stats.Denied counts them.
//   - A PATCH that sets a password without forceChangePasswordNextSignIn sets
//     that flag to true (reported Graph behaviour); forceChangePasswordNextSignInWithMfa
//     is left as it was unless sent. A PATCH with only the flags sets the flags.
//   - The password policy is Entra's cloud policy: 8 to 256 characters from the
//     allowed set, 3 of 4 categories (upper, lower, digit, symbol; space counts as
//     a symbol), and a small banned list matched after Entra's normalisation
//     (lower case; 0→o, 1→l, $→s, @→a): common passwords, the tenant name (first
//     label of the domain), the UPN's local part and its parts of 4+ characters.
//   - Tokens are opaque random strings valid for Options.TokenLifetime by
//     Options.Now; a missing, unknown or expired token is 401 InvalidAuthenticationToken.
//     MSAL (under azidentity) serves a cached token only while it has more than
//     5 minutes left by the real clock, so with a TokenLifetime of 5 minutes or
//     less every GetToken fetches a new token.
//   - Latency and jitter (or Options.LatencyFunc, e.g. LogNormalLatency) are real sleeps (they emulate the network) and end early
//     when the client's request is cancelled. Everything else that depends on time
//     (token expiry, the quota bucket, innerError dates, Change.At) uses Options.Now.
//   - dependsOn is honoured in its simple form: a dependency must be an earlier
//     item of the same batch, and an item whose dependency failed is answered 424.
//   - The server speaks HTTP/1.1 only, so that the connection-drop faults are
//     exact.
//
// # Several tenants
//
// [Multi] serves several Sims from one host, as Graph serves every tenant:
// the token endpoint's {tenant} picks the Sim that issues the token, and a
// Graph request goes to the Sim that issued its token, so each tenant has
// its own directory, record of changes and quotas. A tenant no Sim knows is
// AADSTS90002; a Sim with another ClientID stands for a tenant where the
// app is not consented (AADSTS700016).
//
// # Faults
//
// [Faults] holds one rate in [0,1] per fault kind. Faults apply to $batch
// requests only, and the draws come from one generator seeded with Options.Seed,
// so a sequence of batches sent one after another sees the same faults on every
// run. Per batch, the draws are made in this order, and at most one fault of each
// group happens: TokenRevoke; then one of Outer503, Outer429Date,
// DropBeforeApply, Timeout (nothing is applied); then, per sub-request, one of
// InnerThrottle, InnerThrottleFractional, Inner5xx (that sub-request is not
// applied); then one of DropAfterApply, TruncatedJSON, MissingID, UnknownID,
// DuplicateID (everything was applied, the answer is damaged). Timeout holds the
// request, with nothing applied, until the client gives up (its context ends or
// the server is closed); the applied-then-lost case is DropAfterApply's.
// TruncatedJSON sends a well-framed HTTP 200 whose JSON body stops halfway.
//
// # Tenant files
//
// [LoadTenant] reads the JSON file given to `bulkreset reset --sandbox TENANT.json`:
//
//	{
//	  "includeSandbox": false,
//	  "domains": [
//	    {"id": "fabrikam.com", "authenticationType": "Federated"}
//	  ],
//	  "users": [
//	    {"userPrincipalName": "adele.vance@contoso.onmicrosoft.com"},
//	    {"userPrincipalName": "sync.user@contoso.onmicrosoft.com", "kind": "synced"},
//	    {"userPrincipalName": "boss@contoso.onmicrosoft.com", "kind": "admin",
//	     "id": "6f1c0d52-8e8b-4b39-9f5e-2d0f3c9a1b7e", "displayName": "The Boss"},
//	    {"userPrincipalName": "megan@fabrikam.com"}
//	  ],
//	  "generate": {"count": 1000, "domain": "contoso.onmicrosoft.com"}
//	}
//
// domains are the tenant's domains besides its own (contoso.onmicrosoft.com,
// managed), each an id (a domain name) and an authenticationType, Managed
// (the default) or Federated; GET /domains lists them ([LoadTenantFile]
// returns them, for Options.Domains). A user whose UPN is on a federated
// domain is found and read like any other, but a passwordProfile PATCH for
// it is answered 400 Request_BadRequest (an assumption: Graph documents
// that passwordProfile cannot be used for federated users, not its answer).
//
// Every field is optional except userPrincipalName. kind is one of member
// (default), guest, synced, admin, disabled. id must be a GUID; without it a
// deterministic GUID is derived from the UPN. displayName defaults to one made
// from the UPN. includeSandbox adds the built-in tenant ([SandboxTenant]) first;
// generate adds count members user00001@domain... ([GenerateUsers]; domain
// defaults to [SandboxDomain]). Unknown fields, duplicate ids or UPNs (compared
// without regard to case) and invalid values are errors. Users start with no
// password; tenant files never hold one.
package graphsim
