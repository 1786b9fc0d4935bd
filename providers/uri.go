package providers

import (
	"fmt"
	"strings"
)

// URI is the bucket URI of a bucket named name by this plugin: the scheme,
// "://", and the name as records carry it (s3://logs, az://acct/container).
func (p Plugin) URI(name string) string { return p.Scheme + "://" + name }

// BareName is the ParseName of providers whose bucket names are unique on
// their own (s3://name, gs://name, oss://name): one segment, no path.
func BareName(rest string) (string, error) {
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" || strings.ContainsAny(rest, "/?#") {
		return "", fmt.Errorf("want a bucket name and no path")
	}
	return rest, nil
}

// ParseBucketURI splits a bucket URI into the plugin that owns its scheme
// and the bucket's name; the plugin parses what follows "scheme://", so
// nothing above it knows a provider's syntax.
func ParseBucketURI(s string) (Plugin, string, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || scheme == "" {
		return Plugin{}, "", fmt.Errorf("%q is not a bucket URI like s3://name", s)
	}
	pl, ok := ByScheme(scheme)
	if !ok {
		return Plugin{}, "", fmt.Errorf("%q: no provider plugin for the scheme %q", s, scheme)
	}
	name, err := pl.ParseName(rest)
	if err != nil {
		return Plugin{}, "", fmt.Errorf("%q is not a %s bucket URI: %w", s, scheme, err)
	}
	return pl, name, nil
}
