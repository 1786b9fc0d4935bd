package aws

import (
	"context"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/reachaudit/reachaudit/providers"
)

func TestRoleAssumedPerAccountInTheRightPartition(t *testing.T) {
	cases := []struct {
		region, arnPrefix, scope string
	}{
		{"us-east-1", "arn:aws:iam::", "us-east-1/sts/aws4_request"},
		{"cn-north-1", "arn:aws-cn:iam::", "cn-north-1/sts/aws4_request"},
		{"us-gov-west-1", "arn:aws-us-gov:iam::", "us-gov-west-1/sts/aws4_request"},
		{"eusc-de-east-1", "arn:aws-eusc:iam::", "eusc-de-east-1/sts/aws4_request"},
	}
	for _, tc := range cases {
		t.Run(tc.region, func(t *testing.T) {
			w := newWire(t)
			w.buckets = []string{"one"}
			p, calls := w.open(t, func(c *Config) {
				c.Region, c.RoleName, c.ExternalID = tc.region, "ReachAuditReadOnly", "ext-42"
				c.Accounts = []string{"111122223333", "222233334444"}
			})
			for _, a := range []string{"111122223333", "222233334444", "111122223333"} {
				if _, err := p.List(context.Background(), a); err != nil {
					t.Fatal(err)
				}
			}
			want := []string{
				tc.arnPrefix + "111122223333:role/ReachAuditReadOnly ext-42 reachaudit",
				tc.arnPrefix + "222233334444:role/ReachAuditReadOnly ext-42 reachaudit",
			}
			if !slices.Equal(w.roles, want) {
				t.Errorf("roles assumed %v, want %v (once per account)", w.roles, want)
			}
			for _, a := range w.auth {
				op, cred, _ := strings.Cut(a, " ")
				if op == "AssumeRole" && !strings.HasPrefix(cred, "AKIDWIRE/") || op == "AssumeRole" && !strings.HasSuffix(cred, tc.scope+",") {
					t.Errorf("AssumeRole signed as %s, want the base key for %s", cred, tc.scope)
				}
				if op == "ListBuckets" && !strings.HasPrefix(cred, "ASIAWIRE/") {
					t.Errorf("ListBuckets signed as %s, want the assumed role's key", cred)
				}
			}
			if n := opCalls(calls, "AssumeRole"); n != 2 {
				t.Errorf("AssumeRole counted %d times, want 2", n)
			}
		})
	}
}

func opCalls(c *providers.Calls, op string) int {
	for _, oc := range c.Snapshot() {
		if oc.Op == op {
			return oc.Calls
		}
	}
	return 0
}

func TestTLSVerificationIsOnUnlessTurnedOffByName(t *testing.T) {
	w := newWire(t)
	w.srv.Close()
	w.srv = newTLSServer(t, http.HandlerFunc(w.serve))
	w.buckets = []string{"tls-bucket"}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	cert := w.srv.Certificate()
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		mod     func(*Config)
		failure string
	}{
		{"default trust refuses a private CA", nil, providers.FailTLS},
		{"ca_cert trusts it", func(c *Config) { c.CACert = caFile }, ""},
		{"insecure_skip_verify by name", func(c *Config) { c.InsecureSkipVerify = true }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := w.open(t, tc.mod)
			_, err := p.List(context.Background(), testAccount)
			if (err != nil) != (tc.failure != "") {
				t.Errorf("list: %v", err)
			}
			b := describe(t, p, "tls-bucket", "us-east-1")
			if b.Reachability.Failure != tc.failure {
				t.Errorf("probe failure %q (%s), want %q", b.Reachability.Failure, b.Reachability.Error, tc.failure)
			}
		})
	}
}

func TestDefaultCredentialChain(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials")
	if err := os.WriteFile(creds, []byte("[audit]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profile-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", creds)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", "eu-west-3")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDENV")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
	cases := []struct {
		name, profile, key, region string
	}{
		{"environment keys and region", "", "AKIDENV/", "/eu-west-3/s3/"},
		{"named profile", "audit", "AKIDPROFILE/", "/eu-west-3/s3/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWire(t)
			cfg := &Config{Endpoint: w.srv.URL, Profile: tc.profile}
			p, err := Open(context.Background(), cfg, providers.Env{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := p.List(context.Background(), testAccount); err != nil {
				t.Fatal(err)
			}
			if len(w.auth) != 1 || !strings.Contains(w.auth[0], tc.key) || !strings.Contains(w.auth[0], tc.region) {
				t.Errorf("ListBuckets signed as %v, want key %s in %s", w.auth, tc.key, tc.region)
			}
		})
	}
}
