package awsemu

import (
	"sort"

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
	// Accounts of each partition are reached with that partition's own
	// organisation key pair: the section's accounts are the commercial
	// partition's (or, with none there, the first other one's), the rest
	// go under partitions:.
	byPart := map[string][]string{}
	var parts []string
	for _, id := range s.w.orgAccounts {
		p := s.w.accounts[id].partition
		if byPart[p] == nil {
			parts = append(parts, p)
		}
		byPart[p] = append(byPart[p], id)
	}
	sort.Strings(parts)
	main := "aws"
	if byPart[main] == nil && len(parts) > 0 {
		main = parts[0]
	}
	o := s.w.orgs[main]
	cfg := &aws.Config{
		Accounts:    byPart[main],
		RoleName:    RoleName,
		Endpoint:    s.url,
		Region:      partitionRegions[main],
		Credentials: &aws.StaticCredentials{AccessKeyID: o.akid, SecretAccessKey: o.secret},
	}
	for _, p := range parts {
		if p == main {
			continue
		}
		if cfg.Partitions == nil {
			cfg.Partitions = map[string]*aws.PartitionConfig{}
		}
		o := s.w.orgs[p]
		cfg.Partitions[p] = &aws.PartitionConfig{Accounts: byPart[p], RoleName: RoleName, Endpoint: s.url,
			Region: partitionRegions[p], Credentials: &aws.StaticCredentials{AccessKeyID: o.akid, SecretAccessKey: o.secret}}
	}
	return cfg
}

// partitionRegions are where each partition's account-wide calls go.
var partitionRegions = map[string]string{"aws": "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1"}

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
