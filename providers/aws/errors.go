package aws

import (
	"errors"
	"fmt"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

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
