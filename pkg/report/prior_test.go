package report

import "testing"

// TestRefusedForGood: a refusal drops the row's password unless an attempt's
// outcome was unknown; 429s before it do not make the outcome unknown.
func TestRefusedForGood(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    Result
		want bool
	}{
		{"refused at once", Result{Outcome: Failed, HTTPStatus: 404, Attempts: 1}, true},
		{"refused after 429s", Result{Outcome: Failed, HTTPStatus: 403, Attempts: 3}, true},
		{"refused after a lost answer", Result{Outcome: Failed, HTTPStatus: 404, Attempts: 2, MaybeSet: true, ErrorMessage: MaybeSetNote + "not found"}, false},
		// The decision reads the field, never the text: only a results
		// file's parser derives the one from the other.
		{"marked, whatever the message says", Result{Outcome: Failed, HTTPStatus: 403, Attempts: 2, MaybeSet: true, ErrorMessage: "Forbidden"}, false},
		{"the note's words alone", Result{Outcome: Failed, HTTPStatus: 403, Attempts: 1, ErrorMessage: MaybeSetNote + "Forbidden"}, true},
		{"throttled to the end", Result{Outcome: Failed, HTTPStatus: 429, Attempts: 5}, false},
		{"server error", Result{Outcome: Failed, HTTPStatus: 503, Attempts: 5}, false},
		{"succeeded", Result{Outcome: Succeeded, HTTPStatus: 204, Attempts: 1}, false},
		// The actions after a reset never decide: the reset's answer does.
		{"succeeded, then the revoke refused", Result{Outcome: Succeeded, HTTPStatus: 204, ErrorCode: "Authorization_RequestDenied", Attempts: 1,
			Revoked: new(bool), ErrorMessage: "the password was reset, but revoking the sign-in sessions failed: Forbidden"}, false},
		{"succeeded, then the block refused", Result{Outcome: Succeeded, HTTPStatus: 204, Attempts: 1, Blocked: new(bool)}, false},
		{"refused, then revoked", Result{Outcome: Failed, HTTPStatus: 403, Attempts: 1, Revoked: ptrTrue()}, true},
		{"failed on 5xx, then revoked", Result{Outcome: Failed, HTTPStatus: 503, Attempts: 8, MaybeSet: true, Revoked: ptrTrue()}, false},
	} {
		if got := RefusedForGood(tc.r); got != tc.want {
			t.Errorf("%s: RefusedForGood = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func ptrTrue() *bool { v := true; return &v }
