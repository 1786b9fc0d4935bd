package aws

// A cross-check against gofakes3, an S3 fake written by others, limited to
// what it implements: listing buckets, HEAD of a bucket and an object, a
// one-key list and versioning. Its answers to the other reads are not S3's,
// so nothing is asserted about them beyond the bucket staying in the result.

import (
	"bytes"
	"context"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/reachaudit/reachaudit/providers"
)

func TestGofakes3ListHeadVersioning(t *testing.T) {
	backend := s3mem.New()
	seed := []struct {
		bucket     string
		versioning gofakes3.VersioningStatus
		canary     bool
	}{
		{"gf-enabled", gofakes3.VersioningEnabled, true},
		{"gf-suspended", gofakes3.VersioningSuspended, false},
		{"gf-never", "", true},
	}
	for _, s := range seed {
		if err := backend.CreateBucket(s.bucket); err != nil {
			t.Fatal(err)
		}
		// As in S3, a bucket is suspended only after being enabled.
		steps := map[gofakes3.VersioningStatus][]gofakes3.VersioningStatus{
			gofakes3.VersioningEnabled:   {gofakes3.VersioningEnabled},
			gofakes3.VersioningSuspended: {gofakes3.VersioningEnabled, gofakes3.VersioningSuspended},
		}[s.versioning]
		for _, v := range steps {
			if err := backend.SetVersioningConfiguration(s.bucket, gofakes3.VersioningConfiguration{Status: v}); err != nil {
				t.Fatal(err)
			}
		}
		if s.canary {
			body := []byte("ok")
			if _, err := backend.PutObject(s.bucket, "probe/canary", map[string]string{}, bytes.NewReader(body), int64(len(body)), nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)

	for _, canary := range []string{"", "probe/canary"} {
		p, err := Open(context.Background(), &Config{
			Endpoint: srv.URL, Canary: canary, Accounts: []string{testAccount},
			Credentials: &StaticCredentials{AccessKeyID: "AKIDFAKES3", SecretAccessKey: "fakes3-secret"},
		}, providers.Env{})
		if err != nil {
			t.Fatal(err)
		}
		refs, err := p.List(context.Background(), testAccount)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range refs {
			names = append(names, r.Name)
		}
		slices.Sort(names)
		if want := []string{"gf-enabled", "gf-never", "gf-suspended"}; !slices.Equal(names, want) {
			t.Fatalf("listed %v, want %v", names, want)
		}
		want := map[string]struct {
			versioning string
			reachable  bool
		}{
			"gf-enabled":   {providers.VersioningEnabled, true},
			"gf-suspended": {providers.VersioningSuspended, canary == ""}, // no canary object in it
			"gf-never":     {providers.VersioningOff, true},
		}
		for _, ref := range refs {
			b := p.Describe(context.Background(), ref)
			w := want[ref.Name]
			if b.Versioning != w.versioning || b.Reachability.Reachable != w.reachable {
				t.Errorf("canary %q, %s: versioning %q reachable %v (%s), want %q %v",
					canary, ref.Name, b.Versioning, b.Reachability.Reachable, b.Reachability.Error, w.versioning, w.reachable)
			}
			if !w.reachable && b.Reachability.Failure != providers.FailHTTP404 {
				t.Errorf("%s: a missing canary is %q, want %q", ref.Name, b.Reachability.Failure, providers.FailHTTP404)
			}
		}
	}
}
