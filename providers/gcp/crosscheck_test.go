package gcp_test

import (
	"context"
	"sort"
	"testing"

	"github.com/fsouza/fake-gcs-server/fakestorage"
	"github.com/google/go-cmp/cmp"

	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/gcp"
	"github.com/reachaudit/reachaudit/providers/sandbox"
	"github.com/reachaudit/reachaudit/providers/sandbox/gcpemu"
)

// TestAgreesWithFakeGCSServer builds one estate in our sandbox and in
// fake-gcs-server, scans both with the plugin, and compares what
// fake-gcs-server implements: the bucket list, location and versioning.
// It serves one location for all its buckets, so the estate uses one.
func TestAgreesWithFakeGCSServer(t *testing.T) {
	const estate = `
gcp:
  projects:
    - id: acme-prod
      buckets:
        - {name: ledger-archive, location: EUR4, versioning: true}
        - {name: ledger-scratch, location: EUR4}
        - {name: ledger-exports, location: EUR4, versioning: true}
        - {name: ledger-tmp, location: EUR4}
`
	ours := startSandbox(t, []byte(estate), sandbox.Options{}, nil).scan(t)

	e, err := sandbox.ParseEstate("estate.yaml", []byte(estate))
	if err != nil {
		t.Fatal(err)
	}
	sec, _ := e.Section("gcp")
	fake, err := fakestorage.NewServerWithOptions(fakestorage.Options{
		Scheme: "http", Host: "127.0.0.1", BucketsLocation: "EUR4", NoListener: false,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Stop()
	for _, b := range sec.(*gcpemu.Section).Projects[0].Buckets {
		fake.CreateBucketWithOpts(fakestorage.CreateBucketOpts{Name: b.Name, VersioningEnabled: b.Versioning.Enabled()})
	}
	plug, _ := providers.Lookup("gcp")
	prov, err := plug.Open(context.Background(), &gcp.Config{
		Projects: []string{"acme-prod"}, Endpoint: fake.URL() + "/storage/v1/", KMSEndpoint: "127.0.0.1:1",
		WithoutAuthentication: true, Insecure: true,
	}, providers.Env{})
	if err != nil {
		t.Fatal(err)
	}
	refs, err := prov.List(context.Background(), "acme-prod")
	if err != nil {
		t.Fatal(err)
	}
	theirs := map[string]providers.Bucket{}
	for _, r := range refs {
		theirs[r.Name] = prov.Describe(context.Background(), r)
	}

	type facts struct {
		Region, LocationType, Versioning, Redundancy string
		Countries                                    []string
	}
	summarise := func(m map[string]providers.Bucket) map[string]facts {
		out := map[string]facts{}
		for n, b := range m {
			out[n] = facts{b.Region, b.LocationType, b.Versioning, b.Redundancy, b.Countries}
		}
		return out
	}
	names := func(m map[string]providers.Bucket) []string {
		var out []string
		for n := range m {
			out = append(out, n)
		}
		sort.Strings(out)
		return out
	}
	if diff := cmp.Diff(names(ours), names(theirs)); diff != "" {
		t.Fatalf("bucket lists differ (-ours +fake-gcs-server):\n%s", diff)
	}
	if diff := cmp.Diff(summarise(ours), summarise(theirs)); diff != "" {
		t.Errorf("records differ (-ours +fake-gcs-server):\n%s", diff)
	}
	if ours["ledger-archive"].Versioning != providers.VersioningEnabled || ours["ledger-tmp"].Versioning != providers.VersioningOff {
		t.Errorf("versioning not told apart: %s %s", ours["ledger-archive"].Versioning, ours["ledger-tmp"].Versioning)
	}
}
