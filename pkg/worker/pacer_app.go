package worker

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// AppLimit is the write limit of one application across all its tenants
// (https://learn.microsoft.com/graph/throttling-limits#identity-and-access-service-limits:
// 70,000 writes per 5 minutes), shared by the pacers of every lane: a
// rate.Limiter that lets the documented rate through until Graph answers
// a 429 scoped to the application (x-ms-throttle-scope Application/...).
// From then on such 429s are the moments the application's bucket was
// empty, and the limiter goes at the rate learnt from them, like a lane's
// pacer from its tenant's 429s, so that every lane slows together.
type AppLimit struct {
	batch int

	mu       sync.Mutex
	lim      *rate.Limiter
	est      rateEstimate
	near     bool
	inFlight int // writes let through and not yet answered
}

// AppWriteBurst and AppWriteRate are the application's documented write
// quota across tenants: 70,000 writes per 5 minutes.
const (
	AppWriteBurst = 70_000
	AppWriteRate  = AppWriteBurst / 300.0
)

// NewAppLimit returns the limit of an application allowed perSecond writes
// a second across tenants with a burst of burst writes, for lanes sending
// batches of up to batch writes.
func NewAppLimit(perSecond float64, burst, batch int) *AppLimit {
	return &AppLimit{batch: max(batch, 1), lim: rate.NewLimiter(rate.Limit(perSecond), max(burst, 1))}
}

// Limit is the limiter's rate now, in writes per second.
func (l *AppLimit) Limit() float64 { return float64(l.lim.Limit()) }

// take takes n writes (at most the limiter's burst) at now if the limiter
// holds them, and returns 0; otherwise it takes nothing and returns how
// long until it may hold them. Nothing is reserved while a lane waits, so
// that a limit lowered meanwhile holds back every lane at once.
func (l *AppLimit) take(now time.Time, n int) time.Duration {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	k := min(n, l.lim.Burst())
	if l.lim.AllowN(now, k) {
		l.inFlight += n
		return 0
	}
	d := time.Duration((float64(k) - l.lim.TokensAt(now)) / float64(l.lim.Limit()) * float64(time.Second))
	return max(d, time.Millisecond)
}

// observe learns from the answer, received at now, to a batch sent at sent
// by one of the lanes.
func (l *AppLimit) observe(now, sent time.Time, a answer) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	cfg := pacerConfig{Batch: l.batch}
	l.inFlight = max(l.inFlight-a.Accepted-a.Throttled-a.AppThrottled, 0)
	te := sent.Add(now.Sub(sent) / 2)
	newWave := l.est.observe(cfg, now, te, sent, answer{Accepted: a.Accepted, Throttled: a.AppThrottled})
	if !newWave && !l.near {
		return
	}
	l.near = true
	l.lim.SetLimitAt(now, rate.Limit(l.est.rate()))
	if newWave {
		// The application's bucket was empty, and the writes in flight
		// will find it so: the limiter owes them, and lets through no
		// more than a few batches at once from now on.
		l.lim.SetBurstAt(now, 4*l.batch)
		if n := int(l.lim.TokensAt(now)); n > 0 {
			l.lim.ReserveN(now, n)
		}
		for owed := l.inFlight; owed > 0; owed -= l.lim.Burst() {
			l.lim.ReserveN(now, min(owed, l.lim.Burst()))
		}
	}
}
