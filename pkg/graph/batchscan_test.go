package graph

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"testing"
)

// sameItems compares what scanBatchItems read with the reference reading.
func sameItems(got, want []batchItem) error {
	if len(got) != len(want) {
		return fmt.Errorf("%d items, want %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		switch {
		case g.anomaly != w.anomaly:
			return fmt.Errorf("item %d: anomaly %q, want %q", i, g.anomaly, w.anomaly)
		case g.resp.ID != w.resp.ID || g.resp.Status != w.resp.Status:
			return fmt.Errorf("item %d: id %q status %d, want id %q status %d", i, g.resp.ID, g.resp.Status, w.resp.ID, w.resp.Status)
		case !maps.Equal(g.resp.Headers, w.resp.Headers) || (g.resp.Headers == nil) != (w.resp.Headers == nil):
			return fmt.Errorf("item %d: headers %q, want %q", i, g.resp.Headers, w.resp.Headers)
		case !bytes.Equal(g.resp.Body, w.resp.Body) || (g.resp.Body == nil) != (w.resp.Body == nil):
			return fmt.Errorf("item %d: body %q, want %q", i, g.resp.Body, w.resp.Body)
		}
	}
	return nil
}

// TestScanBatchItems checks that the one-pass reader reads the usual
// answers (fast is true: the speed-up must not quietly go away) exactly as
// encoding/json does, and leaves everything else to encoding/json.
func TestScanBatchItems(t *testing.T) {
	tests := []struct {
		name string
		body string
		fast bool
	}{
		{"204 without body", `{"responses":[{"id":"1","status":204,"headers":{"Cache-Control":"no-cache"}}]}`, true},
		{"204 with null body", `{"responses":[{"id":"1","status":204,"body":null}]}`, true},
		{"no headers", `{"responses":[{"id":"1","status":204}]}`, true},
		{"null headers", `{"responses":[{"id":"1","status":204,"headers":null}]}`, true},
		{"empty", `{"responses":[]}`, true},
		{"lookup", `{"responses":[{"id":"0","status":200,"headers":{"Cache-Control":"no-cache","Content-Type":"application/json;odata.metadata=minimal","OData-Version":"4.0"},` +
			`"body":{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users(id)/$entity","id":"7c1f","accountEnabled":true,"onPremisesSyncEnabled":null,"businessPhones":[],"n":-1.5e+3}}]}`, true},
		{"inner error body", `{"responses":[{"id":"2","status":404,"headers":{"Content-Type":"application/json"},` +
			`"body":{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist.","innerError":{"date":"2024-05-01T10:00:00","request-id":"r-1","client-request-id":"c-1"}}}}]}`, true},
		{"fractional Retry-After", `{"responses":[{"id":"1","status":429,"headers":{"Retry-After":"0.249"},"body":{"error":{"code":"TooManyRequests","message":"Please retry again later."}}}]}`, true},
		{"date Retry-After", `{"responses":[{"id":"1","status":429,"headers":{"Retry-After":"Wed, 01 May 2024 10:00:02 GMT"}}]}`, true},
		{"numeric Retry-After", `{"responses":[{"id":"1","status":429,"headers":{"Retry-After":5,"x":true,"y":null,"z":{"a":[1]}}}]}`, true},
		{"duplicate and unknown ids", `{"responses":[{"id":"1","status":204},{"id":"1","status":500},{"id":"9","status":204}]}`, true},
		{"empty id", `{"responses":[{"id":"","status":204}]}`, true},
		{"whitespace and extra keys", " {\n\t\"@odata.context\": \"x\", \"responses\" : [ { \"body\" : { } , \"status\" : 200 , \"id\" : \"1\" , \"other\" : [ 1 , \"a\" ] } ] , \"z\" : null } \r\n", true},
		{"escapes", `{"responses":[{"id":"\u0031","status":400,"headers":{"X-A\"b":"\u00e9\n"},"body":{"error":{"message":"a\\b \ud83d\ude00"}}}]}`, true},
		{"unicode", `{"responses":[{"id":"é","status":204,"headers":{"X":"ünï"}}]}`, true},
		{"invalid UTF-8", "{\"responses\":[{\"id\":\"\xff\",\"status\":204,\"headers\":{\"X\":\"a\xffb\"},\"body\":{\"m\":\"\xfe\"}}]}", true},

		// Left to encoding/json.
		{"missing id", `{"responses":[{"status":204},{"id":"2","status":204}]}`, false},
		{"missing status", `{"responses":[{"id":"1"}]}`, false},
		{"null id", `{"responses":[{"id":null,"status":204}]}`, false},
		{"numeric id", `{"responses":[{"id":1,"status":204}]}`, false},
		{"string status", `{"responses":[{"id":"1","status":"204"}]}`, false},
		{"fractional status", `{"responses":[{"id":"1","status":204.0}]}`, false},
		{"status out of range", `{"responses":[{"id":"1","status":99}]}`, false},
		{"item not an object", `{"responses":[7,{"id":"1","status":204}]}`, false},
		{"key in another case", `{"responses":[{"ID":"1","status":204}]}`, false},
		{"key folded", "{\"responses\":[{\"id\":\"1\",\"\u017ftatus\":204}]}", false},
		{"responses in another case", `{"Responses":[]}`, false},
		{"key given twice", `{"responses":[{"id":"1","id":"2","status":204}]}`, false},
		{"responses given twice", `{"responses":[],"responses":[{"id":"1","status":204}]}`, false},
		{"truncated", `{"responses":[{"id":"1","status":204},{"id":"2","sta`, false},
		{"truncated body", `{"responses":[{"id":"1","status":200,"body":{"id":"x"`, false},
		{"bad escape", `{"responses":[{"id":"1\q","status":204}]}`, false},
		{"control character", "{\"responses\":[{\"id\":\"1\n\",\"status\":204}]}", false},
		{"bad number in body", `{"responses":[{"id":"1","status":200,"body":{"n":01}}]}`, false},
		{"bad literal in body", `{"responses":[{"id":"1","status":200,"body":{"n":tru}}]}`, false},
		{"trailing data", `{"responses":[]} x`, false},
		{"trailing comma", `{"responses":[{"id":"1","status":204},]}`, false},
		{"no responses", `{"value":[]}`, false},
		{"null responses", `{"responses":null}`, false},
		{"responses not an array", `{"responses":{"id":"1"}}`, false},
		{"html", `<html><body>gateway</body></html>`, false},
		{"empty body", ``, false},
		{"deep body", `{"responses":[{"id":"1","status":200,"body":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			got, ok := scanBatchItems(body, nil, MaxBatchSize)
			if ok != tt.fast {
				t.Fatalf("scanBatchItems(%s) read it: %v, want %v", body, ok, tt.fast)
			}
			want, err := decodeBatchItems(body, MaxBatchSize)
			if !ok {
				// parseBatch then gives encoding/json's reading.
				res, perr := parseBatch(body, []Request{{ID: "1"}})
				if err != nil && perr == nil {
					t.Fatalf("parseBatch read what decodeBatchItems refuses: %v", err)
				}
				if perr == nil && len(res.Responses) != 1 {
					t.Fatalf("parseBatch(%s) = %d answers, want 1", body, len(res.Responses))
				}
				return
			}
			if err != nil {
				t.Fatalf("scanBatchItems read %s, which encoding/json refuses: %v", body, err)
			}
			if err := sameItems(got, want); err != nil {
				t.Fatalf("scanBatchItems(%s): %v", body, err)
			}
		})
	}
}

// FuzzScanBatchItems holds the one-pass reader to encoding/json: whatever
// it reads, it reads as decodeBatchItems does.
func FuzzScanBatchItems(f *testing.F) {
	f.Add([]byte(`{"responses":[{"id":"1","status":204},{"id":"2","status":429,"headers":{"Retry-After":"0.249"}}]}`))
	f.Add([]byte(`{"responses":[{"id":"1","status":204},{"id":"1","status":500},{"id":"x","status":200,"body":{}}]}`))
	f.Add([]byte(`{"responses":[{"id":"1","status":429,"headers":{"Retry-After":5,"x":null,"Date":"Wed, 01 May 2024 10:00:02 GMT"}}]}`))
	f.Add([]byte(`{"responses":[{"id":"0","status":200,"headers":{"Content-Type":"application/json"},"body":{"id":"7c1f","accountEnabled":true,"onPremisesSyncEnabled":null,"a":[1.5e3,-0,false]}}]}`))
	f.Add([]byte(`{"responses":[{"id":"3","status":404,"body":{"error":{"code":"Request_ResourceNotFound","message":"\u00e9\"\\","innerError":{"request-id":"r"}}}}]}`))
	f.Add([]byte(`{"responses":[{"ID":"1","status":204,"body":null}],"x":{}}`))
	f.Add([]byte(`{"responses":[`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, ok := scanBatchItems(body, nil, MaxBatchSize)
		if !ok {
			return
		}
		want, err := decodeBatchItems(body, MaxBatchSize)
		if err != nil {
			t.Fatalf("scanBatchItems read %q, which encoding/json refuses: %v", body, err)
		}
		if err := sameItems(got, want); err != nil {
			t.Fatalf("scanBatchItems(%q): %v", body, err)
		}
	})
}

// TestParseUserInfoScan checks that the lookup reader reads the usual
// answers itself, and exactly as encoding/json does.
func TestParseUserInfoScan(t *testing.T) {
	tests := []struct {
		body string
		fast bool
	}{
		{`{"@odata.context":"x","id":"7c1f","userPrincipalName":"a@b.c","accountEnabled":true,"onPremisesSyncEnabled":null,"userType":"Member"}`, true},
		{`{"id":"7c1f","accountEnabled":false,"onPremisesSyncEnabled":true,"userType":"Guest","businessPhones":[],"mail":null}`, true},
		{`{"id":"7c1f","userPrincipalName":null}`, true},
		{`{"id":"\u0037c","userPrincipalName":"x_y.com#EXT#@z"}`, true},
		{` { } `, true},
		{`{"Id":"7c1f"}`, false},
		{`{"id":"a","id":"b"}`, false},
		{`{"id":7}`, false},
		{`{"id":"7","accountEnabled":"true"}`, false},
		{`{"id":"7"} {}`, false},
		{`{"id":"7"`, false},
		{`null`, false},
		{`[]`, false},
	}
	for _, tt := range tests {
		got, ok := scanUserInfo([]byte(tt.body))
		if ok != tt.fast {
			t.Errorf("scanUserInfo(%s) read it: %v, want %v", tt.body, ok, tt.fast)
			continue
		}
		if ok {
			if err := sameUserInfo(got, tt.body); err != nil {
				t.Errorf("scanUserInfo(%s): %v", tt.body, err)
			}
		}
	}
}

// sameUserInfo compares u with json.Unmarshal's reading of body.
func sameUserInfo(u UserInfo, body string) error {
	var want UserInfo
	if err := json.Unmarshal([]byte(body), &want); err != nil {
		return fmt.Errorf("read, but encoding/json refuses it: %w", err)
	}
	g, _ := json.Marshal(u)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		return fmt.Errorf("got %s, want %s", g, w)
	}
	return nil
}

// FuzzParseUserInfo holds the lookup reader to json.Unmarshal.
func FuzzParseUserInfo(f *testing.F) {
	f.Add([]byte(`{"@odata.context":"x","id":"7c1f","userPrincipalName":"a@b.c","accountEnabled":true,"onPremisesSyncEnabled":null,"userType":"Member"}`))
	f.Add([]byte(`{"id":"7c1f","accountEnabled":false,"onPremisesSyncEnabled":true,"userType":"Guest","businessPhones":[]}`))
	f.Add([]byte(`{"ID":"1","id":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		u, ok := scanUserInfo(body)
		if ok {
			if err := sameUserInfo(u, string(body)); err != nil {
				t.Fatalf("scanUserInfo(%q): %v", body, err)
			}
		}
		got, gerr := ParseUserInfo(body)
		want, werr := parseUserInfoJSON(body)
		if (gerr == nil) != (werr == nil) || got.ID != want.ID || got.UserType != want.UserType || got.UserPrincipalName != want.UserPrincipalName ||
			got.Synced() != want.Synced() || got.Disabled() != want.Disabled() {
			t.Fatalf("ParseUserInfo(%q) = %+v, %v; encoding/json: %+v, %v", body, got, gerr, want, werr)
		}
	})
}
