package awsemu

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/reachaudit/reachaudit/providers/sandbox"
)

// TestDemoEstate parses the built-in demo's AWS file and reads every
// declared bucket back through the SDK as its owner, so a bucket that does
// not parse or does not serve cannot reach the demo.
func TestDemoEstate(t *testing.T) {
	files, err := sandbox.DemoFiles()
	if err != nil {
		t.Fatal(err)
	}
	data, ok := files["aws.yaml"]
	if !ok {
		t.Fatal("no demo/aws.yaml")
	}
	e := parseEstate(t, "demo/aws.yaml", data)
	srv := startServer(t, e, sandbox.Options{})

	buckets, orgs := 0, 0
	for _, a := range e.Accounts {
		if len(a.Buckets) > 0 {
			orgs++
		}
		cp := creds(t, srv, a.ID)
		for _, b := range a.Buckets {
			buckets++
			t.Run(b.Name, func(t *testing.T) {
				c := s3Client(srv, cp, b.Region)
				loc, err := c.GetBucketLocation(ctx(t), &s3.GetBucketLocationInput{Bucket: aws.String(b.Name)})
				if err != nil {
					t.Fatal(err)
				}
				if got := string(loc.LocationConstraint); got != b.Region && !(got == "" && b.Region == "us-east-1") {
					t.Errorf("location %q; want %s", got, b.Region)
				}
				enc, err := c.GetBucketEncryption(ctx(t), &s3.GetBucketEncryptionInput{Bucket: aws.String(b.Name)})
				denied := false
				for _, op := range b.Deny {
					denied = denied || op == opGetBucketEncryption
				}
				switch {
				case denied:
					wantError(t, err, "AccessDenied", 403)
				case b.Encryption != nil && b.Encryption.Algorithm == "none":
					wantError(t, err, "ServerSideEncryptionConfigurationNotFoundError", 404)
				case err != nil:
					t.Fatal(err)
				case b.Encryption != nil && b.Encryption.Key != "":
					d := enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault
					kc := kmsClient(srv, cp, b.Region)
					_, err := kc.DescribeKey(ctx(t), &kms.DescribeKeyInput{KeyId: d.KMSMasterKeyID})
					keyDenied := false
					for _, op := range b.Deny {
						keyDenied = keyDenied || op == opDescribeKey
					}
					if keyDenied {
						wantError(t, err, "AccessDeniedException", 400)
					} else if err != nil {
						t.Fatalf("describe %s: %v", *d.KMSMasterKeyID, err)
					}
				}
				_, err = c.HeadBucket(ctx(t), &s3.HeadBucketInput{Bucket: aws.String(b.Name)})
				if b.Reachable != nil && !*b.Reachable {
					wantError(t, err, "Forbidden", 403)
				} else if err != nil {
					t.Fatal(err)
				}
			})
		}
	}
	if len(e.Accounts) < 5 || orgs < 4 || buckets < 22 {
		t.Fatalf("demo has %d accounts (%d in the organisation) and %d buckets", len(e.Accounts), orgs, buckets)
	}
	if got := len(srv.Organisation()); got != orgs {
		t.Errorf("organisation has %d accounts; want %d", got, orgs)
	}
}
