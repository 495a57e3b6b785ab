package graphsim

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/bulkreset/bulkreset/internal/guid"
)

func TestLoadTenant(t *testing.T) {
	tests := []struct {
		name      string
		json      string
		wantUsers int
		wantFirst User // compared on ID (if set), UPN, Kind, DisplayName
		wantErr   string
	}{
		{name: "minimal", json: `{"users":[{"userPrincipalName":"a.b@fabrikam.com"}]}`, wantUsers: 1,
			wantFirst: User{UPN: "a.b@fabrikam.com", Kind: KindMember, DisplayName: "A B"}},
		{name: "every field", json: `{"users":[{"userPrincipalName":"boss@fabrikam.com","kind":"admin","id":"6F1C0D52-8E8B-4B39-9F5E-2D0F3C9A1B7E","displayName":"The Boss"}]}`, wantUsers: 1,
			wantFirst: User{ID: "6f1c0d52-8e8b-4b39-9f5e-2d0f3c9a1b7e", UPN: "boss@fabrikam.com", Kind: KindAdmin, DisplayName: "The Boss"}},
		{name: "empty object", json: `{}`, wantUsers: 0},
		{name: "sandbox and generated", json: `{"includeSandbox":true,"generate":{"count":10,"domain":"fabrikam.com"}}`,
			wantUsers: len(SandboxTenant()) + 10, wantFirst: User{UPN: upn("adele.vance"), Kind: KindMember, DisplayName: "Adele Vance"}},
		{name: "generated on the sandbox domain", json: `{"generate":{"count":2}}`, wantUsers: 2,
			wantFirst: User{UPN: "user00001@" + SandboxDomain, Kind: KindMember, DisplayName: "User 00001"}},
		{name: "unknown field", json: `{"users":[{"userPrincipalName":"a@b.com","password":"x"}]}`, wantErr: "unknown field"},
		{name: "unknown kind", json: `{"users":[{"userPrincipalName":"a@b.com","kind":"robot"}]}`, wantErr: "users[0]"},
		{name: "id not a GUID", json: `{"users":[{"userPrincipalName":"a@b.com","id":"42"}]}`, wantErr: "not a GUID"},
		{name: "no UPN", json: `{"users":[{"kind":"member"}]}`, wantErr: "invalid userPrincipalName"},
		{name: "UPN without domain", json: `{"users":[{"userPrincipalName":"alice"}]}`, wantErr: "invalid userPrincipalName"},
		{name: "UPN with a space", json: `{"users":[{"userPrincipalName":"al ice@b.com"}]}`, wantErr: "invalid userPrincipalName"},
		{name: "duplicate UPN in other case", json: `{"users":[{"userPrincipalName":"a@b.com"},{"userPrincipalName":"A@B.com"}]}`, wantErr: "duplicate"},
		{name: "duplicate of a sandbox user", json: `{"includeSandbox":true,"users":[{"userPrincipalName":"lee.gu@contoso.onmicrosoft.com"}]}`, wantErr: "duplicate"},
		{name: "negative count", json: `{"generate":{"count":-1}}`, wantErr: "generate.count"},
		{name: "bad domain", json: `{"generate":{"count":1,"domain":"a b"}}`, wantErr: "generate.domain"},
		{name: "trailing data", json: `{} {}`, wantErr: "after the JSON object"},
		{name: "not JSON", json: `users:`, wantErr: "tenant file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			users, err := LoadTenant(strings.NewReader(tt.json))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadTenant: got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadTenant: %v", err)
			}
			if len(users) != tt.wantUsers {
				t.Fatalf("users: got %d, want %d", len(users), tt.wantUsers)
			}
			if tt.wantUsers == 0 {
				return
			}
			got, want := users[0], tt.wantFirst
			if want.ID == "" {
				want.ID = guidFor(strings.ToLower(want.UPN))
			}
			if got.ID != want.ID || got.UPN != want.UPN || got.Kind != want.Kind || got.DisplayName != want.DisplayName {
				t.Errorf("first user: got %#v %q, want %#v %q", got, got.DisplayName, want, want.DisplayName)
			}
			if err := New(Options{}).AddUsers(users); err != nil {
				t.Errorf("AddUsers(loaded users): %v", err)
			}
		})
	}
}

