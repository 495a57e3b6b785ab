package graph

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// describeBatch renders what parseBatch makes of body as the answer to one
// request, id "1": its response, or its error without the common prefix.
func describeBatch(body []byte) string {
	res, err := parseBatch(body, []Request{{ID: "1"}})
	if err != nil {
		if !errors.Is(err, ErrMalformedResponse) {
			return "not malformed: " + err.Error()
		}
		return "error: " + strings.TrimPrefix(err.Error(), ErrMalformedResponse.Error()+": ")
	}
	r := res.Responses["1"]
	h := ""
	for _, k := range slices.Sorted(maps.Keys(r.Headers)) {
		h += fmt.Sprintf("%q:%q ", k, r.Headers[k])
	}
	return fmt.Sprintf("%q %d [%s] %q nil=%v", r.ID, r.Status, h, r.Body, r.Body == nil)
}

// TestDecodeBatchItems pins how a $batch answer is read: the usual shapes
// (headers as strings, numbers or null; bodies kept as written; escapes
// and invalid UTF-8 as encoding/json decodes them), and every way an
// answer is malformed as a whole. These are the answers the one-pass
// reader of earlier versions was held to; the results are the same, but
// for two answers that were malformed for another reason first (a
// truncated one, a trailing comma) and a body nested deeper than that
// reader followed (256), which encoding/json reads.
func TestDecodeBatchItems(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string // describeBatch of parseBatch with one request, id "1"; "read" for any answer to it
	}{
		{"204 without body", `{"responses":[{"id":"1","status":204,"headers":{"Cache-Control":"no-cache"}}]}`, `"1" 204 ["Cache-Control":"no-cache" ] "" nil=true`},
		{"204 with null body", `{"responses":[{"id":"1","status":204,"body":null}]}`, `"1" 204 [] "" nil=true`},
		{"no headers", `{"responses":[{"id":"1","status":204}]}`, `"1" 204 [] "" nil=true`},
		{"null headers", `{"responses":[{"id":"1","status":204,"headers":null}]}`, `"1" 204 [] "" nil=true`},
		{"empty", `{"responses":[]}`, `error: no answer for 1 of the 1 requests`},
		{"lookup", `{"responses":[{"id":"1","status":200,"headers":{"Cache-Control":"no-cache","Content-Type":"application/json;odata.metadata=minimal","OData-Version":"4.0"},` +
			`"body":{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users(id)/$entity","id":"7c1f","accountEnabled":true,"onPremisesSyncEnabled":null,"businessPhones":[],"n":-1.5e+3}}]}`, `"1" 200 ["Cache-Control":"no-cache" "Content-Type":"application/json;odata.metadata=minimal" "OData-Version":"4.0" ] "{\"@odata.context\":\"https://graph.microsoft.com/v1.0/$metadata#users(id)/$entity\",\"id\":\"7c1f\",\"accountEnabled\":true,\"onPremisesSyncEnabled\":null,\"businessPhones\":[],\"n\":-1.5e+3}" nil=false`},
		{"inner error body", `{"responses":[{"id":"1","status":404,"headers":{"Content-Type":"application/json"},` +
			`"body":{"error":{"code":"Request_ResourceNotFound","message":"Resource 'x' does not exist.","innerError":{"date":"2024-05-01T10:00:00","request-id":"r-1","client-request-id":"c-1"}}}}]}`, `"1" 404 ["Content-Type":"application/json" ] "{\"error\":{\"code\":\"Request_ResourceNotFound\",\"message\":\"Resource 'x' does not exist.\",\"innerError\":{\"date\":\"2024-05-01T10:00:00\",\"request-id\":\"r-1\",\"client-request-id\":\"c-1\"}}}" nil=false`},
		{"fractional Retry-After", `{"responses":[{"id":"1","status":429,"headers":{"Retry-After":"0.249"},"body":{"error":{"code":"TooManyRequests","message":"Please retry again later."}}}]}`, `"1" 429 ["Retry-After":"0.249" ] "{\"error\":{\"code\":\"TooManyRequests\",\"message\":\"Please retry again later.\"}}" nil=false`},
		{"date Retry-After", `{"responses":[{"id":"1","status":429,"headers":{"Retry-After":"Wed, 01 May 2024 10:00:02 GMT"}}]}`, `"1" 429 ["Retry-After":"Wed, 01 May 2024 10:00:02 GMT" ] "" nil=true`},
		{"numeric Retry-After", `{"responses":[{"id":"1","status":429,"headers":{"Retry-After":5,"x":true,"y":null,"z":{"a":[1]}}}]}`, `"1" 429 ["Retry-After":"5" "x":"true" "y":"" "z":"{\"a\":[1]}" ] "" nil=true`},
		{"duplicate and unknown ids", `{"responses":[{"id":"1","status":204},{"id":"1","status":500},{"id":"9","status":204}]}`, `error: more answers than the 1 requests sent`},
		{"empty id", `{"responses":[{"id":"","status":204}]}`, `error: an answer for id "", which was not sent`},
		{"whitespace and extra keys", " {\n\t\"@odata.context\": \"x\", \"responses\" : [ { \"body\" : { } , \"status\" : 200 , \"id\" : \"1\" , \"other\" : [ 1 , \"a\" ] } ] , \"z\" : null } \r\n", `"1" 200 [] "{ }" nil=false`},
		{"escapes", `{"responses":[{"id":"\u0031","status":400,"headers":{"X-A\"b":"\u00e9\n"},"body":{"error":{"message":"a\\b \ud83d\ude00"}}}]}`, `"1" 400 ["X-A\"b":"é\n" ] "{\"error\":{\"message\":\"a\\\\b \\ud83d\\ude00\"}}" nil=false`},
		{"unicode", `{"responses":[{"id":"é","status":204,"headers":{"X":"ünï"}}]}`, `error: an answer for id "é", which was not sent`},
		{"invalid UTF-8", "{\"responses\":[{\"id\":\"\xff\",\"status\":204,\"headers\":{\"X\":\"a\xffb\"},\"body\":{\"m\":\"\xfe\"}}]}", `error: an answer for id "�", which was not sent`},

		// Malformed.
		{"missing id", `{"responses":[{"status":204},{"id":"2","status":204}]}`, `error: answer 0 (id "?") has no valid id or status`},
		{"missing status", `{"responses":[{"id":"1"}]}`, `error: answer 0 (id "1") has no valid id or status`},
		{"null id", `{"responses":[{"id":null,"status":204}]}`, `error: answer 0 (id "?") has no valid id or status`},
		{"numeric id", `{"responses":[{"id":1,"status":204}]}`, `error: answer 0 (id "?") has no valid id or status`},
		{"string status", `{"responses":[{"id":"1","status":"204"}]}`, `error: answer 0 (id "1") has no valid id or status`},
		{"fractional status", `{"responses":[{"id":"1","status":204.0}]}`, `error: answer 0 (id "1") has no valid id or status`},
		{"status out of range", `{"responses":[{"id":"1","status":99}]}`, `error: answer 0 (id "1") has no valid id or status`},
		{"item not an object", `{"responses":[7,{"id":"1","status":204}]}`, `error: answer 0 (id "?") has no valid id or status`},
		{"key in another case", `{"responses":[{"ID":"1","status":204}]}`, `"1" 204 [] "" nil=true`},
		{"key folded", "{\"responses\":[{\"id\":\"1\",\"\u017ftatus\":204}]}", `"1" 204 [] "" nil=true`},
		{"responses in another case", `{"Responses":[]}`, `error: no answer for 1 of the 1 requests`},
		{"key given twice", `{"responses":[{"id":"1","id":"2","status":204}]}`, `error: an answer for id "2", which was not sent`},
		{"responses given twice", `{"responses":[],"responses":[{"id":"1","status":204}]}`, `error: two responses arrays`},
		{"truncated", `{"responses":[{"id":"1","status":204},{"id":"2","sta`, `error: not valid JSON`},
		{"truncated body", `{"responses":[{"id":"1","status":200,"body":{"id":"x"`, `error: not valid JSON`},
		{"bad escape", `{"responses":[{"id":"1\q","status":204}]}`, `error: not valid JSON`},
		{"control character", "{\"responses\":[{\"id\":\"1\n\",\"status\":204}]}", `error: not valid JSON`},
		{"bad number in body", `{"responses":[{"id":"1","status":200,"body":{"n":01}}]}`, `error: not valid JSON`},
		{"bad literal in body", `{"responses":[{"id":"1","status":200,"body":{"n":tru}}]}`, `error: not valid JSON`},
		{"trailing data", `{"responses":[]} x`, `error: not valid JSON`},
		{"trailing comma", `{"responses":[{"id":"1","status":204},]}`, `error: not valid JSON`},
		{"no responses", `{"value":[]}`, `error: no responses array`},
		{"null responses", `{"responses":null}`, `error: no responses array`},
		{"responses not an array", `{"responses":{"id":"1"}}`, `error: the responses are not an array`},
		{"html", `<html><body>gateway</body></html>`, `error: not valid JSON`},
		{"empty body", ``, `error: not valid JSON`},
		{"deep body", `{"responses":[{"id":"1","status":200,"body":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}]}`, `read`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := describeBatch([]byte(tt.body))
			if tt.want == "read" && strings.HasPrefix(got, `"1" `) {
				return
			}
			if got != tt.want {
				t.Errorf("parseBatch(%s):\n got %s\nwant %s", tt.body, got, tt.want)
			}
		})
	}
}

