package sandbox_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
	_ "github.com/reachaudit/reachaudit/providers/azure"
	"github.com/reachaudit/reachaudit/providers/sandbox"
	_ "github.com/reachaudit/reachaudit/providers/sandbox/azureemu"
)

// versioningEstate gives each provider one bucket per word of the estate's
// versioning vocabulary (and the YAML booleans), under the names
// v-<word>; absent is the default, Off.
const versioningEstate = `
aws:
  accounts:
    - id: "111122223333"
      buckets:
        - {name: v-enabled, region: us-east-1, versioning: Enabled}
        - {name: v-suspended, region: us-east-1, versioning: Suspended}
        - {name: v-off, region: us-east-1, versioning: Off}
        - {name: v-true, region: us-east-1, versioning: true}
        - {name: v-false, region: us-east-1, versioning: false}
        - {name: v-absent, region: us-east-1}
gcp:
  projects:
    - id: versioned-project
      buckets:
        - {name: g-enabled, location: US, versioning: Enabled}
        - {name: g-suspended, location: US, versioning: Suspended}
        - {name: g-off, location: US, versioning: Off}
        - {name: g-true, location: US, versioning: true}
        - {name: g-false, location: US, versioning: false}
        - {name: g-absent, location: US}
alibaba:
  accounts:
    - id: "1234567890123456"
      buckets:
        - {name: a-enabled, region: us-west-1, versioning: Enabled}
        - {name: a-suspended, region: us-west-1, versioning: Suspended}
        - {name: a-off, region: us-west-1, versioning: Off}
        - {name: a-true, region: us-west-1, versioning: true}
        - {name: a-false, region: us-west-1, versioning: false}
        - {name: a-absent, region: us-west-1}
azure:
  subscriptions:
    - id: "5b1f3c2e-0000-4000-8000-000000000001"
      storage_accounts:
        - {name: zenabled, location: eastus, versioning: Enabled, containers: [{name: ctr}]}
        - {name: zsuspended, location: eastus, versioning: Suspended, containers: [{name: ctr}]}
        - {name: zoff, location: eastus, versioning: Off, containers: [{name: ctr}]}
        - {name: ztrue, location: eastus, versioning: true, containers: [{name: ctr}]}
        - {name: zfalse, location: eastus, versioning: false, containers: [{name: ctr}]}
        - {name: zabsent, location: eastus, containers: [{name: ctr}]}
`

// One versioning vocabulary for every provider's section: each word is
// accepted everywhere and read back through the real plugin as the state
// it names. GCS and Azure Blob know only on and off, so Suspended reads as
// off there.
func TestOneVersioningVocabulary(t *testing.T) {
	est, err := sandbox.ParseEstate("versioning.yaml", []byte(versioningEstate))
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.Start(context.Background(), est, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	res, err := agent.Scan(context.Background(), agent.ScanConfig{Providers: sb.Configs(), Policy: risk.DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, b := range res.Buckets {
		word := b.Name[strings.IndexByte(b.Name, '-')+1:]
		if b.Provider == "azure" {
			// az://ACCOUNT/CONTAINER: the account carries the setting.
			word = strings.TrimPrefix(strings.SplitN(b.URI, "/", 4)[2], "z")
		}
		got[b.Provider+" "+word] = b.Versioning
	}
	want := map[string]string{}
	for _, p := range []string{"aws", "gcp", "alibaba", "azure"} {
		suspended := providers.VersioningSuspended
		if p == "gcp" || p == "azure" {
			suspended = providers.VersioningOff
		}
		for word, v := range map[string]string{"enabled": providers.VersioningEnabled, "suspended": suspended,
			"off": providers.VersioningOff, "true": providers.VersioningEnabled, "false": providers.VersioningOff,
			"absent": providers.VersioningOff} {
			want[p+" "+word] = v
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("versioning read back per provider and estate word (-want +got):\n%s", diff)
	}
}

// A word outside the vocabulary is refused in every section, naming the
// line, the field and the words it takes.
func TestVersioningWordRefusedEverywhere(t *testing.T) {
	for _, tt := range []struct{ name, yaml, field string }{
		{"aws", "aws:\n  accounts:\n    - id: \"111122223333\"\n      buckets:\n        - {name: x-bucket, region: us-east-1, versioning: On}\n", "aws.accounts[0].buckets[0].versioning"},
		{"gcp", "gcp:\n  projects:\n    - id: versioned-project\n      buckets:\n        - {name: x-bucket, location: US, versioning: On}\n", "gcp.projects[0].buckets[0].versioning"},
		{"alibaba", "alibaba:\n  accounts:\n    - id: \"1234567890123456\"\n      buckets:\n        - {name: x-bucket, region: us-west-1, versioning: On}\n", "alibaba.accounts[0].buckets[0].versioning"},
		{"azure", "azure:\n  subscriptions:\n    - id: \"5b1f3c2e-0000-4000-8000-000000000001\"\n      storage_accounts:\n        - {name: zxbucket, location: eastus, versioning: On}\n", "versioning"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := sandbox.ParseEstate("e.yaml", []byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), "e.yaml:5") || !strings.Contains(err.Error(), tt.field) ||
				!strings.Contains(err.Error(), "Enabled") || !strings.Contains(err.Error(), "Suspended") || !strings.Contains(err.Error(), "Off") {
				t.Errorf("versioning: On: %v", err)
			}
		})
	}
}
