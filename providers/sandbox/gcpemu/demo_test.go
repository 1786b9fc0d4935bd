package gcpemu_test

import (
	"context"
	"slices"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/gcp"
	"github.com/reachaudit/reachaudit/providers/sandbox"
)

// scanDemo scans the demo estate's GCP part through the plugin.
func scanDemo(t *testing.T) ([]providers.Bucket, []string) {
	t.Helper()
	files, err := sandbox.DemoFiles()
	if err != nil {
		t.Fatal(err)
	}
	e, err := sandbox.ParseEstate("demo/gcp.yaml", files["gcp.yaml"])
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, e, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	cfg := sb.Configs()["gcp"].(*gcp.Config)
	plug, _ := providers.Lookup("gcp")
	prov, err := plug.Open(ctx, cfg, providers.Env{})
	if err != nil {
		t.Fatal(err)
	}
	var out []providers.Bucket
	for _, p := range cfg.Projects {
		refs, err := prov.List(ctx, p)
		if p == unlistedProject {
			// The project the scanner may not list: its denial names the
			// permission, which the run's UNK-002 carries.
			if api, perm := providers.APIOf(err); err == nil || api != "storage.buckets.list" || perm != "storage.buckets.list" {
				t.Fatalf("listing %s: %v (api %q, permission %q), want a denial of storage.buckets.list", p, err, api, perm)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range refs {
			out = append(out, prov.Describe(ctx, r))
		}
	}
	return out, cfg.Projects
}

// unlistedProject is the demo project whose buckets the scanner may not list.
const unlistedProject = "northwind-research"

func rulesByBucket(fs []risk.Finding) map[string][]string {
	out := map[string][]string{}
	for _, f := range fs {
		if f.Status == "open" {
			out[f.Bucket] = append(out[f.Bucket], f.Rule)
		}
	}
	for b := range out {
		sort.Strings(out[b])
	}
	return out
}

// TestDemoEstateUnderUSAdversary checks the verdicts the demo's comments
// promise: each rule that can fire on GCS fires, clean buckets stay clean.
func TestDemoEstateUnderUSAdversary(t *testing.T) {
	buckets, projects := scanDemo(t)
	pol, err := risk.DemoPolicy()
	if err != nil {
		t.Fatal(err)
	}
	got := rulesByBucket(risk.Evaluate(buckets, pol, risk.Options{Scanned: map[string][]string{"gcp": projects}}))
	want := map[string][]string{
		"northwind-prod-hk-orders":         {"EXP-002", "RES-001"},
		"northwind-prod-paris-sovereign":   {"BLK-002", "EXP-003", "RES-001"},
		"northwind-prod-paris-cmek":        {"BLK-002", "EXP-004", "RES-001"},
		"northwind-prod-billing":           {"BLK-003"},
		"northwind-prod-exports-2019":      {"BLK-003"},
		"northwind-prod-backups":           {"BLK-005"},
		"northwind-analytics-apac-events":  {"EXP-002", "RES-001"},
		"northwind-analytics-eu-research":  {"RES-001"},
		"northwind-analytics-public-site":  {"EXP-006"},
		"northwind-analytics-partner-feed": {"EXP-008"},
		"northwind-analytics-models":       {"UNK-001"},
		"northwind-analytics-features":     {"UNK-001"},
		"northwind-analytics-scratch":      {"HYG-001"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings by bucket (-want +got):\n%s", diff)
	}
	clean := 0
	for _, b := range buckets {
		if _, ok := got[b.Name]; !ok {
			clean++
		}
	}
	if clean != 5 {
		t.Errorf("%d clean buckets, want 5", clean)
	}
}

func TestDemoEstateUnderEUSovereignty(t *testing.T) {
	buckets, projects := scanDemo(t)
	pol, ok := risk.Profile("eu-sovereignty")
	if !ok {
		t.Fatal("no eu-sovereignty profile")
	}
	got := rulesByBucket(risk.Evaluate(buckets, pol, risk.Options{Scanned: map[string][]string{"gcp": projects}}))
	tests := map[string][]string{
		// Google is US-controlled: foreign under this profile.
		"northwind-analytics-warehouse": {"BLK-002", "EXP-003"},
		"northwind-prod-media":          {"BLK-002", "EXP-004"},
		// A Cloud EKM key needs Northwind's cooperation; the block remains.
		"northwind-prod-ledger": {"BLK-002"},
	}
	for b, want := range tests {
		if diff := cmp.Diff(want, got[b]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", b, diff)
		}
	}
	if !slices.Contains(got["northwind-prod-hk-orders"], "EXP-002") {
		t.Errorf("Hong Kong bucket lacks EXP-002: %v", got["northwind-prod-hk-orders"])
	}
}