// FuzzDecodeBatchItems holds the streaming reader to json.Unmarshal of the
// whole answer: whatever answer parseBatch takes, it takes every item as
// encoding/json reads it in one piece.
func FuzzDecodeBatchItems(f *testing.F) {
	f.Add([]byte(`{"responses":[{"id":"1","status":204},{"id":"2","status":429,"headers":{"Retry-After":"0.249"}}]}`))
	f.Add([]byte(`{"responses":[{"id":"2","status":204},{"id":"1","status":500,"body":{"error":{"code":"x"}}}],"x":{}}`))
	f.Add([]byte(`{"responses":[{"id":"1","status":429,"headers":{"Retry-After":5,"x":null,"y":[1, 2],"Date":"Wed, 01 May 2024 10:00:02 GMT"}},{"ID":"2","Status":204}]}`))
	f.Add([]byte(`{"responses":[{"id":"\u0031","status":200,"headers":{"X-A\"b":"\u00e9\n"},"body":{"m":"\ud83d\ude00"}},{"id":"2","status":204,"body":null}]}`))
	f.Add([]byte(`{"responses":null,"Responses":[]}`))
	reqs := []Request{{ID: "1"}, {ID: "2"}}
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := parseBatch(body, reqs)
		if err != nil {
			return
		}
		var whole struct {
			Responses []struct {
				ID      string                     `json:"id"`
				Status  int                        `json:"status"`
				Headers map[string]json.RawMessage `json:"headers"`
				Body    json.RawMessage            `json:"body"`
			} `json:"responses"`
		}
		if err := json.Unmarshal(body, &whole); err != nil {
			t.Fatalf("parseBatch took %q, which json.Unmarshal refuses: %v", body, err)
		}
		if len(whole.Responses) != len(res.Responses) {
			t.Fatalf("parseBatch(%q): %d responses, json.Unmarshal %d", body, len(res.Responses), len(whole.Responses))
		}
		for _, w := range whole.Responses {
			got := res.Responses[w.ID]
			if got.Status != w.Status || len(got.Headers) != len(w.Headers) {
				t.Fatalf("parseBatch(%q): %q is %d with %d headers, json.Unmarshal %d with %d", body, w.ID, got.Status, len(got.Headers), w.Status, len(w.Headers))
			}
			for k, v := range w.Headers {
				var s string
				if json.Unmarshal(v, &s) != nil {
					s = string(v)
				}
				if got.Headers[k] != s {
					t.Fatalf("parseBatch(%q): header %q of %q is %q, json.Unmarshal %q", body, k, w.ID, got.Headers[k], s)
				}
			}
			if string(w.Body) == "null" {
				w.Body = nil
			}
			if string(got.Body) != string(w.Body) {
				t.Fatalf("parseBatch(%q): body of %q is %s, json.Unmarshal %s", body, w.ID, got.Body, w.Body)
			}
		}
	})
}

