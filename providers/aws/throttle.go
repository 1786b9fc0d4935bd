package aws

import (
	"context"

	"github.com/aws/smithy-go/middleware"
)

// watchThrottling tells the call counter of every throttled attempt of a
// call: the SDK's retryer retries it with its own backoff, and the agent
// halves the account's concurrency. It sits right after the retry step,
// so that it sees each attempt rather than the call's last answer.
func (p *Provider) watchThrottling(stack *middleware.Stack) error {
	return stack.Finalize.Insert(middleware.FinalizeMiddlewareFunc("ReachauditThrottleWatch",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleFinalize(ctx, in)
			if err != nil && isThrottled(err) {
				p.calls.Throttled(ctx)
			}
			return out, md, err
		}), "Retry", middleware.After)
}

// isThrottled reports a throttling answer: the S3, KMS and STS throttling
// codes, and any 503, which is S3's request-rate signal (SlowDown) even on
// a HEAD that has no body to name it.
func isThrottled(err error) bool {
	status, code := apiFacts(err)
	return apiCodes.Throttled(status, code) || status == 503
}
