package agent

import (
	"sync"
	"time"
)

// cutWindow is how long after halving an account's cap further throttling
// answers do not halve it again: they come from calls sent before the cut,
// and one burst of them is one signal.
const cutWindow = 500 * time.Millisecond

// accountLimit is one account's adaptive cap on buckets described at once.
// It starts at the configured per-account cap and, like TCP's congestion
// window, doubles (one step per bucket done) until the account first
// throttles, then grows by one per cap's worth of buckets done; a
// throttling answer halves it, at most once per cutWindow. It never goes
// below 1 nor above the overall concurrency. The providers' SDKs still
// retry the throttled calls themselves; the cap only keeps the account
// from being pressed harder than it answers.
type accountLimit struct {
	mu        sync.Mutex
	wake      *sync.Cond
	limit     int
	max       int
	inflight  int
	grown     int  // buckets done since the last step up
	throttled bool // the account has throttled at least once
	cutAt     time.Time
	peak      int
	cuts      int
}

func newAccountLimit(start, max int) *accountLimit {
	l := &accountLimit{limit: min(start, max), max: max, peak: min(start, max)}
	l.wake = sync.NewCond(&l.mu)
	return l
}

// acquire waits for room under the cap.
func (l *accountLimit) acquire() {
	l.mu.Lock()
	for l.inflight >= l.limit {
		l.wake.Wait()
	}
	l.inflight++
	l.mu.Unlock()
}

// release returns a bucket's room and grows the cap.
func (l *accountLimit) release() {
	l.mu.Lock()
	l.inflight--
	l.grown++
	if l.limit < l.max && (!l.throttled || l.grown >= l.limit) {
		l.limit++
		l.grown = 0
		l.peak = max(l.peak, l.limit)
	}
	l.mu.Unlock()
	l.wake.Broadcast()
}

// throttle halves the cap on a throttling answer.
func (l *accountLimit) throttle(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.throttled = true
	if now.Sub(l.cutAt) < cutWindow {
		return
	}
	l.cutAt = now
	l.limit = max(1, l.limit/2)
	l.grown = 0
	l.cuts++
}

// state reports the cap now, its peak and how often it was cut.
func (l *accountLimit) state() (limit, peak, cuts int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.limit, l.peak, l.cuts
}
