package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/reachaudit/reachaudit/providers"
)

// s3op is what the plugin knows of one bucket-level read: the record field
// a failure leaves unknown, the IAM action that allows the call (S3's
// actions are not always named like its operations), and the error codes
// by which S3 says "not configured", which are facts, not failures.
type s3op struct {
	field      string
	permission string
	absent     []string
}

var s3ops = map[string]s3op{
	"GetBucketLocation":          {providers.FieldRegion, "s3:GetBucketLocation", nil},
	"GetBucketEncryption":        {providers.FieldCustody, "s3:GetEncryptionConfiguration", []string{"ServerSideEncryptionConfigurationNotFoundError"}},
	"GetBucketReplication":       {providers.FieldCopies, "s3:GetReplicationConfiguration", []string{"ReplicationConfigurationNotFoundError"}},
	"GetBucketVersioning":        {providers.FieldVersioning, "s3:GetBucketVersioning", nil},
	"GetObjectLockConfiguration": {providers.FieldObjectLock, "s3:GetBucketObjectLockConfiguration", []string{"ObjectLockConfigurationNotFoundError"}},
	"GetPublicAccessBlock":       {providers.FieldPublicAccessBlock, "s3:GetBucketPublicAccessBlock", []string{"NoSuchPublicAccessBlockConfiguration"}},
	"GetBucketPolicyStatus":      {providers.FieldPublic, "s3:GetBucketPolicyStatus", []string{"NoSuchBucketPolicy"}},
	"GetBucketAcl":               {providers.FieldPublic, "s3:GetBucketAcl", nil},
	"GetBucketTagging":           {providers.FieldTags, "s3:GetBucketTagging", []string{"NoSuchTagSet"}},
}

type outcome int

const (
	got outcome = iota
	absent
	failed
)

// read runs one bucket-level S3 call. A "not configured" answer comes back
// as absent; any other failure is recorded as an unknown on b, with the
// IAM action to grant when the answer was a denial.
func read[T any](ctx context.Context, p *Provider, b *providers.Bucket, op string, fn func(context.Context) (T, error)) (T, outcome) {
	v, err := call(ctx, p, op, func(ctx context.Context) (T, error) {
		v, err := fn(ctx)
		if _, code := apiFacts(err); err != nil && slices.Contains(s3ops[op].absent, code) {
			err = &providers.AbsentError{Err: err} // counted as an answer, not a failure
		}
		return v, err
	})
	if err == nil {
		return v, got
	}
	return v, recordFailure(b, op, err)
}

// recordFailure sorts a failed S3 call's error into absent or failed,
// recording the latter on b.
func recordFailure(b *providers.Bucket, op string, err error) outcome {
	if providers.IsAbsent(err) {
		return absent
	}
	spec := s3ops[op]
	status, code := apiFacts(err)
	perm := ""
	if apiCodes.IsDenied(status, code) {
		perm = spec.permission
	}
	b.SetUnknown(spec.field, "s3:"+op, shortError(err), perm)
	return failed
}

// Describe reads one bucket. It never fails: each call that fails leaves
// its fields unknown and the rest of the record is still read.
func (p *Provider) Describe(ctx context.Context, ref providers.BucketRef) (b providers.Bucket) {
	b = providers.NewBucket(name, ref.Account, ref.Name, scheme+"://"+ref.Name)
	defer providers.RecoverDescribe(&b, p.log)
	region := ref.Region
	if region == "" {
		if v, ok := p.bucketRegions.Load(ref.Name); ok {
			region = v.(string)
		}
	}
	if region == "" {
		region = p.locate(ctx, p.s3Client(ref.Account, p.region), ref.Account, ref.Name, &b)
		if region != "" {
			p.bucketRegions.Store(ref.Name, region)
		}
	}
	p.place(&b, region)
	if region == "" {
		// Without the bucket's region the calls may be redirected, but
		// trying still tells more than giving up.
		region = p.region
	}
	c := p.s3Client(ref.Account, region)
	p.readEncryption(ctx, c, &b, region)
	p.readReplication(ctx, c, &b)
	p.readVersioning(ctx, c, &b)
	p.readObjectLock(ctx, c, &b)
	p.readExposure(ctx, c, &b)
	p.readTags(ctx, c, &b)
	p.probe(ctx, c, &b)
	if len(b.Unknowns) > 0 {
		p.log.Debug("bucket read in part", "account", b.Account, "bucket", b.Name, "unknowns", len(b.Unknowns))
	}
	return b
}

