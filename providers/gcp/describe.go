package gcp

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"

	"github.com/reachaudit/reachaudit/providers"
)

// Describe records one bucket: metadata from the list (or one bucket GET
// when the list did not give it), the key, exposure and the probe. It never
// fails; what it cannot read becomes an unknown.
func (p *provider) Describe(ctx context.Context, ref providers.BucketRef) (b providers.Bucket) {
	b = providers.NewBucket("gcp", ref.Account, ref.Name, "gs://"+ref.Name)
	defer providers.RecoverDescribe(&b, p.env.Logger)
	b.Controller, b.ControllerEntity = Controller.Jurisdiction, Controller.Entity
	b.Operator, b.OperatorEntity = Controller.Jurisdiction, Controller.Entity
	bkt := p.storage.Bucket(ref.Name)

	source := "storage.buckets.list"
	attrs := p.takeListed(ref)
	if attrs == nil {
		source = "storage.buckets.get"
		a, err := providers.CallTimeout(ctx, p.env.Calls, source, p.cfg.timeout(), func(ctx context.Context) (*storage.BucketAttrs, error) {
			return bkt.Attrs(ctx)
		})
		if err != nil {
			grant := grantFor(err, source)
			for _, f := range []string{providers.FieldRegion, providers.FieldCustody, providers.FieldKey,
				providers.FieldVersioning, providers.FieldObjectLock, providers.FieldPublicAccessBlock,
				providers.FieldTags, providers.FieldRedundancy} {
				b.SetUnknown(f, source, err, grant)
			}
		}
		attrs = a
	}
	if attrs != nil {
		p.recordMetadata(ctx, &b, attrs, source)
	}
	p.recordExposure(ctx, &b, bkt, attrs)
	p.probe(ctx, &b, bkt, source)
	return b
}

func (p *provider) takeListed(ref providers.BucketRef) *storage.BucketAttrs {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := ref.Account + "/" + ref.Name
	a := p.listed[k]
	delete(p.listed, k)
	return a
}

// placeOf finds a bucket's place: a configurable dual-region by its data
// locations, anything else by its location code.
func placeOf(a *storage.BucketAttrs) (providers.Place, bool) {
	if a.CustomPlacementConfig != nil && len(a.CustomPlacementConfig.DataLocations) > 0 {
		return customDualRegion(a.Location, a.CustomPlacementConfig.DataLocations)
	}
	return Place(a.Location)
}

func regionOf(a *storage.BucketAttrs) string {
	if pl, ok := placeOf(a); ok {
		return pl.Region
	}
	return strings.ToLower(a.Location)
}

func (p *provider) recordMetadata(ctx context.Context, b *providers.Bucket, a *storage.BucketAttrs, source string) {
	if pl, ok := placeOf(a); ok {
		b.ApplyPlace(pl, Controller)
	} else {
		b.Region, b.LocationType = strings.ToLower(a.Location), a.LocationType
		where := a.Location
		if a.CustomPlacementConfig != nil {
			where += " " + strings.Join(a.CustomPlacementConfig.DataLocations, "+")
		}
		b.SetUnknown(providers.FieldRegion, source,
			fmt.Errorf("location %q is not in the GCS location table", strings.TrimSpace(where)), "")
	}

	b.Tags = map[string]string{}
	maps.Copy(b.Tags, a.Labels)

	b.Versioning = providers.VersioningOff
	if a.VersioningEnabled {
		b.Versioning = providers.VersioningEnabled
	}
	b.ObjectLock = providers.TriOf(a.RetentionPolicy != nil && a.RetentionPolicy.IsLocked)

	switch a.PublicAccessPrevention {
	case storage.PublicAccessPreventionEnforced:
		b.PublicAccessBlock = providers.Yes
	case storage.PublicAccessPreventionInherited:
		// Inherited means the organisation policy decides, which a
		// bucket reader cannot see; the bucket itself does not block.
		b.PublicAccessBlock = providers.No
	default:
		b.SetUnknown(providers.FieldPublicAccessBlock, source,
			errors.New("iamConfiguration.publicAccessPrevention is absent from the bucket resource"), "")
	}

	switch {
	case a.RPO == storage.RPOAsyncTurbo:
		b.Redundancy = "turbo"
	case b.LocationType == providers.LocationDualRegion:
		b.Redundancy = "dual-region"
	case b.LocationType == providers.LocationMultiRegion:
		b.Redundancy = "multi-region"
	}
	b.RedundancyScope = redundancyScope[b.LocationType]

	keyName := ""
	if a.Encryption != nil {
		keyName = a.Encryption.DefaultKMSKeyName
	}
	p.recordKey(ctx, b, keyName)
}

