package sandbox

import (
	"sync"
	"sync/atomic"

	"golang.org/x/time/rate"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
)

// Throttle is an account's `throttle:` in an estate: above RPS requests a
// second the account's requests get the provider's own throttling answer
// (S3 SlowDown, GCS 429 rateLimitExceeded, OSS ServerBusy), as a real
// account's control plane does. Absent or 0: no limit.
type Throttle struct {
	RPS float64 `yaml:"rps"`
}

// Validate checks the section at path.
func (t *Throttle) Validate(c *yamlfile.Check, path string) {
	if t != nil && t.RPS < 0 {
		c.Errorf(path+".rps", "%v is negative; want requests per second, or 0 for no limit", t.RPS)
	}
}

// Budgets hands out the request budgets of an estate's accounts and counts
// the requests they refused. The zero value has no budgets: every request
// is allowed.
type Budgets struct {
	mu      sync.Mutex
	by      map[string]*rate.Limiter
	refused atomic.Int64
}

// Set gives account the budget of t; nil or RPS 0 leaves it unlimited.
func (b *Budgets) Set(account string, t *Throttle) {
	if t == nil || t.RPS <= 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.by == nil {
		b.by = map[string]*rate.Limiter{}
	}
	// A small burst: a real throttle answers a clump of requests well
	// before a full second's worth has arrived.
	b.by[account] = rate.NewLimiter(rate.Limit(t.RPS), max(1, int(t.RPS/10)))
}

// Allow takes one request from account's budget; false means the request
// must get the throttling answer.
func (b *Budgets) Allow(account string) bool {
	b.mu.Lock()
	lim := b.by[account]
	b.mu.Unlock()
	if lim == nil || lim.Allow() {
		return true
	}
	b.refused.Add(1)
	return false
}

// Refused is how many requests got the throttling answer so far.
func (b *Budgets) Refused() int64 { return b.refused.Load() }
