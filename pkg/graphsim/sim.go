package graphsim

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"
)

// The fixed identity of the built-in sandbox tenant. The secret is a dummy value
// that only this emulator accepts; it is not a credential anywhere else.
const (
	// SandboxDomain is the domain of the built-in sandbox tenant.
	SandboxDomain = "contoso.onmicrosoft.com"
	// SandboxTenantID is the tenant ID the emulator accepts by default.
	SandboxTenantID = "3d9c5e2a-7f41-4b8e-9a6d-5c0e1f2b4a7c"
	// SandboxClientID is the application (client) ID the emulator accepts by default.
	SandboxClientID = "b5e2c7a1-0d94-4f3b-8c6e-2a7d9f1e3b50"
	// SandboxClientSecret is the client secret the emulator accepts by default.
	SandboxClientSecret = "graphsim-sandbox-dummy-secret-not-a-credential"
)

// Graph's documented write quota for one application in one tenant: 3,000
// writes per 2 minutes 30 seconds
// (https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits).
// As a token bucket: a burst of 3,000 refilled at 20 per second.
const (
	// QuotaWriteBurst is the documented per app and tenant write quota, as a bucket size.
	QuotaWriteBurst = 3000
	// QuotaWriteRate is the documented per app and tenant write quota, per second.
	QuotaWriteRate = 20.0
)

// DefaultTokenLifetime is how long an issued access token is valid by default.
const DefaultTokenLifetime = time.Hour

// Kind says what sort of directory object a user is, which decides how Graph
// answers a password reset for it.
type Kind string

// The kinds of users.
const (
	// KindMember is a cloud-only member; resettable.
	KindMember Kind = "member"
	// KindGuest is a guest (userType Guest, a UPN like alex_fabrikam.com#EXT#@contoso.onmicrosoft.com); resettable.
	KindGuest Kind = "guest"
	// KindSynced is synchronised from on-premises AD (onPremisesSyncEnabled true); a passwordProfile PATCH is a 400.
	KindSynced Kind = "synced"
	// KindAdmin is a privileged administrator the app may not reset: 403 Authorization_RequestDenied.
	KindAdmin Kind = "admin"
	// KindDisabled is a member with accountEnabled false; resettable.
	KindDisabled Kind = "disabled"
)

func (k Kind) valid() bool {
	switch k {
	case KindMember, KindGuest, KindSynced, KindAdmin, KindDisabled:
		return true
	}
	return false
}

// User is one user of the emulated tenant: its identity, and its state as the
// emulator holds it. String, GoString and LogValue leave the password out.
type User struct {
	ID          string // GUID, lower case
	UPN         string
	Kind        Kind
	DisplayName string

	// State, read through Sim.User and Sim.Users.
	Password                             string // current password; empty until one is set
	ForceChangePasswordNextSignIn        bool
	ForceChangePasswordNextSignInWithMfa bool
	PasswordSets                         int // successful password sets
	SessionsRevoked                      int // successful revokeSignInSessions calls
	// SessionsRevokedAt is when the sessions were last revoked (Options.Now):
	// the user's signInSessionsValidFromDateTime; zero when never.
	SessionsRevokedAt time.Time
	// PasswordChangedAt is when the password was last set: the user's
	// lastPasswordChangeDateTime. Zero until one is set, when Graph shows
	// AccountCreated.
	PasswordChangedAt time.Time
	// Enabled is accountEnabled as the last PATCH of it set it; nil when
	// never set, and the account is enabled unless its Kind is
	// KindDisabled. See AccountEnabled.
	Enabled *bool
}

// AccountEnabled reports whether the user may sign in: accountEnabled as a
// PATCH last set it, or else false for KindDisabled only.
func (u User) AccountEnabled() bool {
	if u.Enabled != nil {
		return *u.Enabled
	}
	return u.Kind != KindDisabled
}

// String describes the user without its password.
func (u User) String() string {
	return fmt.Sprintf("%s (%s, %s, password sets %d)", u.UPN, u.ID, u.Kind, u.PasswordSets)
}

