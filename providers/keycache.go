package providers

import (
	"context"
	"sync"

	"golang.org/x/sync/singleflight"
)

// KeyCache remembers one lookup per key (a KMS key, a vault key) for a
// scan: the answer, an error included, is kept, and buckets that ask for a
// key while its lookup is in flight wait for that one call instead of
// making their own. The zero value is ready to use and safe for concurrent
// use.
type KeyCache[V any] struct {
	mu     sync.Mutex
	done   map[string]keyAnswer[V]
	flight singleflight.Group
}

type keyAnswer[V any] struct {
	v   V
	err error
}

// Get returns the cached answer for key, or runs fetch once for it. An
// answer cut short by the caller's own cancellation says nothing about the
// key, so it is not kept: the next caller asks again.
func (c *KeyCache[V]) Get(ctx context.Context, key string, fetch func(context.Context) (V, error)) (V, error) {
	if a, ok := c.lookup(key); ok {
		return a.v, a.err
	}
	r, _, _ := c.flight.Do(key, func() (any, error) {
		if a, ok := c.lookup(key); ok {
			return a, nil
		}
		v, err := fetch(ctx)
		a := keyAnswer[V]{v, err}
		if ctx.Err() == nil {
			c.mu.Lock()
			if c.done == nil {
				c.done = map[string]keyAnswer[V]{}
			}
			c.done[key] = a
			c.mu.Unlock()
		}
		return a, nil
	})
	a := r.(keyAnswer[V])
	return a.v, a.err
}

// Reset forgets every answer, so that a provider kept across scans never
// reports a stale key state.
func (c *KeyCache[V]) Reset() {
	c.mu.Lock()
	c.done = nil
	c.mu.Unlock()
}

func (c *KeyCache[V]) lookup(key string) (keyAnswer[V], bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a, ok := c.done[key]
	return a, ok
}
