package providers

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Calls counts a provider's API calls by operation and outcome, and paces
// them with an optional rate limit. It is safe for concurrent use; the zero
// value is not, use NewCalls.
type Calls struct {
	provider string
	limiter  *rate.Limiter
	observe  func(provider, op string, d time.Duration, err error)

	mu         sync.Mutex
	counts     map[string]*OpCount
	throttled  int
	onThrottle func(account string)
	breakers   map[string]*breaker // by account
}

// OpCount is what Calls knows of one operation.
type OpCount struct {
	Op     string `json:"op"`
	Calls  int    `json:"calls"`
	Errors int    `json:"errors"`
}

// NewCalls returns a call counter for provider. perSecond <= 0 means no
// pacing. observe, if not nil, sees every call (for metrics).
func NewCalls(provider string, perSecond float64, burst int, observe func(provider, op string, d time.Duration, err error)) *Calls {
	c := &Calls{provider: provider, observe: observe, counts: map[string]*OpCount{}, breakers: map[string]*breaker{}}
	if perSecond > 0 {
		if burst < 1 {
			burst = 1
		}
		c.limiter = rate.NewLimiter(rate.Limit(perSecond), burst)
	}
	return c
}

// Call runs one API call of calls' provider: it waits for the rate limit,
// times the call and records it under op (the provider's own operation
// name, such as GetBucketEncryption). A nil calls runs fn unrecorded.
func Call[T any](ctx context.Context, calls *Calls, op string, fn func(context.Context) (T, error)) (T, error) {
	if calls == nil {
		return fn(ctx)
	}
	account := AccountOf(ctx)
	if err := calls.tripped(account); err != nil {
		var zero T
		return zero, err
	}
	if calls.limiter != nil {
		if err := calls.limiter.Wait(ctx); err != nil {
			var zero T
			return zero, err
		}
	}
	start := time.Now()
	v, err := fn(ctx)
	calls.record(op, time.Since(start), err)
	// A timeout of the call itself, not the end of the run it is part of.
	calls.answered(account, op, err, ctx.Err() == nil && IsTimeout(err))
	return v, err
}

// CallTimeout is Call with the call bounded by timeout (none when timeout
// <= 0): the wait for the rate limit is not part of the call's time.
func CallTimeout[T any](ctx context.Context, calls *Calls, op string, timeout time.Duration, fn func(context.Context) (T, error)) (T, error) {
	return Call(ctx, calls, op, func(ctx context.Context) (T, error) {
		if timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			defer cancel()
		}
		return fn(ctx)
	})
}

func (c *Calls) record(op string, d time.Duration, err error) {
	c.mu.Lock()
	oc := c.counts[op]
	if oc == nil {
		oc = &OpCount{Op: op}
		c.counts[op] = oc
	}
	oc.Calls++
	if IsAbsent(err) {
		err = nil // an answer, not a failure
	}
	if err != nil {
		oc.Errors++
	}
	c.mu.Unlock()
	if c.observe != nil {
		c.observe(c.provider, op, d, err)
	}
}

// AbsentError wraps a provider's answer that a configuration does not
// exist (no replication rules, no tags, no bucket policy). For the audit it
// is a fact, so Call does not count it as a failed call; a plugin returns it
// from the function it gives Call and unwraps it after.
type AbsentError struct{ Err error }

func (e *AbsentError) Error() string { return e.Err.Error() }
func (e *AbsentError) Unwrap() error { return e.Err }

// IsAbsent reports whether err says a configuration does not exist.
func IsAbsent(err error) bool {
	var a *AbsentError
	return errors.As(err, &a)
}

// Snapshot returns the counts so far, sorted by operation.
func (c *Calls) Snapshot() []OpCount {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]OpCount, 0, len(c.counts))
	for _, oc := range c.counts {
		out = append(out, *oc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Op < out[j].Op })
	return out
}

// Total is the number of calls made so far.
func (c *Calls) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, oc := range c.counts {
		n += oc.Calls
	}
	return n
}

// BreakAfter is how many calls in a row of one account may time out
// before the rest of that account's calls are not made: an endpoint that
// hangs would otherwise cost every call of every bucket its whole
// timeout (nine calls of 30 s per S3 bucket).
const BreakAfter = 5

// breaker counts one account's calls that timed out in a row.
type breaker struct {
	timeouts int
	last     string // the last call that timed out, and how
}

// BreakerError is what a call of an account whose endpoint stopped
// answering fails with, at once and unsent. A plugin records it as the
// unknown of the field the call would have read.
type BreakerError struct {
	Account  string
	Timeouts int
	Last     string
}

func (e *BreakerError) Error() string {
	return fmt.Sprintf("not called: %d calls of account %s in a row timed out (the last, %s), so the audit stopped calling its endpoint",
		e.Timeouts, e.Account, e.Last)
}

// tripped returns the BreakerError of an account whose calls stopped.
func (c *Calls) tripped(account string) error {
	if account == "" {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if b := c.breakers[account]; b != nil && b.timeouts >= BreakAfter {
		return &BreakerError{Account: account, Timeouts: b.timeouts, Last: b.last}
	}
	return nil
}

// answered counts a call's outcome towards its account's breaker: a
// timeout adds one, any answer starts the count again.
func (c *Calls) answered(account, op string, err error, timedOut bool) {
	if account == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.breakers[account]
	if b == nil {
		b = &breaker{}
		c.breakers[account] = b
	}
	switch {
	case b.timeouts >= BreakAfter:
		// Already open: calls in flight when it opened change nothing.
	case timedOut:
		b.timeouts++
		b.last = op + ": " + err.Error()
	default:
		b.timeouts = 0
	}
}

// Broken lists, by account, why the accounts whose calls were stopped
// were stopped.
func (c *Calls) Broken() []*BreakerError {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*BreakerError
	for a, b := range c.breakers {
		if b.timeouts >= BreakAfter {
			out = append(out, &BreakerError{Account: a, Timeouts: b.timeouts, Last: b.last})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Account < out[j].Account })
	return out
}

type accountKey struct{}

// WithAccount marks ctx as working for one account, so that what a
// plugin reports from deep inside an SDK (a throttled attempt) reaches the
// account's limits. The agent sets it around List and Describe.
func WithAccount(ctx context.Context, account string) context.Context {
	return context.WithValue(ctx, accountKey{}, account)
}

// AccountOf returns the account WithAccount set, or "".
func AccountOf(ctx context.Context) string {
	a, _ := ctx.Value(accountKey{}).(string)
	return a
}

// Throttled records a throttling answer to one attempt of a call (S3
// SlowDown, GCS 429, OSS ServerBusy), which the SDK then retries; the
// agent halves the account's concurrency on it. Plugins call it from
// where their SDK sees each attempt. A nil calls ignores it.
func (c *Calls) Throttled(ctx context.Context) {
	if c == nil {
		return
	}
	c.mu.Lock()
	c.throttled++
	hook := c.onThrottle
	c.mu.Unlock()
	if hook != nil {
		hook(AccountOf(ctx))
	}
}

// OnThrottle sets what a throttling answer for an account triggers.
func (c *Calls) OnThrottle(f func(account string)) {
	c.mu.Lock()
	c.onThrottle = f
	c.mu.Unlock()
}

// Throttles is how many throttling answers the provider gave so far.
func (c *Calls) Throttles() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.throttled
}
