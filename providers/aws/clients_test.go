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
