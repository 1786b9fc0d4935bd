package agent_test

import (
	"strings"
	"testing"

	"github.com/reachaudit/reachaudit/agent"
	_ "github.com/reachaudit/reachaudit/providers/alibaba"
	_ "github.com/reachaudit/reachaudit/providers/aws"
	_ "github.com/reachaudit/reachaudit/providers/gcp"
)

// FuzzParseBucketURI: no text panics the bucket URI parser, and a URI it
// accepts names a non-empty bucket of a registered plugin, written back
// the same way.
func FuzzParseBucketURI(f *testing.F) {
	for _, s := range []string{"s3://acme", "gs://acme/", "oss://acme-cn", "ftp://x", "s3://", "s3://a/b", "s3://a%00b", "S3://A", "s3://[::1]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pl, name, err := agent.ParseBucketURI(s)
		if err != nil {
			return
		}
		if name == "" || pl.Name == "" {
			t.Fatalf("%q accepted as plugin %q bucket %q", s, pl.Name, name)
		}
		if strings.ContainsAny(name, "/?#") {
			t.Fatalf("%q: bucket name %q holds a URI delimiter", s, name)
		}
	})
}
