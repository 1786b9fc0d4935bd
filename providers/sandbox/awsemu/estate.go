package awsemu

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
	"github.com/reachaudit/reachaudit/providers/sandbox"
)

// Estate is the `aws:` section of an estate file.
type Estate struct {
	Accounts []Account `yaml:"accounts"`
	// Organization, when given, is the AWS Organization of the accounts;
	// the emulator then answers Organizations and hands out a
	// configuration that discovers the accounts.
	Organization *Organization `yaml:"organization"`
}

// Account is one AWS account. An account with buckets belongs to the
// audited organisation; one with only keys is an outside party whose keys
// the organisation's buckets may use.
type Account struct {
	ID string `yaml:"id"`
	// Partition is the account's partition (aws, aws-cn, aws-us-gov), a
	// cloud of its own with its own keys; default aws. Once given, the
	// account's buckets must be in the partition's regions, and its
	// partition's endpoints know only that partition's keys.
	Partition string   `yaml:"partition"`
	Keys      []Key    `yaml:"keys"`
	Buckets   []Bucket `yaml:"buckets"`
	// Throttle answers SlowDown (S3) or Throttling (KMS, STS) to the
	// account's requests above its rate.
	Throttle *sandbox.Throttle `yaml:"throttle"`
}

// Key is a KMS key.
type Key struct {
	ID     string `yaml:"id"`
	Region string `yaml:"region"`
	// Manager is AWS or CUSTOMER (default).
	Manager string `yaml:"manager"`
	// Origin is AWS_KMS (default), EXTERNAL, AWS_CLOUDHSM or EXTERNAL_KEY_STORE.
	Origin string `yaml:"origin"`
	// State is Enabled (default), Disabled, PendingDeletion, PendingImport
	// or Unavailable.
	State string `yaml:"state"`
	// DeletionDate is when a PendingDeletion key goes; default 30 days on.
	DeletionDate sandbox.When `yaml:"deletion_date"`
	// ValidTo is when imported key material (origin EXTERNAL) expires.
	ValidTo sandbox.When `yaml:"valid_to"`
}

// Bucket is an S3 bucket and its settings.
type Bucket struct {
	Name   string `yaml:"name"`
	Region string `yaml:"region"`
	// Encryption is the default encryption; absent means SSE-S3 (AES256),
	// which S3 applies to every bucket since January 2023.
	Encryption *Encryption `yaml:"encryption"`
	// Versioning is Enabled, Suspended or Off (default); see sandbox.Versioning.
	Versioning        sandbox.Versioning `yaml:"versioning"`
	ObjectLock        bool               `yaml:"object_lock"`
	PublicAccessBlock bool               `yaml:"public_access_block"`
	Public            bool               `yaml:"public"`
	Replication       []Replica          `yaml:"replication"`
	Tags              map[string]string  `yaml:"tags"`
	// Reachable false makes the data plane (HeadBucket, ListObjectsV2,
	// HeadObject) answer 403; default true.
	Reachable *bool `yaml:"reachable"`
	// Deny lists operations that answer AccessDenied for this bucket. A
	// DescribeKey here denies the bucket's account describing the bucket's key.
	// GetMetricData here denies it to the bucket's account in every region:
	// CloudWatch grants that call per account, not per bucket.
	Deny []string `yaml:"deny"`
	// Bytes and Objects are the CloudWatch AWS/S3 BucketSizeBytes
	// (StandardStorage) and NumberOfObjects datapoints; absent: no
	// datapoint, as for a bucket younger than a day.
	Bytes   *int64 `yaml:"bytes"`
	Objects *int64 `yaml:"objects"`
	// StorageTypes gives BucketSizeBytes per StorageType instead of Bytes,
	// for buckets whose objects sit in several storage classes.
	StorageTypes map[string]int64 `yaml:"storage_types"`
}

// Encryption is a bucket's default encryption.
type Encryption struct {
	// Algorithm is AES256, aws:kms, aws:kms:dsse or none.
	Algorithm string `yaml:"algorithm"`
	// Key is a key id of the bucket's account, a key ARN, or alias/aws/s3;
	// absent with aws:kms means the AWS-managed aws/s3 key.
	Key string `yaml:"key"`
}

