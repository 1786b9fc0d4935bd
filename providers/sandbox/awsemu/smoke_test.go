package awsemu

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/reachaudit/reachaudit/providers/sandbox"
)

func TestSmoke(t *testing.T) {
	srv := startTestEstate(t, sandbox.Options{})
	c := s3Client(srv, creds(t, srv, "111111111111"), "us-east-1")
	out, err := c.ListBuckets(ctx(t), &s3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range out.Buckets {
		t.Log(*b.Name, *b.BucketRegion)
	}
	enc, err := c.GetBucketEncryption(ctx(t), &s3.GetBucketEncryptionInput{Bucket: aws.String("alpha")})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", *enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.KMSMasterKeyID)
	k := kmsClient(srv, creds(t, srv, "111111111111"), "us-east-1")
	d, err := k.DescribeKey(ctx(t), &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/s3")})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", *d.KeyMetadata)
	acl, err := c.GetBucketAcl(ctx(t), &s3.GetBucketAclInput{Bucket: aws.String("beta.public")})
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range acl.Grants {
		t.Logf("%+v %v", *g.Grantee, g.Permission)
	}
}
