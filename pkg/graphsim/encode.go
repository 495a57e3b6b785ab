package graphsim

import (
	"strconv"

	"github.com/bulkreset/bulkreset/internal/wirejson"
)

// appendBatchResponse appends the JSON of a $batch answer to dst, as
// json.Marshal(batchResponse{Responses: rs}) would, with the headers in
// sorted order, but without reflection: at a million users the answers are
// a large share of the emulator's work, on the same cores as the client
// being measured. Bodies are JSON the emulator made itself and are copied
// as they are.
func appendBatchResponse(dst []byte, rs []subResponse) []byte {
	dst = append(dst, `{"responses":[`...)
	for i, r := range rs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"id":`...)
		dst = wirejson.AppendString(dst, r.ID)
		dst = append(dst, `,"status":`...)
		dst = strconv.AppendInt(dst, int64(r.Status), 10)
		dst = wirejson.AppendItemEnd(dst, r.Headers, r.Body)
	}
	return append(dst, "]}"...)
}
