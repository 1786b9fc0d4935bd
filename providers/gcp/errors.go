package gcp

import (
	"errors"
	"fmt"
	"strings"

	"cloud.google.com/go/storage"
	"google.golang.org/api/googleapi"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/reachaudit/reachaudit/providers"
)

// grpcHTTP maps the gRPC codes the plugin meets to the HTTP status the JSON
// API would have answered, so that one classification serves both.
var grpcHTTP = map[codes.Code]int{
	codes.PermissionDenied:  403,
	codes.Unauthenticated:   401,
	codes.NotFound:          404,
	codes.ResourceExhausted: 429,
	codes.Unavailable:       503,
	codes.Internal:          500,
	codes.InvalidArgument:   400,
}

// errStatus extracts the HTTP status and the error reason (JSON API) or
// code name (gRPC) from an SDK error; 0 and "" when none arrived.
func errStatus(err error) (int, string) {
	if err == nil {
		return 0, ""
	}
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		reason := ""
		if len(ge.Errors) > 0 {
			reason = ge.Errors[0].Reason
		}
		return ge.Code, reason
	}
	if errors.Is(err, storage.ErrObjectNotExist) || errors.Is(err, storage.ErrBucketNotExist) {
		return 404, "notFound"
	}
	if s, ok := status.FromError(err); ok && s.Code() != codes.OK {
		return grpcHTTP[s.Code()], s.Code().String()
	}
	return 0, ""
}

// apiCodes are the JSON API reasons and gRPC code names for throttling and
// denial.
var apiCodes = providers.ErrorCodes{
	Throttling: map[string]bool{"rateLimitExceeded": true, "userRateLimitExceeded": true,
		"RESOURCE_EXHAUSTED": true, codes.ResourceExhausted.String(): true},
	Denied: map[string]bool{"forbidden": true, "insufficientPermissions": true, codes.PermissionDenied.String(): true},
}

func isDenied(err error) bool {
	return apiCodes.IsDenied(errStatus(err))
}

func isNotFound(err error) bool {
	st, _ := errStatus(err)
	return st == 404
}

// grantFor names the permission to grant when err is a permission denial,
// and nothing otherwise: granting does not cure a 5xx.
func grantFor(err error, permission string) string {
	if isDenied(err) {
		return permission
	}
	return ""
}

// explain adds the permission to grant to a permission denial.
func explain(err error, permission string) error {
	if isDenied(err) {
		return fmt.Errorf("%w (grant %s)", err, permission)
	}
	return err
}

// isUniformAccess reports the answer of an ACL read on a bucket with uniform
// bucket-level access, where ACLs do not apply.
func isUniformAccess(err error) bool {
	var ge *googleapi.Error
	return errors.As(err, &ge) && ge.Code == 400 &&
		strings.Contains(strings.ToLower(ge.Message), "uniform bucket-level access")
}