// owner is the ExpectedBucketOwner of every bucket call: S3 refuses the
// call if the bucket now belongs to another account (deleted and its name
// taken since the listing), so a record never mixes two owners' facts.
func owner(account string) *string {
	if !accountID.MatchString(account) {
		return nil
	}
	return aws.String(account)
}

// locate asks S3 for a bucket's region; on failure it records the unknown
// on b (when given) and answers "".
func (p *Provider) locate(ctx context.Context, c *s3.Client, account, bucket string, b *providers.Bucket) string {
	out, err := call(ctx, p, "GetBucketLocation", func(ctx context.Context) (*s3.GetBucketLocationOutput, error) {
		return c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(bucket), ExpectedBucketOwner: owner(account)})
	})
	if err != nil {
		if b != nil {
			recordFailure(b, "GetBucketLocation", err)
		}
		return ""
	}
	return normaliseLocation(string(out.LocationConstraint))
}

func (p *Provider) place(b *providers.Bucket, region string) {
	if region == "" {
		b.Controller, b.ControllerEntity = Controller.Jurisdiction, Controller.Entity
		return
	}
	pl, ok := Place(region)
	if !ok {
		pl = providers.Place{Region: region, LocationType: providers.LocationRegion}
		b.SetUnknown(providers.FieldRegion, "aws region table",
			fmt.Errorf("region %q is not in the AWS region table, so its country is not known", region), "")
	}
	b.ApplyPlace(pl, Controller)
}

// sseByDefault returns the bucket's default encryption rule, if any.
func sseByDefault(out *s3.GetBucketEncryptionOutput) *types.ServerSideEncryptionByDefault {
	if out == nil || out.ServerSideEncryptionConfiguration == nil {
		return nil
	}
	for _, r := range out.ServerSideEncryptionConfiguration.Rules {
		if r.ApplyServerSideEncryptionByDefault != nil {
			return r.ApplyServerSideEncryptionByDefault
		}
	}
	return nil
}

func (p *Provider) readEncryption(ctx context.Context, c *s3.Client, b *providers.Bucket, region string) {
	out, res := read(ctx, p, b, "GetBucketEncryption", func(ctx context.Context) (*s3.GetBucketEncryptionOutput, error) {
		return c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(b.Name), ExpectedBucketOwner: owner(b.Account)})
	})
	if res == failed {
		return
	}
	sse := sseByDefault(out)
	if res == absent || sse == nil {
		// Reported as S3 reports it. Since January 2023 S3 encrypts new
		// objects with SSE-S3 even then, but older objects may be plain,
		// and S3-compatible stores may not encrypt at all.
		b.Custody, b.Encryption = providers.CustodyNone, "none"
		return
	}
	alg := string(sse.SSEAlgorithm)
	b.Encryption = alg
	switch sse.SSEAlgorithm {
	case types.ServerSideEncryptionAes256:
		b.Custody = providers.CustodyProviderManaged
	case types.ServerSideEncryptionAwsKms, types.ServerSideEncryptionAwsKmsDsse:
		p.applyKey(ctx, b, aws.ToString(sse.KMSMasterKeyID), region)
	default:
		b.SetUnknown(providers.FieldCustody, "s3:GetBucketEncryption",
			fmt.Errorf("default encryption %q is not one this plugin knows", alg), "")
	}
}

