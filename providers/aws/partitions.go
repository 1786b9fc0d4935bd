package aws

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
	"github.com/reachaudit/reachaudit/providers"
)

// PartitionConfig is one entry of `partitions:`: the accounts of another
// AWS partition than the one of the section's region, with the
// credentials and endpoints that reach it. Each partition is its own
// cloud (its own IAM, its own keys, its own endpoints), so nothing of the
// section's credentials carries over; the scan's settings (regions,
// canary, TLS, path style) do.
type PartitionConfig struct {
	Accounts           []string `yaml:"accounts"`
	RoleName           string   `yaml:"role_name"`
	ExternalID         string   `yaml:"external_id"`
	Profile            string   `yaml:"profile"`
	Region             string   `yaml:"region"`
	Endpoint           string   `yaml:"endpoint"`
	KMSEndpoint        string   `yaml:"kms_endpoint"`
	STSEndpoint        string   `yaml:"sts_endpoint"`
	CloudWatchEndpoint string   `yaml:"cloudwatch_endpoint"`

	// Credentials are static base credentials, set by the sandbox.
	Credentials *StaticCredentials `yaml:"-"`
}

// partitionRegions are the regions a partition's account-wide calls go to
// when its entry names none.
var partitionRegions = map[string]string{
	partitionAWS: defaultRegion,
	partitionCN:  "cn-north-1",
	partitionGov: "us-gov-west-1",
}

// partition is the partition of the section's own accounts.
func (c *Config) partition() string {
	if c.Region == "" {
		return partitionAWS
	}
	return partitionOf(c.Region)
}

