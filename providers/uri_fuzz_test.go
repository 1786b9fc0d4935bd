package providers_test

import (
	"testing"

	"github.com/reachaudit/reachaudit/providers"
	_ "github.com/reachaudit/reachaudit/providers/alibaba"
	_ "github.com/reachaudit/reachaudit/providers/aws"
	_ "github.com/reachaudit/reachaudit/providers/gcp"
)

// FuzzParseBucketURI: no text panics the bucket URI parser, and a URI it
// accepts names a non-empty bucket of a registered plugin whose own URI
// for it parses back to the same bucket.
func FuzzParseBucketURI(f *testing.F) {
	for _, s := range []string{"s3://acme", "gs://acme/", "oss://acme-cn", "ftp://x", "s3://", "s3://a/b", "s3://a%00b", "S3://A", "s3://[::1]", "az://acct/container"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pl, name, err := providers.ParseBucketURI(s)
		if err != nil {
			return
		}
		if name == "" || pl.Name == "" {
			t.Fatalf("%q accepted as plugin %q bucket %q", s, pl.Name, name)
		}
		pl2, name2, err := providers.ParseBucketURI(pl.URI(name))
		if err != nil || pl2.Name != pl.Name || name2 != name {
			t.Fatalf("%q → %s %q, whose URI %q → %s %q, %v", s, pl.Name, name, pl.URI(name), pl2.Name, name2, err)
		}
	})
}
