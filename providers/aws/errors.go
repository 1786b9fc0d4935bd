package aws

import (
	"errors"
	"fmt"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/reachaudit/reachaudit/providers"
)

// apiCodes are the S3, KMS and STS error codes for throttling and for a
// denial a grant would fix.
var apiCodes = providers.ErrorCodes{
	Throttling: map[string]bool{"Throttling": true, "ThrottlingException": true, "SlowDown": true,
		"TooManyRequests": true, "TooManyRequestsException": true, "RequestLimitExceeded": true},
	Denied: map[string]bool{"AccessDenied": true, "AccessDeniedException": true, "AllAccessDisabled": true},
}

// apiFacts extracts the HTTP status and the service's error code from an
// SDK error; zero values when the call never got an answer.
func apiFacts(err error) (status int, code string) {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	return status, code
}

// shortError keeps what a person needs from an SDK error (status, code,
// message) and drops request ids, which are noise in a report. Errors
// that never reached the service keep their full text.
func shortError(err error) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return err
	}
	status, _ := apiFacts(err)
	msg := ae.ErrorMessage()
	switch {
	case status != 0 && msg != "":
		return fmt.Errorf("HTTP %d %s: %s", status, ae.ErrorCode(), msg)
	case status != 0:
		return fmt.Errorf("HTTP %d %s", status, ae.ErrorCode())
	}
	return fmt.Errorf("%s: %s", ae.ErrorCode(), msg)
}
