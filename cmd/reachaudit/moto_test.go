package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/providers/sandbox/sandboxtest"
)

// The whole product against an AWS emulator no one here wrote: moto, with
// its estate built by the aws CLI, scanned by `reachaudit scan --config`.
// The verdicts must be what the rule catalogue implies for what moto says.
func TestScanMotoWithAWSCLI(t *testing.T) {
	moto := sandboxtest.StartMoto(t)
	url, env, aws := moto.URL, moto.Env, moto.AWS
	var key struct{ KeyMetadata struct{ KeyId string } }
	if err := json.Unmarshal([]byte(aws("kms", "create-key", "--description", "orders")), &key); err != nil {
		t.Fatal(err)
	}
	aws("kms", "disable-key", "--key-id", key.KeyMetadata.KeyId)

	// plain: no encryption configuration (moto answers NotFound, as S3 did
	// before 2023), versioning off.
	aws("s3api", "create-bucket", "--bucket", "plain")
	// locked-out: its KMS key is disabled.
	aws("s3api", "create-bucket", "--bucket", "locked-out")
	aws("s3api", "put-bucket-encryption", "--bucket", "locked-out", "--server-side-encryption-configuration",
		fmt.Sprintf(`{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"%s"}}]}`, key.KeyMetadata.KeyId))
	aws("s3api", "put-bucket-versioning", "--bucket", "locked-out", "--versioning-configuration", "Status=Enabled")
	// hk-research: in Hong Kong with SSE-S3.
	aws("s3api", "create-bucket", "--bucket", "hk-research", "--region", "ap-east-1", "--create-bucket-configuration", "LocationConstraint=ap-east-1")
	aws("s3api", "put-bucket-encryption", "--bucket", "hk-research", "--region", "ap-east-1", "--server-side-encryption-configuration",
		`{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}`)
	aws("s3api", "put-bucket-versioning", "--bucket", "hk-research", "--region", "ap-east-1", "--versioning-configuration", "Status=Enabled")
	// public: anyone may read it through its ACL.
	aws("s3api", "create-bucket", "--bucket", "public", "--acl", "public-read")
	aws("s3api", "put-bucket-encryption", "--bucket", "public", "--server-side-encryption-configuration",
		`{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}`)
	aws("s3api", "put-bucket-versioning", "--bucket", "public", "--versioning-configuration", "Status=Enabled")
	// clean: encrypted, versioned, public access blocked, in the US.
	aws("s3api", "create-bucket", "--bucket", "clean")
	aws("s3api", "put-bucket-encryption", "--bucket", "clean", "--server-side-encryption-configuration",
		`{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}`)
	aws("s3api", "put-bucket-versioning", "--bucket", "clean", "--versioning-configuration", "Status=Enabled")
	aws("s3api", "put-public-access-block", "--bucket", "clean", "--public-access-block-configuration",
		"BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true")

	dir := t.TempDir()
	cfg := filepath.Join(dir, "scan.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("providers:\n  aws:\n    accounts: [\"123456789012\"]\n    endpoint: %s\n", url)), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "result.json")
	bin := buildBinary(t)
	scan := exec.Command(bin, "scan", "--config", cfg, "--format", "json", "--out", out)
	scan.Env = env
	if msg, err := scan.CombinedOutput(); err != nil {
		t.Fatalf("scan: %v\n%s", err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var r agent.Result
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Errors) != 0 {
		t.Errorf("run errors: %+v", r.Errors)
	}
	got := map[string][]string{}
	for _, b := range r.Buckets {
		got[b.Name] = []string{}
	}
	for _, f := range r.Findings {
		if !slices.Contains(got[f.Bucket], f.Rule) {
			got[f.Bucket] = append(got[f.Bucket], f.Rule)
		}
	}
	for _, rules := range got {
		sort.Strings(rules)
	}
	want := map[string][]string{
		"plain":       {"EXP-005", "HYG-001"},
		"locked-out":  {"BLK-003"},
		"hk-research": {"EXP-002"},
		"public":      {"EXP-006"},
		"clean":       {},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("verdicts on moto (-want +got):\n%s", diff)
	}
}