func FuzzLoadTenant(f *testing.F) {
	f.Add(`{"users":[{"userPrincipalName":"a@b.com","kind":"guest"}]}`)
	f.Add(`{"includeSandbox":false,"generate":{"count":3,"domain":"x.y"}}`)
	f.Add(`{"users":[{"userPrincipalName":"a@b.com","id":"6f1c0d52-8e8b-4b39-9f5e-2d0f3c9a1b7e"}]}`)
	f.Add(`{}`)
	f.Add(`[`)
	f.Fuzz(func(t *testing.T, data string) {
		if strings.Contains(data, "count") && len(data) > 200 {
			return // keep generated tenants small
		}
		users, err := LoadTenant(strings.NewReader(data))
		if err != nil {
			return
		}
		if len(users) > 1000 {
			return
		}
		sim := New(Options{})
		if err := sim.AddUsers(users); err != nil {
			t.Fatalf("LoadTenant accepted users that AddUser refuses: %v", err)
		}
		for _, u := range users {
			if !guid.Valid(u.ID) || u.ID != strings.ToLower(u.ID) || !validUPN(u.UPN) || !u.Kind.valid() || u.DisplayName == "" {
				t.Fatalf("LoadTenant returned an invalid user %#v", u)
			}
		}
	})
}

func TestSandboxTenant(t *testing.T) {
	users := SandboxTenant()
	byUPN := map[string]User{}
	ids := map[string]bool{}
	for _, u := range users {
		byUPN[u.UPN] = u
		if !guid.Valid(u.ID) || u.ID != strings.ToLower(u.ID) {
			t.Errorf("%s: id %q is not a lower-case GUID", u.UPN, u.ID)
		}
		if ids[u.ID] {
			t.Errorf("%s: id %s used twice", u.UPN, u.ID)
		}
		ids[u.ID] = true
	}
	want := map[string]Kind{
		"adele.vance": KindMember, "alex.wilber": KindMember, "diego.siciliani": KindMember, "grady.archie": KindMember,
		"henrietta.mueller": KindMember, "isaiah.langer": KindMember, "johanna.lorenz": KindMember, "joni.sherman": KindMember,
		"lee.gu": KindMember, "lidia.holloway": KindMember, "lynne.robbins": KindMember, "megan.bowen": KindMember,
		"miriam.graham": KindMember, "nestor.wilke": KindMember, "patti.fernandez": KindMember, "pradeep.gupta": KindMember,
		"alex_fabrikam.com#EXT#": KindGuest, "$svc-helpdesk": KindMember, "conor.o'brien": KindMember,
		"sync.user": KindSynced, "global.admin": KindAdmin, "former.employee": KindDisabled,
		"user00001": KindMember, "user00500": KindMember,
	}
	for local, kind := range want {
		u, ok := byUPN[upn(local)]
		if !ok {
			t.Errorf("%s: missing", upn(local))
			continue
		}
		if u.Kind != kind {
			t.Errorf("%s: got kind %s, want %s", u.UPN, u.Kind, kind)
		}
	}
	if _, ok := byUPN[upn("user00501")]; ok || len(users) != len(sandboxUsers)+SandboxGeneratedUsers {
		t.Errorf("users: got %d, want %d named and %d generated", len(users), len(sandboxUsers), SandboxGeneratedUsers)
	}
	again := SandboxTenant()
	for i := range users {
		if users[i] != again[i] {
			t.Fatalf("SandboxTenant is not deterministic: user %d: %v then %v", i, users[i], again[i])
		}
	}
}

