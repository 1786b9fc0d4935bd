package azure

import (
	"errors"
	"fmt"
	"os"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"

	"github.com/reachaudit/reachaudit/providers"
)

// apiCodes are the ARM, Key Vault and Blob error codes for throttling and
// for a denial that a role assignment would cure.
var apiCodes = providers.ErrorCodes{
	Throttling: map[string]bool{"TooManyRequests": true, "SubscriptionRequestsThrottled": true,
		"TenantRequestsThrottled": true, "ServerBusy": true, "Throttled": true},
	Denied: map[string]bool{"AuthorizationFailed": true, "LinkedAuthorizationFailed": true, "Forbidden": true,
		"ForbiddenByRbac": true, "AuthorizationPermissionMismatch": true, "AuthorizationFailure": true},
}

// errorInfo extracts the HTTP status and the service's error code; 0 and
// "" when no answer arrived.
func errorInfo(err error) (int, string) {
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		return re.StatusCode, re.ErrorCode
	}
	return 0, ""
}

// shortError keeps the status, code and the first line of the message; the
// SDK's full text carries request ids and the whole response.
func shortError(err error) error {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return err
	}
	if re.ErrorCode != "" {
		return fmt.Errorf("HTTP %d %s", re.StatusCode, re.ErrorCode)
	}
	return fmt.Errorf("HTTP %d", re.StatusCode)
}

func isDenied(err error) bool {
	return apiCodes.IsDenied(errorInfo(err))
}

// grantFor names the action to grant when err is a denial.
func grantFor(err error, action string) string {
	if isDenied(err) {
		return action
	}
	return ""
}

// explain shortens err and, for a denial, names the action to grant.
func explain(err error, action string) error {
	if isDenied(err) {
		return fmt.Errorf("%w (grant %s)", shortError(err), action)
	}
	return shortError(err)
}

func lookupEnv(name string) string { return os.Getenv(name) }