// Replica is a replication rule's destination. A destination that is not
// itself a bucket of the estate is created, with default settings, in
// Account (default: the source's account) and Region.
type Replica struct {
	Bucket  string `yaml:"bucket"`
	Account string `yaml:"account"`
	Region  string `yaml:"region"`
}

const managedAlias = "alias/aws/s3"

var (
	accountIDRe  = regexp.MustCompile(`^[0-9]{12}$`)
	keyIDRe      = regexp.MustCompile(`^[A-Za-z0-9-]{1,128}$`)
	bucketNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	keyARNRe     = regexp.MustCompile(`^arn:(aws|aws-cn|aws-us-gov|aws-eusc):kms:([a-z0-9-]+):([0-9]{12}):(key/[A-Za-z0-9-]+|alias/aws/s3)$`)
)

// Validate checks the section's values; paths are relative to the section.
func (e *Estate) Validate(c *yamlfile.Check) {
	if e.Organization != nil {
		e.Organization.validate(c, "organization")
	}
	accounts := map[string]int{}
	for i, a := range e.Accounts {
		p := fmt.Sprintf("accounts[%d]", i)
		c.Required(p+".id", a.ID)
		if a.ID != "" && !accountIDRe.MatchString(a.ID) {
			c.Errorf(p+".id", "%q is not a 12-digit AWS account id", a.ID)
		}
		if j, dup := accounts[a.ID]; dup && a.ID != "" {
			c.Errorf(p+".id", "account %s is also accounts[%d]", a.ID, j)
		}
		accounts[a.ID] = i
		a.Throttle.Validate(c, p+".throttle")
		c.OneOf(p+".partition", a.Partition, "aws", "aws-cn", "aws-us-gov")
		part := a.partition()
		for j, b := range a.Buckets {
			if a.Partition != "" && knownRegion(b.Region) && partitionOf(b.Region) != part {
				c.Errorf(fmt.Sprintf("%s.buckets[%d].region", p, j), "%s is a region of partition %s; the account is in %s", b.Region, partitionOf(b.Region), part)
			}
		}
	}
	keys := map[string]Key{} // account/id
	for i, a := range e.Accounts {
		for j, k := range a.Keys {
			p := fmt.Sprintf("accounts[%d].keys[%d]", i, j)
			validateKey(c, p, k)
			if _, dup := keys[a.ID+"/"+k.ID]; dup && k.ID != "" {
				c.Errorf(p+".id", "key %s is given twice in account %s", k.ID, a.ID)
			}
			keys[a.ID+"/"+k.ID] = k
		}
	}
	type where struct {
		path, account, region string
	}
	declared := map[string]where{}
	for i, a := range e.Accounts {
		for j, b := range a.Buckets {
			p := fmt.Sprintf("accounts[%d].buckets[%d]", i, j)
			if w, dup := declared[b.Name]; dup && b.Name != "" {
				c.Errorf(p+".name", "bucket names are global: %q is also %s", b.Name, w.path)
			}
			declared[b.Name] = where{p, a.ID, b.Region}
		}
	}
	implicit := map[string]where{}
	for i, a := range e.Accounts {
		for j, b := range a.Buckets {
			p := fmt.Sprintf("accounts[%d].buckets[%d]", i, j)
			validateBucket(c, p, a.ID, b, func(ref string) (Key, string, bool) {
				return resolveKeyRef(ref, a.ID, accounts, keys)
			})
			for r, rep := range b.Replication {
				rp := fmt.Sprintf("%s.replication[%d]", p, r)
				c.Required(rp+".bucket", rep.Bucket)
				if rep.Bucket == b.Name && b.Name != "" {
					c.Errorf(rp+".bucket", "a bucket cannot replicate to itself")
				}
				if rep.Account != "" && !accountIDRe.MatchString(rep.Account) {
					c.Errorf(rp+".account", "%q is not a 12-digit AWS account id", rep.Account)
				}
				checkRegion(c, rp+".region", rep.Region)
				acct := rep.Account
				if acct == "" {
					acct = a.ID
				}
				if d, ok := declared[rep.Bucket]; ok {
					if rep.Account != "" && d.account != rep.Account {
						c.Errorf(rp+".account", "bucket %q is in account %s (%s)", rep.Bucket, d.account, d.path)
					}
					if rep.Region != "" && d.region != rep.Region {
						c.Errorf(rp+".region", "bucket %q is in %s (%s)", rep.Bucket, d.region, d.path)
					}
					continue
				}
				if rep.Bucket != "" && !bucketNameRe.MatchString(rep.Bucket) {
					c.Errorf(rp+".bucket", "%q is not a valid S3 bucket name", rep.Bucket)
				}
				if rep.Region == "" {
					c.Errorf(rp+".region", "is required when %q is not a bucket of the estate", rep.Bucket)
					continue
				}
				if w, ok := implicit[rep.Bucket]; ok && (w.account != acct || w.region != rep.Region) {
					c.Errorf(rp, "replica %q is placed differently at %s", rep.Bucket, w.path)
				}
				implicit[rep.Bucket] = where{rp, acct, rep.Region}
			}
		}
	}
}

