package graphsim

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/bulkreset/bulkreset/internal/guid"
)

// maxTenantFile bounds what LoadTenant reads.
const maxTenantFile = 64 << 20

// tenantFile is the JSON format LoadTenant reads (see the package documentation).
type tenantFile struct {
	IncludeSandbox bool         `json:"includeSandbox"`
	Domains        []Domain     `json:"domains"`
	Users          []tenantUser `json:"users"`
	Generate       *struct {
		Count  int    `json:"count"`
		Domain string `json:"domain"`
	} `json:"generate"`
}

type tenantUser struct {
	ID                string `json:"id"`
	UserPrincipalName string `json:"userPrincipalName"`
	Kind              Kind   `json:"kind"`
	DisplayName       string `json:"displayName"`
}

// maxGenerate bounds "generate" in a tenant file.
const maxGenerate = 10_000_000

// Tenant is what a tenant file describes: its users and its domains
// besides the tenant's own (Options.Domains).
type Tenant struct {
	Users   []User
	Domains []Domain
}

// LoadTenant reads a tenant file (format in the package documentation) and
// returns its users, checked and with defaults filled in.
func LoadTenant(r io.Reader) ([]User, error) {
	t, err := LoadTenantFile(r)
	if err != nil {
		return nil, err
	}
	return t.Users, nil
}

// LoadTenantFile reads a tenant file (format in the package documentation)
// and returns its users and domains, checked and with defaults filled in.
func LoadTenantFile(r io.Reader) (Tenant, error) {
	users, domains, err := loadTenant(r)
	return Tenant{Users: users, Domains: domains}, err
}

