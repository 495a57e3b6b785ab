package graphsim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestBatchValidation(t *testing.T) {
	e := start(t, Options{})
	reqs := func(n int) string {
		items := make([]string, n)
		for i := range items {
			items[i] = fmt.Sprintf(`{"id":"%d","method":"GET","url":"/users/%s"}`, i+1, upn("adele.vance"))
		}
		return `{"requests":[` + strings.Join(items, ",") + `]}`
	}
	tests := []struct {
		name        string
		method      string
		contentType string
		body        string
		wantStatus  int
		wantCode    string
		wantMessage string
	}{
		{name: "20 requests", body: reqs(20), wantStatus: 200},
		{name: "21 requests", body: reqs(21), wantStatus: 400, wantCode: codeBadRequest, wantMessage: msgBatchLimit},
		{name: "malformed JSON", body: `{"requests":[`, wantStatus: 400, wantCode: codeBadRequest, wantMessage: msgBatchFormat},
		{name: "an array", body: `[]`, wantStatus: 400, wantCode: codeBadRequest, wantMessage: msgBatchFormat},
		{name: "no requests", body: `{"requests":[]}`, wantStatus: 400, wantCode: codeBadRequest, wantMessage: msgBatchFormat},
		{name: "requests null", body: `{"requests":null}`, wantStatus: 400, wantCode: codeBadRequest, wantMessage: msgBatchFormat},
		{name: "trailing garbage", body: reqs(1) + "x", wantStatus: 400, wantCode: codeBadRequest, wantMessage: msgBatchFormat},
		{name: "duplicate ids", body: `{"requests":[{"id":"a","method":"GET","url":"/users/x"},{"id":"a","method":"GET","url":"/users/y"}]}`,
			wantStatus: 400, wantCode: codeBadRequest, wantMessage: "Request Id a has to be unique in a batch."},
		{name: "ids differing in case", body: `{"requests":[{"id":"a","method":"GET","url":"/users/x"},{"id":"A","method":"GET","url":"/users/y"}]}`,
			wantStatus: 400, wantCode: codeBadRequest, wantMessage: "Request Id A has to be unique in a batch."},
		{name: "no url", body: `{"requests":[{"id":"1","method":"GET"}]}`, wantStatus: 400, wantCode: codeBadRequest, wantMessage: msgBatchFormat},
		{name: "numeric id", body: `{"requests":[{"id":1,"method":"GET","url":"/users/x"}]}`, wantStatus: 400, wantCode: codeBadRequest, wantMessage: msgBatchFormat},
		{name: "dependsOn a later id", body: `{"requests":[{"id":"1","method":"GET","url":"/users/x","dependsOn":["2"]},{"id":"2","method":"GET","url":"/users/y"}]}`,
			wantStatus: 400, wantCode: codeBadRequest, wantMessage: msgBatchFormat},
		{name: "not JSON content type", contentType: "text/plain", body: reqs(1), wantStatus: 415, wantCode: "UnsupportedMediaType"},
		{name: "GET $batch", method: http.MethodGet, body: reqs(1), wantStatus: 405, wantCode: codeRequestBad, wantMessage: msgMethod},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, ct := tt.method, tt.contentType
			if method == "" {
				method = http.MethodPost
			}
			if ct == "" {
				ct = "application/json; charset=utf-8"
			}
			before := e.sim.Stats().SubRequests
			res, err := e.do(context.Background(), method, "/v1.0/$batch", []byte(tt.body), map[string]string{
				"Authorization": "Bearer " + e.token, "Content-Type": ct, "client-request-id": "my-id",
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.status != tt.wantStatus {
				t.Fatalf("status: got %d, want %d; body %s", res.status, tt.wantStatus, res.body)
			}
			if res.header.Get("request-id") == "" || res.header.Get("client-request-id") != "my-id" {
				t.Errorf("headers: got request-id %q, client-request-id %q; want a GUID and my-id", res.header.Get("request-id"), res.header.Get("client-request-id"))
			}
			if tt.wantStatus == 200 {
				return
			}
			d := checkError(t, res.body, tt.wantCode, tt.wantMessage)
			if d.InnerError.RequestID != res.header.Get("request-id") || d.InnerError.ClientRequestID != "my-id" {
				t.Errorf("innerError: got %+v, want the response's request-id and my-id", d.InnerError)
			}
			if got := e.sim.Stats().SubRequests; got != before {
				t.Errorf("SubRequests: got %d, want %d (a rejected batch runs nothing)", got, before)
			}
		})
	}
}