func TestGenerateUsers(t *testing.T) {
	tests := []struct {
		n        int
		domain   string
		wantUPNs []string
	}{
		{n: 0, domain: "x.com"},
		{n: -1, domain: "x.com"},
		{n: 3, domain: "fabrikam.com", wantUPNs: []string{"user00001@fabrikam.com", "user00002@fabrikam.com", "user00003@fabrikam.com"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			users := GenerateUsers(tt.n, tt.domain)
			if len(users) != len(tt.wantUPNs) {
				t.Fatalf("GenerateUsers(%d): got %d users, want %d", tt.n, len(users), len(tt.wantUPNs))
			}
			for i, u := range users {
				if u.UPN != tt.wantUPNs[i] || u.Kind != KindMember || u.ID != guidFor(u.UPN) {
					t.Errorf("user %d: got %v, want %s, a member with a derived id", i, u, tt.wantUPNs[i])
				}
			}
		})
	}
	if a, b := GenerateUsers(2, "x.com"), GenerateUsers(2, "y.com"); a[0].ID == b[0].ID {
		t.Errorf("GenerateUsers: same id for user00001 on two domains")
	}
}

func TestAddUser(t *testing.T) {
	tests := []struct {
		name    string
		users   []User
		wantErr error // nil, ErrDuplicateUser, or errAny
	}{
		{name: "defaults", users: []User{{UPN: "a@b.com"}}},
		{name: "duplicate UPN", users: []User{{UPN: "a@b.com"}, {UPN: "A@b.COM"}}, wantErr: ErrDuplicateUser},
		{name: "duplicate id", users: []User{{UPN: "a@b.com", ID: "6f1c0d52-8e8b-4b39-9f5e-2d0f3c9a1b7e"}, {UPN: "c@b.com", ID: "6F1C0D52-8E8B-4B39-9F5E-2D0F3C9A1B7E"}}, wantErr: ErrDuplicateUser},
		{name: "unknown kind", users: []User{{UPN: "a@b.com", Kind: "robot"}}, wantErr: errAny},
		{name: "bad id", users: []User{{UPN: "a@b.com", ID: "x"}}, wantErr: errAny},
		{name: "no UPN", users: []User{{}}, wantErr: errAny},
		{name: "slash in UPN", users: []User{{UPN: "a/b@c.com"}}, wantErr: errAny},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(Options{})
			err := s.AddUsers(tt.users)
			switch {
			case tt.wantErr == nil && err != nil:
				t.Fatalf("AddUsers: %v", err)
			case tt.wantErr == errAny && err == nil, tt.wantErr == ErrDuplicateUser && !errors.Is(err, ErrDuplicateUser):
				t.Fatalf("AddUsers: got %v, want %v", err, tt.wantErr)
			case tt.wantErr != nil:
				return
			}
			u, ok := s.User("A@B.COM")
			if !ok || u.ID != guidFor("a@b.com") || u.Kind != KindMember || u.DisplayName != "A" {
				t.Errorf("User: got %v (%t), want a member with a derived id and display name", u, ok)
			}
			if got := s.Users(); len(got) != 1 || got[0] != u {
				t.Errorf("Users: got %v, want [%v]", got, u)
			}
		})
	}
}

var errAny = errors.New("any error")

// TestNoSecretsInOutput checks that printing or logging users, changes and
// options never shows a password or the client secret.
func TestNoSecretsInOutput(t *testing.T) {
	const pw, secret = "Sup3r$ecretPassw0rd!", "client-secret-value-123"
	values := []any{
		User{UPN: "a@b.com", Password: pw},
		&User{UPN: "a@b.com", Password: pw},
		Change{UPN: "a@b.com", Password: pw},
		Options{ClientSecret: secret},
	}
	for _, v := range values {
		t.Run(fmt.Sprintf("%T", v), func(t *testing.T) {
			var logged bytes.Buffer
			slog.New(slog.NewJSONHandler(&logged, nil)).Info("x", "v", v)
			slog.New(slog.NewTextHandler(&logged, nil)).Info("x", "v", v)
			outputs := []string{fmt.Sprint(v), fmt.Sprintf("%v %+v %#v %s", v, v, v, v), logged.String()}
			for _, out := range outputs {
				if strings.Contains(out, pw) || strings.Contains(out, secret) {
					t.Errorf("%T: output contains a secret", v)
				}
			}
		})
	}
}
