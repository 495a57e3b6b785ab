package graph

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
)

// testPasswordChars are Entra's allowed password characters (GRAPH.md),
// with the ones JSON and HTML escaping care about.
const testPasswordChars = `ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@#$%^&*-_!+=[]{}|\:',.?/` + "`~\"();<> "

// TestAppendBatchRequest holds the hand-written $batch encoder to
// json.Marshal, byte for byte.
func TestAppendBatchRequest(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	c := &Client{priority: "Low"}
	for n := range 200 {
		var reqs []wireRequest
		for i := range 1 + n%20 {
			pw := make([]byte, 8+rng.IntN(24))
			for j := range pw {
				pw[j] = testPasswordChars[rng.IntN(len(testPasswordChars))]
			}
			var r Request
			switch i % 4 {
			case 0:
				r = PasswordRequest(fmt.Sprint(i), "7c1f0000-0000-4000-8000-00000000000"+fmt.Sprint(i%10), PasswordProfile{Password: string(pw), ForceChangePasswordNextSignIn: i%3 == 0})
			case 1:
				r = LookupRequest(fmt.Sprint(i), "o'brien_x.com#EXT#@ünï<&>.com")
			case 2:
				r = RevokeSessionsRequest(fmt.Sprint(i), "$svc@contoso.com")
			default:
				r = PasswordRequest("id\"\u2028\x01\b"+fmt.Sprint(i), "u", PasswordProfile{ForceChangePasswordNextSignInWithMfa: true})
				r.Headers = map[string]string{"client-request-id": "c", "Z": "<\xff>", "A": ""}
			}
			w, err := c.wireRequest(r)
			if err != nil {
				t.Fatal(err)
			}
			reqs = append(reqs, w)
		}
		want, err := json.Marshal(struct {
			Requests []wireRequest `json:"requests"`
		}{reqs})
		if err != nil {
			t.Fatal(err)
		}
		if got := appendBatchRequest(nil, reqs); string(got) != string(want) {
			t.Fatalf("appendBatchRequest:\n got %s\nwant %s", got, want)
		}
	}
}

// TestAppendPasswordBody holds the password body to json.Marshal of the
// same profile.
func TestAppendPasswordBody(t *testing.T) {
	type profile struct {
		Password                             string `json:"password,omitempty"`
		ForceChangePasswordNextSignIn        bool   `json:"forceChangePasswordNextSignIn"`
		ForceChangePasswordNextSignInWithMfa bool   `json:"forceChangePasswordNextSignInWithMfa"`
	}
	for _, p := range []PasswordProfile{
		{}, {Password: "Xy7!abcdefgh", ForceChangePasswordNextSignIn: true},
		{Password: `a"b\c<d>e&f` + "\u2028 \x7f\xff", ForceChangePasswordNextSignInWithMfa: true},
		{Password: testPasswordChars, ForceChangePasswordNextSignIn: true, ForceChangePasswordNextSignInWithMfa: true},
	} {
		want, err := json.Marshal(struct {
			PasswordProfile profile `json:"passwordProfile"`
		}{profile(p)})
		if err != nil {
			t.Fatal(err)
		}
		if got := appendPasswordBody(nil, p); string(got) != string(want) {
			t.Errorf("appendPasswordBody(%v):\n got %s\nwant %s", p, got, want)
		}
	}
}
