package aws

import (
	"errors"
	"strings"
	"testing"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
)

func TestConfigRefusedWithFileLineAndField(t *testing.T) {
	cases := []struct {
		name, doc, field string
		line             int
	}{
		{"short account id", "accounts: [\"1234\"]\n", "accounts[0]", 1},
		{"unknown region filter", "accounts: [\"111122223333\"]\nregions: [us-east-1, mars-north-1]\n", "regions[1]", 2},
		{"unknown base region", "region: eu-nowhere-9\n", "region", 1},
		{"endpoint without scheme", "endpoint: localhost:9000\n", "endpoint", 1},
		{"kms endpoint with a strange scheme", "kms_endpoint: ftp://kms.example.com\n", "kms_endpoint", 1},
		// An unknown key is named by its path, on its line, with the keys
		// that are allowed.
		{"unknown key", "accounts: []\nrole: Audit\n", "role", 2},
		{"unknown partition", "partitions:\n  aws-iso: {accounts: [\"111122223333\"]}\n", "partitions.aws-iso", 2},
		{"the section's own partition", "partitions:\n  aws: {accounts: [\"111122223333\"]}\n", "partitions.aws", 2},
		{"a partition with no accounts", "partitions:\n  aws-cn: {profile: china}\n", "partitions.aws-cn.accounts", 2},
		{"an account in two partitions", "accounts: [\"111122223333\"]\npartitions:\n  aws-cn: {accounts: [\"111122223333\"]}\n", "partitions.aws-cn.accounts[0]", 3},
		{"a region of another partition", "partitions:\n  aws-cn:\n    accounts: [\"111122223333\"]\n    region: us-east-1\n", "partitions.aws-cn.region", 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c Config
			err := yamlfile.Decode("aws.yaml", []byte(tc.doc), &c)
			var ye *yamlfile.Error
			if !errors.As(err, &ye) {
				t.Fatalf("error %v, want a yamlfile.Error", err)
			}
			if ye.File != "aws.yaml" || ye.Field != tc.field || ye.Line != tc.line || (tc.field == "role" && !strings.Contains(ye.Msg, "want one of accounts,")) {
				t.Errorf("error at %s:%d field %q (%v), want line %d field %q", ye.File, ye.Line, ye.Field, err, tc.line, tc.field)
			}
		})
	}
	var pc Config
	if err := yamlfile.Decode("aws.yaml", []byte("accounts: [\"111122223333\"]\nregions: []\npartitions:\n  aws-cn: {accounts: [\"444455556666\"], profile: china, role_name: ReachAuditReadOnly}\n  aws-us-gov: {accounts: [\"777788889999\"], region: us-gov-east-1}\n"), &pc); err != nil {
		t.Errorf("partitions refused: %v", err)
	}
	var c Config
	good := "accounts: [\"111122223333\"]\nregions: [eu-west-1]\nrole_name: ReachAuditReadOnly\nendpoint: https://bucket.vpce-0a1b.s3.us-east-1.vpce.amazonaws.com\nregion: us-east-1\n"
	if err := yamlfile.Decode("aws.yaml", []byte(good), &c); err != nil {
		t.Errorf("a good section refused: %v", err)
	}
}
