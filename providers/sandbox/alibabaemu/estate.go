package alibabaemu

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
	"github.com/reachaudit/reachaudit/providers/alibaba"
	"github.com/reachaudit/reachaudit/providers/sandbox"
)

// Estate is the `alibaba:` section of an estate file.
type Estate struct {
	Accounts []Account `yaml:"accounts"`
	// ResourceDirectory is the directory the accounts are members of.
	ResourceDirectory *ResourceDirectory `yaml:"resource_directory"`
}

// Account is one Alibaba Cloud account, with its own AccessKey pair.
type Account struct {
	ID string `yaml:"id"`
	// Throttle answers 503 ServerBusy to the account's OSS requests above
	// its rate.
	Throttle *sandbox.Throttle `yaml:"throttle"`
	Keys     []Key             `yaml:"keys"`
	Buckets  []Bucket          `yaml:"buckets"`
}

// Key is an Alibaba KMS key.
type Key struct {
	ID     string `yaml:"id"`
	Region string `yaml:"region"`
	// Origin is Aliyun_KMS (default) or EXTERNAL (imported material).
	Origin string `yaml:"origin"`
	// ProtectionLevel is SOFTWARE (default) or HSM.
	ProtectionLevel string `yaml:"protection_level"`
	// Creator is the account id (default) or a service name such as Oss
	// for a key KMS made for a service.
	Creator string `yaml:"creator"`
	// State is Enabled (default), Disabled, PendingDeletion or PendingImport.
	State string `yaml:"state"`
	// MaterialExpireTime is when imported key material expires.
	MaterialExpireTime sandbox.When `yaml:"material_expire_time"`
}

// Bucket is an OSS bucket and its settings.
type Bucket struct {
	Name   string `yaml:"name"`
	Region string `yaml:"region"`
	// Encryption is the default encryption; absent means none.
	Encryption *Encryption `yaml:"encryption"`
	// Redundancy is LRS (default) or ZRS.
	Redundancy string `yaml:"redundancy"`
	// Versioning is Enabled, Suspended or Off (default, never turned on);
	// see sandbox.Versioning.
	Versioning sandbox.Versioning `yaml:"versioning"`
	// ObjectLock true gives the bucket a locked WORM retention policy,
	// OSS's object lock; false (default), none.
	ObjectLock bool `yaml:"object_lock"`
	// ACL is private (default), public-read or public-read-write.
	ACL               string            `yaml:"acl"`
	BlockPublicAccess bool              `yaml:"block_public_access"`
	Replication       []Replica         `yaml:"replication"`
	Tags              map[string]string `yaml:"tags"`
	// Reachable false makes the data plane (ListObjectsV2, HeadObject,
	// GetObject) answer 403; default true.
	Reachable *bool `yaml:"reachable"`
	// Deny lists OSS API names that answer AccessDenied for this bucket.
	// DescribeKey here denies describing the bucket's key.
	Deny []string `yaml:"deny"`
	// Bytes and Objects are what GetBucketStat reports; absent, the
	// bucket has no statistics yet, as a bucket younger than a day.
	Bytes   *int64 `yaml:"bytes"`
	Objects *int64 `yaml:"objects"`
}

// Encryption is a bucket's default encryption.
type Encryption struct {
	// Algorithm is AES256, KMS, SM4 or none.
	Algorithm string `yaml:"algorithm"`
	// Key is a key id of the bucket's account, for KMS; absent means the
	// OSS-managed key.
	Key string `yaml:"key"`
}

// Replica is a replication rule's destination.
type Replica struct {
	Bucket string `yaml:"bucket"`
	Region string `yaml:"region"`
}

// ops are the OSS and KMS API names the emulator answers; deny and faults
// name them.
var ops = []string{
	"ListBuckets", "GetBucketInfo", "GetBucketLocation", "GetBucketAcl", "GetBucketVersioning",
	"GetBucketEncryption", "GetBucketReplication", "GetBucketPolicy", "GetBucketPolicyStatus",
	"GetBucketPublicAccessBlock", "GetBucketTags", "ListObjects", "ListObjectsV2", "HeadObject",
	"GetObject", "GetObjectMeta", "DescribeKey", "GetBucketStat", "GetBucketWorm",
}

var (
	accountIDRe  = regexp.MustCompile(`^[0-9]{16}$`)
	keyIDRe      = regexp.MustCompile(`^[A-Za-z0-9-]{1,128}$`)
	bucketNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
)

