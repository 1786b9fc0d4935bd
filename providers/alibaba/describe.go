package alibaba

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"time"

	"github.com/aliyun/aliyun-oss-go-sdk/oss"

	"github.com/reachaudit/reachaudit/providers"
)

// errV1Unsigned explains the fields a V1-signing scan cannot read.
var errV1Unsigned = errors.New("not asked: the V1 signature cannot cover this sub-resource " +
	"and OSS would refuse the request; set auth_version: v4")

// Describe reads one bucket: GetBucketInfo (place, endpoints, redundancy,
// ACL, versioning, encryption, and Block Public Access on current answers),
// DescribeKey for a KMS key (cached), GetBucketWorm, GetBucketReplication,
// GetBucketPolicyStatus, GetBucketPublicAccessBlock when GetBucketInfo did
// not carry it, GetBucketTags, and the probe. What fails is recorded as
// unknown; the bucket is always returned.
func (p *provider) Describe(ctx context.Context, ref providers.BucketRef) (b providers.Bucket) {
	b = providers.NewBucket(name, ref.Account, ref.Name, "oss://"+ref.Name)
	defer providers.RecoverDescribe(&b, p.env.Logger)
	region := ref.Region
	if region == "" {
		// GetBucketInfo may be asked at any endpoint; its answer names the
		// bucket's own region.
		region = p.cfg.listRegion()
	}
	c, err := p.ossClient(ref.Account, region)
	if err != nil {
		p.allUnknown(&b, err)
		return b
	}

	info, infoErr := call(ctx, p, "GetBucketInfo", func(ctx context.Context) (bucketInfo, error) {
		body, err := get(ctx, c, ref.Name, map[string]interface{}{"bucketInfo": nil})
		if err != nil {
			return bucketInfo{}, err
		}
		return parseBucketInfo(body)
	})
	keyID := ""
	if infoErr != nil {
		for _, f := range []string{providers.FieldCustody, providers.FieldVersioning, providers.FieldRedundancy} {
			b.SetUnknown(f, "oss:GetBucketInfo", infoErr, permission(infoErr, "oss:GetBucketInfo"))
		}
		if ref.Region != "" {
			applyPlace(&b, ref.Region, "oss:ListBuckets")
		} else {
			b.SetUnknown(providers.FieldRegion, "oss:GetBucketInfo", infoErr, permission(infoErr, "oss:GetBucketInfo"))
		}
	} else {
		keyID = applyBucketInfo(&b, info)
		if r := RegionID(info.Location); r != "" && r != region {
			if c2, err := p.ossClient(ref.Account, r); err == nil {
				c, region = c2, r
			}
		}
	}
	if keyID != "" {
		p.describeBucketKey(ctx, &b, ref.Account, region, keyID)
	}
	p.retention(ctx, &b, c, ref.Name)
	p.replication(ctx, &b, c, ref.Name)
	p.exposure(ctx, &b, c, ref.Name, info, infoErr)
	p.tags(ctx, &b, c, ref.Name)
	p.size(ctx, &b, c, ref.Name)
	providers.RecordProbe(&b, func() providers.Reachability { return p.probe(ctx, c, ref.Name) })
	return b
}

// sizeSource names GetBucketStat in size records.
const sizeSource = "oss:GetBucketStat"

// size reads the bucket's statistics (one call: OSS has no bulk form).
// Statistics a bucket does not have yet (LastModifiedTime 0) are unknown,
// not zero.
func (p *provider) size(ctx context.Context, b *providers.Bucket, c *oss.Client, bucket string) {
	st, err := call(ctx, p, "GetBucketStat", func(ctx context.Context) (bucketStat, error) {
		body, err := get(ctx, c, bucket, map[string]interface{}{"stat": nil})
		if err != nil {
			return bucketStat{}, err
		}
		var st bucketStat
		if err := xml.Unmarshal(body, &st); err != nil {
			return bucketStat{}, fmt.Errorf("GetBucketStat answered a document that does not parse: %w", err)
		}
		return st, nil
	})
	switch {
	case err != nil:
		b.SetUnknown(providers.FieldSize, sizeSource, err, permission(err, "oss:GetBucketStat"))
	case st.LastModifiedTime <= 0:
		b.SetUnknown(providers.FieldSize, sizeSource, errors.New("no statistics yet (OSS computes them some hours after a bucket is created)"), "")
	default:
		objects := st.ObjectCount
		b.Size = &providers.Size{Bytes: st.Storage, Objects: &objects,
			AsOf: time.Unix(st.LastModifiedTime, 0).UTC(), Source: sizeSource}
	}
}

