package aws

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

type iamPolicy struct {
	Version   string
	Statement []struct {
		Sid      string
		Effect   string
		Action   []string
		Resource string
	}
}

// TestIAMPolicyGrantsWhatThePluginCalls keeps the published policy, the
// README's copy of it and the actions the plugin names in unknowns in step.
func TestIAMPolicyGrantsWhatThePluginCalls(t *testing.T) {
	data, err := os.ReadFile("iam-policy.json")
	if err != nil {
		t.Fatal(err)
	}
	var policy iamPolicy
	if err := json.Unmarshal(data, &policy); err != nil {
		t.Fatalf("iam-policy.json: %v", err)
	}
	var granted []string
	for _, s := range policy.Statement {
		if s.Effect != "Allow" {
			t.Errorf("statement %s: effect %q", s.Sid, s.Effect)
		}
		for _, a := range s.Action {
			if !regexp.MustCompile(`^((s3|kms|cloudwatch|organizations):(Get|List|Describe)[A-Za-z]+|sts:AssumeRole)$`).MatchString(a) {
				t.Errorf("%s is not a read action", a)
			}
			granted = append(granted, a)
		}
	}
	// What the plugin calls: the reads it names in unknowns, plus the
	// listing, the probe (ListBucket; GetObject for a canary), KMS, the
	// organisation's listing and the role it assumes in each member.
	want := []string{"s3:ListAllMyBuckets", "s3:ListBucket", "s3:GetObject", "kms:DescribeKey", "cloudwatch:GetMetricData",
		"sts:AssumeRole"}
	for _, op := range orgOps {
		want = append(want, "organizations:"+op)
	}
	for _, op := range s3ops {
		if !slices.Contains(want, op.permission) {
			want = append(want, op.permission)
		}
	}
	slices.Sort(granted)
	slices.Sort(want)
	if !slices.Equal(granted, want) {
		t.Errorf("policy grants %v, the plugin needs %v", granted, want)
	}

	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```json\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no json block")
	}
	var inREADME iamPolicy
	if err := json.Unmarshal(m[1], &inREADME); err != nil {
		t.Fatalf("README policy: %v", err)
	}
	a, _ := json.Marshal(policy)
	b, _ := json.Marshal(inREADME)
	if string(a) != string(b) {
		t.Errorf("README's policy differs from iam-policy.json")
	}
	for _, op := range []string{"GetBucketEncryption", "GetBucketAcl", "HeadBucket", "ListObjectsV2", "GetBucketLocation"} {
		if !strings.Contains(string(readme), op) {
			t.Errorf("README's call table does not name %s", op)
		}
	}
}