func (c *Config) validatePartitions(ch *yamlfile.Check) {
	seen := map[string]string{}
	for _, a := range c.Accounts {
		seen[a] = c.partition()
	}
	for _, name := range slices.Sorted(maps.Keys(c.Partitions)) {
		pc := c.Partitions[name]
		p := "partitions." + name
		if _, ok := partitionRegions[name]; !ok {
			ch.Errorf(p, "%q is not a partition this plugin scans (aws, aws-cn, aws-us-gov)", name)
			continue
		}
		if name == c.partition() {
			ch.Errorf(p, "is the partition of region %s: list these accounts under accounts:", orDefault(c.Region, defaultRegion))
			continue
		}
		if pc == nil || len(pc.Accounts) == 0 {
			ch.Errorf(p+".accounts", "is required: the accounts of partition %s", name)
			continue
		}
		for i, a := range pc.Accounts {
			ap := p + ".accounts[" + strconv.Itoa(i) + "]"
			switch {
			case !accountID.MatchString(a):
				ch.Errorf(ap, "%q is not a 12-digit AWS account id", a)
			case seen[a] != "":
				ch.Errorf(ap, "account %s is already listed in partition %s", a, seen[a])
			}
			seen[a] = name
		}
		if pc.Region != "" && partitionOf(pc.Region) != name {
			if _, known := Place(pc.Region); !known {
				ch.Errorf(p+".region", "%q is not a known AWS region", pc.Region)
			} else {
				ch.Errorf(p+".region", "%s is a region of partition %s, not %s", pc.Region, partitionOf(pc.Region), name)
			}
		}
		for _, e := range []struct{ path, url string }{{"endpoint", pc.Endpoint}, {"kms_endpoint", pc.KMSEndpoint},
			{"sts_endpoint", pc.STSEndpoint}, {"cloudwatch_endpoint", pc.CloudWatchEndpoint}} {
			if err := checkEndpoint(e.url); err != nil {
				ch.Errorf(p+"."+e.path, "%v", err)
			}
		}
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// partitionConfig is the section's configuration for one other partition.
func (c *Config) partitionConfig(name string) *Config {
	pc := c.Partitions[name]
	out := &Config{
		Accounts: pc.Accounts, RoleName: pc.RoleName, ExternalID: pc.ExternalID, Profile: pc.Profile,
		Region: orDefault(pc.Region, partitionRegions[name]), Endpoint: pc.Endpoint, KMSEndpoint: pc.KMSEndpoint,
		STSEndpoint: pc.STSEndpoint, CloudWatchEndpoint: pc.CloudWatchEndpoint, Credentials: pc.Credentials,
		// What the scan does is the same in every partition.
		Regions: c.Regions, Timeout: c.Timeout, PathStyle: c.PathStyle, CACert: c.CACert, InsecureSkipVerify: c.InsecureSkipVerify, Canary: c.Canary,
	}
	return out
}

// partitioned scans accounts of several partitions, one Provider per
// partition, each account through its own partition's.
type partitioned struct {
	parts []*Provider
	names []string // parts[i]'s partition
	by    map[string]*Provider
}

// openPartitions opens the section's own partition and each of
// `partitions:`.
func openPartitions(ctx context.Context, cfg *Config, env providers.Env) (*partitioned, error) {
	main := *cfg
	main.Partitions = nil
	pp := &partitioned{by: map[string]*Provider{}}
	p, err := Open(ctx, &main, env)
	if err != nil {
		return nil, err
	}
	pp.parts, pp.names = append(pp.parts, p), append(pp.names, cfg.partition())
	names := slices.Sorted(maps.Keys(cfg.Partitions))
	for _, name := range names {
		p, err := Open(ctx, cfg.partitionConfig(name), env)
		if err != nil {
			return nil, fmt.Errorf("aws partition %s: %w", name, err)
		}
		pp.parts, pp.names = append(pp.parts, p), append(pp.names, name)
	}
	return pp, nil
}

// Accounts are every partition's accounts. A partition that cannot tell
// its accounts fails the whole listing: its accounts would otherwise be
// missing without a trace.
func (pp *partitioned) Accounts(ctx context.Context) ([]string, error) {
	var out []string
	var errs []error
	by := map[string]*Provider{}
	for i, p := range pp.parts {
		ids, err := p.Accounts(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("partition %s: %w", pp.names[i], err))
			continue
		}
		for _, id := range ids {
			if _, dup := by[id]; !dup {
				by[id] = p
				out = append(out, id)
			}
		}
	}
	pp.by = by
	sort.Strings(out)
	if err := errors.Join(errs...); err != nil {
		// The first failure's API and grant name the UNK-002.
		var ae *providers.APIError
		if errors.As(err, &ae) {
			return nil, &providers.APIError{API: ae.API, Permission: ae.Permission, Err: err}
		}
		return nil, err
	}
	return out, nil
}

func (pp *partitioned) of(account string) (*Provider, error) {
	if p, ok := pp.by[account]; ok {
		return p, nil
	}
	return nil, fmt.Errorf("aws: account %s is in no configured partition", account)
}

func (pp *partitioned) List(ctx context.Context, account string) ([]providers.BucketRef, error) {
	p, err := pp.of(account)
	if err != nil {
		return nil, err
	}
	return p.List(ctx, account)
}

func (pp *partitioned) Describe(ctx context.Context, ref providers.BucketRef) providers.Bucket {
	p, err := pp.of(ref.Account)
	if err != nil {
		b := providers.NewBucket(name, ref.Account, ref.Name, scheme+"://"+ref.Name)
		b.SetUnknown(providers.FieldRegion, "aws partition", err, "")
		return b
	}
	return p.Describe(ctx, ref)
}

func (pp *partitioned) Sizes(ctx context.Context, account string, buckets []*providers.Bucket) {
	if p, err := pp.of(account); err == nil {
		p.Sizes(ctx, account, buckets)
	}
}

// Discovery is the section's own partition's, with every partition's
// accounts placed.
func (pp *partitioned) Discovery() providers.Discovery {
	d := pp.parts[0].Discovery()
	d.PartitionOf = map[string]string{}
	for _, p := range pp.parts {
		maps.Copy(d.PartitionOf, p.Discovery().PartitionOf)
	}
	return d
}
