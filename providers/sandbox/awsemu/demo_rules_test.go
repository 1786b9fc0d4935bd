package awsemu_test

import (
	"context"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/sandbox"
	"github.com/reachaudit/reachaudit/providers/sandbox/awsemu"
)

// demoExpect is what the demo's AWS file promises in its comments: the
// rules each odd bucket demonstrates (at least these), and the buckets
// that must stay clean (nil).
var demoExpect = map[string][]string{
	"nw-prod-payroll-exports":   nil,
	"nw-prod-payroll-dr":        nil,
	"nw-prod-customer-vault":    nil,
	"nw-prod-customer-vault-dr": nil,
	"nw-data-exports":           nil,
	"nw-data-warehouse":         nil,
	"nw-data-warehouse-replica": nil,
	"nw-logs-cloudtrail":        nil,
	"nw-logs-s3-access":         nil,
	"nw-prod-web-assets":        {"EXP-006"},
	"nw-prod-orders":            {"EXP-007"},
	"nw-prod-orders-apac":       {"EXP-002", "RES-001"},
	"nw-prod-partner-feed":      {"EXP-008"},
	"nw-prod-legacy-reports":    {"EXP-005"},
	"scratch-nw-prod-etl":       {"HYG-001"},
	"nw-prod-audit-trail":       {"UNK-001"},
	"nw-prod-billing":           {"UNK-001"},
	"nw-prod-cold-archive":      {"BLK-005"},
	"nw-data-lake-raw":          {"BLK-003"},
	"nw-data-lake-curated":      {"BLK-003"},
	"nw-data-imported-keys":     {"BLK-004"},
	"nw-data-import-staging":    {"BLK-003"},
	"nw-data-hk-research":       {"EXP-002", "RES-001"},
	"nw-eu-customers":           {"EXP-003", "BLK-002", "RES-001"},
	"nw-eu-contracts":           {"EXP-004", "BLK-002", "RES-001"},
	"nw-eu-app-logs":            {"EXP-003", "BLK-002", "RES-001"},
	"nw-cn-orders":              {"EXP-001", "BLK-001", "RES-001"},
	"nw-cn-marketing":           {"EXP-001", "BLK-001", "RES-001"},
	"nw-cn-telemetry":           {"EXP-001", "BLK-001", "RES-001", "HYG-001"},
}

// awsRules are the catalogue's rules that can fire on AWS (HYG-002 is about
// OSS redundancy classes).
var awsRules = []string{"EXP-001", "EXP-002", "EXP-003", "EXP-004", "EXP-005", "EXP-006", "EXP-007", "EXP-008",
	"BLK-001", "BLK-002", "BLK-003", "BLK-004", "BLK-005", "RES-001", "HYG-001", "UNK-001"}

// TestDemoThroughPluginAndRules scans the demo's AWS estate with the real
// plugin through the configuration the emulator hands out (organisation
// key, a role assumed per account) and judges it with the demo policy.
func TestDemoThroughPluginAndRules(t *testing.T) {
	files, err := sandbox.DemoFiles()
	if err != nil {
		t.Fatal(err)
	}
	est, err := sandbox.ParseEstate("demo/aws.yaml", files["aws.yaml"])
	if err != nil {
		t.Fatal(err)
	}
	sec, _ := est.Section("aws")
	now := time.Now().UTC()
	srv, err := awsemu.Start(context.Background(), sec.(*awsemu.Estate), sandbox.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	policy, err := risk.DemoPolicy()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := agent.Scan(ctx, agent.ScanConfig{
		Providers: map[string]providers.Config{"aws": srv.Config()},
		Policy:    policy,
		Now:       func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) > 0 {
		t.Fatalf("scan errors: %+v", res.Errors)
	}
	if len(res.Buckets) != len(demoExpect) {
		t.Errorf("scanned %d buckets; the demo declares %d", len(res.Buckets), len(demoExpect))
	}
	got := map[string][]string{}
	fired := map[string]bool{}
	for _, f := range res.Findings {
		got[f.Bucket] = append(got[f.Bucket], f.Rule)
		fired[f.Rule] = true
	}
	for bucket, want := range demoExpect {
		rules := got[bucket]
		sort.Strings(rules)
		if want == nil && len(rules) > 0 {
			t.Errorf("%s should be clean; got %v", bucket, rules)
		}
		for _, r := range want {
			if !slices.Contains(rules, r) {
				t.Errorf("%s: %s did not fire (got %v)", bucket, r, rules)
			}
		}
	}
	for _, r := range awsRules {
		if !fired[r] {
			t.Errorf("rule %s never fired on the demo", r)
		}
	}
	t.Logf("%d buckets, %d findings, %d requests", len(res.Buckets), len(res.Findings), srv.Requests())
}