// TestParseUserInfo reads lookup answers as json.Unmarshal reads them into
// UserInfo, and refuses what is not a user with an id.
func TestParseUserInfo(t *testing.T) {
	tests := []struct {
		body, id, upn string
		disabled      bool
		synced        bool
		guest         bool
	}{
		{`{"@odata.context":"x","id":"7c1f","userPrincipalName":"a@b.c","accountEnabled":true,"onPremisesSyncEnabled":null,"userType":"Member"}`, "7c1f", "a@b.c", false, false, false},
		{`{"id":"7c1f","accountEnabled":false,"onPremisesSyncEnabled":true,"userType":"Guest","businessPhones":[],"mail":null}`, "7c1f", "", true, true, true},
		{`{"id":"7c1f","userPrincipalName":null}`, "7c1f", "", false, false, false},
		{`{"id":"\u0037c","userPrincipalName":"x_y.com#EXT#@z"}`, "7c", "x_y.com#EXT#@z", false, false, false},
		{`{"Id":"7c1f"}`, "7c1f", "", false, false, false},
		{`{"id":"a","id":"b"}`, "b", "", false, false, false},
		{` { } `, "", "", false, false, false},
		{`{"id":7}`, "", "", false, false, false},
		{`{"id":"7","accountEnabled":"true"}`, "", "", false, false, false},
		{`{"id":"7"} {}`, "", "", false, false, false},
		{`{"id":"7"`, "", "", false, false, false},
		{`null`, "", "", false, false, false},
		{`[]`, "", "", false, false, false},
	}
	for _, tt := range tests {
		u, err := ParseUserInfo([]byte(tt.body))
		if tt.id == "" {
			if !errors.Is(err, ErrMalformedResponse) {
				t.Errorf("ParseUserInfo(%s) = %+v, %v; want ErrMalformedResponse", tt.body, u, err)
			}
			continue
		}
		if err != nil || u.ID != tt.id || u.UserPrincipalName != tt.upn || u.Disabled() != tt.disabled || u.Synced() != tt.synced || u.Guest() != tt.guest {
			t.Errorf("ParseUserInfo(%s) = %+v (disabled %v, synced %v, guest %v), %v; want id %q upn %q disabled %v synced %v guest %v",
				tt.body, u, u.Disabled(), u.Synced(), u.Guest(), err, tt.id, tt.upn, tt.disabled, tt.synced, tt.guest)
		}
	}
}

