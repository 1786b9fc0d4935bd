package gcpemu

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/gcp"
	"github.com/reachaudit/reachaudit/providers/sandbox"
)

// Section is the estate file's `gcp:` section.
type Section struct {
	Projects []Project `yaml:"projects"`
	// Organization is the resource hierarchy above the projects.
	Organization *Organization `yaml:"organization"`
}

// Project is one GCP project with its keys and buckets.
type Project struct {
	ID string `yaml:"id"`
	// Throttle answers 429 rateLimitExceeded to the project's Cloud
	// Storage requests above its rate.
	Throttle *sandbox.Throttle `yaml:"throttle"`
	Keys     []Key             `yaml:"keys"`
	Buckets  []Bucket          `yaml:"buckets"`
}

// Key is a Cloud KMS key. Its name may sit in another project than the one
// that lists it (a key held by a partner): KMS finds keys by name.
type Key struct {
	Name string `yaml:"name"`
	// ProtectionLevel of the primary version; default SOFTWARE.
	ProtectionLevel string `yaml:"protection_level"`
	// State of the primary version; default ENABLED.
	State string `yaml:"state"`
	// DestroyTime of a DESTROY_SCHEDULED or DESTROYED version; default
	// 30 days after the sandbox starts, the service's default schedule.
	DestroyTime sandbox.When `yaml:"destroy_time"`
}

// Bucket is one Cloud Storage bucket.
type Bucket struct {
	Name string `yaml:"name"`
	// Location is a region, predefined dual-region or multi-region code.
	Location string `yaml:"location"`
	// DataLocations makes a configurable dual-region: two regions inside
	// the multi-region Location.
	DataLocations []string `yaml:"data_locations"`
	DefaultKMSKey string   `yaml:"default_kms_key"`
	// Versioning is Enabled, Suspended or Off (default), or true/false;
	// see sandbox.Versioning. GCS knows only on and off.
	Versioning      sandbox.Versioning `yaml:"versioning"`
	RetentionLocked bool               `yaml:"retention_locked"`
	// Public puts allUsers in the bucket IAM policy.
	Public bool `yaml:"public"`
	// PublicACL grants allUsers READER in the bucket ACL (fine-grained
	// access only).
	PublicACL bool `yaml:"public_acl"`
	// UniformAccess is uniform bucket-level access; default true.
	UniformAccess *bool `yaml:"uniform_access"`
	// PublicAccessPrevention enforced on the bucket; default inherited.
	PublicAccessPrevention bool              `yaml:"public_access_prevention"`
	TurboReplication       bool              `yaml:"turbo_replication"`
	Labels                 map[string]string `yaml:"labels"`
	// Objects are the names of objects in the bucket (for the probe and
	// canary reads; they have no content).
	Objects []string `yaml:"object_names"`
	// Reachable false makes the data plane answer 403.
	Reachable *bool `yaml:"reachable"`
	// Deny lists IAM permissions whose calls answer permission denied.
	// cloudkms.cryptoKeys.get denies reading the bucket's default key;
	// storage.buckets.list denies listing the bucket's project;
	// monitoring.timeSeries.list denies reading the project's metrics.
	Deny []string `yaml:"deny"`
	// Bytes and ObjectCount are what Cloud Monitoring's storage metrics
	// report, as every cloud's estate gives them (object_names: names the
	// objects themselves); absent: no datapoint, as for a bucket younger
	// than a day.
	Bytes       *int64 `yaml:"bytes"`
	ObjectCount *int64 `yaml:"objects"`
}

// Permissions a bucket's deny may name.
var Permissions = []string{
	"storage.buckets.list", "storage.buckets.get", "storage.buckets.getIamPolicy",
	"storage.objects.list", "storage.objects.get", "monitoring.timeSeries.list",
	"cloudkms.cryptoKeys.get", "cloudkms.cryptoKeyVersions.get",
}

