package alibaba

import (
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
)

// Config is the `providers.alibaba` section of the config file.
type Config struct {
	// Accounts to scan: Alibaba Cloud account ids (16 digits).
	Accounts []string `yaml:"accounts"`
	// ResourceDirectory lists the member accounts of the Resource
	// Directory that DirectoryCredentials manage (the management account
	// or a delegated administrator), with Accounts added.
	ResourceDirectory bool `yaml:"resource_directory"`
	// DirectoryCredentials are the credentials that list the directory and
	// under which RoleName is assumed in each member found; absent: the
	// default credential chain.
	DirectoryCredentials AccountCredentials `yaml:"directory_credentials"`
	// RoleName is the RAM role assumed in each member found that has no
	// entry in Credentials: acs:ram::<member>:role/<RoleName>.
	RoleName string `yaml:"role_name"`
	// ResourceManagerEndpoint overrides the Resource Directory endpoint
	// (default https://resourcemanager.aliyuncs.com).
	ResourceManagerEndpoint string `yaml:"resourcemanager_endpoint"`
	// Regions limits the scan to buckets in these regions. Empty: every
	// region the buckets are in. The first one is also where the bucket
	// list is asked for (default cn-hangzhou).
	Regions []string `yaml:"regions"`
	// Credentials gives each account its own credential source. An account
	// without an entry uses Alibaba's default credential chain
	// (environment, CLI profile, credentials file, ECS RAM role).
	Credentials map[string]AccountCredentials `yaml:"credentials"`
	// Endpoint overrides the OSS endpoint (an internal endpoint, a proxy,
	// a sandbox): http(s)://host[:port]. Buckets are addressed path-style
	// when the host is an IP address or PathStyle is set.
	Endpoint  string `yaml:"endpoint"`
	PathStyle bool   `yaml:"path_style"`
	// KMSEndpoint overrides the KMS endpoint (default kms.<region>.aliyuncs.com).
	KMSEndpoint string `yaml:"kms_endpoint"`
	// STSEndpoint overrides the STS endpoint used to assume RAM roles.
	STSEndpoint string `yaml:"sts_endpoint"`
	// AuthVersion is the OSS signature version: v4 (default) or v1 for old
	// accounts that still accept it. Under v1 the Block Public Access and
	// policy-status calls cannot be signed, so those fields stay unknown.
	AuthVersion string `yaml:"auth_version"`
	// InsecureSkipVerify turns off TLS verification, by name only.
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// Canary, if set, is an object key whose HEAD is the reachability
	// probe instead of a one-key list.
	Canary string `yaml:"canary"`
	// Timeout bounds each API call ("20s" by default).
	Timeout string `yaml:"timeout"`

	// Static are access keys per account, and DirectoryStatic the keys
	// that list the directory, set by the sandbox for the demo; never read
	// from the config file.
	Static          map[string]StaticCredentials `yaml:"-"`
	DirectoryStatic *StaticCredentials           `yaml:"-"`
}

// AccountCredentials is where one account's credentials come from. Profile
// or the env pair give the base credentials (absent: the default chain);
// RoleARN, if set, is assumed with them.
type AccountCredentials struct {
	// Profile is a profile of the Alibaba Cloud CLI configuration.
	Profile string `yaml:"profile"`
	// AccessKeyIDEnv and AccessKeySecretEnv name environment variables
	// holding an AccessKey pair; SecurityTokenEnv an STS token, if any.
	AccessKeyIDEnv     string `yaml:"access_key_id_env"`
	AccessKeySecretEnv string `yaml:"access_key_secret_env"`
	SecurityTokenEnv   string `yaml:"security_token_env"`
	// RoleARN is a RAM role to assume (acs:ram::<account>:role/<name>).
	RoleARN    string `yaml:"role_arn"`
	ExternalID string `yaml:"external_id"`
}

// StaticCredentials is an AccessKey pair.
type StaticCredentials struct {
	AccessKeyID     string
	AccessKeySecret string
	SecurityToken   string
}

// String keeps the secret out of logs and errors.
func (s StaticCredentials) String() string { return "AccessKey " + s.AccessKeyID + " (secret hidden)" }

const defaultTimeout = 20 * time.Second