// GoString is like String, so that %#v does not print the password either.
func (u User) GoString() string {
	return fmt.Sprintf("graphsim.User{ID:%q, UPN:%q, Kind:%q, PasswordSets:%d, Password:[REDACTED]}", u.ID, u.UPN, u.Kind, u.PasswordSets)
}

// LogValue logs the user without its password.
func (u User) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", u.ID),
		slog.String("upn", u.UPN),
		slog.String("kind", string(u.Kind)),
		slog.Int("password_sets", u.PasswordSets),
	)
}

// Change records one applied passwordProfile update. Password is empty when
// the update set only the flags; the flags are the user's values after the update.
// RequestID is the request-id header of the HTTP response that carried it (the
// $batch response for a batched update). String, GoString and LogValue leave the
// password out.
type Change struct {
	UserID, UPN, Password                                               string
	ForceChangePasswordNextSignIn, ForceChangePasswordNextSignInWithMfa bool
	At                                                                  time.Time
	RequestID                                                           string
}

// String describes the change without its password.
func (c Change) String() string {
	return fmt.Sprintf("%s (%s) at %s, password set %t, request %s", c.UPN, c.UserID, c.At.Format(time.RFC3339Nano), c.Password != "", c.RequestID)
}

// GoString is like String, so that %#v does not print the password either.
func (c Change) GoString() string {
	return fmt.Sprintf("graphsim.Change{UserID:%q, UPN:%q, Password:[REDACTED], RequestID:%q}", c.UserID, c.UPN, c.RequestID)
}

// LogValue logs the change without its password.
func (c Change) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("user_id", c.UserID),
		slog.String("upn", c.UPN),
		slog.Bool("password_set", c.Password != ""),
		slog.String("request_id", c.RequestID),
	)
}

// Faults holds the rate, in [0,1], at which each fault is injected into $batch
// requests. A rate of 0 never injects the fault. See the package documentation
// for the order of the draws. "Applied" means the passwords were actually changed.
type Faults struct {
	InnerThrottle           float64 // a sub-request answered 429 TooManyRequests, Retry-After "1" (not applied)
	InnerThrottleFractional float64 // a sub-request answered 429 with a fractional Retry-After such as "0.249" (not applied)
	Inner5xx                float64 // a sub-request answered 500, 502, 503 or 504 (not applied)
	Outer503                float64 // the whole $batch answered 503 with Retry-After "1" (nothing applied)
	Outer429Date            float64 // the whole $batch answered 429 with Retry-After as an HTTP date (nothing applied)
	DropBeforeApply         float64 // the connection is closed without a response (nothing applied)
	DropAfterApply          float64 // everything applied, then the connection is closed without a response
	Timeout                 float64 // no response until the client's request context ends (nothing applied)
	TruncatedJSON           float64 // everything applied, the 200 response body stops halfway through the JSON
	MissingID               float64 // everything applied, one response item left out
	UnknownID               float64 // everything applied, one extra item with an id never requested
	DuplicateID             float64 // everything applied, one item sent twice
	TokenRevoke             float64 // the presented token is answered as expired (401) for this batch only
}

// FaultKind names a fault in Stats.Faults.
type FaultKind string

// The fault kinds, one per field of Faults.
const (
	FaultInnerThrottle           FaultKind = "inner_throttle"
	FaultInnerThrottleFractional FaultKind = "inner_throttle_fractional"
	FaultInner5xx                FaultKind = "inner_5xx"
	FaultOuter503                FaultKind = "outer_503"
	FaultOuter429Date            FaultKind = "outer_429_date"
	FaultDropBeforeApply         FaultKind = "drop_before_apply"
	FaultDropAfterApply          FaultKind = "drop_after_apply"
	FaultTimeout                 FaultKind = "timeout"
	FaultTruncatedJSON           FaultKind = "truncated_json"
	FaultMissingID               FaultKind = "missing_id"
	FaultUnknownID               FaultKind = "unknown_id"
	FaultDuplicateID             FaultKind = "duplicate_id"
	FaultTokenRevoke             FaultKind = "token_revoke"
)