func TestBatchResponsesShuffledAndMatchedByID(t *testing.T) {
	e := start(t, Options{Seed: 7})
	users := GenerateUsers(20, SandboxDomain)
	var reqs []subRequest
	for i, u := range users {
		reqs = append(reqs, get(fmt.Sprintf("r%d", i), "/users/"+u.UPN+"?$select=id,userPrincipalName"))
	}
	shuffled := 0
	const batches = 5
	for b := 0; b < batches; b++ {
		res, got := e.batch(t, reqs...)
		var br batchResponse
		if err := json.Unmarshal(res.body, &br); err != nil {
			t.Fatal(err)
		}
		if len(br.Responses) != len(reqs) {
			t.Fatalf("responses: got %d, want %d", len(br.Responses), len(reqs))
		}
		for i, r := range br.Responses {
			if r.ID != reqs[i].ID {
				shuffled++
				break
			}
		}
		for i, u := range users {
			r := got[reqs[i].ID]
			var body struct {
				ID  string `json:"id"`
				UPN string `json:"userPrincipalName"`
			}
			if err := json.Unmarshal(r.Body, &body); err != nil {
				t.Fatalf("response %s: %v", r.ID, err)
			}
			if r.Status != 200 || body.ID != u.ID || body.UPN != u.UPN {
				t.Errorf("response %s: got %d %s %s, want 200 %s %s", r.ID, r.Status, body.ID, body.UPN, u.ID, u.UPN)
			}
		}
	}
	if shuffled == 0 {
		t.Errorf("shuffled batches: got 0 of %d, want responses out of request order", batches)
	}
}

func TestDependsOn(t *testing.T) {
	e := start(t, Options{})
	missing := patch("1", upn("nobody"), testPassword)
	dependent := patch("2", upn("adele.vance"), testPassword)
	dependent.DependsOn = []string{"1"}
	ok := patch("3", upn("alex.wilber"), testPassword)
	afterOK := patch("4", upn("lee.gu"), testPassword)
	afterOK.DependsOn = []string{"3"}
	_, got := e.batch(t, missing, dependent, ok, afterOK)
	want := map[string]int{"1": 404, "2": 424, "3": 204, "4": 204}
	for id, status := range want {
		if got[id].Status != status {
			t.Errorf("response %s: got status %d, want %d", id, got[id].Status, status)
		}
	}
	if n := e.applied(upn("adele.vance")); n != 0 {
		t.Errorf("adele.vance: password set although its dependency failed")
	}
}

