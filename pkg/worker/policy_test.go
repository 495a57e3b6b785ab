package worker

import (
	"math"
	"testing"
	"time"
)

func TestRetryDelay(t *testing.T) {
	tests := []struct {
		name          string
		attempt       int
		retryAfter    time.Duration
		hasRetryAfter bool
		jitter        float64
		want          time.Duration
	}{
		{"fractional Retry-After honoured exactly", 1, 249 * time.Millisecond, true, 0.9, 249 * time.Millisecond},
		{"whole Retry-After", 5, 3 * time.Second, true, 0, 3 * time.Second},
		{"zero Retry-After", 2, 0, true, 0.5, 0},
		{"negative Retry-After clamps to zero", 1, -time.Second, true, 0, 0},
		{"first backoff, no jitter", 1, 0, false, 0, 500 * time.Millisecond},
		{"first backoff, full jitter", 1, 0, false, 0.999999, 999999 * time.Microsecond},
		{"third backoff", 3, 0, false, 0, 2 * time.Second},
		{"backoff capped", 30, 0, false, 0, backoffMax / 2},
		{"jitter out of range clamps", 1, 0, false, 7, time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := retryDelay(tc.attempt, tc.retryAfter, tc.hasRetryAfter, tc.jitter)
			if diff := got - tc.want; diff < -time.Microsecond || diff > time.Microsecond {
				t.Errorf("retryDelay(%d, %v, %v, %v) = %v, want %v", tc.attempt, tc.retryAfter, tc.hasRetryAfter, tc.jitter, got, tc.want)
			}
		})
	}
}

func TestRetryable(t *testing.T) {
	for status, want := range map[int]bool{
		204: false, 400: false, 401: false, 403: false, 404: false, 409: false,
		429: true, 500: true, 502: true, 503: true, 504: true, 501: false,
	} {
		if got := retryable(status); got != want {
			t.Errorf("retryable(%d) = %v, want %v", status, got, want)
		}
	}
}

func TestPacerPolicy(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	// An event is n writes sent, or a throttle, at t0+at.
	type event struct {
		at         time.Duration
		sent       int
		throttles  int
		retryAfter time.Duration
	}
	tests := []struct {
		name      string
		cfg       pacerConfig
		start     float64
		events    []event
		wantRate  float64
		wantPause time.Duration // PauseUntil - t0; 0 for none
	}{
		{"unlimited until throttled", pacerConfig{}, 0, []event{
			{0, 20, 0, 0}, {500 * time.Millisecond, 20, 0, 0}, {time.Second, 20, 0, 0},
		}, 0, 0},
		{"a throttled burst converges on the goodput in one window", pacerConfig{}, 0, []event{
			{0, 200, 0, 0}, {500 * time.Millisecond, 0, 180, 2 * time.Second}, {time.Second, 0, 0, 0},
		}, 20 * goodputMargin, 2500 * time.Millisecond},
		{"everything throttled and no rate known: the documented sustained rate", pacerConfig{}, 0, []event{
			{0, 20, 20, time.Second}, {time.Second, 0, 0, 0},
		}, sustainedWriteRate, time.Second},
		{"everything throttled at a known rate halves it", pacerConfig{}, 30, []event{
			{0, 20, 20, 0}, {time.Second, 0, 0, 0},
		}, 15, 0},
		{"a few 429s are honoured but do not lower the rate", pacerConfig{}, 20, []event{
			{0, 100, 5, 300 * time.Millisecond}, {time.Second, 0, 0, 0},
		}, 20, 300 * time.Millisecond},
		{"throttles that come whatever the rate do not ratchet it down", pacerConfig{}, 20, []event{
			{0, 100, 15, 0}, {time.Second, 100, 15, 0}, {2 * time.Second, 100, 15, 0}, {3 * time.Second, 0, 0, 0},
		}, 20, 2 * time.Second},
		{"a stray 429 does not stop growth", pacerConfig{}, 20, []event{
			{0, 100, 1, 0}, {time.Second, 0, 0, 0},
		}, 21, 0},
		{"more than the tolerable share lowers the rate to the goodput", pacerConfig{}, 100, []event{
			{0, 100, 30, 0}, {time.Second, 0, 0, 0},
		}, 70 * goodputMargin, 0},
		{"a calm window raises the rate by 5%", pacerConfig{}, 20, []event{
			{0, 20, 0, 0}, {time.Second, 0, 0, 0},
		}, 21, 0},
		{"slow rates grow by at least increaseMin", pacerConfig{}, 2, []event{
			{0, 2, 0, 0}, {time.Second, 0, 0, 0},
		}, 2.5, 0},
		{"growth stops at MaxRate", pacerConfig{MaxRate: 20.5}, 20, []event{
			{0, 20, 0, 0}, {time.Second, 0, 0, 0},
		}, 20.5, 0},
		{"never below the floor", pacerConfig{}, 1, []event{
			{0, 100, 100, 0}, {100 * time.Second, 0, 0, 0},
		}, minRate, 0},
		{"the window is not closed early", pacerConfig{}, 20, []event{
			{0, 20, 20, 0}, {999 * time.Millisecond, 0, 0, 0},
		}, 20, 0},
		{"the longest Retry-After wins", pacerConfig{}, 20, []event{
			{0, 20, 1, 3 * time.Second}, {100 * time.Millisecond, 0, 1, time.Second},
		}, 20, 3 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := pacerState{Rate: tc.start}
			for _, e := range tc.events {
				now := t0.Add(e.at)
				s = s.roll(tc.cfg, now)
				if e.sent > 0 {
					s = s.sent(tc.cfg, now, e.sent)
				}
				for range e.throttles {
					s = s.throttled(tc.cfg, now, e.retryAfter)
				}
			}
			if math.Abs(s.Rate-tc.wantRate) > 1e-9 {
				t.Errorf("rate %v, want %v", s.Rate, tc.wantRate)
			}
			var pause time.Duration
			if !s.PauseUntil.IsZero() {
				pause = s.PauseUntil.Sub(t0)
			}
			if pause != tc.wantPause {
				t.Errorf("pause until t0+%v, want t0+%v", pause, tc.wantPause)
			}
		})
	}
}