// Options configures a Sim. The zero value is a valid, fault-free sandbox
// tenant identity with an unlimited write quota.
type Options struct {
	// TenantID, ClientID and ClientSecret are the only client-credentials identity
	// accepted; they default to SandboxTenantID, SandboxClientID and SandboxClientSecret.
	TenantID, ClientID, ClientSecret string
	// TenantDomain is accepted in token URLs in place of TenantID; default SandboxDomain.
	TenantDomain string
	// ClientCertificates, if any, are the certificates whose keys may sign a client
	// assertion. With none, any well-formed assertion for ClientID is accepted.
	ClientCertificates []*x509.Certificate
	// Refuse, when set, makes the token endpoint refuse the app's token
	// requests as Entra does for that state of the app registration, once
	// RefuseAfter tokens were issued (0: from the first): a secret that
	// expires during a run.
	Refuse      Refusal
	RefuseAfter int
	// ManagedIdentity is the client id of the managed identity assigned to
	// the host whose App Service endpoint the Sim serves (GET /msi/token,
	// what IDENTITY_ENDPOINT names); "" is a host with no identity assigned.
	ManagedIdentity string
	// TokenLifetime is how long an access token is valid; default DefaultTokenLifetime.
	TokenLifetime time.Duration
	// Latency is added to every Graph request (not to the token endpoint), plus a
	// uniformly random extra of up to LatencyJitter.
	Latency, LatencyJitter time.Duration
	// LatencyFunc, when set, draws each Graph request's latency instead of
	// Latency and LatencyJitter (see LogNormalLatency). It is called from many
	// goroutines.
	LatencyFunc func() time.Duration
	// WriteBurst and WriteRate set the write quota of the application in the
	// tenant: a token bucket of WriteBurst tokens refilled at WriteRate per
	// second. TenantWriteBurst and TenantWriteRate set the tenant's write quota
	// (all applications), and ResourceUnitBurst and ResourceUnitRate the
	// application's resource units in the tenant, which reads spend too. Each is
	// enforced only when both its numbers are above 0 (0 = unlimited).
	// SetDocumentedLimits sets all three to Entra's documented limits.
	WriteBurst        int
	WriteRate         float64
	TenantWriteBurst  int
	TenantWriteRate   float64
	ResourceUnitBurst int
	ResourceUnitRate  float64
	// ThrottledAccrue is the share, in [0,1], of throttled requests that still
	// count against their limits.
	ThrottledAccrue float64
	// ThrottledCost, when above 0, is the share of a write, in (0,1], that
	// every throttled request still costs its limits (an independent
	// emulator charges a quarter); ThrottledAccrue is then not used.
	ThrottledCost float64
	// ThrottleHeaders is what a throttled request carries: every header
	// (the default), Retry-After only, a constant Retry-After of 1, or
	// nothing at all, as Graph's answers inside a $batch may.
	ThrottleHeaders ThrottleHeaders
	// ConstantRetryAfter is the Retry-After of ThrottleHeadersRetryAfterOne:
	// 1 s when 0; SetDocumentedLimits shortens it with the windows.
	ConstantRetryAfter time.Duration
	// OmitUsageHeader leaves x-ms-throttle-limit-percentage out of every
	// answer, for clients that must cope without it.
	OmitUsageHeader bool
	// WriteSpent is the share, in [0,1], of the application's write quota
	// in the tenant already spent when the emulator starts: a run that
	// follows another, or a script that wrote before it.
	WriteSpent float64
	// Competitor is another application writing to the tenant at once,
	// from the tenant's write quota (TenantWriteBurst, TenantWriteRate).
	Competitor Competitor
	// FractionalRetryAfter gives quota Retry-After values in milliseconds ("0.249")
	// instead of whole seconds rounded up ("1").
	FractionalRetryAfter bool
	// DelegatedUser is the administrator who signs in with the device code
	// flow; default admin@TenantDomain.
	DelegatedUser string
	// OperationPolls is how many polls a resetPassword operation answers
	// "running" before it ends, when OperationDelay is 0.
	OperationPolls int
	// OperationDelay, when above 0, ends each resetPassword operation that
	// long after it was accepted, whether or not anyone polls it (as Entra
	// does): a client interrupted while polling leaves the password set.
	OperationDelay time.Duration
	// OperationAccepted, when set, is called each time a resetPassword is
	// accepted, with the emulator locked (it must not call the Sim): a test
	// hook, to interrupt a client while its operations run.
	OperationAccepted func()
	// NoWriteback fails the resetPassword operations of synchronised users,
	// as in a tenant without password writeback.
	NoWriteback bool
	// Domains are the tenant's domains besides TenantDomain, which is
	// always one (managed, unless listed here). GET /domains lists them;
	// a passwordProfile PATCH for a user of a federated one is refused.
	// New panics on an invalid domain (LoadTenant checks a file's).
	Domains []Domain
	// DomainsPageSize is how many domains a page of GET /domains holds;
	// 0 is all in one page.
	DomainsPageSize int
	// DenyDomains refuses GET /domains with 403, as for an app without
	// Domain.Read.All.
	DenyDomains bool
	// Faults are injected at these rates, deterministically for Seed.
	Faults Faults
	Seed   int64
	// AuditDelay is how long after a change its directory audit record is
	// listed (Entra's take minutes); 0 lists it at once.
	AuditDelay time.Duration
	// AuditPageSize, when above 0, caps the records of one page of the
	// audit log below $top (Graph's most is 1000), to exercise paging.
	AuditPageSize int
	// Now is the clock for token expiry, the quota and timestamps; default
	// time.Now. It is called from many goroutines.
	Now func() time.Time
	// OrganizationName is the tenant's display name in GET /organization;
	// default SandboxOrganizationName.
	OrganizationName string
	// OrganizationDenied refuses GET /organization with 403, as for an
	// application without Organization.Read.All.
	OrganizationDenied bool
}