// Validate checks the section's values; paths are relative to the section.
func (e *Estate) Validate(c *yamlfile.Check) {
	if e.ResourceDirectory != nil {
		e.ResourceDirectory.validate(c, "resource_directory")
	}
	accounts := map[string]int{}
	buckets := map[string]string{}
	for i, a := range e.Accounts {
		p := fmt.Sprintf("accounts[%d]", i)
		c.Required(p+".id", a.ID)
		if a.ID != "" && !accountIDRe.MatchString(a.ID) {
			c.Errorf(p+".id", "%q is not a 16-digit Alibaba Cloud account id", a.ID)
		}
		if j, dup := accounts[a.ID]; dup && a.ID != "" {
			c.Errorf(p+".id", "account %s is also accounts[%d]", a.ID, j)
		}
		accounts[a.ID] = i
		a.Throttle.Validate(c, p+".throttle")
		keys := map[string]Key{}
		for j, k := range a.Keys {
			kp := fmt.Sprintf("%s.keys[%d]", p, j)
			c.Required(kp+".id", k.ID)
			if k.ID != "" && !keyIDRe.MatchString(k.ID) {
				c.Errorf(kp+".id", "%q is not a KMS key id", k.ID)
			}
			if _, dup := keys[k.ID]; dup && k.ID != "" {
				c.Errorf(kp+".id", "key %s is given twice", k.ID)
			}
			keys[k.ID] = k
			c.Required(kp+".region", k.Region)
			checkRegion(c, kp+".region", k.Region)
			c.OneOf(kp+".origin", k.Origin, "Aliyun_KMS", "EXTERNAL")
			c.OneOf(kp+".protection_level", k.ProtectionLevel, "SOFTWARE", "HSM")
			c.OneOf(kp+".state", k.State, "Enabled", "Disabled", "PendingDeletion", "PendingImport")
			if !k.MaterialExpireTime.IsZero() && k.Origin != "EXTERNAL" {
				c.Errorf(kp+".material_expire_time", "only imported key material (origin EXTERNAL) expires")
			}
			if k.State == "PendingImport" && k.Origin != "EXTERNAL" {
				c.Errorf(kp+".state", "only a key with origin EXTERNAL waits for import")
			}
		}
		for j, b := range a.Buckets {
			bp := fmt.Sprintf("%s.buckets[%d]", p, j)
			c.Required(bp+".name", b.Name)
			if b.Name != "" && !bucketNameRe.MatchString(b.Name) {
				c.Errorf(bp+".name", "%q is not an OSS bucket name (3-63 lower-case letters, digits and hyphens)", b.Name)
			}
			if other, dup := buckets[b.Name]; dup && b.Name != "" {
				c.Errorf(bp+".name", "bucket names are global: %q is also %s", b.Name, other)
			}
			buckets[b.Name] = bp
			c.Required(bp+".region", b.Region)
			checkRegion(c, bp+".region", b.Region)
			c.OneOf(bp+".redundancy", b.Redundancy, "LRS", "ZRS")
			b.Versioning.Check(c, bp+".versioning")
			c.OneOf(bp+".acl", b.ACL, "private", "public-read", "public-read-write")
			if enc := b.Encryption; enc != nil {
				c.Required(bp+".encryption.algorithm", enc.Algorithm)
				c.OneOf(bp+".encryption.algorithm", enc.Algorithm, "AES256", "KMS", "SM4", "none")
				if enc.Algorithm != "KMS" && enc.Key != "" {
					c.Errorf(bp+".encryption.key", "a key goes with algorithm KMS")
				}
				if enc.Key != "" {
					k, ok := keys[enc.Key]
					switch {
					case !ok:
						c.Errorf(bp+".encryption.key", "key %q is not a key of account %s", enc.Key, a.ID)
					case k.Region != b.Region:
						c.Errorf(bp+".encryption.key", "key %s is in %s; OSS needs a key in the bucket's region %s", enc.Key, k.Region, b.Region)
					}
				}
			}
			for r, rep := range b.Replication {
				rp := fmt.Sprintf("%s.replication[%d]", bp, r)
				c.Required(rp+".bucket", rep.Bucket)
				if rep.Bucket != "" && !bucketNameRe.MatchString(rep.Bucket) {
					c.Errorf(rp+".bucket", "%q is not an OSS bucket name", rep.Bucket)
				}
				if rep.Bucket == b.Name && b.Name != "" {
					c.Errorf(rp+".bucket", "a bucket cannot replicate to itself")
				}
				c.Required(rp+".region", rep.Region)
				checkRegion(c, rp+".region", rep.Region)
			}
			if b.Bytes != nil && *b.Bytes < 0 {
				c.Errorf(bp+".bytes", "must be zero or more")
			}
			if b.Objects != nil && *b.Objects < 0 {
				c.Errorf(bp+".objects", "must be zero or more")
			}
			for d, op := range b.Deny {
				if canonicalOp(op) == "" {
					c.Errorf(fmt.Sprintf("%s.deny[%d]", bp, d), "%q is not an OSS or KMS API name (want one of %s)", op, strings.Join(ops, ", "))
				}
			}
		}
	}
}

func checkRegion(c *yamlfile.Check, path, region string) {
	if region == "" {
		return
	}
	if strings.HasPrefix(region, "oss-") {
		c.Errorf(path, "%q: give the region id without the oss- prefix", region)
		return
	}
	if _, ok := alibaba.Place(region); !ok {
		c.Errorf(path, "%q is not an OSS region id (like cn-hangzhou)", region)
	}
}

// canonicalOp returns the API name op stands for, or "". GetBucketTagging
// (the RAM action's name) is taken for GetBucketTags (the API's).
func canonicalOp(op string) string {
	if op == "GetBucketTagging" {
		return "GetBucketTags"
	}
	i := sort.SearchStrings(sortedOps, op)
	if i < len(sortedOps) && sortedOps[i] == op {
		return op
	}
	return ""
}

var sortedOps = func() []string {
	s := append([]string(nil), ops...)
	sort.Strings(s)
	return s
}()
