package agent_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/aws"
	"github.com/reachaudit/reachaudit/providers/sandbox"
	_ "github.com/reachaudit/reachaudit/providers/sandbox/awsemu"
)

const estate = `aws:
  accounts:
    - id: "111122223333"
      buckets:
        - {name: alpha, region: us-east-1, versioning: Enabled}
        - {name: beta, region: us-east-1, versioning: Enabled}
        - {name: gamma, region: us-east-1, versioning: Enabled, reachable: false}
    - id: "444455556666"
      buckets:
        - {name: delta, region: us-west-2, versioning: Enabled}
`

func startSandbox(t *testing.T, opts sandbox.Options) agent.ScanConfig {
	t.Helper()
	est, err := sandbox.ParseEstate("estate.yaml", []byte(estate))
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.Start(context.Background(), est, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	return agent.ScanConfig{Providers: sb.Configs(), Policy: risk.DefaultPolicy()}
}

// Every listed bucket is in the result, described, with the summary and
// call counts that go with it; scope narrows by account and tags.
func TestScanEveryBucketAndScope(t *testing.T) {
	sc := startSandbox(t, sandbox.Options{})
	var progress []int
	sc.Progress = func(done, total int) { progress = append(progress, done) }
	r, err := agent.Scan(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	if r.Schema != agent.Schema || r.RunID == "" || r.Summary.Buckets != 4 || len(r.Errors) != 0 || r.Partial {
		t.Fatalf("result: schema %q run %q buckets %d errors %+v partial %v", r.Schema, r.RunID, r.Summary.Buckets, r.Errors, r.Partial)
	}
	if len(progress) != 4 || progress[3] != 4 {
		t.Errorf("progress %v", progress)
	}
	if r.Summary.ByRule["BLK-005"] != 1 || len(r.Summary.APICalls["aws"]) == 0 {
		t.Errorf("summary %+v", r.Summary)
	}
	sc.Scope = agent.Scope{Accounts: []string{"444455556666"}}
	r, err = agent.Scan(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Buckets) != 1 || r.Buckets[0].Name != "delta" {
		t.Errorf("scoped to one account: %d buckets", len(r.Buckets))
	}
}

// A run cut short keeps every listed bucket, marks itself partial, and does
// not take the cancellation for a bucket that cannot be read.
func TestScanCutShort(t *testing.T) {
	sc := startSandbox(t, sandbox.Options{Latency: 200 * time.Millisecond})
	sc.Limits = agent.Limits{Concurrency: 1, PerAccount: 1}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	r, err := agent.Scan(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Partial {
		t.Fatal("a cancelled run is not marked partial")
	}
	if len(r.Buckets) != 4 {
		t.Fatalf("%d buckets in a cut-short run, want every listed one (4)", len(r.Buckets))
	}
	for _, f := range r.Findings {
		if f.Rule == "BLK-005" && f.Bucket != "gamma" {
			t.Errorf("BLK-005 on %s, which the cancellation interrupted, not the bucket", f.Bucket)
		}
	}
}

// Faults anywhere never cost a bucket: throttling is retried away, and a
// call that keeps failing or answers garbage leaves its field unknown (and
// UNK-001 says so) while the rest of the record is read.
func TestScanUnderFaults(t *testing.T) {
	faults := sandbox.NewFaults(
		sandbox.Fault{Op: "GetBucketEncryption", Kind: sandbox.FaultThrottle, Times: 3},
		sandbox.Fault{Op: "GetBucketTagging", Kind: sandbox.FaultServer},
		sandbox.Fault{Op: "GetBucketVersioning", Bucket: "beta", Kind: sandbox.FaultMalformed},
		sandbox.Fault{Op: "ListObjectsV2", Bucket: "delta", Kind: sandbox.FaultServer},
	)
	sc := startSandbox(t, sandbox.Options{Faults: faults})
	r, err := agent.Scan(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Buckets) != 4 || len(r.Errors) != 0 {
		t.Fatalf("%d buckets, errors %+v; want all 4 and no run errors", len(r.Buckets), r.Errors)
	}
	unknown := map[string][]string{}
	for _, b := range r.Buckets {
		if b.Custody == "unknown" {
			t.Errorf("%s: throttling was not retried away (custody unknown)", b.Name)
		}
		for _, u := range b.Unknowns {
			unknown[b.Name] = append(unknown[b.Name], u.Field)
		}
	}
	if !slices.Contains(unknown["alpha"], "tags") || !slices.Contains(unknown["beta"], "versioning") {
		t.Errorf("unknowns %v; want tags everywhere and versioning on beta", unknown)
	}
	unk := 0
	for _, f := range r.Findings {
		if f.Rule == "UNK-001" {
			unk++
		}
	}
	if unk == 0 {
		t.Error("no UNK-001 for the fields the faults left unknown")
	}
}

// An account that answers SlowDown above its rate slows the scan down
// rather than losing anything: every bucket is in the result with every
// field read, the throttling answers are counted (as many as the sandbox
// gave), and the account's cap was cut below where it started.
func TestScanBacksOffAThrottlingAccount(t *testing.T) {
	var b strings.Builder
	b.WriteString("aws:\n  accounts:\n    - id: \"111122223333\"\n      throttle: {rps: 150}\n      buckets:\n")
	const n = 150
	for i := range n {
		fmt.Fprintf(&b, "        - {name: bucket-%03d, region: us-east-1, versioning: Enabled}\n", i)
	}
	est, err := sandbox.ParseEstate("estate.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.Start(context.Background(), est, sandbox.Options{Latency: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	sc := agent.ScanConfig{Providers: sb.Configs(), Policy: risk.DefaultPolicy(), Limits: agent.Limits{Concurrency: 32, PerAccount: 8}}
	r, err := agent.Scan(context.Background(), sc)
	if err != nil {
		t.Fatal(err)
	}
	if r.Summary.Buckets != n || len(r.Errors) != 0 {
		t.Fatalf("%d buckets, errors %+v", r.Summary.Buckets, r.Errors)
	}
	for _, bk := range r.Buckets {
		for _, u := range bk.Unknowns {
			// The synthetic estate gives no size datapoint: that unknown is
			// the estate's, not throttling's.
			if u.Field != providers.FieldSize {
				t.Fatalf("%s lost fields to throttling: %+v", bk.Name, bk.Unknowns)
			}
		}
	}
	srv := sb.Servers()["aws"].(interface{ Throttled() int64 })
	got, sent := r.Summary.Throttled["aws"], srv.Throttled()
	if sent == 0 || int64(got) != sent {
		t.Errorf("throttling answers counted %d, sandbox sent %d", got, sent)
	}
	pace := r.Summary.Pace["aws/111122223333"]
	if pace.Start != 8 || pace.Cuts == 0 || pace.End < 1 || pace.End >= 8 {
		t.Errorf("pace %+v: want a start at 8 and cuts below it", pace)
	}
	t.Logf("%d throttling answers, pace %+v, calls %+v", got, pace, r.Summary.APICalls["aws"])
}

// orgEstate is an organisation of 25 ACTIVE members with buckets (two
// pages of ListAccounts), a suspended and a closing member, a member with
// no role to assume, and nested OUs.
func orgEstate(deny string) string {
	var b strings.Builder
	b.WriteString("aws:\n  organization:\n    root: r-ab12\n    ous:\n")
	b.WriteString("      - {id: ou-ab12-prod0001}\n      - {id: ou-ab12-team0001, parent: ou-ab12-prod0001}\n      - {id: ou-ab12-lab00001}\n")
	if deny != "" {
		fmt.Fprintf(&b, "    deny: [%s]\n", deny)
	}
	b.WriteString("    members:\n")
	for i := range 25 {
		parent := []string{"r-ab12", "ou-ab12-prod0001", "ou-ab12-team0001", "ou-ab12-lab00001"}[i%4]
		fmt.Fprintf(&b, "      - {id: \"%012d\", parent: %s}\n", 200000000000+i, parent)
	}
	b.WriteString("      - {id: \"300000000001\", status: SUSPENDED, parent: ou-ab12-team0001}\n")
	b.WriteString("      - {id: \"300000000002\", status: PENDING_CLOSURE}\n")
	b.WriteString("      - {id: \"300000000003\", parent: ou-ab12-team0001}\n") // no role to assume
	b.WriteString("  accounts:\n")
	for i := range 25 {
		fmt.Fprintf(&b, "    - id: \"%012d\"\n      buckets:\n        - {name: org-bucket-%02d, region: us-east-1, versioning: Enabled}\n", 200000000000+i, i)
	}
	return b.String()
}

func scanOrg(t *testing.T, estate string, edit func(*aws.Config)) *agent.Result {
	t.Helper()
	est, err := sandbox.ParseEstate("estate.yaml", []byte(estate))
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.Start(context.Background(), est, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	cfgs := sb.Configs()
	if edit != nil {
		edit(cfgs["aws"].(*aws.Config))
	}
	r, err := agent.Scan(context.Background(), agent.ScanConfig{Providers: cfgs, Policy: risk.DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// organization: true audits every ACTIVE member through the real
// Organizations client: pages followed, suspended and closing members
// skipped and counted, a member whose role cannot be assumed an UNK-002;
// ous: walks nested OUs; exclude_accounts leaves members out.
func TestScanDiscoversTheOrganization(t *testing.T) {
	r := scanOrg(t, orgEstate(""), nil)
	cov := r.Summary.Coverage["aws"]
	if len(cov.Asked) != 26 || len(cov.Listed) != 25 || !slices.Equal(cov.Failed, []string{"300000000003"}) {
		t.Fatalf("coverage asked %d listed %d failed %v", len(cov.Asked), len(cov.Listed), cov.Failed)
	}
	if cov.Source != "organizations:ListAccounts" || cov.Skipped["SUSPENDED"] != 1 || cov.Skipped["PENDING_CLOSURE"] != 1 {
		t.Errorf("discovery %q skipped %v", cov.Source, cov.Skipped)
	}
	if r.Summary.Buckets != 25 || r.Summary.ByRule["UNK-002"] != 1 {
		t.Errorf("%d buckets, %d UNK-002", r.Summary.Buckets, r.Summary.ByRule["UNK-002"])
	}
	for _, f := range r.Findings {
		if f.Rule == "UNK-002" && (f.Account != "300000000003" || f.Evidence["api"] != "sts:AssumeRole") {
			t.Errorf("UNK-002 %+v", f)
		}
	}
	pages := 0
	for _, op := range r.Summary.APICalls["aws"] {
		if op.Op == "ListAccounts" {
			pages = op.Calls
		}
	}
	if pages != 2 {
		t.Errorf("ListAccounts pages %d, want 2 (28 members, 20 a page)", pages)
	}

	// Under the prod OU: its accounts and those of the team OU below it.
	r = scanOrg(t, orgEstate(""), func(c *aws.Config) {
		c.OUs = []string{"ou-ab12-prod0001"}
		c.ExcludeAccounts = []string{"200000000001"}
	})
	cov = r.Summary.Coverage["aws"]
	// Members 1,5,9,…,21 sit in prod and 2,6,…,22 in team: 6 + 6, less
	// one excluded; 300000000003 (team) is ACTIVE and fails.
	if len(cov.Listed) != 11 || !slices.Equal(cov.Failed, []string{"300000000003"}) || cov.Skipped["excluded"] != 1 || cov.Skipped["SUSPENDED"] != 1 {
		t.Errorf("under ou-ab12-prod0001: listed %v failed %v skipped %v", cov.Listed, cov.Failed, cov.Skipped)
	}
}

// An organisation that cannot be listed is one UNK-002 naming the
// Organizations call and the permission; nothing was audited.
func TestScanOrganizationDenied(t *testing.T) {
	r := scanOrg(t, orgEstate("ListAccounts"), nil)
	if r.Summary.CoverageState != agent.CoverageNone || r.Summary.ByRule["UNK-002"] != 1 {
		t.Fatalf("coverage %q, UNK-002 %d", r.Summary.CoverageState, r.Summary.ByRule["UNK-002"])
	}
	f := r.Findings[0]
	if f.Account != "*" || f.Evidence["api"] != "organizations:ListAccounts" || f.Evidence["permission"] != "organizations:ListAccounts" {
		t.Errorf("finding %+v", f)
	}
}