func validateKey(c *yamlfile.Check, p string, k Key) {
	c.Required(p+".id", k.ID)
	if k.ID != "" && !keyIDRe.MatchString(k.ID) {
		c.Errorf(p+".id", "%q is not a KMS key id (letters, digits and hyphens)", k.ID)
	}
	c.Required(p+".region", k.Region)
	checkRegion(c, p+".region", k.Region)
	c.OneOf(p+".manager", k.Manager, "AWS", "CUSTOMER")
	c.OneOf(p+".origin", k.Origin, "AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM", "EXTERNAL_KEY_STORE")
	c.OneOf(p+".state", k.State, "Enabled", "Disabled", "PendingDeletion", "PendingImport", "Unavailable")
	origin := orDefault(k.Origin, "AWS_KMS")
	if k.Manager == "AWS" && origin != "AWS_KMS" {
		c.Errorf(p+".origin", "an AWS-managed key has origin AWS_KMS, not %s", origin)
	}
	if k.State == "PendingImport" && origin != "EXTERNAL" {
		c.Errorf(p+".state", "only a key with origin EXTERNAL can wait for imported material")
	}
	if k.State == "Unavailable" && origin != "AWS_CLOUDHSM" && origin != "EXTERNAL_KEY_STORE" {
		c.Errorf(p+".state", "only a key in a custom key store (AWS_CLOUDHSM, EXTERNAL_KEY_STORE) can be Unavailable")
	}
	if !k.DeletionDate.IsZero() && k.State != "PendingDeletion" {
		c.Errorf(p+".deletion_date", "is only for a key in state PendingDeletion")
	}
	if !k.ValidTo.IsZero() && origin != "EXTERNAL" {
		c.Errorf(p+".valid_to", "is only for imported key material (origin EXTERNAL)")
	}
}

// keyResolver finds the key a bucket's encryption names: the key, the
// account that owns it, and whether it is in the estate at all.
type keyResolver func(ref string) (k Key, account string, inEstate bool)

