package awsemu

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"testing"

	"github.com/reachaudit/reachaudit/providers/sandbox"
	"github.com/reachaudit/reachaudit/providers/sandbox/sandboxtest"
)

// TestAWSCLIAgrees runs the aws command-line tool, an S3 and KMS client no
// one here wrote, against the emulator and checks that what it reads is
// what the estate says.
func TestAWSCLIAgrees(t *testing.T) {
	bin := sandboxtest.RequireTool(t, "aws")
	srv := startTestEstate(t, sandbox.Options{})
	c, _ := srv.AccountCredentials(acctProd)
	home := t.TempDir()
	env := append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+c.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+c.SecretAccessKey,
		"AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE="+home+"/config",
		"AWS_SHARED_CREDENTIALS_FILE="+home+"/credentials",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_PAGER=",
	)
	run := func(t *testing.T, args ...string) (map[string]any, string) {
		t.Helper()
		cmd := exec.Command(bin, append(args, "--endpoint-url", srv.URL(), "--output", "json")...)
		cmd.Env = env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Run(); err != nil {
			return nil, stderr.String()
		}
		var out map[string]any
		if stdout.Len() > 0 {
			if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
				t.Fatalf("aws %v: %v\n%s", args, err, stdout.String())
			}
		}
		return out, ""
	}
	str := func(v any, path ...any) string {
		for _, p := range path {
			switch k := p.(type) {
			case string:
				m, _ := v.(map[string]any)
				v = m[k]
			case int:
				a, _ := v.([]any)
				if k >= len(a) {
					return ""
				}
				v = a[k]
			}
		}
		switch x := v.(type) {
		case string:
			return x
		case bool:
			if x {
				return "true"
			}
			return "false"
		}
		return ""
	}

	tests := []struct {
		name  string
		args  []string
		check func(t *testing.T, out map[string]any, stderr string)
	}{
		{"get-bucket-encryption with a customer key", []string{"s3api", "get-bucket-encryption", "--bucket", "alpha"}, func(t *testing.T, out map[string]any, stderr string) {
			d := []any{"ServerSideEncryptionConfiguration", "Rules", 0, "ApplyServerSideEncryptionByDefault"}
			if str(out, append(d, "SSEAlgorithm")...) != "aws:kms" || str(out, append(d, "KMSMasterKeyID")...) != keyCMK {
				t.Errorf("%v %s", out, stderr)
			}
		}},
		{"get-bucket-encryption without encryption", []string{"s3api", "get-bucket-encryption", "--bucket", "beta.public"}, func(t *testing.T, out map[string]any, stderr string) {
			if !bytes.Contains([]byte(stderr), []byte("ServerSideEncryptionConfigurationNotFoundError")) {
				t.Errorf("%v %s", out, stderr)
			}
		}},
		{"get-public-access-block", []string{"s3api", "get-public-access-block", "--bucket", "alpha"}, func(t *testing.T, out map[string]any, stderr string) {
			for _, f := range []string{"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"} {
				if str(out, "PublicAccessBlockConfiguration", f) != "true" {
					t.Errorf("%s: %v %s", f, out, stderr)
				}
			}
		}},
		{"get-public-access-block absent", []string{"s3api", "get-public-access-block", "--bucket", "eta"}, func(t *testing.T, out map[string]any, stderr string) {
			if !bytes.Contains([]byte(stderr), []byte("NoSuchPublicAccessBlockConfiguration")) {
				t.Errorf("%v %s", out, stderr)
			}
		}},
		{"get-bucket-versioning", []string{"s3api", "get-bucket-versioning", "--bucket", "gamma"}, func(t *testing.T, out map[string]any, stderr string) {
			if str(out, "Status") != "Suspended" {
				t.Errorf("%v %s", out, stderr)
			}
		}},
		{"kms describe-key of imported material", []string{"kms", "describe-key", "--key-id", "0b9a1c8e-1111-4a1e-9f00-000000000002"}, func(t *testing.T, out map[string]any, stderr string) {
			if str(out, "KeyMetadata", "Origin") != "EXTERNAL" || str(out, "KeyMetadata", "KeyManager") != "CUSTOMER" ||
				str(out, "KeyMetadata", "AWSAccountId") != acctProd || str(out, "KeyMetadata", "ExpirationModel") != "KEY_MATERIAL_EXPIRES" {
				t.Errorf("%v %s", out, stderr)
			}
		}},
		{"kms describe-key of the aws/s3 alias", []string{"kms", "describe-key", "--key-id", "alias/aws/s3"}, func(t *testing.T, out map[string]any, stderr string) {
			if str(out, "KeyMetadata", "KeyManager") != "AWS" || str(out, "KeyMetadata", "KeyState") != "Enabled" {
				t.Errorf("%v %s", out, stderr)
			}
		}},
		{"sts get-caller-identity", []string{"sts", "get-caller-identity"}, func(t *testing.T, out map[string]any, stderr string) {
			if str(out, "Account") != acctProd {
				t.Errorf("%v %s", out, stderr)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, stderr := run(t, tt.args...)
			tt.check(t, out, stderr)
		})
	}

	t.Run("a wrong secret is refused", func(t *testing.T) {
		cmd := exec.Command(bin, "s3api", "get-bucket-versioning", "--bucket", "alpha", "--endpoint-url", srv.URL())
		cmd.Env = append(env, "AWS_SECRET_ACCESS_KEY="+c.SecretAccessKey+"x")
		out, err := cmd.CombinedOutput()
		if err == nil || !bytes.Contains(out, []byte("SignatureDoesNotMatch")) {
			t.Fatalf("%v %s", err, out)
		}
	})
}
