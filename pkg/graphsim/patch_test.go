package graphsim

import (
	"encoding/json"
	"fmt"
	"testing"
)

// TestParseBatchShapes pins how the emulator reads a $batch body: keys
// matched as encoding/json matches them (the last of a key given twice),
// and a body that is not an object with 1 to 20 requests, each with an id,
// a method and a url, refused as Graph refuses it.
func TestParseBatchShapes(t *testing.T) {
	tests := []struct {
		body string
		want string // the ids read, or the error message
	}{
		{`{"requests":[{"id":"0","method":"GET","url":"/users/p1@x.example?$select=id,userType"}]}`, "[0]"},
		{`{"requests":[{"id":"1","method":"PATCH","url":"/users/7c1f","headers":{"Content-Type":"application/json"},"body":{"passwordProfile":{"password":"a\u003cb","forceChangePasswordNextSignIn":true}}},` +
			`{"id":"2","method":"POST","url":"/users/7c1f/revokeSignInSessions","headers":{},"body":{},"dependsOn":["1"]}]}`, "[1 2]"},
		{` { "requests" : [ { "dependsOn" : [ ] , "url" : "u" , "method" : "m" , "id" : "é" } ] } `, "[é]"},
		{`{"requests":[{"id":"1","method":"GET","url":"/u","body":null}]}`, "[1]"},
		{`{"requests":[{"id":"1","method":"GET","url":"/u","headers":null}]}`, "[1]"},
		{`{"requests":[{"ID":"1","method":"GET","url":"/u"}]}`, "[1]"},
		{`{"requests":[{"id":"1","id":"2","method":"GET","url":"/u"}]}`, "[2]"},
		{`{"Requests":[{"id":"1","method":"GET","url":"/u"}]}`, "[1]"},
		{`{"requests":[],"x":1}`, msgBatchFormat},
		{`{"requests":null}`, msgBatchFormat},
		{`{"requests":[{"id":"1","method":"GET","url":"/u","headers":{"a":5}}]}`, msgBatchFormat},
		{`{"requests":[{"id":1,"method":"GET","url":"/u"}]}`, msgBatchFormat},
		{`{"requests":[{"id":"1","method":"GET"}]}`, msgBatchFormat},
		{`{"requests":[{"id":"1","method":"GET","url":"/u"}`, msgBatchFormat},
		{`{"requests":[]} []`, msgBatchFormat},
		{`{"requests":[{"id":"a","method":"GET","url":"/u"},{"id":"A","method":"GET","url":"/u"}]}`, fmt.Sprintf(msgBatchDuplicate, "A")},
		{`{"requests":[{"id":"1","method":"GET","url":"/u","dependsOn":["2"]},{"id":"2","method":"GET","url":"/u"}]}`, msgBatchFormat},
	}
	for _, tt := range tests {
		reqs, aerr := parseBatch([]byte(tt.body))
		got := ""
		if aerr != nil {
			got = aerr.message
		} else {
			var ids []string
			for _, q := range reqs {
				ids = append(ids, q.ID)
			}
			got = fmt.Sprint(ids)
		}
		if got != tt.want {
			t.Errorf("parseBatch(%s) = %s, want %s", tt.body, got, tt.want)
		}
	}
}

// TestReadPatch pins how the emulator reads a PATCH body: the profile as
// encoding/json reads it, a null or unreadable profile answered later (bad),
// and anything but a passwordProfile update refused at once.
func TestReadPatch(t *testing.T) {
	tests := []struct {
		body string
		want string
	}{
		{`{"passwordProfile":{"password":"Xk7#q<R>&m2!vB9z","forceChangePasswordNextSignIn":true,"forceChangePasswordNextSignInWithMfa":false}}`,
			`present {"password":"Xk7#q\u003cR\u003e\u0026m2!vB9z","forceChangePasswordNextSignIn":true,"forceChangePasswordNextSignInWithMfa":false}`},
		{`{"passwordProfile":{"forceChangePasswordNextSignIn":false}}`, `present {"password":null,"forceChangePasswordNextSignIn":false,"forceChangePasswordNextSignInWithMfa":null}`},
		{`{"passwordProfile":{"password":"\u00e9\"x","other":[1]}}`, `present {"password":"é\"x","forceChangePasswordNextSignIn":null,"forceChangePasswordNextSignInWithMfa":null}`},
		{`{"PasswordProfile":{"Password":"x"}}`, `present {"password":"x","forceChangePasswordNextSignIn":null,"forceChangePasswordNextSignInWithMfa":null}`},
		{`{"passwordProfile":{"password":null}}`, `present {"password":null,"forceChangePasswordNextSignIn":null,"forceChangePasswordNextSignInWithMfa":null}`},
		{`{}`, `absent`},
		{`{"passwordProfile":null}`, `bad Invalid value specified for property 'passwordProfile' of resource 'User'.`},
		{`{"passwordProfile":{"password":5}}`, `bad ` + msgUnreadableJSON},
		{`{"displayName":"x"}`, `refused graphsim: only passwordProfile and accountEnabled updates are emulated.`},
		{`{"accountEnabled":false}`, `absent`},
		{`{"accountEnabled":null}`, `bad Invalid value specified for property 'accountEnabled' of resource 'User'.`},
		{`{"accountEnabled":"no","passwordProfile":{"password":"x"}}`, `bad Invalid value specified for property 'accountEnabled' of resource 'User'.`},
		{`{"passwordProfile":{}`, `refused ` + msgUnreadableJSON},
		{`[]`, `refused ` + msgUnreadableJSON},
	}
	for _, tt := range tests {
		p, aerr := readPatch([]byte(tt.body))
		var got string
		switch {
		case aerr != nil:
			got = "refused " + aerr.message
		case p.bad != nil:
			got = "bad " + p.bad.message
		case !p.present:
			got = "absent"
		default:
			b, _ := json.Marshal(p.profile)
			got = "present " + string(b)
		}
		if got != tt.want {
			t.Errorf("readPatch(%s) = %s, want %s", tt.body, got, tt.want)
		}
	}
}

// BenchmarkParseBatch reads a $batch of 20 password resets as bulkreset
// sends it.
func BenchmarkParseBatch(b *testing.B) {
	body := []byte(`{"requests":[`)
	for i := range maxBatchRequests {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, `{"id":"`+string(rune('a'+i))+`","method":"PATCH","url":"/users/7c1f0000-0000-4000-8000-000000000001","headers":{"Content-Type":"application/json"},`+
			`"body":{"passwordProfile":{"password":"Xk7#q\u003cR\u003e\u0026m2!vB9z","forceChangePasswordNextSignIn":true,"forceChangePasswordNextSignInWithMfa":false}}}`...)
	}
	body = append(body, "]}"...)
	b.ReportAllocs()
	for b.Loop() {
		reqs, _ := parseBatch(body)
		for _, q := range reqs {
			if _, aerr := readPatch(q.Body); aerr != nil {
				b.Fatal(aerr.message)
			}
		}
	}
}
