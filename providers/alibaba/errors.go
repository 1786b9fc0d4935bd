package alibaba

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/aliyun-oss-go-sdk/oss"

	"github.com/reachaudit/reachaudit/providers"
)

// errorInfo extracts the HTTP status and the service's error code from an
// OSS or KMS SDK error; 0 and "" when the error did not come from an answer.
func errorInfo(err error) (status int, code string) {
	var se oss.ServiceError
	if errors.As(err, &se) {
		return se.StatusCode, se.Code
	}
	var sep *oss.ServiceError
	if errors.As(err, &sep) && sep != nil {
		return sep.StatusCode, sep.Code
	}
	var ue oss.UnexpectedStatusCodeError
	if errors.As(err, &ue) {
		return ue.Got(), ""
	}
	var te *tea.SDKError
	if errors.As(err, &te) && te != nil {
		return tea.IntValue(te.StatusCode), tea.StringValue(te.Code)
	}
	return 0, ""
}

// absent are the codes with which OSS says a configuration does not exist:
// facts about the bucket, not failures.
var absent = map[string]bool{
	"NoSuchReplicationConfiguration":       true,
	"NoSuchBucketPolicy":                   true,
	"NoSuchTagSet":                         true,
	"NoSuchServerSideEncryptionRule":       true,
	"NoSuchPublicAccessBlockConfiguration": true,
	"NoSuchWORMConfiguration":              true,
}

// absentOK turns an absent configuration into success, so that the call
// is neither retried nor counted as failed: the zero answer (no rules, no
// tags, not public, not blocked) is the fact.
func absentOK(err error) error {
	if _, code := errorInfo(err); absent[code] {
		return nil
	}
	return err
}

// apiCodes are the OSS and KMS error codes for throttling and denial; KMS
// also denies with codes under "Forbidden." (see isDenied).
var apiCodes = providers.ErrorCodes{
	Throttling: map[string]bool{"Throttling": true, "Throttling.User": true, "Throttling.Api": true,
		"ThrottledException": true, "Rejected.Throttling": true, "ServerBusy": true, "QpsLimitExceeded": true},
	Denied: map[string]bool{"AccessDenied": true, "Forbidden": true, "Forbidden.RAM": true, "NoPermission": true},
	// OSS answers these with 403, KMS with 400 or 404.
	Unauthenticated: map[string]bool{"SignatureDoesNotMatch": true, "RequestTimeTooSkewed": true,
		"InvalidAccessKeyId": true, "InvalidAccessKeyId.NotFound": true, "InvalidAccessKeyId.Inactive": true,
		"InvalidTimeStamp.Expired": true, "IncompleteSignature": true, "SecurityTokenExpired": true,
		"InvalidSecurityToken.Expired": true, "InvalidSecurityToken.Malformed": true},
}

func isDenied(err error) bool {
	status, code := errorInfo(err)
	if apiCodes.Unauthenticated[code] {
		return false
	}
	return apiCodes.Denied[code] || strings.HasPrefix(code, "Forbidden.") || (status == 403 && code == "")
}

// retryable reports throttling and server errors, which are worth another
// try after a pause; timeouts are not, they already cost a full timeout.
func retryable(err error) bool {
	status, code := errorInfo(err)
	if apiCodes.Throttled(status, code) {
		return true
	}
	return status >= 500 && status != 501
}

// attempts bounds the tries of a call that fails with a server error;
// throttledAttempts those of a call the account throttles, which the
// account answers again once the agent has slowed it down.
const (
	attempts          = 3
	throttledAttempts = 6
)

// retryBase is the first pause between attempts; it doubles, with jitter.
var retryBase = 100 * time.Millisecond

// call runs one API call through providers.Call, bounded by the call
// timeout, retrying throttling and server errors with backoff. Every
// attempt is counted, and every throttling answer reported.
func call[T any](ctx context.Context, p *provider, op string, fn func(context.Context) (T, error)) (T, error) {
	var v T
	var err error
	for i := 0; ; i++ {
		if i > 0 {
			d := retryBase << (i - 1)
			d += time.Duration(rand.Int64N(int64(d)/2 + 1))
			select {
			case <-ctx.Done():
				return v, errors.Join(err, ctx.Err())
			case <-time.After(d):
			}
		}
		v, err = providers.CallTimeout(ctx, p.env.Calls, op, p.timeout, fn)
		if err == nil || !retryable(err) {
			return v, err
		}
		limit := attempts
		if status, code := errorInfo(err); apiCodes.Throttled(status, code) {
			p.env.Calls.Throttled(ctx) // the agent slows the account down
			limit = throttledAttempts
		}
		if i+1 >= limit {
			return v, err
		}
	}
}
