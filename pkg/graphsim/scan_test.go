package graphsim

import (
	"encoding/json"
	"reflect"
	"testing"
)

// checkScanBatchRequests compares scanBatchRequests with json.Unmarshal on
// body, and reports whether the fast reader read it.
func checkScanBatchRequests(t *testing.T, body []byte) bool {
	t.Helper()
	got, ok := scanBatchRequests(body)
	if !ok {
		return false
	}
	var want batchRequest
	if err := json.Unmarshal(body, &want); err != nil {
		t.Fatalf("scanBatchRequests read %q, which encoding/json refuses: %v", body, err)
	}
	if !reflect.DeepEqual(got, want.Requests) {
		t.Fatalf("scanBatchRequests(%q):\n got %#v\nwant %#v", body, got, want.Requests)
	}
	return true
}

// checkScanPatch compares scanPatch with decodePatch on body, and reports
// whether the fast reader read it.
func checkScanPatch(t *testing.T, body []byte) bool {
	t.Helper()
	got, ok := scanPatch(body)
	if !ok {
		return false
	}
	want, aerr := decodePatch(body)
	if aerr != nil || want.bad != nil {
		t.Fatalf("scanPatch read %q, which decodePatch refuses: %v %v", body, aerr, want.bad)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("scanPatch(%q):\n got %+v\nwant %+v", body, got, want)
	}
	return true
}

func TestScanBatchRequests(t *testing.T) {
	tests := []struct {
		body string
		fast bool
	}{
		{`{"requests":[{"id":"0","method":"GET","url":"/users/p1@x.example?$select=id,userType"}]}`, true},
		{`{"requests":[{"id":"1","method":"PATCH","url":"/users/7c1f","headers":{"Content-Type":"application/json"},"body":{"passwordProfile":{"password":"a\u003cb","forceChangePasswordNextSignIn":true}}},` +
			`{"id":"2","method":"POST","url":"/users/7c1f/revokeSignInSessions","headers":{},"body":{},"dependsOn":["1"]}]}`, true},
		{`{"requests":[],"x":1}`, true},
		{` { "requests" : [ { "dependsOn" : [ ] , "url" : "u" , "method" : "m" , "id" : "é" } ] } `, true},
		{`{"requests":[{"id":"1","method":"GET","url":"/u","body":null}]}`, false},
		{`{"requests":[{"id":"1","method":"GET","url":"/u","headers":{"a":5}}]}`, false},
		{`{"requests":[{"id":"1","method":"GET","url":"/u","headers":null}]}`, false},
		{`{"requests":[{"ID":"1","method":"GET","url":"/u"}]}`, false},
		{`{"requests":[{"id":1,"method":"GET","url":"/u"}]}`, false},
		{`{"requests":[{"id":"1","id":"2","method":"GET","url":"/u"}]}`, false},
		{`{"requests":null}`, false},
		{`{"Requests":[]}`, false},
		{`{"requests":[{"id":"1","method":"GET","url":"/u"}`, false},
		{`{"requests":[]} []`, false},
	}
	for _, tt := range tests {
		if got := checkScanBatchRequests(t, []byte(tt.body)); got != tt.fast {
			t.Errorf("scanBatchRequests(%s) read it: %v, want %v", tt.body, got, tt.fast)
		}
	}
}

func TestScanPatch(t *testing.T) {
	tests := []struct {
		body string
		fast bool
	}{
		{`{"passwordProfile":{"password":"Xk7#q<R>&m2!vB9z","forceChangePasswordNextSignIn":true,"forceChangePasswordNextSignInWithMfa":false}}`, true},
		{`{"passwordProfile":{"forceChangePasswordNextSignIn":false}}`, true},
		{`{"passwordProfile":{"password":"\u00e9\"x","other":[1]}}`, true},
		{`{}`, true},
		{`{"passwordProfile":null}`, false},
		{`{"passwordProfile":{"password":null}}`, false},
		{`{"passwordProfile":{"password":5}}`, false},
		{`{"PasswordProfile":{}}`, false},
		{`{"passwordProfile":{},"passwordProfile":{}}`, false},
		{`{"passwordProfile":{"Password":"x"}}`, false},
		{`{"displayName":"x"}`, false},
		{`{"passwordProfile":{}`, false},
		{`[]`, false},
	}
	for _, tt := range tests {
		if got := checkScanPatch(t, []byte(tt.body)); got != tt.fast {
			t.Errorf("scanPatch(%s) read it: %v, want %v", tt.body, got, tt.fast)
		}
	}
}

// FuzzScanBatchRequests holds the one-pass $batch reader to json.Unmarshal.
func FuzzScanBatchRequests(f *testing.F) {
	f.Add([]byte(`{"requests":[{"id":"0","method":"GET","url":"/users/p1@x.example?$select=id"}]}`))
	f.Add([]byte(`{"requests":[{"id":"1","method":"PATCH","url":"/users/7c1f","headers":{"Content-Type":"application/json"},"body":{"passwordProfile":{"password":"a\u003cb"}},"dependsOn":[]}]}`))
	f.Add([]byte(`{"requests":[{"id":"1","method":"GET","url":"/u","body":null,"headers":{"a":"b"}}],"z":[1.5e3,true]}`))
	f.Fuzz(func(t *testing.T, body []byte) { checkScanBatchRequests(t, body) })
}

// FuzzScanPatch holds the one-pass PATCH reader to encoding/json.
func FuzzScanPatch(f *testing.F) {
	f.Add([]byte(`{"passwordProfile":{"password":"Xk7#q<R>&m2!vB9z","forceChangePasswordNextSignIn":true,"forceChangePasswordNextSignInWithMfa":false}}`))
	f.Add([]byte(`{"passwordProfile":{"forceChangePasswordNextSignIn":false}}`))
	f.Add([]byte(`{"passwordProfile":null,"x":1}`))
	f.Fuzz(func(t *testing.T, body []byte) { checkScanPatch(t, body) })
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
	b.Run("scan", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			reqs, _ := parseBatch(body)
			for _, q := range reqs {
				if _, aerr := readPatch(q.Body); aerr != nil {
					b.Fatal(aerr.message)
				}
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var br batchRequest
			if err := json.Unmarshal(body, &br); err != nil {
				b.Fatal(err)
			}
			for _, q := range br.Requests {
				if _, aerr := decodePatch(q.Body); aerr != nil {
					b.Fatal(aerr.message)
				}
			}
		}
	})
}