var (
	protectionLevels = []string{"SOFTWARE", "HSM", "HSM_SINGLE_TENANT", "EXTERNAL", "EXTERNAL_VPC"}
	keyStates        = []string{"ENABLED", "DISABLED", "DESTROY_SCHEDULED", "DESTROYED", "PENDING_IMPORT"}
	projectIDRe      = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	keyNameRe        = regexp.MustCompile(`^projects/([a-z][a-z0-9-]{4,28}[a-z0-9])/locations/[a-z0-9-]+/keyRings/[A-Za-z0-9_-]+/cryptoKeys/[A-Za-z0-9_-]+$`)
	bucketNameRe     = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]$`)
)

// uniform reports uniform bucket-level access, on unless turned off.
func (b *Bucket) uniform() bool { return b.UniformAccess == nil || *b.UniformAccess }

func (b *Bucket) reachable() bool { return b.Reachable == nil || *b.Reachable }

func (b *Bucket) denies(perm string) bool {
	for _, d := range b.Deny {
		if d == perm {
			return true
		}
	}
	return false
}

// Validate checks the section's values, naming fields by path.
func (s *Section) Validate(c *yamlfile.Check) {
	projects := map[string]bool{}
	keys := map[string]bool{}
	buckets := map[string]bool{}
	for i, p := range s.Projects {
		pp := fmt.Sprintf("projects[%d]", i)
		c.Required(pp+".id", p.ID)
		if p.ID != "" && !projectIDRe.MatchString(p.ID) {
			c.Errorf(pp+".id", "%q is not a GCP project id (6-30 lower-case letters, digits and hyphens)", p.ID)
		}
		if projects[p.ID] {
			c.Errorf(pp+".id", "project %q is given twice", p.ID)
		}
		projects[p.ID] = true
		p.Throttle.Validate(c, pp+".throttle")
		for j, k := range p.Keys {
			kp := fmt.Sprintf("%s.keys[%d]", pp, j)
			c.Required(kp+".name", k.Name)
			if k.Name != "" && !keyNameRe.MatchString(k.Name) {
				c.Errorf(kp+".name", "%q is not a key name like projects/P/locations/L/keyRings/R/cryptoKeys/K", k.Name)
			}
			if keys[k.Name] {
				c.Errorf(kp+".name", "key %q is given twice", k.Name)
			}
			keys[k.Name] = true
			c.OneOf(kp+".protection_level", k.ProtectionLevel, protectionLevels...)
			c.OneOf(kp+".state", k.State, keyStates...)
			if !k.DestroyTime.IsZero() && k.State != "DESTROY_SCHEDULED" && k.State != "DESTROYED" {
				c.Errorf(kp+".destroy_time", "only a DESTROY_SCHEDULED or DESTROYED key has a destroy time")
			}
		}
	}
	if s.Organization != nil {
		s.Organization.validate(c, "organization")
	}
	for i, p := range s.Projects {
		for j, b := range p.Buckets {
			s.validateBucket(c, fmt.Sprintf("projects[%d].buckets[%d]", i, j), &b, keys, buckets)
		}
	}
}

func (s *Section) validateBucket(c *yamlfile.Check, bp string, b *Bucket, keys, buckets map[string]bool) {
	c.Required(bp+".name", b.Name)
	if b.Name != "" && !bucketNameRe.MatchString(b.Name) {
		c.Errorf(bp+".name", "%q is not a bucket name (3-63 lower-case letters, digits, dots, hyphens, underscores)", b.Name)
	}
	if buckets[b.Name] {
		c.Errorf(bp+".name", "bucket %q is given twice (bucket names are global)", b.Name)
	}
	buckets[b.Name] = true
	c.Required(bp+".location", b.Location)
	pl, known := gcp.Place(b.Location)
	if b.Location != "" && !known {
		c.Errorf(bp+".location", "%q is not a GCS region, dual-region or multi-region", b.Location)
	}
	if len(b.DataLocations) > 0 {
		if known && pl.LocationType != providers.LocationMultiRegion {
			c.Errorf(bp+".data_locations", "a configurable dual-region needs a multi-region location (US, EU, ASIA), not %q", b.Location)
		}
		if len(b.DataLocations) != 2 {
			c.Errorf(bp+".data_locations", "a configurable dual-region has exactly two regions")
		}
		for k, dl := range b.DataLocations {
			if rp, ok := gcp.Place(dl); !ok || rp.LocationType != providers.LocationRegion {
				c.Errorf(fmt.Sprintf("%s.data_locations[%d]", bp, k), "%q is not a GCS region", dl)
			}
		}
	}
	b.Versioning.Check(c, bp+".versioning")
	dual := len(b.DataLocations) > 0 || (known && pl.LocationType == providers.LocationDualRegion)
	if b.TurboReplication && !dual {
		c.Errorf(bp+".turbo_replication", "turbo replication needs a dual-region location")
	}
	if b.DefaultKMSKey != "" && !keys[b.DefaultKMSKey] {
		c.Errorf(bp+".default_kms_key", "%q is not a key of this estate", b.DefaultKMSKey)
	}
	if b.PublicACL && b.uniform() {
		c.Errorf(bp+".public_acl", "an ACL grant needs uniform_access: false")
	}
	if b.PublicAccessPrevention && (b.Public || b.PublicACL) {
		c.Errorf(bp+".public_access_prevention", "enforced prevention refuses allUsers grants; drop public or public_acl")
	}
	for k, d := range b.Deny {
		c.OneOf(fmt.Sprintf("%s.deny[%d]", bp, k), d, Permissions...)
	}
	for k, o := range b.Objects {
		if o == "" || strings.HasPrefix(o, "/") {
			c.Errorf(fmt.Sprintf("%s.objects[%d]", bp, k), "%q is not an object name", o)
		}
	}
}
