package graph

import (
	"strconv"

	"github.com/bulkreset/bulkreset/internal/wirejson"
)

// appendBatchRequest appends the body of a $batch POST to dst, byte for
// byte as json.Marshal(struct{Requests []wireRequest `json:"requests"`})
// renders it (headers sorted by name, empty ones left out), without
// reflection. The bodies are copied as they are: encodeBody made them with
// json.Marshal or appendPasswordBody, whose output is already compact and
// HTML-escaped, which is all json.Marshal would do to a json.RawMessage.
// TestAppendBatchRequest holds it to json.Marshal.
func appendBatchRequest(dst []byte, reqs []wireRequest) []byte {
	dst = append(dst, `{"requests":[`...)
	for i, r := range reqs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"id":`...)
		dst = wirejson.AppendString(dst, r.ID)
		dst = append(dst, `,"method":`...)
		dst = wirejson.AppendString(dst, r.Method)
		dst = append(dst, `,"url":`...)
		dst = wirejson.AppendString(dst, r.URL)
		dst = wirejson.AppendItemEnd(dst, r.Headers, r.Body)
	}
	return append(dst, "]}"...)
}

// appendPasswordBody appends {"passwordProfile":{...}} for p to dst, as
// json.Marshal renders the profile with the password left out when empty.
func appendPasswordBody(dst []byte, p PasswordProfile) []byte {
	dst = append(dst, `{"passwordProfile":{`...)
	if p.Password != "" {
		dst = append(dst, `"password":`...)
		dst = wirejson.AppendString(dst, p.Password)
		dst = append(dst, ',')
	}
	dst = append(dst, `"forceChangePasswordNextSignIn":`...)
	dst = strconv.AppendBool(dst, p.ForceChangePasswordNextSignIn)
	dst = append(dst, `,"forceChangePasswordNextSignInWithMfa":`...)
	dst = strconv.AppendBool(dst, p.ForceChangePasswordNextSignInWithMfa)
	return append(dst, "}}"...)
}
