package agent

import (
	"testing"
	"time"
)

// The cap starts at the per-account cap, doubles (a step per bucket done)
// until the first throttling answer, halves on it once per window, then
// grows by one per cap's worth of buckets; it stays within 1 and the
// overall limit.
func TestAccountLimitRaisesAndBacksOff(t *testing.T) {
	l := newAccountLimit(8, 32)
	for range 40 {
		l.acquire()
		l.release()
	}
	if limit, peak, cuts := l.state(); limit != 32 || peak != 32 || cuts != 0 {
		t.Fatalf("after 40 successes: limit %d peak %d cuts %d, want 32 32 0", limit, peak, cuts)
	}
	now := time.Now()
	l.throttle(now)
	l.throttle(now.Add(cutWindow / 2)) // the same burst: no second cut
	if limit, _, cuts := l.state(); limit != 16 || cuts != 1 {
		t.Fatalf("after a burst of throttling: limit %d cuts %d, want 16 1", limit, cuts)
	}
	l.throttle(now.Add(cutWindow + time.Millisecond))
	if limit, _, cuts := l.state(); limit != 8 || cuts != 2 {
		t.Fatalf("after a second throttling: limit %d cuts %d, want 8 2", limit, cuts)
	}
	// Congestion avoidance: one step per cap's worth of buckets.
	for range 7 {
		l.acquire()
		l.release()
	}
	if limit, _, _ := l.state(); limit != 8 {
		t.Fatalf("after 7 successes at 8: limit %d, want 8", limit)
	}
	l.acquire()
	l.release()
	if limit, _, _ := l.state(); limit != 9 {
		t.Fatalf("after 8 successes at 8: limit %d, want 9", limit)
	}
	for i := range 10 {
		l.throttle(now.Add(time.Duration(i+2) * 2 * cutWindow))
	}
	if limit, _, _ := l.state(); limit != 1 {
		t.Fatalf("after many throttlings: limit %d, want 1", limit)
	}
	if small := newAccountLimit(8, 4); small.limit != 4 {
		t.Errorf("a per-account cap above the overall limit starts at %d", small.limit)
	}
}

// acquire blocks at the cap and wakes when a bucket is done.
func TestAccountLimitBlocksAtTheCap(t *testing.T) {
	l := newAccountLimit(2, 2)
	l.acquire()
	l.acquire()
	got := make(chan struct{})
	go func() { l.acquire(); close(got) }()
	select {
	case <-got:
		t.Fatal("a third bucket ran under a cap of 2")
	case <-time.After(50 * time.Millisecond):
	}
	l.release()
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("a release did not wake the waiting bucket")
	}
}