type bucketStat struct {
	Storage          int64 `xml:"Storage"`
	ObjectCount      int64 `xml:"ObjectCount"`
	LastModifiedTime int64 `xml:"LastModifiedTime"`
}

// allUnknown records that nothing could be read.
func (p *provider) allUnknown(b *providers.Bucket, err error) {
	for _, f := range []string{providers.FieldCustody, providers.FieldVersioning, providers.FieldObjectLock, providers.FieldRedundancy,
		providers.FieldCopies, providers.FieldPublic, providers.FieldPublicAccessBlock, providers.FieldTags} {
		b.SetUnknown(f, "oss:GetBucketInfo", err, "")
	}
	b.Reachability = providers.Reachability{Failure: providers.FailOther, Error: err.Error(), Probe: "GetBucketInfo"}
}

// permission names the RAM action to grant when err is a denial.
func permission(err error, action string) string {
	if isDenied(err) {
		return action
	}
	return ""
}

func (p *provider) describeBucketKey(ctx context.Context, b *providers.Bucket, account, region, keyID string) {
	meta, err := p.describeKey(ctx, account, region, keyID)
	if err != nil {
		b.Key = &providers.Key{ID: keyID, Region: region, State: providers.KeyStateUnknown}
		perm := permission(err, "kms:DescribeKey")
		b.SetUnknown(providers.FieldCustody, "kms:DescribeKey", err, perm)
		b.SetUnknown(providers.FieldKey, "kms:DescribeKey", err, perm)
		return
	}
	if meta.KeyID == "" {
		meta.KeyID = keyID
	}
	b.Custody, b.Key = keyRecord(meta, region)
}

// retention reads the bucket's WORM retention policy, OSS's object lock:
// none (NoSuchWORMConfiguration) and one not yet locked are no lock.
func (p *provider) retention(ctx context.Context, b *providers.Bucket, c *oss.Client, bucket string) {
	lock, err := call(ctx, p, "GetBucketWorm", func(ctx context.Context) (providers.Tri, error) {
		body, err := get(ctx, c, bucket, map[string]interface{}{"worm": nil})
		if err != nil {
			if absentOK(err) == nil {
				return providers.No, nil
			}
			return providers.TriUnknown, err
		}
		return parseWorm(body)
	})
	if err != nil {
		b.SetUnknown(providers.FieldObjectLock, "oss:GetBucketWorm", err, permission(err, "oss:GetBucketWorm"))
		return
	}
	b.ObjectLock = lock
}

func (p *provider) replication(ctx context.Context, b *providers.Bucket, c *oss.Client, bucket string) {
	res, err := call(ctx, p, "GetBucketReplication", func(ctx context.Context) (oss.GetBucketReplicationResult, error) {
		body, err := get(ctx, c, bucket, map[string]interface{}{"replication": nil})
		if err != nil {
			return oss.GetBucketReplicationResult{}, absentOK(err)
		}
		return parseReplication(body)
	})
	switch {
	case err == nil:
		b.Copies = copiesOf(res)
	default:
		b.SetUnknown(providers.FieldCopies, "oss:GetBucketReplication", err, permission(err, "oss:GetBucketReplication"))
	}
}