// TestHeadersAtTheBound: 64 headers, however short, are read; the bound
// refuses only more (TestParseBatchBounded).
func TestHeadersAtTheBound(t *testing.T) {
	h := strings.TrimSuffix(strings.Repeat(`"":0,`, maxItemHeaders-1), ",") + `,"Retry-After":7`
	res, err := parseBatch([]byte(`{"responses":[{"id":"1","status":429,"headers":{`+h+`}}]}`), []Request{{ID: "1"}})
	if err != nil || res.Responses["1"].Header("Retry-After") != "7" {
		t.Fatalf("parseBatch of an item with %d headers: %v, %v; want it read, Retry-After 7", maxItemHeaders, res, err)
	}
}

// tokenKeys counts the keys of the JSON object obj with json.Decoder's
// tokens: the reference countKeys is held to.
func tokenKeys(obj []byte) (int, bool) {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return 0, false
	}
	n := 0
	for dec.More() {
		if _, err := dec.Token(); err != nil {
			return 0, false
		}
		if err := dec.Decode(new(json.RawMessage)); err != nil {
			return 0, false
		}
		n++
	}
	return n, true
}

// FuzzCountKeys holds countKeys to json.Decoder on every valid object.
func FuzzCountKeys(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"a":1,"a":2}`, `{"a\":b":"c:d","e":{"f":[1,{"g":2}]},"h\\":"}"}`, ` { "x" : [ ":" , "{" ] } `, `{"é":"\u0022:"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, obj []byte) {
		want, ok := tokenKeys(obj)
		if !ok || !json.Valid(obj) {
			return
		}
		if got := countKeys(obj); got != want {
			t.Fatalf("countKeys(%s) = %d, want %d", obj, got, want)
		}
	})
}