// String describes the options without the client secret.
func (o Options) String() string {
	return fmt.Sprintf("graphsim.Options{TenantID:%q, ClientID:%q, ClientSecret:[REDACTED], WriteBurst:%d, WriteRate:%g, TenantWriteBurst:%d, TenantWriteRate:%g, ResourceUnitBurst:%d, ResourceUnitRate:%g, Seed:%d}",
		o.TenantID, o.ClientID, o.WriteBurst, o.WriteRate, o.TenantWriteBurst, o.TenantWriteRate, o.ResourceUnitBurst, o.ResourceUnitRate, o.Seed)
}

// GoString is String, so that %#v does not print the secret either.
func (o Options) GoString() string { return o.String() }

// LogValue logs the options without the client secret.
func (o Options) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("tenant_id", o.TenantID),
		slog.String("client_id", o.ClientID),
		slog.Int("write_burst", o.WriteBurst),
		slog.Float64("write_rate", o.WriteRate),
	)
}

// Stats counts what the emulator has seen and done.
type Stats struct {
	Batches        int // $batch requests that passed authentication
	SubRequests    int // sub-requests evaluated (in batches that parsed and were not failed whole)
	DirectRequests int // Graph requests outside $batch that passed authentication
	Reads          int // GET of a user, batched or direct
	DomainReads    int // GET of the domains, batched or direct, a page each
	Writes         int // write attempts that reached the quota (PATCH, POST), throttled ones included
	// WritesByPriority counts the write attempts by their x-ms-throttle-priority:
	// Low, Normal (also for none) and High.
	WritesByPriority map[string]int
	WritesApplied    int // writes that changed the tenant: passwordProfile updates and session revocations
	Throttled        int // 429 answers: quota, injected inner and injected outer
	Unauthorized     int // 401 answers on Graph routes
	TokensIssued     int // access tokens issued by the token endpoint
	// OperationsStarted counts resetPassword operations accepted (202).
	OperationsStarted int
	// Denied counts the writes refused because their kind is denied
	// (DenyWrites); they count in Writes too.
	Denied int
	Faults map[FaultKind]int
}

