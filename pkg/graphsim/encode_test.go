package graphsim

import (
	"encoding/json"
	"testing"
)

// TestAppendBatchResponse holds the hand-written encoder to encoding/json's
// output, byte for byte.
func TestAppendBatchResponse(t *testing.T) {
	tests := [][]subResponse{
		nil,
		{{ID: "1", Status: 204}},
		{{ID: "1", Status: 204, Headers: map[string]string{"Cache-Control": "no-cache", "x-ms-resource-unit": "1", "x-ms-throttle-limit-percentage": "0.913"}}},
		{
			{ID: "a\"b\\c", Status: 429, Headers: map[string]string{"Retry-After": "0.249", "x-ms-throttle-scope": "Tenant_Application/Write/a/b"},
				Body: json.RawMessage(`{"error":{"code":"TooManyRequests","message":"Please retry again later."}}`)},
			{ID: "<&>\n\t\r\x01", Status: 200, Headers: map[string]string{"Content-Type": odataJSON}, Body: json.RawMessage(`{"id":"x","accountEnabled":true}`)},
			{ID: "ünïcødé \u2028 \xff", Status: 404},
		},
	}
	for _, rs := range tests {
		want, err := json.Marshal(batchResponse{Responses: rs})
		if err != nil {
			t.Fatal(err)
		}
		if rs == nil {
			want = []byte(`{"responses":[]}`) // an empty slice, as runBatchLocked makes
		}
		if got := appendBatchResponse(nil, rs); string(got) != string(want) {
			t.Errorf("appendBatchResponse:\n got %s\nwant %s", got, want)
		}
	}
}

// TestUserJSON holds the hand-written user encoder to encoding/json's
// rendering of the same properties as a map.
func TestUserJSON(t *testing.T) {
	users := []*User{
		{ID: "7c1f0000-0000-4000-8000-000000000001", UPN: "adele.vance@contoso.onmicrosoft.com", Kind: KindMember, DisplayName: "Adele <Vance> & co"},
		{ID: "7c1f0000-0000-4000-8000-000000000002", UPN: "x_fabrikam.com#EXT#@contoso.onmicrosoft.com", Kind: KindGuest, DisplayName: "Ünïcødé \"x\""},
		{ID: "7c1f0000-0000-4000-8000-000000000003", UPN: "sync@contoso.onmicrosoft.com", Kind: KindSynced},
		{ID: "7c1f0000-0000-4000-8000-000000000004", UPN: "off@contoso.onmicrosoft.com", Kind: KindDisabled},
	}
	selections := [][]string{defaultProperties, {"id", "userPrincipalName", "accountEnabled", "onPremisesSyncEnabled", "userType"}, {"id", "id"}}
	for _, u := range users {
		for _, names := range selections {
			m := map[string]any{"@odata.context": metadataBase + "users/$entity"}
			for _, name := range names {
				for _, p := range userProperties {
					if p.name == name {
						m[name] = p.value(u)
					}
				}
			}
			want, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if got := userJSON(u, metadataBase+"users/$entity", names); string(got) != string(want) {
				t.Errorf("userJSON(%s, %v):\n got %s\nwant %s", u.UPN, names, got, want)
			}
		}
	}
}
