package providers

import (
	"context"
	"errors"
	"testing"
)

// After BreakAfter calls of one account in a row time out, its further
// calls are not made and fail at once with a BreakerError; an answer in
// between starts the count again, a run that ends is not the endpoint's
// timeout, and another account is not touched.
func TestBreaker(t *testing.T) {
	timeout := func(context.Context) (int, error) { return 0, context.DeadlineExceeded }
	answer := func(context.Context) (int, error) { return 1, nil }
	cases := []struct {
		name string
		// run makes the calls; it returns how many reached the endpoint.
		run      func(c *Calls, ctx context.Context) int
		wantOpen bool
	}{
		{"five timeouts in a row", func(c *Calls, ctx context.Context) int {
			return callN(c, ctx, BreakAfter+3, timeout)
		}, true},
		{"an answer between", func(c *Calls, ctx context.Context) int {
			n := callN(c, ctx, BreakAfter-1, timeout)
			n += callN(c, ctx, 1, answer)
			return n + callN(c, ctx, BreakAfter-1, timeout)
		}, false},
		{"the run's own end", func(c *Calls, _ context.Context) int {
			ctx, cancel := context.WithCancel(WithAccount(context.Background(), "acct"))
			cancel()
			return callN(c, ctx, BreakAfter+3, func(ctx context.Context) (int, error) { return 0, ctx.Err() })
		}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCalls("aws", 0, 0, nil)
			ctx := WithAccount(context.Background(), "acct")
			sent := tc.run(c, ctx)
			_, err := Call(ctx, c, "GetBucketTagging", answer)
			var be *BreakerError
			open := errors.As(err, &be)
			if open != tc.wantOpen {
				t.Fatalf("breaker open %v (err %v), want %v", open, err, tc.wantOpen)
			}
			if open {
				if sent != BreakAfter || c.Total() != BreakAfter {
					t.Errorf("%d calls reached the endpoint (%d counted), want %d", sent, c.Total(), BreakAfter)
				}
				if be.Account != "acct" || len(c.Broken()) != 1 {
					t.Errorf("breaker error %+v, broken %v", be, c.Broken())
				}
				if _, err := Call(WithAccount(context.Background(), "other"), c, "GetBucketTagging", answer); err != nil {
					t.Errorf("another account's call: %v", err)
				}
			}
		})
	}
}

// callN makes n calls of fn and returns how many ran.
func callN(c *Calls, ctx context.Context, n int, fn func(context.Context) (int, error)) int {
	ran := 0
	for range n {
		_, _ = Call(ctx, c, "GetBucketEncryption", func(ctx context.Context) (int, error) {
			ran++
			return fn(ctx)
		})
	}
	return ran
}