func TestSubRequestURLForms(t *testing.T) {
	e := start(t, Options{})
	guest := "alex_fabrikam.com#EXT#@" + SandboxDomain
	guestEncoded := "alex_fabrikam.com%23EXT%23@" + SandboxDomain
	adele, _ := e.sim.User(upn("adele.vance"))
	tests := []struct {
		name        string
		url         string
		wantStatus  int
		wantUPN     string // on 200
		wantCode    string
		wantMessage string
	}{
		{name: "id", url: "/users/" + adele.ID, wantStatus: 200, wantUPN: adele.UPN},
		{name: "id in upper case", url: "/users/" + strings.ToUpper(adele.ID), wantStatus: 200, wantUPN: adele.UPN},
		{name: "upn", url: "/users/" + adele.UPN, wantStatus: 200, wantUPN: adele.UPN},
		{name: "upn in other case", url: "/users/Adele.Vance@CONTOSO.onmicrosoft.com", wantStatus: 200, wantUPN: adele.UPN},
		{name: "no leading slash", url: "users/" + adele.UPN, wantStatus: 200, wantUPN: adele.UPN},
		{name: "key in quotes", url: "/users('" + adele.UPN + "')", wantStatus: 200, wantUPN: adele.UPN},
		{name: "guest, # encoded", url: "/users/" + guestEncoded, wantStatus: 200, wantUPN: guest},
		{name: "guest, # encoded, in quotes", url: "/users('" + guestEncoded + "')", wantStatus: 200, wantUPN: guest},
		{name: "guest, raw # cuts the URL", url: "/users/" + guest, wantStatus: 404, wantCode: codeNotFound,
			wantMessage: "Resource 'alex_fabrikam.com' does not exist or one of its queried reference-property objects are not present."},
		{name: "guest, raw # in quotes", url: "/users('" + guest + "')", wantStatus: 400, wantCode: codeBadRequest, wantMessage: msgQuerySyntax},
		{name: "$ upn in path", url: "/users/$svc-helpdesk@" + SandboxDomain, wantStatus: 400, wantCode: codeBadRequest,
			wantMessage: "Resource not found for the segment '$svc-helpdesk@contoso.onmicrosoft.com'."},
		{name: "$ upn percent-encoded in path", url: "/users/%24svc-helpdesk@" + SandboxDomain, wantStatus: 400, wantCode: codeBadRequest},
		{name: "$ upn in quotes", url: "/users('$svc-helpdesk@" + SandboxDomain + "')", wantStatus: 200, wantUPN: "$svc-helpdesk@" + SandboxDomain},
		{name: "apostrophe doubled in quotes", url: "/users('conor.o''brien@" + SandboxDomain + "')", wantStatus: 200, wantUPN: "conor.o'brien@" + SandboxDomain},
		{name: "apostrophe encoded and doubled", url: "/users('conor.o%27%27brien@" + SandboxDomain + "')", wantStatus: 200, wantUPN: "conor.o'brien@" + SandboxDomain},
		{name: "apostrophe not doubled in quotes", url: "/users('conor.o'brien@" + SandboxDomain + "')", wantStatus: 400, wantCode: codeBadRequest, wantMessage: msgQuerySyntax},
		{name: "apostrophe in path", url: "/users/conor.o'brien@" + SandboxDomain, wantStatus: 200, wantUPN: "conor.o'brien@" + SandboxDomain},
		{name: "query after key", url: "/users/" + adele.UPN + "?$select=userPrincipalName", wantStatus: 200, wantUPN: adele.UPN},
		{name: "missing user", url: "/users/nobody@" + SandboxDomain, wantStatus: 404, wantCode: codeNotFound,
			wantMessage: "Resource 'nobody@contoso.onmicrosoft.com' does not exist or one of its queried reference-property objects are not present."},
		{name: "version inside the url", url: "/v1.0/users/" + adele.UPN, wantStatus: 400, wantCode: codeBadRequest, wantMessage: "Resource not found for the segment 'v1.0'."},
		{name: "other entity", url: "/me", wantStatus: 400, wantCode: codeBadRequest, wantMessage: "Resource not found for the segment 'me'."},
		{name: "unknown navigation", url: "/users/" + adele.ID + "/manager", wantStatus: 400, wantCode: codeBadRequest, wantMessage: "Resource not found for the segment 'manager'."},
		{name: "bad percent escape", url: "/users/ad%zzele", wantStatus: 400, wantCode: codeBadRequest, wantMessage: msgInvalidURL},
		{name: "collection", url: "/users", wantStatus: 501, wantCode: codeNotImplemented},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := e.batch(t, get("1", tt.url))
			r := got["1"]
			if r.Status != tt.wantStatus {
				t.Fatalf("GET %s: got status %d, want %d; body %s", tt.url, r.Status, tt.wantStatus, r.Body)
			}
			if tt.wantStatus != 200 {
				checkError(t, r.Body, tt.wantCode, tt.wantMessage)
				return
			}
			var u struct {
				UPN string `json:"userPrincipalName"`
			}
			if err := json.Unmarshal(r.Body, &u); err != nil {
				t.Fatal(err)
			}
			if u.UPN != tt.wantUPN {
				t.Errorf("GET %s: got user %q, want %q", tt.url, u.UPN, tt.wantUPN)
			}
		})
	}
}