// Sim is an emulated tenant with its Graph and token endpoints. It is safe for
// concurrent use.
type Sim struct {
	opts Options // fixed after New, except opts.Faults (guarded by mu)

	mu      sync.Mutex
	byID    map[string]*User // lower-case id
	byUPN   map[string]*User // lower-case UPN
	order   []*User
	changes []Change
	stats   Stats
	rng     *rand.Rand
	quota   quotas
	tokens  map[string]time.Time // access token -> expiry
	issued  []string             // every access token issued, for tests that scan outputs for them
	onHold  func()               // test hook: called when a Timeout fault starts holding a request
	del     delegatedState       // delegated sign-ins and password-reset operations
	domains []Domain             // fixed after New
	// failing are the writes FailWrite made fail, by user id.
	failing map[string]map[Write]int
	// audit is the directory audit log (audit.go), in the order recorded.
	audit       []AuditRecord
	auditSeq    int64
	auditDenied bool
	denied      map[Write]bool // the kinds of writes refused as a whole (DenyWrites)
	forced      []FaultKind    // the faults of the next batches (ForceFaults)
}

// New returns an empty tenant configured by opts.
func New(opts Options) *Sim {
	if opts.TenantID == "" {
		opts.TenantID = SandboxTenantID
	}
	if opts.ClientID == "" {
		opts.ClientID = SandboxClientID
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = SandboxClientSecret
	}
	if opts.TenantDomain == "" {
		opts.TenantDomain = SandboxDomain
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = DefaultTokenLifetime
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	opts.ThrottledAccrue = clampRate(opts.ThrottledAccrue)
	opts.ThrottledCost = clampRate(opts.ThrottledCost)
	if opts.ConstantRetryAfter <= 0 {
		opts.ConstantRetryAfter = time.Second
	}
	opts.WriteSpent = clampRate(opts.WriteSpent)
	opts.Competitor.Spent = clampRate(opts.Competitor.Spent)
	opts.Competitor.Rate = max(opts.Competitor.Rate, 0)
	opts.Faults = opts.Faults.clamped()
	domains, err := tenantDomains(opts)
	if err != nil {
		panic(err)
	}
	seed := uint64(opts.Seed)
	return &Sim{
		domains: domains,
		opts:    opts,
		byID:    make(map[string]*User),
		byUPN:   make(map[string]*User),
		stats:   Stats{Faults: make(map[FaultKind]int), WritesByPriority: make(map[string]int)},
		rng:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		quota:   newQuotas(opts),
		tokens:  make(map[string]time.Time),
		del:     newDelegatedState(),
	}
}

func clampRate(r float64) float64 {
	switch {
	case math.IsNaN(r) || r < 0:
		return 0
	case r > 1:
		return 1
	}
	return r
}

func (f Faults) clamped() Faults {
	for _, p := range []*float64{
		&f.InnerThrottle, &f.InnerThrottleFractional, &f.Inner5xx, &f.Outer503, &f.Outer429Date,
		&f.DropBeforeApply, &f.DropAfterApply, &f.Timeout, &f.TruncatedJSON, &f.MissingID,
		&f.UnknownID, &f.DuplicateID, &f.TokenRevoke,
	} {
		*p = clampRate(*p)
	}
	return f
}

// ErrDuplicateUser is returned (wrapped) by AddUser for a user whose ID or UPN
// is already in the tenant.
var ErrDuplicateUser = errors.New("graphsim: duplicate user")

// AddUser adds u to the tenant. An empty ID is derived from the UPN, an empty
// Kind is KindMember and an empty DisplayName is made from the UPN. It fails for
// an invalid user or one whose ID or UPN (without regard to case) is taken.
func (s *Sim) AddUser(u User) error {
	u, err := normalizeUser(u)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.byID[u.ID]; ok {
		return fmt.Errorf("%w: id %s", ErrDuplicateUser, u.ID)
	}
	upn := strings.ToLower(u.UPN)
	if _, ok := s.byUPN[upn]; ok {
		return fmt.Errorf("%w: userPrincipalName %s", ErrDuplicateUser, u.UPN)
	}
	p := &u
	s.byID[u.ID] = p
	s.byUPN[upn] = p
	s.order = append(s.order, p)
	return nil
}

// AddUsers adds every user in users, stopping at the first error.
func (s *Sim) AddUsers(users []User) error {
	for _, u := range users {
		if err := s.AddUser(u); err != nil {
			return err
		}
	}
	return nil
}

// User returns a copy of the user with this object ID or UPN (without regard
// to case).
func (s *Sim) User(idOrUPN string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleOperationsLocked()
	u := s.lookupLocked(idOrUPN)
	if u == nil {
		return User{}, false
	}
	return *u, true
}

func (s *Sim) lookupLocked(key string) *User {
	k := strings.ToLower(key)
	if u, ok := s.byID[k]; ok {
		return u
	}
	return s.byUPN[k]
}

// Users returns a copy of every user, in the order they were added.
func (s *Sim) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleOperationsLocked()
	out := make([]User, len(s.order))
	for i, u := range s.order {
		out[i] = *u
	}
	return out
}

