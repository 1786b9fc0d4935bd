package alibaba_test

import (
	"context"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
	_ "github.com/reachaudit/reachaudit/providers/aws"   // s3:// for the declared copy
	_ "github.com/reachaudit/reachaudit/providers/azure" // contracts.azure in the demo's declarations
	_ "github.com/reachaudit/reachaudit/providers/gcp"   // the declarations name GCP contracts too
	"github.com/reachaudit/reachaudit/providers/sandbox"
)

// scanDemo scans the built-in demo's Alibaba account through the plugin and
// the rules, under a built-in profile with the demo policy's residency.
func scanDemo(t *testing.T, profile string, copies []agent.DeclaredCopy, customerKeys ...string) (*agent.Result, map[string][]string) {
	t.Helper()
	files, err := sandbox.DemoFiles()
	if err != nil {
		t.Fatal(err)
	}
	data, ok := files["alibaba.yaml"]
	if !ok {
		t.Fatal("no demo/alibaba.yaml")
	}
	cfg, _ := start(t, string(data), sandbox.Options{})
	policyYAML, err := os.ReadFile("../../agent/risk/demo-policy.yaml")
	if err != nil {
		t.Fatal(err)
	}
	policy, err := risk.LoadPolicy("demo-policy.yaml", []byte(strings.Replace(string(policyYAML),
		"profile: us-adversary", "profile: "+profile, 1)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := agent.Scan(context.Background(), agent.ScanConfig{
		Providers:    map[string]providers.Config{"alibaba": cfg},
		Policy:       policy,
		Copies:       copies,
		CustomerKeys: customerKeys,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 0 {
		t.Fatalf("run errors: %+v", res.Errors)
	}
	rules := map[string][]string{}
	for _, f := range res.Findings {
		rules[f.Bucket] = append(rules[f.Bucket], f.Rule)
	}
	for b := range rules {
		sort.Strings(rules[b])
		rules[b] = compact(rules[b])
	}
	return res, rules
}

func compact(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// The demo tells the story plainly: every Alibaba bucket is exposable and
// blockable wherever its region is; each bucket adds the rule its comment
// names.
func TestDemoThroughTheRules(t *testing.T) {
	res, got := scanDemo(t, "us-adversary", nil)
	want := map[string][]string{
		"nw-ali-cn-orders":    {"BLK-001", "EXP-001", "EXP-007", "RES-001"},
		"nw-ali-us-orders-dr": {"BLK-001", "EXP-001"},
		"nw-ali-sh-analytics": {"BLK-001", "EXP-001", "HYG-002", "RES-001"},
		"nw-ali-sh-billing":   {"BLK-001", "BLK-003", "EXP-001", "RES-001"},
		"nw-ali-hk-partners":  {"BLK-001", "BLK-004", "EXP-001", "RES-001"},
		"nw-ali-hk-press":     {"BLK-001", "EXP-001", "EXP-006", "RES-001"},
		"nw-ali-sg-downloads": {"BLK-001", "EXP-001", "RES-001"},
		"nw-ali-sg-media":     {"BLK-001", "EXP-001", "RES-001"},
		// Copies unread: whether it could be blocked is unknown (UNK-001), not BLK-001.
		"nw-ali-sg-telemetry": {"EXP-001", "RES-001", "UNK-001"},
		"nw-ali-us-web":       {"BLK-001", "EXP-001"},
		"nw-ali-us-exports":   {"BLK-001", "EXP-001", "EXP-005"},
		"nw-ali-us-archive":   {"BLK-001", "BLK-005", "EXP-001"},
		// Without its declarations (see TestDemoDeclarationsClearTheVault),
		// the vault is as exposed as any other bucket.
		"nw-ali-us-vault": {"BLK-001", "EXP-001"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rules per bucket (-want +got):\n%s", diff)
	}
	custody := map[string]providers.Custody{}
	for _, b := range res.Buckets {
		custody[b.Name] = b.Custody
		if b.Controller != "CN" || b.Operator != "CN" {
			t.Errorf("%s: controller %s operator %s", b.Name, b.Controller, b.Operator)
		}
	}
	for name, c := range map[string]providers.Custody{
		"nw-ali-cn-orders": providers.CustodyProviderKMS, "nw-ali-hk-partners": providers.CustodyImportedKey,
		"nw-ali-sg-media": providers.CustodyDedicatedHSM, "nw-ali-us-web": providers.CustodyProviderManaged,
		"nw-ali-us-exports": providers.CustodyNone,
	} {
		if custody[name] != c {
			t.Errorf("%s: custody %s, want %s", name, custody[name], c)
		}
	}
	calls := 0
	for _, oc := range res.Summary.APICalls["alibaba"] {
		if oc.Op != "DescribeKey" && oc.Op != "ListBuckets" {
			calls += oc.Calls
		}
	}
	t.Logf("%d buckets, %.2f calls per bucket: %+v", len(res.Buckets), float64(calls)/float64(len(res.Buckets)), res.Summary.APICalls["alibaba"])
}

// A copy at AWS is independent of Alibaba: it clears BLK-001, but the
// provider can still decrypt what it holds, so EXP-001 stays.
func TestDemoDeclaredCopyClearsBlocking(t *testing.T) {
	_, got := scanDemo(t, "us-adversary", []agent.DeclaredCopy{{From: "oss://nw-ali-cn-orders", To: "s3://nw-prod-orders"}})
	if diff := cmp.Diff([]string{"EXP-001", "EXP-007", "RES-001"}, got["nw-ali-cn-orders"]); diff != "" {
		t.Errorf("orders with an AWS copy (-want +got):\n%s", diff)
	}
}

// With the demo's declarations — a copy at AWS and keys Alibaba never
// holds — the vault is the one Alibaba bucket with no findings.
func TestDemoDeclarationsClearTheVault(t *testing.T) {
	files, err := sandbox.DemoFiles()
	if err != nil {
		t.Fatal(err)
	}
	est, err := sandbox.ParseEstate("declarations.yaml", files["declarations.yaml"])
	if err != nil {
		t.Fatal(err)
	}
	d := est.Declarations()
	var copies []agent.DeclaredCopy
	for _, c := range d.Copies {
		copies = append(copies, agent.DeclaredCopy{From: c.From, To: c.To})
	}
	res, got := scanDemo(t, "us-adversary", copies, d.CustomerKeys...)
	if rules, ok := got["nw-ali-us-vault"]; ok {
		t.Errorf("nw-ali-us-vault: %v, want no findings", rules)
	}
	for _, b := range res.Buckets {
		if b.Name == "nw-ali-us-vault" && b.Custody != providers.CustodyCustomerSupplied {
			t.Errorf("vault custody %s, want customer-supplied", b.Custody)
		}
	}
}

// Under eu-sovereignty the concern list is the same: Alibaba stays
// concern-controlled.
func TestDemoUnderEUSovereignty(t *testing.T) {
	_, got := scanDemo(t, "eu-sovereignty", nil)
	for b, rules := range got {
		if !contains(rules, "EXP-001") && b != "nw-ali-us-exports" {
			t.Errorf("%s: %v lacks EXP-001", b, rules)
		}
		if !contains(rules, "BLK-001") && b != "nw-ali-sg-telemetry" {
			t.Errorf("%s: %v lacks BLK-001", b, rules)
		}
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
