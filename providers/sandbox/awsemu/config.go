package awsemu

import (
	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/aws"
)

// RoleName is the role the organisation's key pair assumes in each account
// in the configuration Config returns; any role name would do.
const RoleName = "ReachAuditReadOnly"

// Config returns the plugin configuration that scans the emulator as a
// real organisation is scanned: the organisation's key pair as base
// credentials, a role assumed in each of its accounts, and the emulator as
// the endpoint of S3, KMS and STS.
func (s *Server) Config() providers.Config {
	org := s.OrganisationCredentials()
	if s.w.organization != nil {
		// An estate with an organization is scanned as one: its accounts
		// are discovered, none is named.
		return &aws.Config{
			Organization: true,
			RoleName:     RoleName,
			Endpoint:     s.url,
			Region:       "us-east-1",
			Credentials:  &aws.StaticCredentials{AccessKeyID: org.AccessKeyID, SecretAccessKey: org.SecretAccessKey},
		}
	}
	return &aws.Config{
		Accounts: append([]string(nil), s.w.orgAccounts...),
		RoleName: RoleName,
		Endpoint: s.url,
		Region:   "us-east-1",
		Credentials: &aws.StaticCredentials{
			AccessKeyID:     org.AccessKeyID,
			SecretAccessKey: org.SecretAccessKey,
		},
	}
}

// Env returns the environment that gives the AWS SDKs and the aws command
// the organisation's key pair, for `reachaudit sandbox serve` to print
// beside the configuration Config returns. These are the sandbox's own
// throw-away keys, made at Start.
func (s *Server) Env() []string {
	org := s.OrganisationCredentials()
	return []string{
		"AWS_ACCESS_KEY_ID=" + org.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + org.SecretAccessKey,
		"AWS_REGION=us-east-1",
	}
}
