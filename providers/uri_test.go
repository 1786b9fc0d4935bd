package providers

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

func init() {
	// A plugin whose names carry a path, as Azure's account/container do.
	Register(Plugin{
		Name: "pathtest", Scheme: "pt",
		ParseName: func(rest string) (string, error) {
			if a, c, ok := strings.Cut(rest, "/"); !ok || a == "" || c == "" || strings.Contains(c, "/") {
				return "", fmt.Errorf("want ACCOUNT/CONTAINER")
			}
			return rest, nil
		},
		NewConfig: func() Config { return nil },
		Open:      func(context.Context, Config, Env) (Provider, error) { return nil, nil },
		Place:     func(string) (Place, bool) { return Place{}, false },
		OCSF:      OCSFCloud{Provider: "Path Test", AccountType: "Other", AccountTypeID: 99},
	})
	Register(Plugin{
		Name: "baretest", Scheme: "bt", ParseName: BareName,
		NewConfig: func() Config { return nil },
		Open:      func(context.Context, Config, Env) (Provider, error) { return nil, nil },
		Place:     func(string) (Place, bool) { return Place{}, false },
		OCSF:      OCSFCloud{Provider: "Bare Test", AccountType: "Other", AccountTypeID: 99},
	})
}

// The plugin that owns a scheme parses the rest of a bucket URI; nothing
// above it knows whether a name may carry a path.
func TestParseBucketURIByPlugin(t *testing.T) {
	tests := []struct {
		uri, plugin, name, err string
	}{
		{"bt://logs", "baretest", "logs", ""},
		{"bt://logs/", "baretest", "logs", ""},
		{"bt://logs/key", "", "", "no path"},
		{"bt://", "", "", "no path"},
		{"pt://acct/container", "pathtest", "acct/container", ""},
		{"pt://acct", "", "", "ACCOUNT/CONTAINER"},
		{"pt://acct/c/deeper", "", "", "ACCOUNT/CONTAINER"},
		{"nope://x", "", "", "no provider plugin"},
		{"logs", "", "", "not a bucket URI"},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			pl, name, err := ParseBucketURI(tt.uri)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil || pl.Name != tt.plugin || name != tt.name {
				t.Fatalf("got %s %q %v", pl.Name, name, err)
			}
			if got := pl.URI(name); got != strings.TrimSuffix(tt.uri, "/") {
				t.Errorf("URI(%q) = %q", name, got)
			}
		})
	}
}