// exposure decides Public and PublicAccessBlock from the ACL, the policy
// status and Block Public Access. With Block Public Access on, OSS ignores
// public ACLs and policies, so the bucket is not public whatever they say.
func (p *provider) exposure(ctx context.Context, b *providers.Bucket, c *oss.Client, bucket string, info bucketInfo, infoErr error) {
	var via []string
	unknown := false
	if infoErr != nil {
		unknown = true
	} else if aclPublic(info.ACL) {
		via = append(via, "acl:"+info.ACL)
	}

	if p.cfg.v1() {
		unknown = true
		b.SetUnknown(providers.FieldPublic, "oss:GetBucketPolicyStatus", errV1Unsigned, "")
	} else {
		public, err := call(ctx, p, "GetBucketPolicyStatus", func(ctx context.Context) (bool, error) {
			// The v1 SDK has no GetBucketPolicyStatus; see get.
			body, err := get(ctx, c, bucket, map[string]interface{}{"policyStatus": nil})
			if err != nil {
				return false, absentOK(err)
			}
			return parsePolicyStatus(body)
		})
		switch {
		case err == nil:
			if public {
				via = append(via, "bucket-policy")
			}
		default:
			unknown = true
			b.SetUnknown(providers.FieldPublic, "oss:GetBucketPolicyStatus", err, permission(err, "oss:GetBucketPolicyStatus"))
		}
	}

	switch {
	case infoErr == nil && info.BlockPublicAccess != nil:
		b.PublicAccessBlock = providers.TriOf(*info.BlockPublicAccess)
	case p.cfg.v1():
		b.SetUnknown(providers.FieldPublicAccessBlock, "oss:GetBucketPublicAccessBlock", errV1Unsigned, "")
	default:
		block, err := call(ctx, p, "GetBucketPublicAccessBlock", func(ctx context.Context) (bool, error) {
			// The v1 SDK has no GetBucketPublicAccessBlock; see get.
			body, err := get(ctx, c, bucket, map[string]interface{}{"publicAccessBlock": nil})
			if err != nil {
				return false, absentOK(err)
			}
			return parsePublicAccessBlock(body)
		})
		switch {
		case err == nil:
			b.PublicAccessBlock = providers.TriOf(block)
		default:
			b.SetUnknown(providers.FieldPublicAccessBlock, "oss:GetBucketPublicAccessBlock", err,
				permission(err, "oss:GetBucketPublicAccessBlock"))
		}
	}

	switch {
	case b.PublicAccessBlock == providers.Yes:
		b.Public = providers.No
	case len(via) > 0:
		b.Public, b.PublicVia = providers.Yes, via
	case unknown:
		b.Public = providers.TriUnknown
		if infoErr != nil {
			b.SetUnknown(providers.FieldPublic, "oss:GetBucketInfo", infoErr, permission(infoErr, "oss:GetBucketInfo"))
		}
	default:
		b.Public = providers.No
	}
}

func (p *provider) tags(ctx context.Context, b *providers.Bucket, c *oss.Client, bucket string) {
	res, err := call(ctx, p, "GetBucketTags", func(ctx context.Context) (oss.GetBucketTaggingResult, error) {
		body, err := get(ctx, c, bucket, map[string]interface{}{"tagging": nil})
		if err != nil {
			return oss.GetBucketTaggingResult{}, absentOK(err)
		}
		return parseTagging(body)
	})
	switch {
	case err == nil:
		b.Tags = tagsOf(res)
	default:
		b.SetUnknown(providers.FieldTags, "oss:GetBucketTagging", err, permission(err, "oss:GetBucketTagging"))
	}
}

// probe reads the data plane as a client would: a one-key list, or a HEAD
// of the configured canary object. GetBucketInfo already proved the control
// plane answers; this proves the data can be read.
func (p *provider) probe(ctx context.Context, c *oss.Client, bucket string) providers.Reachability {
	r := providers.Reachability{Probe: "GetBucketInfo+ListObjectsV2"}
	op := "ListObjectsV2"
	if p.cfg.Canary != "" {
		r.Probe, op = "GetBucketInfo+GetObjectMeta", "GetObjectMeta"
	}
	bk, err := c.Bucket(bucket)
	if err != nil {
		r.Failure, r.Error = providers.FailOther, err.Error()
		return r
	}
	start := time.Now()
	_, err = call(ctx, p, op, func(ctx context.Context) (struct{}, error) {
		if p.cfg.Canary != "" {
			_, err := bk.GetObjectMeta(p.cfg.Canary, oss.WithContext(ctx))
			return struct{}{}, err
		}
		_, err := bk.ListObjectsV2(oss.MaxKeys(1), oss.WithContext(ctx))
		return struct{}{}, err
	})
	r.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
	if err != nil {
		status, code := errorInfo(err)
		r.Failure, r.Error = apiCodes.Classify(err, status, code), err.Error()
		return r
	}
	r.Reachable = true
	return r
}
