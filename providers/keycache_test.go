package providers

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestKeyCacheOneCallPerKeyErrorsIncluded(t *testing.T) {
	var c KeyCache[string]
	var calls atomic.Int32
	release := make(chan struct{})
	fetch := func(context.Context) (string, error) {
		calls.Add(1)
		<-release
		return "", errors.New("AccessDenied")
	}
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.Get(context.Background(), "k1", fetch)
		}()
	}
	time.Sleep(20 * time.Millisecond) // let the callers pile up behind the first
	close(release)
	wg.Wait()
	if _, err := c.Get(context.Background(), "k1", fetch); err == nil {
		t.Fatal("cached error lost")
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d calls for one key, want 1", n)
	}
	for _, err := range errs {
		if err == nil || err.Error() != "AccessDenied" {
			t.Fatalf("a waiter got %v", err)
		}
	}
	c.Reset()
	if _, err := c.Get(context.Background(), "k1", func(context.Context) (string, error) { return "v", nil }); err != nil {
		t.Fatalf("after Reset the key is asked again: %v", err)
	}
}

func TestKeyCacheForgetsAnswersCutShort(t *testing.T) {
	var c KeyCache[int]
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _ = c.Get(ctx, "k", func(ctx context.Context) (int, error) { return 0, ctx.Err() })
	v, err := c.Get(context.Background(), "k", func(context.Context) (int, error) { return 7, nil })
	if v != 7 || err != nil {
		t.Fatalf("got %d, %v: a cancelled lookup was kept", v, err)
	}
}

func TestCallTimeoutBoundsTheCall(t *testing.T) {
	calls := NewCalls("x", 0, 0, nil)
	_, err := CallTimeout(context.Background(), calls, "Slow", 10*time.Millisecond, func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 0, ctx.Err()
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want a deadline", err)
	}
	if s := calls.Snapshot(); len(s) != 1 || s[0].Errors != 1 {
		t.Fatalf("snapshot %+v", s)
	}
}
