package graphsim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
)

// TestConcurrentBatches runs batches from several goroutines while others read
// the state and change the faults, then checks that the tenant's state agrees
// with what the clients were told. Run it with -race.
func TestConcurrentBatches(t *testing.T) {
	const workers, batchesPerWorker, perBatch = 6, 8, 10
	e := start(t, Options{Faults: Faults{InnerThrottle: 0.2}, WriteBurst: 10_000, WriteRate: 100, Seed: 5})
	users := GenerateUsers(workers*batchesPerWorker*perBatch, "fabrikam.com")
	if err := e.sim.AddUsers(users); err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	results := make([][]int, workers) // per worker, the status of each write, in user order
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 0; b < batchesPerWorker; b++ {
				base := (w*batchesPerWorker + b) * perBatch
				var reqs []subRequest
				for i := 0; i < perBatch; i++ {
					reqs = append(reqs, patch(fmt.Sprint(i), users[base+i].UPN, testPassword))
				}
				body, _ := json.Marshal(batchRequest{Requests: reqs})
				res, err := e.batchRaw(context.Background(), body)
				if err != nil || res.status != http.StatusOK {
					errs <- fmt.Errorf("worker %d batch %d: status %d, error %v", w, b, res.status, err)
					return
				}
				var br batchResponse
				if err := json.Unmarshal(res.body, &br); err != nil {
					errs <- err
					return
				}
				statuses := make([]int, perBatch)
				for _, r := range br.Responses {
					var i int
					fmt.Sscan(r.ID, &i)
					statuses[i] = r.Status
				}
				results[w] = append(results[w], statuses...)
			}
		}()
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Add(1)
	go func() { // concurrent readers and a fault change
		defer readers.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			_ = e.sim.Stats()
			_ = e.sim.Changes()
			_, _ = e.sim.User(users[i%len(users)].UPN)
			if i == 10 {
				e.sim.SetFaults(Faults{InnerThrottle: 0.1})
			}
		}
	}()
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	applied := 0
	for w, statuses := range results {
		for b, st := range statuses {
			u, _ := e.sim.User(users[w*batchesPerWorker*perBatch+b].UPN)
			switch st {
			case http.StatusNoContent:
				applied++
				if u.PasswordSets != 1 || u.Password != testPassword {
					t.Errorf("%s: told 204, but %d password sets (password as sent: %t)", u.UPN, u.PasswordSets, u.Password == testPassword)
				}
			case http.StatusTooManyRequests:
				if u.PasswordSets != 0 {
					t.Errorf("%s: told 429, but the password was set", u.UPN)
				}
			default:
				t.Errorf("%s: got status %d, want 204 or 429", u.UPN, st)
			}
		}
	}
	st := e.sim.Stats()
	if st.WritesApplied != applied || len(e.sim.Changes()) != applied || st.SubRequests != workers*batchesPerWorker*perBatch {
		t.Errorf("stats: got %d applied, %d changes, %d sub-requests; want %d, %d, %d",
			st.WritesApplied, len(e.sim.Changes()), st.SubRequests, applied, applied, workers*batchesPerWorker*perBatch)
	}
	if st.Throttled == 0 || st.Throttled != st.Faults[FaultInnerThrottle] {
		t.Errorf("throttled: got %d (faults %d), want some, all injected", st.Throttled, st.Faults[FaultInnerThrottle])
	}
}
