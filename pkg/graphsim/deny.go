package graphsim

import "net/http"

// DenyWrites makes the tenant refuse every write of these kinds (AllWrites:
// of every kind), whatever the user, with 403 Authorization_RequestDenied
// "Insufficient privileges to complete the operation.": the answer Graph
// gives an app that lacks the permission or the Entra role, the same one
// it gives for an administrator the app may not reset (KindAdmin). A
// refused write still reaches the write quota and counts in Stats.Writes
// and Stats.Denied. It may be called while the server runs: batches that
// arrive afterwards see it.
func (s *Sim) DenyWrites(kinds ...Write) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.denied == nil {
		s.denied = make(map[Write]bool)
	}
	for _, k := range kinds {
		s.denied[k] = true
	}
}

// GrantWrites undoes DenyWrites for these kinds, or for every kind when
// none is given: the permission or role is granted.
func (s *Sim) GrantWrites(kinds ...Write) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(kinds) == 0 {
		clear(s.denied)
		return
	}
	for _, k := range kinds {
		delete(s.denied, k)
	}
}

// deniedLocked answers a write of kind k that the tenant refuses as a
// whole (DenyWrites); nil lets it through.
func (s *Sim) deniedLocked(k Write) *apiError {
	if k == "" || !s.denied[k] && !s.denied[AllWrites] {
		return nil
	}
	s.stats.Denied++
	return newAPIError(http.StatusForbidden, codeDenied, msgDenied)
}
