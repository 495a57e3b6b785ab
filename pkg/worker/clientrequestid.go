package worker

import "github.com/bulkreset/bulkreset/pkg/graph"

// writeRequest is the item's request (see request) with, for a write, a
// fresh client-request-id of its own in the sub-request's headers: one per
// attempt, so that the attempt Graph accepted can be told from the others.
// Graph echoes it, and Microsoft Entra may carry it as the directory audit
// record's correlationId, which Azure Monitor's AuditLogs schema describes
// as an optional GUID passed by the client
// (https://learn.microsoft.com/azure/azure-monitor/reference/tables/auditlogs).
// The $batch POST carries its own (one per HTTP attempt, see graph.Client),
// shared by up to 20 rows; this one is the row's.
func (it *Item) writeRequest(id string) graph.Request {
	r := it.request(id)
	if !it.phase.write() {
		return r
	}
	it.clientRequestID = graph.NewRequestID()
	h := make(map[string]string, len(r.Headers)+1)
	for k, v := range r.Headers {
		h[k] = v
	}
	h["client-request-id"] = it.clientRequestID
	r.Headers = h
	return r
}
