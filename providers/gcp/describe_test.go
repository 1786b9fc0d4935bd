package gcp_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/gcp"
	"github.com/reachaudit/reachaudit/providers/sandbox"
)

func TestDescribeWithoutListFetchesMetadataOnce(t *testing.T) {
	env := startSandbox(t, readEstate(t), sandbox.Options{}, nil)
	listed := env.scan(t)
	fresh := startSandbox(t, readEstate(t), sandbox.Options{}, nil)
	for _, name := range []string{"ekm-nam4", "custom-dual", "acl-public", "hong-kong", "key-doomed"} {
		t.Run(name, func(t *testing.T) {
			before := fresh.calls.Total()
			b := fresh.prov.Describe(context.Background(), providers.BucketRef{Account: "acme-prod", Name: name})
			if diff := cmp.Diff(viewOf(listed[name]), viewOf(b)); diff != "" {
				t.Errorf("describe without list differs (-listed +direct):\n%s", diff)
			}
			if !strings.HasPrefix(b.Reachability.Probe, "storage.buckets.get+") {
				t.Errorf("probe = %q", b.Reachability.Probe)
			}
			if n := fresh.calls.Total() - before; n > 5 {
				t.Errorf("%d calls", n)
			}
		})
	}
}

func TestBucketGetDeniedKeepsTheBucket(t *testing.T) {
	estate := strings.Replace(smallEstate, "object_names: [canary.txt]", "deny: [storage.buckets.get]", 1)
	env := startSandbox(t, []byte(estate), sandbox.Options{}, nil)
	b := env.prov.Describe(context.Background(), providers.BucketRef{Account: "acme-prod", Name: "alpha"})
	for _, f := range []string{providers.FieldRegion, providers.FieldCustody, providers.FieldVersioning,
		providers.FieldObjectLock, providers.FieldPublicAccessBlock, providers.FieldTags, providers.FieldRedundancy} {
		if !b.IsUnknown(f) {
			t.Errorf("%s not unknown", f)
		}
	}
	for _, u := range b.Unknowns {
		if u.Permission != "storage.buckets.get" || u.API != "storage.buckets.get" {
			t.Errorf("unknown %+v does not name storage.buckets.get", u)
		}
	}
	if b.Custody != providers.CustodyUnknown || b.Versioning != providers.VersioningUnknown {
		t.Errorf("custody %s versioning %s", b.Custody, b.Versioning)
	}
	// The IAM policy and the probe do not need the metadata.
	if b.Public != providers.No || !b.Reachability.Reachable {
		t.Errorf("public %s reachability %+v", b.Public, b.Reachability)
	}
}

func TestCanaryProbe(t *testing.T) {
	env := startSandbox(t, []byte(smallEstate), sandbox.Options{}, func(c *gcp.Config) { c.Canary = "canary.txt" })
	got := env.scan(t)
	if r := got["alpha"].Reachability; !r.Reachable || r.Probe != "storage.buckets.list+storage.objects.get" {
		t.Errorf("alpha (has the canary) %+v", r)
	}
	if r := got["beta"].Reachability; r.Reachable || r.Failure != providers.FailHTTP404 {
		t.Errorf("beta (no canary) %+v", r)
	}
}

func TestCallsPerBucket(t *testing.T) {
	env := startSandbox(t, readEstate(t), sandbox.Options{}, nil)
	got := env.scan(t)
	perOp := map[string]int{}
	for _, oc := range env.calls.Snapshot() {
		perOp[oc.Op] = oc.Calls
	}
	keys := map[string]bool{}
	for _, b := range got {
		if b.Key != nil {
			keys[b.Key.ID] = true
		}
	}
	if perOp["cloudkms.cryptoKeys.get"] != len(keys) {
		t.Errorf("%d key lookups for %d distinct keys", perOp["cloudkms.cryptoKeys.get"], len(keys))
	}
	if perOp["storage.buckets.get"] != 0 {
		t.Errorf("%d bucket GETs: the list's metadata was fetched again", perOp["storage.buckets.get"])
	}
	storageCalls := env.calls.Total() - perOp["cloudkms.cryptoKeys.get"]
	per := float64(storageCalls) / float64(len(got))
	t.Logf("%d buckets: %d storage calls (%.2f per bucket) + %d key lookups; by op %v", len(got), storageCalls, per, len(keys), perOp)
	if per > 4 {
		t.Errorf("%.2f calls per bucket, want at most 4", per)
	}
	if served := env.sb.Requests(); served != int64(env.calls.Total()) {
		t.Errorf("sandbox served %d requests, plugin counted %d calls", served, env.calls.Total())
	}
}