func (p *Provider) readReplication(ctx context.Context, c *s3.Client, b *providers.Bucket) {
	out, res := read(ctx, p, b, "GetBucketReplication", func(ctx context.Context) (*s3.GetBucketReplicationOutput, error) {
		return c.GetBucketReplication(ctx, &s3.GetBucketReplicationInput{Bucket: aws.String(b.Name), ExpectedBucketOwner: owner(b.Account)})
	})
	if res != got || out.ReplicationConfiguration == nil {
		return
	}
	seen := map[string]bool{}
	for _, r := range out.ReplicationConfiguration.Rules {
		if r.Status != types.ReplicationRuleStatusEnabled || r.Destination == nil {
			continue
		}
		d := r.Destination
		dest := bucketFromARN(aws.ToString(d.Bucket))
		account := aws.ToString(d.Account)
		if account == "" {
			account = b.Account
		}
		cp := providers.Copy{Provider: name, Account: account, Bucket: dest, Source: providers.CopyReplication}
		// S3 does not say where the destination is; List may have seen it.
		if v, ok := p.bucketRegions.Load(dest); ok {
			cp.Region = v.(string)
		}
		if d.EncryptionConfiguration != nil && aws.ToString(d.EncryptionConfiguration.ReplicaKmsKeyID) != "" {
			cp.Custody = providers.CustodyProviderKMS
		}
		if k := account + "/" + dest; !seen[k] {
			seen[k] = true
			b.Copies = append(b.Copies, cp)
		}
	}
}

// bucketFromARN turns arn:aws:s3:::name into name.
func bucketFromARN(arn string) string {
	if i := strings.LastIndex(arn, ":"); strings.HasPrefix(arn, "arn:") && i >= 0 {
		return arn[i+1:]
	}
	return arn
}

var versioningStates = map[types.BucketVersioningStatus]string{
	"":                                    providers.VersioningOff,
	types.BucketVersioningStatusEnabled:   providers.VersioningEnabled,
	types.BucketVersioningStatusSuspended: providers.VersioningSuspended,
}

func (p *Provider) readVersioning(ctx context.Context, c *s3.Client, b *providers.Bucket) {
	out, res := read(ctx, p, b, "GetBucketVersioning", func(ctx context.Context) (*s3.GetBucketVersioningOutput, error) {
		return c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(b.Name), ExpectedBucketOwner: owner(b.Account)})
	})
	if res != got {
		return
	}
	v, ok := versioningStates[out.Status]
	if !ok {
		b.SetUnknown(providers.FieldVersioning, "s3:GetBucketVersioning", fmt.Errorf("unexpected status %q", out.Status), "")
		return
	}
	b.Versioning = v
}

func (p *Provider) readObjectLock(ctx context.Context, c *s3.Client, b *providers.Bucket) {
	out, res := read(ctx, p, b, "GetObjectLockConfiguration", func(ctx context.Context) (*s3.GetObjectLockConfigurationOutput, error) {
		return c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String(b.Name), ExpectedBucketOwner: owner(b.Account)})
	})
	switch res {
	case absent:
		b.ObjectLock = providers.No
	case got:
		b.ObjectLock = providers.TriOf(out.ObjectLockConfiguration != nil &&
			out.ObjectLockConfiguration.ObjectLockEnabled == types.ObjectLockEnabledEnabled)
	}
}

// Grantee groups that make an ACL public.
const (
	groupAllUsers  = "http://acs.amazonaws.com/groups/global/AllUsers"
	groupAuthUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
)

var publicGroups = map[string]string{groupAllUsers: "acl:AllUsers", groupAuthUsers: "acl:AuthenticatedUsers"}

// readPermissions are the ACL permissions that let a grantee read objects.
var readPermissions = map[types.Permission]bool{types.PermissionRead: true, types.PermissionFullControl: true}

