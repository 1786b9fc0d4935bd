package awsemu

import (
	"errors"
	"strings"
	"testing"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
	"github.com/reachaudit/reachaudit/providers/sandbox"
)

func TestEstateRefusesBadValues(t *testing.T) {
	const base = `aws:
  accounts:
    - id: "111111111111"
      keys:
        - {id: k1, region: us-east-1}
      buckets:
        - name: good-bucket
          region: us-east-1
`
	tests := []struct {
		name  string
		yaml  string
		field string
		line  int // -1: the decoder does not locate this one
		msg   string
	}{
		{"account id not 12 digits", strings.Replace(base, `"111111111111"`, `"1234"`, 1), "aws.accounts[0].id", 3, "12-digit"},
		{"unknown region", strings.Replace(base, "region: us-east-1\n", "region: moon-east-1\n", 1), "aws.accounts[0].buckets[0].region", 8, "not a known AWS region"},
		{"unknown field", base + "          colour: blue\n", "", 9, "colour"},
		{"bad versioning", base + "          versioning: On\n", "aws.accounts[0].buckets[0].versioning", 9, "not one of"},
		{"bad algorithm", base + "          encryption: {algorithm: DES}\n", "aws.accounts[0].buckets[0].encryption.algorithm", 9, "not one of"},
		{"missing key", base + "          encryption: {algorithm: \"aws:kms\", key: k2}\n", "aws.accounts[0].buckets[0].encryption.key", 9, "no key"},
		{"key of the bucket's account and region", base + "          encryption: {algorithm: \"aws:kms\", key: k1}\n", "", 0, ""},
		{"key with AES256", base + "          encryption: {algorithm: AES256, key: k1}\n", "aws.accounts[0].buckets[0].encryption.key", 9, "only for aws:kms"},
		{"key ARN of unknown shape", base + "          encryption: {algorithm: \"aws:kms\", key: \"arn:aws:kms:us-east-1:1:key/x\"}\n", "aws.accounts[0].buckets[0].encryption.key", 9, "neither"},
		{"key ARN of the wrong partition", base + "          encryption: {algorithm: \"aws:kms\", key: \"arn:aws:kms:cn-north-1:111111111111:key/k9\"}\n", "aws.accounts[0].buckets[0].encryption.key", 9, "partition aws-cn"},
		{"deny of an unknown operation", base + "          deny: [GetBucketColour]\n", "aws.accounts[0].buckets[0].deny[0]", 9, "not an operation"},
		{"DescribeKey denied without a key", base + "          deny: [DescribeKey]\n", "aws.accounts[0].buckets[0].deny[0]", 9, "needs a bucket encrypted"},
		{"object lock without versioning", base + "          object_lock: true\n", "aws.accounts[0].buckets[0].object_lock", 9, "versioning"},
		{"public behind a public access block", base + "          public: true\n          public_access_block: true\n", "aws.accounts[0].buckets[0].public", 9, "public_access_block"},
		{"replication without versioning", base + "          replication: [{bucket: dr-bucket, region: us-west-2}]\n", "aws.accounts[0].buckets[0].replication", 9, "versioning"},
		{"replica without region", base + "          versioning: Enabled\n          replication: [{bucket: dr-bucket}]\n", "aws.accounts[0].buckets[0].replication[0].region", 10, "required"},
		{"bad bucket name", strings.Replace(base, "good-bucket", "Bad_Bucket", 1), "aws.accounts[0].buckets[0].name", 7, "valid S3 bucket name"},
		{"duplicate bucket", base + "        - {name: good-bucket, region: us-west-2}\n", "aws.accounts[0].buckets[1].name", 9, "global"},
		{"bad key state", strings.Replace(base, "region: us-east-1}", "region: us-east-1, state: Gone}", 1), "aws.accounts[0].keys[0].state", 5, "not one of"},
		{"valid_to on a KMS-made key", strings.Replace(base, "region: us-east-1}", "region: us-east-1, valid_to: +20d}", 1), "aws.accounts[0].keys[0].valid_to", 5, "EXTERNAL"},
		{"deletion date without pending deletion", strings.Replace(base, "region: us-east-1}", "region: us-east-1, deletion_date: +7d}", 1), "aws.accounts[0].keys[0].deletion_date", 5, "PendingDeletion"},
		{"bad relative date", strings.Replace(base, "region: us-east-1}", "region: us-east-1, origin: EXTERNAL, valid_to: soon}", 1), "", -1, "relative time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sandbox.ParseEstate("estate.yaml", []byte(tt.yaml))
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("refused a good estate: %v", err)
				}
				return
			}
			var ye *yamlfile.Error
			if !errors.As(err, &ye) {
				t.Fatalf("error %v is not a located yamlfile.Error", err)
			}
			if (tt.field != "" && ye.Field != tt.field) || (tt.line >= 0 && ye.Line != tt.line) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("got %q (field %q, line %d); want field %q line %d and %q", err, ye.Field, ye.Line, tt.field, tt.line, tt.msg)
			}
		})
	}
}

func TestEstateKeyRegionMustMatchBucket(t *testing.T) {
	const y = `aws:
  accounts:
    - id: "111111111111"
      keys: [{id: k1, region: us-west-2}]
      buckets:
        - {name: good-bucket, region: us-east-1, encryption: {algorithm: "aws:kms", key: k1}}
`
	_, err := sandbox.ParseEstate("estate.yaml", []byte(y))
	if err == nil || !strings.Contains(err.Error(), "own region") {
		t.Fatalf("err = %v", err)
	}
}