var (
	accountID = regexp.MustCompile(`^[0-9]{16}$`)
	roleARN   = regexp.MustCompile(`^acs:ram::[0-9]{16}:role/[A-Za-z0-9._-]+$`)
	roleName  = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	envName   = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// ListedAccounts implements providers.AccountLister: none when the
// directory is discovered, since any member may then be found.
func (c *Config) ListedAccounts() []string {
	if c.ResourceDirectory {
		return nil
	}
	return c.Accounts
}

// Validate checks the section's values.
func (c *Config) Validate(ch *yamlfile.Check) {
	if len(c.Accounts) == 0 && !c.ResourceDirectory {
		ch.Errorf("accounts", "at least one Alibaba Cloud account id is required (or resource_directory: true to discover them)")
	}
	if c.RoleName != "" && !roleName.MatchString(c.RoleName) {
		ch.Errorf("role_name", "%q is not a RAM role name (letters, digits, '.', '_', '-')", c.RoleName)
	}
	if !c.ResourceDirectory && c.RoleName != "" {
		ch.Errorf("role_name", "is assumed in the resource directory's members: set resource_directory: true")
	}
	if !c.ResourceDirectory && c.DirectoryCredentials != (AccountCredentials{}) {
		ch.Errorf("directory_credentials", "list the resource directory: set resource_directory: true")
	}
	checkCredentials(ch, "directory_credentials", c.DirectoryCredentials)
	seen := map[string]bool{}
	for i, a := range c.Accounts {
		p := "accounts[" + strconv.Itoa(i) + "]"
		switch {
		case !accountID.MatchString(a):
			ch.Errorf(p, "%q is not a 16-digit Alibaba Cloud account id", a)
		case seen[a]:
			ch.Errorf(p, "account %s is listed twice", a)
		}
		seen[a] = true
	}
	for i, r := range c.Regions {
		if _, ok := Place(r); !ok {
			ch.Errorf("regions["+strconv.Itoa(i)+"]", "%q is not a known OSS region id (like cn-hangzhou)", r)
		}
	}
	accounts := make([]string, 0, len(c.Credentials))
	for a := range c.Credentials {
		accounts = append(accounts, a)
	}
	sort.Strings(accounts)
	for _, a := range accounts {
		cr := c.Credentials[a]
		p := "credentials." + a
		if !seen[a] && !c.ResourceDirectory {
			ch.Errorf(p, "account %s is not in accounts", a)
			continue
		}
		if !accountID.MatchString(a) {
			ch.Errorf(p, "%q is not a 16-digit Alibaba Cloud account id", a)
			continue
		}
		checkCredentials(ch, p, cr)
	}
	for field, v := range map[string]string{"endpoint": c.Endpoint, "kms_endpoint": c.KMSEndpoint, "resourcemanager_endpoint": c.ResourceManagerEndpoint} {
		if v == "" {
			continue
		}
		if err := checkEndpoint(v); err != nil {
			ch.Errorf(field, "%v", err)
		}
	}
	if c.STSEndpoint != "" {
		if _, err := stsHost(c.STSEndpoint); err != nil {
			ch.Errorf("sts_endpoint", "%v", err)
		}
	}
	ch.OneOf("auth_version", c.AuthVersion, "v4", "v1")
	if c.Timeout != "" {
		if d, err := time.ParseDuration(c.Timeout); err != nil || d <= 0 {
			ch.Errorf("timeout", "%q is not a positive duration like 20s", c.Timeout)
		}
	}
	if strings.HasPrefix(c.Canary, "/") {
		ch.Errorf("canary", "an object key does not start with /")
	}
}

// stsHost returns the host[:port] the credentials SDK wants for STS: it
// always speaks HTTPS and prefixes the scheme itself, so "http://h:p"
// once became "https://http//h:p". A bare host or an https:// URL is
// accepted; http:// is refused, since it could not be honoured.
func stsHost(v string) (string, error) {
	if !strings.Contains(v, "://") {
		v = "https://" + v
	}
	u, err := url.Parse(v)
	switch {
	case err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("%q is not an STS endpoint like sts.cn-hangzhou.aliyuncs.com", v)
	case u.Scheme != "https":
		return "", fmt.Errorf("%q: the STS endpoint must be HTTPS (the credentials client speaks nothing else)", v)
	case u.Path != "" && u.Path != "/":
		return "", fmt.Errorf("%q: an endpoint has no path", v)
	}
	return u.Host, nil
}

func checkEndpoint(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an endpoint like https://oss-cn-hangzhou-internal.aliyuncs.com", v)
	}
	if u.Path != "" && u.Path != "/" {
		return fmt.Errorf("%q: an endpoint has no path", v)
	}
	return nil
}

func (c *Config) timeout() time.Duration {
	if d, err := time.ParseDuration(c.Timeout); err == nil && d > 0 {
		return d
	}
	return defaultTimeout
}

func (c *Config) v1() bool { return c.AuthVersion == "v1" }

// listRegion is where the bucket list is asked for.
func (c *Config) listRegion() string {
	if len(c.Regions) > 0 {
		return c.Regions[0]
	}
	return "cn-hangzhou"
}

// checkCredentials checks one credentials entry at path p.
func checkCredentials(ch *yamlfile.Check, p string, cr AccountCredentials) {
	if cr.Profile != "" && (cr.AccessKeyIDEnv != "" || cr.AccessKeySecretEnv != "") {
		ch.Errorf(p, "give either profile or access_key_id_env/access_key_secret_env, not both")
	}
	if (cr.AccessKeyIDEnv == "") != (cr.AccessKeySecretEnv == "") {
		ch.Errorf(p, "access_key_id_env and access_key_secret_env go together")
	}
	if cr.SecurityTokenEnv != "" && cr.AccessKeyIDEnv == "" {
		ch.Errorf(p+".security_token_env", "needs access_key_id_env and access_key_secret_env")
	}
	for field, v := range map[string]string{"access_key_id_env": cr.AccessKeyIDEnv,
		"access_key_secret_env": cr.AccessKeySecretEnv, "security_token_env": cr.SecurityTokenEnv} {
		if v != "" && !envName.MatchString(v) {
			ch.Errorf(p+"."+field, "%q is not an environment variable name", v)
		}
	}
	if cr.RoleARN != "" && !roleARN.MatchString(cr.RoleARN) {
		ch.Errorf(p+".role_arn", "%q is not a RAM role ARN like acs:ram::1234567890123456:role/ReachAuditReadOnly", cr.RoleARN)
	}
	if cr.ExternalID != "" && cr.RoleARN == "" {
		ch.Errorf(p+".external_id", "needs role_arn")
	}
}
