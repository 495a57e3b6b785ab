package graph

import (
	"encoding/json"
	"fmt"
	"github.com/bulkreset/bulkreset/pkg/secret"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// testPasswordChars are Entra's allowed password characters, with the ones
// JSON and HTML escaping care about.
const testPasswordChars = `ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@#$%^&*-_!+=[]{}|\:',.?/` + "`~\"();<> "

// TestBatchBodyRoundTrip: whatever the passwords, ids, UPNs and headers,
// the $batch body Batch sends reads back, with encoding/json as Graph
// reads it, as exactly the requests given (invalid UTF-8 as U+FFFD).
func TestBatchBodyRoundTrip(t *testing.T) {
	s := newStub(t, echoBatch)
	c := newTestClient(t, s, validCred(), func(o *ClientOptions) { o.Priority = "Low" })
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 100 {
		var reqs []Request
		passwords := map[string]string{}
		for i := range 1 + n%20 {
			id := fmt.Sprint(i)
			switch i % 4 {
			case 0:
				pw := make([]byte, 8+rng.IntN(24))
				for j := range pw {
					pw[j] = testPasswordChars[rng.IntN(len(testPasswordChars))]
				}
				passwords[id] = string(pw)
				reqs = append(reqs, PasswordRequest(id, "7c1f0000-0000-4000-8000-00000000000"+fmt.Sprint(i%10), PasswordProfile{Password: secret.New(string(pw)), ForceChangePasswordNextSignIn: i%3 == 0}))
			case 1:
				reqs = append(reqs, LookupRequest(id, "o'brien_x.com#EXT#@ünï<&>.com"))
			case 2:
				if n%2 == 0 {
					reqs = append(reqs, RevokeSessionsRequest(id, "$svc@contoso.com"))
				} else {
					reqs = append(reqs, BlockSignInRequest(id, "o'brien_x.com#EXT#@contoso.com"))
				}
			default:
				r := PasswordRequest("id\"\u2028\x01\b"+id, "u", PasswordProfile{ForceChangePasswordNextSignInWithMfa: true})
				r.Headers = map[string]string{"client-request-id": "c", "Z": "<\xff>", "A": ""}
				reqs = append(reqs, r)
			}
		}
		if _, err := c.Batch(t.Context(), reqs); err != nil {
			t.Fatalf("Batch: %v", err)
		}
		seen := s.requests()
		var sent struct {
			Requests []struct {
				ID      string            `json:"id"`
				Method  string            `json:"method"`
				URL     string            `json:"url"`
				Headers map[string]string `json:"headers"`
				Body    struct {
					PasswordProfile *struct {
						Password string `json:"password"`
					} `json:"passwordProfile"`
				} `json:"body"`
			} `json:"requests"`
		}
		if err := json.Unmarshal(seen[len(seen)-1].Body, &sent); err != nil || len(sent.Requests) != len(reqs) {
			t.Fatalf("batch %d: %d requests read back (%v), want %d", n, len(sent.Requests), err, len(reqs))
		}
		for i, r := range reqs {
			got := sent.Requests[i]
			if got.ID != strings.ToValidUTF8(r.ID, "\uFFFD") || got.Method != r.Method || got.URL != r.URL {
				t.Fatalf("request %d read back as %q %s %s, want %q %s %s", i, got.ID, got.Method, got.URL, r.ID, r.Method, r.URL)
			}
			for k, v := range r.Headers {
				if got.Headers[k] != strings.ToValidUTF8(v, "\uFFFD") {
					t.Fatalf("request %d: header %q read back as %q, want %q", i, k, got.Headers[k], v)
				}
			}
			if got.Headers["x-ms-throttle-priority"] != "Low" {
				t.Fatalf("request %d: headers %v, want x-ms-throttle-priority Low", i, slices.Sorted(maps.Keys(got.Headers)))
			}
			if pw, ok := passwords[r.ID]; ok && (got.Body.PasswordProfile == nil || got.Body.PasswordProfile.Password != pw) {
				t.Fatalf("request %d: the password did not read back exactly", i)
			}
		}
	}
}

// TestPasswordBody: the body of a password reset is the passwordProfile as
// json.Marshal renders Graph's field names, the password left out when
// empty (a profile that only forces a change).
func TestPasswordBody(t *testing.T) {
	type profile struct {
		Password                             string `json:"password,omitempty"`
		ForceChangePasswordNextSignIn        bool   `json:"forceChangePasswordNextSignIn"`
		ForceChangePasswordNextSignInWithMfa bool   `json:"forceChangePasswordNextSignInWithMfa"`
	}
	for _, p := range []PasswordProfile{
		{}, {Password: secret.New("Xy7!abcdefgh"), ForceChangePasswordNextSignIn: true},
		{Password: secret.New(`a"b\c<d>e&f` + "\u2028 \x7f\xff"), ForceChangePasswordNextSignInWithMfa: true},
		{Password: secret.New(testPasswordChars), ForceChangePasswordNextSignIn: true, ForceChangePasswordNextSignInWithMfa: true},
	} {
		want, err := json.Marshal(struct {
			PasswordProfile profile `json:"passwordProfile"`
		}{profile{p.Password.Reveal(), p.ForceChangePasswordNextSignIn, p.ForceChangePasswordNextSignInWithMfa}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := PasswordRequest("1", "u", p).BodyJSON()
		if err != nil || string(got) != string(want) {
			t.Errorf("the body of PasswordRequest(%v):\n got %s (%v)\nwant %s", p, got, err, want)
		}
	}
}