func validateBucket(c *yamlfile.Check, p, account string, b Bucket, resolve keyResolver) {
	c.Required(p+".name", b.Name)
	if b.Name != "" && (!bucketNameRe.MatchString(b.Name) || strings.Contains(b.Name, "..")) {
		c.Errorf(p+".name", "%q is not a valid S3 bucket name (3-63 lower-case letters, digits, dots and hyphens)", b.Name)
	}
	c.Required(p+".region", b.Region)
	checkRegion(c, p+".region", b.Region)
	b.Versioning.Check(c, p+".versioning")
	if b.ObjectLock && !b.Versioning.Enabled() {
		c.Errorf(p+".object_lock", "object lock needs versioning: Enabled")
	}
	if b.Public && b.PublicAccessBlock {
		c.Errorf(p+".public", "a public bucket cannot have public_access_block on: it blocks public policies and ACLs")
	}
	if len(b.Replication) > 0 && !b.Versioning.Enabled() {
		c.Errorf(p+".replication", "replication needs versioning: Enabled on the source")
	}
	if len(b.Tags) > 50 {
		c.Errorf(p+".tags", "S3 allows at most 50 tags, not %d", len(b.Tags))
	}
	for k := range b.Tags {
		if k == "" || strings.HasPrefix(k, "aws:") {
			c.Errorf(p+".tags", "tag key %q is not allowed", k)
		}
	}
	kms := false
	if e := b.Encryption; e != nil {
		ep := p + ".encryption"
		c.Required(ep+".algorithm", e.Algorithm)
		c.OneOf(ep+".algorithm", e.Algorithm, "AES256", "aws:kms", "aws:kms:dsse", "none")
		kms = strings.HasPrefix(e.Algorithm, "aws:kms")
		if e.Key != "" && !kms {
			c.Errorf(ep+".key", "a key is only for aws:kms and aws:kms:dsse")
		}
		if e.Key != "" && kms {
			k, owner, inEstate := resolve(e.Key)
			switch {
			case e.Key == managedAlias:
			case strings.HasPrefix(e.Key, "arn:") && arnPartition(e.Key) != "" && arnPartition(e.Key) != partitionOf(arnRegion(e.Key)):
				c.Errorf(ep+".key", "%q: region %s is in partition %s, not %s", e.Key, arnRegion(e.Key), partitionOf(arnRegion(e.Key)), arnPartition(e.Key))
			case owner == "":
				c.Errorf(ep+".key", "%q is neither a key id of account %s, a key ARN, nor %s", e.Key, account, managedAlias)
			case inEstate && k.ID == "":
				c.Errorf(ep+".key", "no key %q in account %s", e.Key, owner)
			case inEstate && k.Region != b.Region:
				c.Errorf(ep+".key", "key %q is in %s but the bucket is in %s (S3 needs a key of its own region)", e.Key, k.Region, b.Region)
			case !inEstate && arnRegion(e.Key) != b.Region:
				c.Errorf(ep+".key", "key %q is not in the bucket's region %s", e.Key, b.Region)
			}
		}
	}
	if b.Bytes != nil && len(b.StorageTypes) > 0 {
		c.Errorf(p+".storage_types", "give bytes or storage_types, not both")
	}
	if b.Bytes != nil && *b.Bytes < 0 {
		c.Errorf(p+".bytes", "must be zero or more")
	}
	if b.Objects != nil && *b.Objects < 0 {
		c.Errorf(p+".objects", "must be zero or more")
	}
	for st, n := range b.StorageTypes {
		if !storageTypeRe.MatchString(st) || n < 0 {
			c.Errorf(p+".storage_types."+st, "want a StorageType name such as GlacierStorage and a byte count of zero or more")
		}
	}
	for i, op := range b.Deny {
		dp := fmt.Sprintf("%s.deny[%d]", p, i)
		if !deniable[op] {
			c.Errorf(dp, "%q is not an operation the emulator answers (want one of %s)", op, strings.Join(deniableOps, ", "))
		}
		if op == "DescribeKey" && !kms {
			c.Errorf(dp, "DescribeKey needs a bucket encrypted with aws:kms or aws:kms:dsse")
		}
	}
}

var storageTypeRe = regexp.MustCompile(`^[A-Z][A-Za-z]+$`)

// resolveKeyRef finds a bucket's key reference among the estate's keys.
func resolveKeyRef(ref, account string, accounts map[string]int, keys map[string]Key) (Key, string, bool) {
	if ref == managedAlias {
		return Key{}, account, true
	}
	if strings.HasPrefix(ref, "arn:") {
		m := keyARNRe.FindStringSubmatch(ref)
		if m == nil {
			return Key{}, "", false
		}
		owner := m[3]
		if _, ok := accounts[owner]; !ok {
			return Key{}, owner, false
		}
		if m[4] == managedAlias {
			return Key{ID: managedAlias, Region: m[2]}, owner, true
		}
		k := keys[owner+"/"+strings.TrimPrefix(m[4], "key/")]
		if k.ID != "" && k.Region != m[2] {
			return Key{}, owner, true
		}
		return k, owner, true
	}
	if !keyIDRe.MatchString(ref) {
		return Key{}, "", false
	}
	return keys[account+"/"+ref], account, true
}

func arnPartition(arn string) string {
	if m := keyARNRe.FindStringSubmatch(arn); m != nil {
		return m[1]
	}
	return ""
}

func arnRegion(arn string) string {
	if m := keyARNRe.FindStringSubmatch(arn); m != nil {
		return m[2]
	}
	return ""
}

func checkRegion(c *yamlfile.Check, path, region string) {
	if region != "" && !knownRegion(region) {
		c.Errorf(path, "%q is not a known AWS region", region)
	}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// partition is the account's partition, aws unless given. An account of
// no stated partition may hold buckets of any region, as estates written
// before partitions did.
func (a *Account) partition() string { return orDefault(a.Partition, "aws") }