func loadTenant(r io.Reader) ([]User, []Domain, error) {
	dec := json.NewDecoder(io.LimitReader(r, maxTenantFile))
	dec.DisallowUnknownFields()
	var f tenantFile
	if err := dec.Decode(&f); err != nil {
		return nil, nil, fmt.Errorf("graphsim: tenant file: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, nil, errors.New("graphsim: tenant file: unexpected data after the JSON object")
	}
	domains := make([]Domain, 0, len(f.Domains))
	seenDomain := map[string]bool{}
	for i, d := range f.Domains {
		d, err := checkDomain(d)
		if err != nil {
			return nil, nil, fmt.Errorf("graphsim: tenant file: domains[%d]: %w", i, err)
		}
		k := strings.ToLower(d.ID)
		if seenDomain[k] {
			return nil, nil, fmt.Errorf("graphsim: tenant file: domains[%d]: %s is listed twice", i, d.ID)
		}
		seenDomain[k] = true
		domains = append(domains, d)
	}
	var users []User
	if f.IncludeSandbox {
		users = SandboxTenant()
	}
	for i, tu := range f.Users {
		u, err := normalizeUser(User{ID: tu.ID, UPN: tu.UserPrincipalName, Kind: tu.Kind, DisplayName: tu.DisplayName})
		if err != nil {
			return nil, nil, fmt.Errorf("graphsim: tenant file: users[%d]: %w", i, err)
		}
		users = append(users, u)
	}
	if g := f.Generate; g != nil {
		if g.Count < 0 || g.Count > maxGenerate {
			return nil, nil, fmt.Errorf("graphsim: tenant file: generate.count %d is not in 0..%d", g.Count, maxGenerate)
		}
		domain := g.Domain
		if domain == "" {
			domain = SandboxDomain
		}
		if !validDomain(domain) {
			return nil, nil, fmt.Errorf("graphsim: tenant file: generate.domain %q is not a domain", domain)
		}
		users = append(users, GenerateUsers(g.Count, domain)...)
	}
	ids := make(map[string]bool, len(users))
	upns := make(map[string]bool, len(users))
	for _, u := range users {
		if ids[u.ID] {
			return nil, nil, fmt.Errorf("graphsim: tenant file: %w: id %s", ErrDuplicateUser, u.ID)
		}
		upn := strings.ToLower(u.UPN)
		if upns[upn] {
			return nil, nil, fmt.Errorf("graphsim: tenant file: %w: userPrincipalName %s", ErrDuplicateUser, u.UPN)
		}
		ids[u.ID], upns[upn] = true, true
	}
	return users, domains, nil
}

// sandboxUsers are the named users of the built-in tenant, as local part and kind.
var sandboxUsers = []struct {
	local, display string
	kind           Kind
}{
	{"adele.vance", "Adele Vance", KindMember},
	{"alex.wilber", "Alex Wilber", KindMember},
	{"diego.siciliani", "Diego Siciliani", KindMember},
	{"grady.archie", "Grady Archie", KindMember},
	{"henrietta.mueller", "Henrietta Mueller", KindMember},
	{"isaiah.langer", "Isaiah Langer", KindMember},
	{"johanna.lorenz", "Johanna Lorenz", KindMember},
	{"joni.sherman", "Joni Sherman", KindMember},
	{"lee.gu", "Lee Gu", KindMember},
	{"lidia.holloway", "Lidia Holloway", KindMember},
	{"lynne.robbins", "Lynne Robbins", KindMember},
	{"megan.bowen", "Megan Bowen", KindMember},
	{"miriam.graham", "Miriam Graham", KindMember},
	{"nestor.wilke", "Nestor Wilke", KindMember},
	{"patti.fernandez", "Patti Fernandez", KindMember},
	{"pradeep.gupta", "Pradeep Gupta", KindMember},
	{"alex_fabrikam.com#EXT#", "Alex (Fabrikam)", KindGuest},
	{"$svc-helpdesk", "Helpdesk Service Account", KindMember},
	{"conor.o'brien", "Conor O'Brien", KindMember},
	{"sync.user", "Sync User", KindSynced},
	{"global.admin", "Global Administrator", KindAdmin},
	{"former.employee", "Former Employee", KindDisabled},
}

// SandboxGeneratedUsers is how many userNNNNN members SandboxTenant includes.
const SandboxGeneratedUsers = 500

// SandboxTenant returns the built-in demo tenant on SandboxDomain: named members
// (adele.vance … pradeep.gupta), the guest alex_fabrikam.com#EXT#, the UPNs
// $svc-helpdesk and conor.o'brien, the synced sync.user, the admin global.admin,
// the disabled former.employee, then user00001 … user00500. Every call returns
// the same users with the same GUIDs.
func SandboxTenant() []User {
	users := make([]User, 0, len(sandboxUsers)+SandboxGeneratedUsers)
	for _, su := range sandboxUsers {
		upn := su.local + "@" + SandboxDomain
		users = append(users, User{ID: guidFor(strings.ToLower(upn)), UPN: upn, Kind: su.kind, DisplayName: su.display})
	}
	return append(users, GenerateUsers(SandboxGeneratedUsers, SandboxDomain)...)
}

// GenerateUsers returns n members user00001@domain, user00002@domain, … with
// GUIDs derived from their UPNs, so every call returns the same users.
func GenerateUsers(n int, domain string) []User {
	if n <= 0 {
		return nil
	}
	users := make([]User, n)
	for i := range users {
		local := fmt.Sprintf("user%05d", i+1)
		upn := local + "@" + domain
		users[i] = User{ID: guidFor(strings.ToLower(upn)), UPN: upn, Kind: KindMember, DisplayName: fmt.Sprintf("User %05d", i+1)}
	}
	return users
}

// normalizeUser checks u and fills in its defaults. State fields are kept.
func normalizeUser(u User) (User, error) {
	if !validUPN(u.UPN) {
		return User{}, fmt.Errorf("graphsim: invalid userPrincipalName %q", u.UPN)
	}
	if u.Kind == "" {
		u.Kind = KindMember
	}
	if !u.Kind.valid() {
		return User{}, fmt.Errorf("graphsim: user %s: unknown kind %q", u.UPN, u.Kind)
	}
	if u.ID == "" {
		u.ID = guidFor(strings.ToLower(u.UPN))
	}
	if !guid.Valid(u.ID) {
		return User{}, fmt.Errorf("graphsim: user %s: id %q is not a GUID", u.UPN, u.ID)
	}
	u.ID = strings.ToLower(u.ID)
	if u.DisplayName == "" {
		u.DisplayName = displayNameFor(u.UPN)
	}
	return u, nil
}

// validUPN accepts local@domain where local is printable ASCII without space,
// '/', backslash, '?' or '%' (Entra allows far fewer; these could not even be put in
// a URL path unambiguously) and domain is a DNS name.
func validUPN(upn string) bool {
	if len(upn) > 256 {
		return false
	}
	local, domain, ok := strings.Cut(upn, "@")
	if !ok || local == "" || !validDomain(domain) {
		return false
	}
	for _, r := range local {
		if r <= ' ' || r > '~' || r == '/' || r == '\\' || r == '?' || r == '%' {
			return false
		}
	}
	return true
}

func validDomain(d string) bool {
	if d == "" || len(d) > 253 || strings.HasPrefix(d, ".") || strings.HasSuffix(d, ".") || strings.Contains(d, "..") {
		return false
	}
	for _, r := range d {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

// displayNameFor makes "Adele Vance" from adele.vance@domain.
func displayNameFor(upn string) string {
	local, _, _ := strings.Cut(upn, "@")
	words := strings.FieldsFunc(local, func(r rune) bool { return r == '.' || r == '_' || r == '-' })
	for i, w := range words {
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		words[i] = string(r)
	}
	if len(words) == 0 {
		return local
	}
	return strings.Join(words, " ")
}

// guidNamespace makes the derived GUIDs of this package differ from any other
// name-based GUIDs.
const guidNamespace = "graphsim/user/v1:"

// guidFor derives a GUID from name (RFC 9562 version 8, from SHA-256), so the
// same name always has the same GUID.
func guidFor(name string) string {
	h := sha256.Sum256([]byte(guidNamespace + name))
	return formatGUID(h[:16], 0x80)
}

// newGUID returns a random version 4 GUID, for request ids and tokens.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return formatGUID(b[:], 0x40)
}

func formatGUID(b []byte, version byte) string {
	b[6] = b[6]&0x0f | version
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], b[10:16])
	return string(out[:])
}