// readExposure reads the public access block, then only what it does not
// already neutralise: with IgnorePublicAcls on, ACL grants do not count;
// with RestrictPublicBuckets on, a public policy does not. With all four
// flags on, neither call is made.
func (p *Provider) readExposure(ctx context.Context, c *s3.Client, b *providers.Bucket) {
	pab, res := read(ctx, p, b, "GetPublicAccessBlock", func(ctx context.Context) (*s3.GetPublicAccessBlockOutput, error) {
		return c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(b.Name), ExpectedBucketOwner: owner(b.Account)})
	})
	var ignoreACLs, restrictPolicy bool
	switch res {
	case absent:
		b.PublicAccessBlock = providers.No
	case got:
		f := pab.PublicAccessBlockConfiguration
		if f == nil {
			f = &types.PublicAccessBlockConfiguration{}
		}
		ignoreACLs = aws.ToBool(f.IgnorePublicAcls)
		restrictPolicy = aws.ToBool(f.RestrictPublicBuckets)
		b.PublicAccessBlock = providers.TriOf(aws.ToBool(f.BlockPublicAcls) && ignoreACLs &&
			aws.ToBool(f.BlockPublicPolicy) && restrictPolicy)
	}

	public, unknown := false, false
	var via []string
	if !restrictPolicy {
		st, res := read(ctx, p, b, "GetBucketPolicyStatus", func(ctx context.Context) (*s3.GetBucketPolicyStatusOutput, error) {
			return c.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: aws.String(b.Name), ExpectedBucketOwner: owner(b.Account)})
		})
		switch {
		case res == failed:
			unknown = true
		case res == got && st.PolicyStatus != nil && aws.ToBool(st.PolicyStatus.IsPublic):
			public = true
			via = append(via, "bucket-policy")
		}
	}
	if !ignoreACLs {
		acl, res := read(ctx, p, b, "GetBucketAcl", func(ctx context.Context) (*s3.GetBucketAclOutput, error) {
			return c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(b.Name), ExpectedBucketOwner: owner(b.Account)})
		})
		if res == failed {
			unknown = true
		} else {
			for _, g := range publicGrants(acl.Grants) {
				public = true
				via = append(via, g)
			}
		}
	}
	switch {
	case public:
		b.Public, b.PublicVia = providers.Yes, via
	case !unknown:
		b.Public = providers.No
	}
}

// publicGrants names the public groups that may read, each once.
func publicGrants(grants []types.Grant) []string {
	var out []string
	for _, g := range grants {
		if g.Grantee == nil || g.Grantee.Type != types.TypeGroup || !readPermissions[g.Permission] {
			continue
		}
		if v, ok := publicGroups[aws.ToString(g.Grantee.URI)]; ok && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func (p *Provider) readTags(ctx context.Context, c *s3.Client, b *providers.Bucket) {
	out, res := read(ctx, p, b, "GetBucketTagging", func(ctx context.Context) (*s3.GetBucketTaggingOutput, error) {
		return c.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(b.Name), ExpectedBucketOwner: owner(b.Account)})
	})
	if res != got {
		return
	}
	for _, t := range out.TagSet {
		b.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
}

// probe reads the data plane as a client would: HeadBucket, then a one-key
// list (or a HEAD of the configured canary object).
func (p *Provider) probe(ctx context.Context, c *s3.Client, b *providers.Bucket) {
	providers.RecordProbe(b, func() providers.Reachability { return p.probeOnce(ctx, c, b) })
}

func (p *Provider) probeOnce(ctx context.Context, c *s3.Client, b *providers.Bucket) providers.Reachability {
	r := providers.Reachability{Probe: "HeadBucket+ListObjectsV2"}
	if p.cfg.Canary != "" {
		r.Probe = "HeadBucket+HeadObject"
	}
	start := time.Now()
	_, err := call(ctx, p, "HeadBucket", func(ctx context.Context) (*s3.HeadBucketOutput, error) {
		return c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b.Name), ExpectedBucketOwner: owner(b.Account)})
	})
	if err == nil && p.cfg.Canary != "" {
		_, err = call(ctx, p, "HeadObject", func(ctx context.Context) (*s3.HeadObjectOutput, error) {
			return c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(b.Name), Key: aws.String(p.cfg.Canary), ExpectedBucketOwner: owner(b.Account)})
		})
	} else if err == nil {
		_, err = call(ctx, p, "ListObjectsV2", func(ctx context.Context) (*s3.ListObjectsV2Output, error) {
			return c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(b.Name), MaxKeys: aws.Int32(1), ExpectedBucketOwner: owner(b.Account)})
		})
	}
	r.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
	if err != nil {
		status, code := apiFacts(err)
		if status == 503 {
			// S3's 503 is its request-rate signal (SlowDown), and a HEAD
			// answer has no body to name it.
			code = "SlowDown"
		}
		r.Failure = apiCodes.Classify(err, status, code)
		r.Error = shortError(err).Error()
	} else {
		r.Reachable = true
	}
	return r
}