// TestAbsentAndStrangeFields feeds the plugin bucket resources that lack
// fields the sandbox always sends, through the real client over HTTP.
func TestAbsentAndStrangeFields(t *testing.T) {
	bucket := map[string]string{
		"bare":    `{"kind":"storage#bucket","name":"bare","location":"US-EAST1"}`,
		"mars":    `{"kind":"storage#bucket","name":"mars","location":"MARS-CENTRAL1","locationType":"region","iamConfiguration":{"publicAccessPrevention":"enforced","uniformBucketLevelAccess":{"enabled":true}}}`,
		"oddlock": `{"kind":"storage#bucket","name":"oddlock","location":"EUR4","retentionPolicy":{"retentionPeriod":"86400"},"versioning":{},"iamConfiguration":{"publicAccessPrevention":"inherited","uniformBucketLevelAccess":{"enabled":true}}}`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		p := strings.TrimPrefix(r.URL.Path, "/storage/v1/")
		switch {
		case p == "b":
			fmt.Fprintf(w, `{"kind":"storage#buckets","items":[%s,%s,%s]}`, bucket["bare"], bucket["mars"], bucket["oddlock"])
		case strings.HasSuffix(p, "/iam"):
			fmt.Fprint(w, `{"kind":"storage#policy"}`)
		case strings.HasSuffix(p, "/acl"):
			fmt.Fprint(w, `{"kind":"storage#bucketAccessControls"}`)
		case strings.HasSuffix(p, "/o"):
			fmt.Fprint(w, `{"kind":"storage#objects"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	plug, _ := providers.Lookup("gcp")
	cfg := &gcp.Config{Projects: []string{"acme-prod"}, Endpoint: srv.URL + "/storage/v1/", KMSEndpoint: "127.0.0.1:1",
		WithoutAuthentication: true, Insecure: true}
	prov, err := plug.Open(context.Background(), cfg, providers.Env{})
	if err != nil {
		t.Fatal(err)
	}
	refs, err := prov.List(context.Background(), "acme-prod")
	if err != nil || len(refs) != 3 {
		t.Fatalf("List = %v, %v", refs, err)
	}
	got := map[string]providers.Bucket{}
	for _, r := range refs {
		got[r.Name] = prov.Describe(context.Background(), r)
	}
	if b := got["bare"]; !b.IsUnknown(providers.FieldPublicAccessBlock) || b.Public != providers.No ||
		b.Custody != providers.CustodyProviderManaged || b.Versioning != providers.VersioningOff || b.Region != "us-east1" {
		t.Errorf("bare: %+v", b)
	}
	if b := got["mars"]; !b.IsUnknown(providers.FieldRegion) || b.Region != "mars-central1" || len(b.Countries) != 0 ||
		b.PublicAccessBlock != providers.Yes || b.Public != providers.No {
		t.Errorf("mars: %+v", b)
	}
	if b := got["oddlock"]; b.ObjectLock != providers.No || b.Redundancy != "dual-region" || b.RedundancyScope != providers.RedundancyMultiRegion ||
		cmp.Diff([]string{"FI", "NL"}, b.Countries) != "" || len(b.Unknowns) != 0 {
		t.Errorf("oddlock: %+v", b)
	}
}

// TestConcurrentDescribesShareKeyLookups describes many buckets at once
// that share few keys: each key is read once, and no record is lost.
func TestConcurrentDescribesShareKeyLookups(t *testing.T) {
	var est strings.Builder
	est.WriteString("gcp:\n  projects:\n    - id: acme-prod\n      keys:\n")
	for k := 0; k < 3; k++ {
		fmt.Fprintf(&est, "        - {name: projects/acme-prod/locations/us/keyRings/r/cryptoKeys/k%d}\n", k)
	}
	est.WriteString("      buckets:\n")
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&est, "        - {name: shared-key-%02d, location: us-east1, default_kms_key: projects/acme-prod/locations/us/keyRings/r/cryptoKeys/k%d}\n", i, i%3)
	}
	env := startSandbox(t, []byte(est.String()), sandbox.Options{Latency: 5 * time.Millisecond}, nil)
	refs, err := env.prov.List(context.Background(), "acme-prod")
	if err != nil {
		t.Fatal(err)
	}
	out := make([]providers.Bucket, len(refs))
	var wg sync.WaitGroup
	for i, r := range refs {
		wg.Go(func() { out[i] = env.prov.Describe(context.Background(), r) })
	}
	wg.Wait()
	for _, b := range out {
		if b.Custody != providers.CustodyProviderKMS || b.Key == nil || b.Key.State != providers.KeyEnabled {
			t.Errorf("%s: custody %s key %+v", b.Name, b.Custody, b.Key)
		}
	}
	for _, oc := range env.calls.Snapshot() {
		if oc.Op == "cloudkms.cryptoKeys.get" && oc.Calls != 3 {
			t.Errorf("%d key lookups for 3 keys", oc.Calls)
		}
	}
}