// recordExposure decides whether anyone on the internet can read the
// bucket: public access prevention rules it out; otherwise the IAM policy
// and, where access is fine-grained, the bucket ACL and default object ACL
// are searched for allUsers and allAuthenticatedUsers.
func (p *provider) recordExposure(ctx context.Context, b *providers.Bucket, bkt *storage.BucketHandle, a *storage.BucketAttrs) {
	if a != nil && a.PublicAccessPrevention == storage.PublicAccessPreventionEnforced {
		b.Public = providers.No
		return
	}
	var via []string
	type failure struct {
		api, grant string
		err        error
	}
	var failed []failure

	pol, err := providers.CallTimeout(ctx, p.env.Calls, "storage.buckets.getIamPolicy", p.cfg.timeout(), func(ctx context.Context) ([]string, error) {
		pol, err := bkt.IAM().V3().Policy(ctx)
		if err != nil {
			return nil, err
		}
		var via []string
		for _, bd := range pol.Bindings {
			for _, m := range bd.GetMembers() {
				if m == "allUsers" || m == "allAuthenticatedUsers" {
					via = append(via, "iam:"+bd.GetRole()+":"+m)
				}
			}
		}
		return via, nil
	})
	if err != nil {
		failed = append(failed, failure{"storage.buckets.getIamPolicy", grantFor(err, "storage.buckets.getIamPolicy"), err})
	}
	via = append(via, pol...)

	if a == nil || !a.UniformBucketLevelAccess.Enabled {
		var acl []storage.ACLRule
		if a != nil {
			acl = a.ACL
		}
		// The list gives the ACL only to callers allowed to read it; an
		// empty one (every bucket has owners) means it was withheld.
		if len(acl) == 0 {
			rules, err := providers.CallTimeout(ctx, p.env.Calls, "storage.bucketAccessControls.list", p.cfg.timeout(), func(ctx context.Context) ([]storage.ACLRule, error) {
				return bkt.ACL().List(ctx)
			})
			switch {
			case isUniformAccess(err):
			case err != nil:
				failed = append(failed, failure{"storage.bucketAccessControls.list", grantFor(err, "storage.buckets.getIamPolicy"), err})
			}
			acl = rules
		}
		via = append(via, publicRules("acl", acl)...)
		if a != nil {
			via = append(via, publicRules("default-object-acl", a.DefaultObjectACL)...)
		}
	}

	switch {
	case len(via) > 0:
		sort.Strings(via)
		b.Public, b.PublicVia = providers.Yes, via
	case len(failed) > 0:
		b.Public = providers.TriUnknown
		for _, f := range failed {
			b.SetUnknown(providers.FieldPublic, f.api, f.err, f.grant)
		}
	default:
		b.Public = providers.No
	}
}

func publicRules(kind string, rules []storage.ACLRule) []string {
	var out []string
	for _, r := range rules {
		if r.Entity == storage.AllUsers || r.Entity == storage.AllAuthenticatedUsers {
			out = append(out, kind+":"+string(r.Role)+":"+string(r.Entity))
		}
	}
	return out
}

// probe reads the data plane once: a one-object list, or the canary
// object's metadata when one is configured. The bucket's metadata was read
// by the list (or a bucket GET) moments before, which is the control-plane
// half of the probe.
func (p *provider) probe(ctx context.Context, b *providers.Bucket, bkt *storage.BucketHandle, source string) {
	providers.RecordProbe(b, func() providers.Reachability { return p.probeOnce(ctx, bkt, source) })
}

func (p *provider) probeOnce(ctx context.Context, bkt *storage.BucketHandle, source string) providers.Reachability {
	var r providers.Reachability
	op := "storage.objects.list"
	if p.cfg.Canary != "" {
		op = "storage.objects.get"
	}
	r.Probe = source + "+" + op
	start := time.Now()
	_, err := providers.CallTimeout(ctx, p.env.Calls, op, p.cfg.timeout(), func(ctx context.Context) (struct{}, error) {
		if p.cfg.Canary != "" {
			_, err := bkt.Object(p.cfg.Canary).Attrs(ctx)
			return struct{}{}, err
		}
		q := &storage.Query{}
		if err := q.SetAttrSelection([]string{"Name"}); err != nil {
			return struct{}{}, err
		}
		var objs []*storage.ObjectAttrs
		_, err := iterator.NewPager(bkt.Objects(ctx, q), 1, "").NextPage(&objs)
		return struct{}{}, err
	})
	r.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
	if err == nil {
		r.Reachable = true
		return r
	}
	st, reason := errStatus(err)
	r.Failure = apiCodes.Classify(err, st, reason)
	r.Error = explain(err, op).Error()
	return r
}