// Changes returns every applied passwordProfile update, in the order applied.
func (s *Sim) Changes() []Change {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleOperationsLocked()
	return append([]Change(nil), s.changes...)
}

// Stats returns a snapshot of the counters.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settleOperationsLocked()
	st := s.stats
	st.Faults = make(map[FaultKind]int, len(s.stats.Faults))
	for k, v := range s.stats.Faults {
		st.Faults[k] = v
	}
	st.WritesByPriority = maps.Clone(s.stats.WritesByPriority)
	return st
}

// maxIssuedKept bounds the tokens IssuedTokens remembers.
const maxIssuedKept = 10_000

// IssuedTokens returns the access tokens the token endpoint has issued (the
// latest 10,000), so that a test can check that none of them leaked into an
// output.
func (s *Sim) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.issued)
}

// SetFaults replaces the fault rates; batches that arrive afterwards use them.
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Faults = f.clamped()
}

// now reads the injected clock.
func (s *Sim) now() time.Time { return s.opts.Now() }

// chance draws from the seeded generator; a rate of 0 draws nothing, so that
// disabled faults do not shift the sequence of the others.
func (s *Sim) chanceLocked(rate float64) bool {
	if rate <= 0 {
		return false
	}
	return s.rng.Float64() < rate
}

// ForceFaults makes the next $batch requests fail with these faults, one
// each, in order, before any fault drawn at the rates of Options.Faults: a
// test that must meet a fault in every run, whatever the timing, forces it
// rather than raising a rate. The kinds that can be forced are those that
// fail a batch as a whole: FaultOuter503, FaultOuter429Date,
// FaultDropBeforeApply, FaultTimeout and FaultDropAfterApply; a batch that
// meets a forced fault of the other moment (before or after applying) goes
// on to its rates.
func (s *Sim) ForceFaults(kinds ...FaultKind) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forced = append(s.forced, kinds...)
}

// forcedLocked takes the next forced fault when it is one of kinds; "" when
// none is, or none is left.
func (s *Sim) forcedLocked(kinds ...FaultKind) FaultKind {
	if len(s.forced) == 0 || !slices.Contains(kinds, s.forced[0]) {
		return ""
	}
	k := s.forced[0]
	s.forced = s.forced[1:]
	return k
}

// faultLocked records an injected fault.
func (s *Sim) faultLocked(k FaultKind) {
	s.stats.Faults[k]++
}
