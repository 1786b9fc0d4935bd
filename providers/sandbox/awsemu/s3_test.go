package awsemu

import (
	"context"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/reachaudit/reachaudit/providers/sandbox"
)

const (
	acctProd    = "111111111111"
	acctData    = "222222222222"
	acctPartner = "333333333333"
	keyCMK      = "0b9a1c8e-1111-4a1e-9f00-000000000001"
	partnerARN  = "arn:aws:kms:us-east-1:333333333333:key/5e5e5e5e-3333-4333-8333-000000000001"
)

// apiError returns the AWS error code and HTTP status of err.
func apiError(t *testing.T, err error) (string, int) {
	t.Helper()
	if err == nil {
		return "", 200
	}
	code := ""
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code = ae.ErrorCode()
	}
	status := 0
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return code, status
}

func wantError(t *testing.T, err error, code string, status int) {
	t.Helper()
	gotCode, gotStatus := apiError(t, err)
	if gotCode != code || gotStatus != status {
		t.Fatalf("error = %s %d (%v); want %s %d", gotCode, gotStatus, err, code, status)
	}
}

func TestS3Operations(t *testing.T) {
	srv := startTestEstate(t, sandbox.Options{})
	c := s3Client(srv, creds(t, srv, acctProd), "us-east-1")
	b := func(name string) *string { return aws.String(name) }

	t.Run("ListBuckets gives the account's buckets with their regions", func(t *testing.T) {
		out, err := c.ListBuckets(ctx(t), &s3.ListBucketsInput{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, bk := range out.Buckets {
			got[*bk.Name] = *bk.BucketRegion
			if bk.CreationDate == nil || bk.CreationDate.After(testNow) {
				t.Errorf("%s: creation date %v", *bk.Name, bk.CreationDate)
			}
		}
		want := map[string]string{"alpha": "us-east-1", "alpha-dr": "us-west-2", "beta.public": "eu-west-1",
			"gamma": "us-west-2", "delta": "us-east-1", "epsilon": "us-east-1", "zeta": "us-east-1",
			"eta": "us-east-1", "theta-cn": "cn-north-1"}
		if len(got) != len(want) {
			t.Fatalf("buckets = %v; want %v", got, want)
		}
		for n, r := range want {
			if got[n] != r {
				t.Errorf("%s region = %q; want %q", n, got[n], r)
			}
		}
		if out.Owner == nil || out.Owner.ID == nil || len(*out.Owner.ID) != 64 {
			t.Errorf("owner = %+v", out.Owner)
		}
	})

	t.Run("ListBuckets pages with MaxBuckets and ContinuationToken", func(t *testing.T) {
		var names []string
		p := s3.NewListBucketsPaginator(c, &s3.ListBucketsInput{MaxBuckets: aws.Int32(2)})
		pages := 0
		for p.HasMorePages() {
			out, err := p.NextPage(ctx(t))
			if err != nil {
				t.Fatal(err)
			}
			pages++
			if len(out.Buckets) > 2 {
				t.Fatalf("page of %d buckets", len(out.Buckets))
			}
			for _, bk := range out.Buckets {
				names = append(names, *bk.Name)
			}
		}
		if pages != 5 || len(names) != 9 || !slices.IsSorted(names) {
			t.Fatalf("%d pages: %v", pages, names)
		}
	})

	t.Run("ListBuckets filters by region and prefix", func(t *testing.T) {
		out, err := c.ListBuckets(ctx(t), &s3.ListBucketsInput{BucketRegion: aws.String("us-west-2"), Prefix: aws.String("g")})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Buckets) != 1 || *out.Buckets[0].Name != "gamma" {
			t.Fatalf("buckets = %+v", out.Buckets)
		}
	})

	t.Run("ListBuckets refuses MaxBuckets out of range", func(t *testing.T) {
		_, err := c.ListBuckets(ctx(t), &s3.ListBucketsInput{MaxBuckets: aws.Int32(10001)})
		wantError(t, err, "InvalidArgument", 400)
	})

	t.Run("GetBucketLocation is empty for us-east-1", func(t *testing.T) {
		for name, want := range map[string]types.BucketLocationConstraint{"alpha": "", "gamma": "us-west-2", "theta-cn": "cn-north-1"} {
			out, err := c.GetBucketLocation(ctx(t), &s3.GetBucketLocationInput{Bucket: b(name)})
			if err != nil {
				t.Fatal(err)
			}
			if out.LocationConstraint != want {
				t.Errorf("%s: LocationConstraint = %q; want %q", name, out.LocationConstraint, want)
			}
		}
	})

	t.Run("GetBucketEncryption gives algorithm and key", func(t *testing.T) {
		tests := []struct {
			bucket, alg, key string
		}{
			{"alpha", "aws:kms", keyCMK},
			{"delta", "aws:kms", "alias/aws/s3"},
			{"epsilon", "aws:kms", partnerARN},
			{"eta", "AES256", ""}, // S3's default since 2023
			{"theta-cn", "aws:kms:dsse", "arn:aws-cn:kms:cn-north-1:111111111111:key/0b9a1c8e-1111-4a1e-9f00-000000000008"},
		}
		for _, tt := range tests {
			out, err := c.GetBucketEncryption(ctx(t), &s3.GetBucketEncryptionInput{Bucket: b(tt.bucket)})
			if err != nil {
				t.Fatalf("%s: %v", tt.bucket, err)
			}
			d := out.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault
			if string(d.SSEAlgorithm) != tt.alg || aws.ToString(d.KMSMasterKeyID) != tt.key {
				t.Errorf("%s: %s %s; want %s %s", tt.bucket, d.SSEAlgorithm, aws.ToString(d.KMSMasterKeyID), tt.alg, tt.key)
			}
		}
	})

	t.Run("GetBucketEncryption answers not found when encryption is none", func(t *testing.T) {
		_, err := c.GetBucketEncryption(ctx(t), &s3.GetBucketEncryptionInput{Bucket: b("beta.public")})
		wantError(t, err, "ServerSideEncryptionConfigurationNotFoundError", 404)
	})

	t.Run("GetBucketReplication names destinations", func(t *testing.T) {
		out, err := c.GetBucketReplication(ctx(t), &s3.GetBucketReplicationInput{Bucket: b("alpha")})
		if err != nil {
			t.Fatal(err)
		}
		rc := out.ReplicationConfiguration
		if aws.ToString(rc.Role) != "arn:aws:iam::111111111111:role/s3-replication" || len(rc.Rules) != 2 {
			t.Fatalf("%+v", rc)
		}
		d0, d1 := rc.Rules[0].Destination, rc.Rules[1].Destination
		if *d0.Bucket != "arn:aws:s3:::alpha-dr" || *d0.Account != acctProd || d0.AccessControlTranslation != nil {
			t.Errorf("rule 1 destination %+v", d0)
		}
		if *d1.Bucket != "arn:aws:s3:::bravo-in-data" || *d1.Account != acctData || d1.AccessControlTranslation == nil {
			t.Errorf("rule 2 destination %+v", d1)
		}
		if rc.Rules[0].Status != types.ReplicationRuleStatusEnabled {
			t.Errorf("status %s", rc.Rules[0].Status)
		}
		_, err = c.GetBucketReplication(ctx(t), &s3.GetBucketReplicationInput{Bucket: b("eta")})
		wantError(t, err, "ReplicationConfigurationNotFoundError", 404)
	})

	t.Run("GetBucketVersioning", func(t *testing.T) {
		for name, want := range map[string]types.BucketVersioningStatus{"alpha": "Enabled", "gamma": "Suspended", "eta": ""} {
			out, err := c.GetBucketVersioning(ctx(t), &s3.GetBucketVersioningInput{Bucket: b(name)})
			if err != nil {
				t.Fatal(err)
			}
			if out.Status != want {
				t.Errorf("%s: %q; want %q", name, out.Status, want)
			}
		}
	})

	t.Run("GetObjectLockConfiguration", func(t *testing.T) {
		out, err := c.GetObjectLockConfiguration(ctx(t), &s3.GetObjectLockConfigurationInput{Bucket: b("alpha")})
		if err != nil {
			t.Fatal(err)
		}
		if out.ObjectLockConfiguration.ObjectLockEnabled != types.ObjectLockEnabledEnabled {
			t.Errorf("%+v", out.ObjectLockConfiguration)
		}
		_, err = c.GetObjectLockConfiguration(ctx(t), &s3.GetObjectLockConfigurationInput{Bucket: b("eta")})
		wantError(t, err, "ObjectLockConfigurationNotFoundError", 404)
	})

	t.Run("GetPublicAccessBlock", func(t *testing.T) {
		out, err := c.GetPublicAccessBlock(ctx(t), &s3.GetPublicAccessBlockInput{Bucket: b("alpha")})
		if err != nil {
			t.Fatal(err)
		}
		p := out.PublicAccessBlockConfiguration
		if !*p.BlockPublicAcls || !*p.IgnorePublicAcls || !*p.BlockPublicPolicy || !*p.RestrictPublicBuckets {
			t.Errorf("%+v", p)
		}
		_, err = c.GetPublicAccessBlock(ctx(t), &s3.GetPublicAccessBlockInput{Bucket: b("eta")})
		wantError(t, err, "NoSuchPublicAccessBlockConfiguration", 404)
	})

	t.Run("policy status, policy and ACL of a public bucket", func(t *testing.T) {
		ps, err := c.GetBucketPolicyStatus(ctx(t), &s3.GetBucketPolicyStatusInput{Bucket: b("beta.public")})
		if err != nil {
			t.Fatal(err)
		}
		if !*ps.PolicyStatus.IsPublic {
			t.Error("IsPublic false")
		}
		pol, err := c.GetBucketPolicy(ctx(t), &s3.GetBucketPolicyInput{Bucket: b("beta.public")})
		if err != nil {
			t.Fatal(err)
		}
		if want := `"Principal":"*"`; !strings.Contains(*pol.Policy, want) {
			t.Errorf("policy %s lacks %s", *pol.Policy, want)
		}
		acl, err := c.GetBucketAcl(ctx(t), &s3.GetBucketAclInput{Bucket: b("beta.public")})
		if err != nil {
			t.Fatal(err)
		}
		if len(acl.Grants) != 2 || acl.Grants[1].Grantee.Type != types.TypeGroup ||
			*acl.Grants[1].Grantee.URI != allUsersURI || acl.Grants[1].Permission != types.PermissionRead {
			t.Errorf("grants %+v", acl.Grants)
		}
	})

	t.Run("a private bucket has no policy and an owner-only ACL", func(t *testing.T) {
		_, err := c.GetBucketPolicyStatus(ctx(t), &s3.GetBucketPolicyStatusInput{Bucket: b("alpha")})
		wantError(t, err, "NoSuchBucketPolicy", 404)
		_, err = c.GetBucketPolicy(ctx(t), &s3.GetBucketPolicyInput{Bucket: b("alpha")})
		wantError(t, err, "NoSuchBucketPolicy", 404)
		acl, err := c.GetBucketAcl(ctx(t), &s3.GetBucketAclInput{Bucket: b("alpha")})
		if err != nil {
			t.Fatal(err)
		}
		if len(acl.Grants) != 1 || acl.Grants[0].Grantee.Type != types.TypeCanonicalUser ||
			acl.Grants[0].Permission != types.PermissionFullControl || *acl.Grants[0].Grantee.ID != *acl.Owner.ID {
			t.Errorf("grants %+v", acl.Grants)
		}
	})

	t.Run("GetBucketTagging", func(t *testing.T) {
		out, err := c.GetBucketTagging(ctx(t), &s3.GetBucketTaggingInput{Bucket: b("alpha")})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.TagSet) != 2 || *out.TagSet[0].Key != "data-class" || *out.TagSet[0].Value != "restricted" {
			t.Errorf("%+v", out.TagSet)
		}
		_, err = c.GetBucketTagging(ctx(t), &s3.GetBucketTaggingInput{Bucket: b("eta")})
		wantError(t, err, "NoSuchTagSet", 404)
	})

	t.Run("HeadBucket tells the region", func(t *testing.T) {
		out, err := c.HeadBucket(ctx(t), &s3.HeadBucketInput{Bucket: b("alpha-dr")})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.BucketRegion) != "us-west-2" {
			t.Errorf("region %v", aws.ToString(out.BucketRegion))
		}
	})

	t.Run("ListObjectsV2 pages with MaxKeys", func(t *testing.T) {
		out, err := c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: b("alpha"), MaxKeys: aws.Int32(1)})
		if err != nil {
			t.Fatal(err)
		}
		if *out.KeyCount != 1 || !*out.IsTruncated || out.NextContinuationToken == nil || *out.Contents[0].Key != "README.txt" {
			t.Fatalf("%+v", out)
		}
		rest, err := c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: b("alpha"), ContinuationToken: out.NextContinuationToken})
		if err != nil {
			t.Fatal(err)
		}
		if *rest.KeyCount != 2 || *rest.IsTruncated {
			t.Fatalf("%+v", rest)
		}
		pre, err := c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: b("alpha"), Prefix: aws.String("data/")})
		if err != nil || *pre.KeyCount != 2 {
			t.Fatalf("prefix: %v %+v", err, pre)
		}
	})

	t.Run("HeadObject of a listed key and of a missing one", func(t *testing.T) {
		out, err := c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: b("alpha"), Key: aws.String("data/part-00000.csv.gz")})
		if err != nil {
			t.Fatal(err)
		}
		if out.ServerSideEncryption != types.ServerSideEncryptionAwsKms ||
			aws.ToString(out.SSEKMSKeyId) != "arn:aws:kms:us-east-1:111111111111:key/"+keyCMK || *out.ContentLength <= 0 {
			t.Errorf("%+v", out)
		}
		_, err = c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: b("alpha"), Key: aws.String("nope")})
		wantError(t, err, "NotFound", 404)
	})

	t.Run("unknown bucket is NoSuchBucket", func(t *testing.T) {
		_, err := c.GetBucketEncryption(ctx(t), &s3.GetBucketEncryptionInput{Bucket: b("no-such-bucket")})
		wantError(t, err, "NoSuchBucket", 404)
		_, err = c.HeadBucket(ctx(t), &s3.HeadBucketInput{Bucket: b("no-such-bucket")})
		wantError(t, err, "NotFound", 404)
	})

	t.Run("expected bucket owner is checked", func(t *testing.T) {
		_, err := c.GetBucketVersioning(ctx(t), &s3.GetBucketVersioningInput{Bucket: b("alpha"), ExpectedBucketOwner: aws.String(acctData)})
		wantError(t, err, "AccessDenied", 403)
		if _, err := c.GetBucketVersioning(ctx(t), &s3.GetBucketVersioningInput{Bucket: b("alpha"), ExpectedBucketOwner: aws.String(acctProd)}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("writes are refused", func(t *testing.T) {
		_, err := c.DeleteBucket(ctx(t), &s3.DeleteBucketInput{Bucket: b("alpha")})
		wantError(t, err, "NotImplemented", 501)
	})
}

func TestS3VirtualHostStyle(t *testing.T) {
	srv := startTestEstate(t, sandbox.Options{})
	// bucket.localhost may not resolve everywhere; dial the server whatever
	// the name, and keep the name in the Host header the signature covers.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	addr := srv.URL()[len("http://"):]
	var d net.Dialer
	var hosts []string
	tr.DialContext = func(c context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(c, network, addr)
	}
	c := s3.New(s3.Options{
		Region: "us-east-1", Credentials: creds(t, srv, acctProd),
		BaseEndpoint: aws.String("http://localhost:" + addr[len("127.0.0.1:"):]),
		HTTPClient:   &http.Client{Transport: hostRecorder{tr, &hosts}}, RetryMaxAttempts: 1,
	})
	out, err := c.GetBucketVersioning(ctx(t), &s3.GetBucketVersioningInput{Bucket: aws.String("alpha")})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status != types.BucketVersioningStatusEnabled {
		t.Errorf("status %q", out.Status)
	}
	if len(hosts) != 1 || !strings.HasPrefix(hosts[0], "alpha.localhost:") {
		t.Fatalf("requests went to %v, not alpha.localhost", hosts)
	}
	_, err = c.HeadBucket(ctx(t), &s3.HeadBucketInput{Bucket: aws.String("gamma")})
	wantError(t, err, "Forbidden", 403) // gamma is unreachable
}

func TestDenyAndReachable(t *testing.T) {
	srv := startTestEstate(t, sandbox.Options{})
	c := s3Client(srv, creds(t, srv, acctProd), "us-west-2")
	gamma := aws.String("gamma")

	_, err := c.GetBucketEncryption(ctx(t), &s3.GetBucketEncryptionInput{Bucket: gamma})
	wantError(t, err, "AccessDenied", 403)
	_, err = c.GetBucketTagging(ctx(t), &s3.GetBucketTaggingInput{Bucket: gamma})
	wantError(t, err, "AccessDenied", 403)
	// Operations not denied still answer.
	if _, err := c.GetBucketVersioning(ctx(t), &s3.GetBucketVersioningInput{Bucket: gamma}); err != nil {
		t.Fatal(err)
	}
	// reachable: false closes the data plane only.
	_, err = c.HeadBucket(ctx(t), &s3.HeadBucketInput{Bucket: gamma})
	wantError(t, err, "Forbidden", 403)
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.Response.Header.Get("X-Amz-Bucket-Region") != "us-west-2" {
		t.Errorf("403 HeadBucket without region header")
	}
	_, err = c.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: gamma, MaxKeys: aws.Int32(1)})
	wantError(t, err, "AccessDenied", 403)
	_, err = c.HeadObject(ctx(t), &s3.HeadObjectInput{Bucket: gamma, Key: aws.String("README.txt")})
	wantError(t, err, "Forbidden", 403)
	if _, err := c.GetBucketLocation(ctx(t), &s3.GetBucketLocationInput{Bucket: gamma}); err != nil {
		t.Fatal(err)
	}
}

