package graph

import (
	"encoding/json"
	"fmt"
	"github.com/bulkreset/bulkreset/pkg/secret"
	"strconv"
	"testing"
)

// benchBatch returns 20 lookup answers as graphsim renders them, and the
// requests they answer.
func benchBatch() ([]byte, []Request) {
	var reqs []Request
	body := []byte(`{"responses":[`)
	for i := range MaxBatchSize {
		id := strconv.Itoa(i)
		reqs = append(reqs, LookupRequest(id, fmt.Sprintf("p%07d@loadtest.example", i)))
		if i > 0 {
			body = append(body, ',')
		}
		body = fmt.Appendf(body, `{"id":%q,"status":200,"headers":{"Cache-Control":"no-cache","Content-Type":"application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8","OData-Version":"4.0","x-ms-resource-unit":"1"},`+
			`"body":{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users(accountEnabled,id,onPremisesSyncEnabled,userPrincipalName,userType)/$entity","accountEnabled":true,"id":"7c1f0000-0000-4000-8000-%012d","onPremisesSyncEnabled":null,"userPrincipalName":"p%07d@loadtest.example","userType":"Member"}}`, id, i, i)
	}
	return append(body, "]}"...), reqs
}

// BenchmarkParseBatch reads a $batch answer of 20 lookups.
func BenchmarkParseBatch(b *testing.B) {
	body, reqs := benchBatch()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseBatch(body, reqs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseUserInfo reads one lookup answer.
func BenchmarkParseUserInfo(b *testing.B) {
	body := []byte(`{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#users(accountEnabled,id,onPremisesSyncEnabled,userPrincipalName,userType)/$entity","accountEnabled":true,"id":"7c1f0000-0000-4000-8000-000000000001","onPremisesSyncEnabled":null,"userPrincipalName":"p0000001@loadtest.example","userType":"Member"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseUserInfo(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeBatch renders a $batch of 20 password resets.
func BenchmarkEncodeBatch(b *testing.B) {
	c := &Client{}
	var wire []wireRequest
	for i := range MaxBatchSize {
		w, err := c.wireRequest(PasswordRequest(strconv.Itoa(i), fmt.Sprintf("7c1f0000-0000-4000-8000-%012d", i), PasswordProfile{Password: secret.New("Xk7#q<R>&m2!vB9z"), ForceChangePasswordNextSignIn: true}))
		if err != nil {
			b.Fatal(err)
		}
		wire = append(wire, w)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(struct {
			Requests []wireRequest `json:"requests"`
		}{wire}); err != nil {
			b.Fatal(err)
		}
	}
}
