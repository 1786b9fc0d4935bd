package gcp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/gcp"
	"github.com/reachaudit/reachaudit/providers/sandbox"
)

const smallEstate = `
gcp:
  projects:
    - id: acme-prod
      keys:
        - name: projects/acme-prod/locations/us/keyRings/ring/cryptoKeys/soft
      buckets:
        - name: alpha
          location: us-east1
          default_kms_key: projects/acme-prod/locations/us/keyRings/ring/cryptoKeys/soft
          object_names: [canary.txt]
        - name: beta
          location: us-east1
          default_kms_key: projects/acme-prod/locations/us/keyRings/ring/cryptoKeys/soft
        - name: gamma
          location: EU
          uniform_access: false
`

func unknowns(b providers.Bucket) []string {
	var out []string
	for _, u := range b.Unknowns {
		out = append(out, u.Field+"@"+u.API+"#"+u.Permission)
	}
	return out
}

func TestFaultsBecomeUnknownsNeverDrops(t *testing.T) {
	fast := func(c *gcp.Config) { c.Timeout = time.Second }
	tests := []struct {
		name   string
		faults []sandbox.Fault
		check  func(t *testing.T, got map[string]providers.Bucket)
	}{
		{
			name:   "5xx once on the IAM policy is retried",
			faults: []sandbox.Fault{{Op: "storage.buckets.getIamPolicy", Bucket: "alpha", Kind: sandbox.FaultServer, Times: 1}},
			check: func(t *testing.T, got map[string]providers.Bucket) {
				if b := got["alpha"]; b.Public != providers.No || len(b.Unknowns) != 0 {
					t.Errorf("alpha public=%s unknowns=%v", b.Public, unknowns(b))
				}
			},
		},
		{
			name:   "5xx every time on the IAM policy is an unknown without a permission",
			faults: []sandbox.Fault{{Op: "storage.buckets.getIamPolicy", Bucket: "alpha", Kind: sandbox.FaultServer}},
			check: func(t *testing.T, got map[string]providers.Bucket) {
				b := got["alpha"]
				if b.Public != providers.TriUnknown || strings.Join(unknowns(b), ",") != "public@storage.buckets.getIamPolicy#" {
					t.Errorf("alpha public=%s unknowns=%v", b.Public, unknowns(b))
				}
				if !strings.Contains(b.Unknowns[0].Error, "503") {
					t.Errorf("error %q does not carry the status", b.Unknowns[0].Error)
				}
				if got["beta"].Public != providers.No {
					t.Errorf("beta affected: %s", got["beta"].Public)
				}
			},
		},
		{
			name:   "malformed IAM policy is an unknown",
			faults: []sandbox.Fault{{Op: "storage.buckets.getIamPolicy", Bucket: "beta", Kind: sandbox.FaultMalformed}},
			check: func(t *testing.T, got map[string]providers.Bucket) {
				if b := got["beta"]; b.Public != providers.TriUnknown || !b.IsUnknown(providers.FieldPublic) {
					t.Errorf("beta public=%s unknowns=%v", b.Public, unknowns(b))
				}
			},
		},
		{
			name:   "malformed ACL on a fine-grained bucket is an unknown",
			faults: []sandbox.Fault{{Op: "storage.bucketAccessControls.list", Kind: sandbox.FaultMalformed}},
			check: func(t *testing.T, got map[string]providers.Bucket) {
				// The list carried gamma's ACL, so no ACL call was needed.
				if b := got["gamma"]; b.Public != providers.No {
					t.Errorf("gamma public=%s unknowns=%v", b.Public, unknowns(b))
				}
			},
		},
		{
			name:   "throttled probe is retried",
			faults: []sandbox.Fault{{Op: "storage.objects.list", Bucket: "alpha", Kind: sandbox.FaultThrottle, Times: 1}},
			check: func(t *testing.T, got map[string]providers.Bucket) {
				if r := got["alpha"].Reachability; !r.Reachable {
					t.Errorf("alpha reachability %+v", r)
				}
			},
		},
		{
			name:   "throttled probe every time is classed throttled",
			faults: []sandbox.Fault{{Op: "storage.objects.list", Bucket: "alpha", Kind: sandbox.FaultThrottle}},
			check: func(t *testing.T, got map[string]providers.Bucket) {
				if r := got["alpha"].Reachability; r.Reachable || r.Failure != providers.FailThrottled {
					t.Errorf("alpha reachability %+v", r)
				}
			},
		},
		{
			name:   "5xx probe every time is classed http-5xx",
			faults: []sandbox.Fault{{Op: "storage.objects.list", Bucket: "beta", Kind: sandbox.FaultServer}},
			check: func(t *testing.T, got map[string]providers.Bucket) {
				if r := got["beta"].Reachability; r.Reachable || r.Failure != providers.FailHTTP5xx {
					t.Errorf("beta reachability %+v", r)
				}
			},
		},
		{
			name:   "hanging probe is classed timeout",
			faults: []sandbox.Fault{{Op: "storage.objects.list", Bucket: "beta", Kind: sandbox.FaultTimeout}},
			check: func(t *testing.T, got map[string]providers.Bucket) {
				if r := got["beta"].Reachability; r.Reachable || r.Failure != providers.FailTimeout {
					t.Errorf("beta reachability %+v", r)
				}
			},
		},
		{
			name:   "malformed probe answer is not reachable",
			faults: []sandbox.Fault{{Op: "storage.objects.list", Bucket: "beta", Kind: sandbox.FaultMalformed}},
			check: func(t *testing.T, got map[string]providers.Bucket) {
				if r := got["beta"].Reachability; r.Reachable || r.Failure != providers.FailOther {
					t.Errorf("beta reachability %+v", r)
				}
			},
		},
		{
			name:   "KMS unavailable once is retried",
			faults: []sandbox.Fault{{Op: "cloudkms.cryptoKeys.get", Kind: sandbox.FaultServer, Times: 1}},
			check: func(t *testing.T, got map[string]providers.Bucket) {
				if b := got["alpha"]; b.Custody != providers.CustodyProviderKMS || b.Key.State != providers.KeyEnabled {
					t.Errorf("alpha custody=%s key=%+v unknowns=%v", b.Custody, b.Key, unknowns(b))
				}
			},
		},
		{
			name:   "KMS unavailable every time leaves custody and key unknown",
			faults: []sandbox.Fault{{Op: "cloudkms.cryptoKeys.get", Kind: sandbox.FaultServer}},
			check: func(t *testing.T, got map[string]providers.Bucket) {
				for _, n := range []string{"alpha", "beta"} {
					b := got[n]
					if b.Custody != providers.CustodyUnknown || b.Key == nil || b.Key.State != providers.KeyStateUnknown ||
						strings.Join(unknowns(b), ",") != "custody@cloudkms.cryptoKeys.get#,key@cloudkms.cryptoKeys.get#" {
						t.Errorf("%s custody=%s key=%+v unknowns=%v", n, b.Custody, b.Key, unknowns(b))
					}
				}
			},
		},
		{
			name:   "KMS hanging leaves custody unknown",
			faults: []sandbox.Fault{{Op: "cloudkms.cryptoKeys.get", Kind: sandbox.FaultTimeout}},
			check: func(t *testing.T, got map[string]providers.Bucket) {
				if b := got["alpha"]; b.Custody != providers.CustodyUnknown || !b.IsUnknown(providers.FieldKey) {
					t.Errorf("alpha custody=%s unknowns=%v", b.Custody, unknowns(b))
				}
			},
		},
		{
			name:   "KMS malformed answer leaves custody unknown",
			faults: []sandbox.Fault{{Op: "cloudkms.cryptoKeys.get", Kind: sandbox.FaultMalformed}},
			check: func(t *testing.T, got map[string]providers.Bucket) {
				if b := got["beta"]; b.Custody != providers.CustodyUnknown || !b.IsUnknown(providers.FieldCustody) {
					t.Errorf("beta custody=%s unknowns=%v", b.Custody, unknowns(b))
				}
			},
		},
		{
			name:   "bucket list 5xx once is retried",
			faults: []sandbox.Fault{{Op: "storage.buckets.list", Kind: sandbox.FaultServer, Times: 1}},
			check: func(t *testing.T, got map[string]providers.Bucket) {
				if len(got) != 3 {
					t.Errorf("got %d buckets", len(got))
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := startSandbox(t, []byte(smallEstate), sandbox.Options{Faults: sandbox.NewFaults(tt.faults...)}, fast)
			got := env.scan(t)
			if len(got) != 3 {
				t.Fatalf("scanned %d buckets, want 3", len(got))
			}
			tt.check(t, got)
		})
	}
}

func TestListFailuresAreErrorsNotPanics(t *testing.T) {
	tests := []struct {
		name   string
		estate string
		faults []sandbox.Fault
		want   string
	}{
		{name: "malformed list", estate: smallEstate,
			faults: []sandbox.Fault{{Op: "storage.buckets.list", Kind: sandbox.FaultMalformed}}, want: "list buckets of project acme-prod"},
		{name: "5xx every time", estate: smallEstate,
			faults: []sandbox.Fault{{Op: "storage.buckets.list", Kind: sandbox.FaultServer}}, want: "503"},
		{name: "denied names the permission", estate: strings.Replace(smallEstate, "object_names: [canary.txt]", "deny: [storage.buckets.list]", 1),
			want: "grant storage.buckets.list"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := startSandbox(t, []byte(tt.estate), sandbox.Options{Faults: sandbox.NewFaults(tt.faults...)}, nil)
			_, err := env.prov.List(context.Background(), "acme-prod")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("List error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