func TestAccountIsolation(t *testing.T) {
	srv := startTestEstate(t, sandbox.Options{})
	data := s3Client(srv, creds(t, srv, acctData), "us-east-1")

	out, err := data.ListBuckets(ctx(t), &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Buckets) != 1 || *out.Buckets[0].Name != "bravo-in-data" {
		t.Fatalf("account %s sees %+v", acctData, out.Buckets)
	}
	for _, op := range []func() error{
		func() error {
			_, err := data.GetBucketEncryption(ctx(t), &s3.GetBucketEncryptionInput{Bucket: aws.String("alpha")})
			return err
		},
		func() error {
			_, err := data.GetBucketLocation(ctx(t), &s3.GetBucketLocationInput{Bucket: aws.String("alpha")})
			return err
		},
		func() error {
			_, err := data.ListObjectsV2(ctx(t), &s3.ListObjectsV2Input{Bucket: aws.String("alpha")})
			return err
		},
	} {
		wantError(t, op(), "AccessDenied", 403)
	}
	_, err = data.HeadBucket(ctx(t), &s3.HeadBucketInput{Bucket: aws.String("alpha")})
	wantError(t, err, "Forbidden", 403)

	partner := s3Client(srv, creds(t, srv, acctPartner), "us-east-1")
	out, err = partner.ListBuckets(ctx(t), &s3.ListBucketsInput{})
	if err != nil || len(out.Buckets) != 0 {
		t.Fatalf("partner sees %v %v", err, out)
	}
	// The organisation's own key pair holds no buckets: it must assume a role.
	org := srv.OrganisationCredentials()
	orgc := s3Client(srv, staticCreds(org.AccessKeyID, org.SecretAccessKey), "us-east-1")
	out, err = orgc.ListBuckets(ctx(t), &s3.ListBucketsInput{})
	if err != nil || len(out.Buckets) != 0 {
		t.Fatalf("organisation key sees %v %v", err, out)
	}
}

type hostRecorder struct {
	rt    http.RoundTripper
	hosts *[]string
}

func (h hostRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	*h.hosts = append(*h.hosts, r.URL.Host)
	return h.rt.RoundTrip(r)
}
