package aws

import (
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
)

// Config is the `providers.aws` section of the config file.
type Config struct {
	// Accounts to scan. Empty: the account of the default credentials.
	Accounts []string `yaml:"accounts"`
	// Organization lists the accounts of the AWS Organization the base
	// credentials manage (the management account or a delegated
	// administrator): every ACTIVE member, with Accounts added.
	Organization bool `yaml:"organization"`
	// OUs limits the organisation to the accounts under these OUs (or
	// roots), recursively.
	OUs []string `yaml:"ous"`
	// ExcludeAccounts are members left out of the scan.
	ExcludeAccounts []string `yaml:"exclude_accounts"`
	// OrganizationsEndpoint overrides Endpoint for Organizations.
	OrganizationsEndpoint string `yaml:"organizations_endpoint"`
	// Regions limits the scan to buckets in these regions. Empty: every
	// region the buckets are in.
	Regions []string `yaml:"regions"`
	// RoleName is assumed in each account (arn:<partition>:iam::<account>:role/<RoleName>).
	// Empty: the default credential chain is used as it is.
	RoleName string `yaml:"role_name"`
	// ExternalID is passed when assuming RoleName, where the role requires one.
	ExternalID string `yaml:"external_id"`
	// Profile selects a shared-config profile for the base credentials.
	Profile string `yaml:"profile"`
	// Endpoint overrides the S3, KMS and STS endpoint (a VPC endpoint,
	// MinIO, a sandbox). Path-style addressing is used when its host is an
	// IP address or localhost, or when PathStyle is set.
	Endpoint  string `yaml:"endpoint"`
	PathStyle bool   `yaml:"path_style"`
	// KMSEndpoint, STSEndpoint and CloudWatchEndpoint override Endpoint
	// for those services.
	KMSEndpoint        string `yaml:"kms_endpoint"`
	STSEndpoint        string `yaml:"sts_endpoint"`
	CloudWatchEndpoint string `yaml:"cloudwatch_endpoint"`
	// Region is the region for the first calls (ListBuckets, STS);
	// default us-east-1.
	Region string `yaml:"region"`
	// CACert is a PEM file of extra CAs to trust for the endpoints.
	CACert string `yaml:"ca_cert"`
	// InsecureSkipVerify turns off TLS verification, by name only.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// Canary, if set, is an object key whose HEAD is the reachability
	// probe instead of a one-key list.
	Canary string `yaml:"canary"`
	// Timeout bounds each API call, retries included; default 30s.
	Timeout time.Duration `yaml:"timeout"`

	// Partitions are accounts of other partitions (aws-cn, aws-us-gov,
	// or aws when Region is in another), each with its own credentials
	// and endpoints, scanned in the same run.
	Partitions map[string]*PartitionConfig `yaml:"partitions"`

	// Credentials are static base credentials, set by the sandbox for the
	// demo; never read from the config file.
	Credentials *StaticCredentials `yaml:"-"`
}

// StaticCredentials is an access key pair.
type StaticCredentials struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// ListedAccounts implements providers.AccountLister: none when the
// organisation is discovered, since any member may then be found.
func (c *Config) ListedAccounts() []string {
	if c.Organization {
		return nil
	}
	out := slices.Clone(c.Accounts)
	for _, pc := range c.Partitions {
		if pc != nil {
			out = append(out, pc.Accounts...)
		}
	}
	return out
}

func (c *Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return callTimeout
}

// Validate checks the section's values.
func (c *Config) Validate(ch *yamlfile.Check) {
	c.validatePartitions(ch)
	for i, a := range c.Accounts {
		if !accountID.MatchString(a) {
			ch.Errorf("accounts["+strconv.Itoa(i)+"]", "%q is not a 12-digit AWS account id", a)
		}
	}
	for i, a := range c.ExcludeAccounts {
		if !accountID.MatchString(a) {
			ch.Errorf("exclude_accounts["+strconv.Itoa(i)+"]", "%q is not a 12-digit AWS account id", a)
		}
	}
	if (len(c.OUs) > 0 || len(c.ExcludeAccounts) > 0) && !c.Organization {
		ch.Errorf("organization", "ous and exclude_accounts filter the organization's accounts: set organization: true")
	}
	for _, e := range []struct{ path, url string }{
		{"endpoint", c.Endpoint}, {"kms_endpoint", c.KMSEndpoint}, {"sts_endpoint", c.STSEndpoint}, {"organizations_endpoint", c.OrganizationsEndpoint},
		{"cloudwatch_endpoint", c.CloudWatchEndpoint},
	} {
		if err := checkEndpoint(e.url); err != nil {
			ch.Errorf(e.path, "%v", err)
		}
	}
	if c.Timeout < 0 {
		ch.Errorf("timeout", "%v is negative (absent means %v)", c.Timeout, callTimeout)
	}
	if c.Region != "" {
		if _, ok := Place(c.Region); !ok {
			ch.Errorf("region", "%q is not a known AWS region", c.Region)
		}
	}
	for i, r := range c.Regions {
		if _, ok := Place(r); !ok {
			ch.Errorf("regions["+strconv.Itoa(i)+"]", "%q is not a known AWS region", r)
		}
	}
}
