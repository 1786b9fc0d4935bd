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
	"github.com/reachaudit/reachaudit/providers/gcp"
	"github.com/reachaudit/reachaudit/providers/sandbox"
	_ "github.com/reachaudit/reachaudit/providers/sandbox/alibabaemu"
	_ "github.com/reachaudit/reachaudit/providers/sandbox/gcpemu"
)

// scanEstate scans an estate through the real plugins, after edit (if
// any) changed the configurations the sandbox hands out.
func scanEstate(t *testing.T, estate string, opts sandbox.Options, edit func(map[string]providers.Config)) *agent.Result {
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
	cfgs := sb.Configs()
	if edit != nil {
		edit(cfgs)
	}
	r, err := agent.Scan(context.Background(), agent.ScanConfig{Providers: cfgs, Policy: risk.DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func calls(r *agent.Result, provider, op string) int {
	for _, c := range r.Summary.APICalls[provider] {
		if c.Op == op {
			return c.Calls
		}
	}
	return 0
}

// gcpOrgEstate is an organisation of 26 ACTIVE projects with buckets: 21
// right under the organisation (two pages of SearchProjects) and one in
// each of folders nested three deep (1001 > 1002 > 1003) and a fourth
// (1004); a project being deleted, and an ACTIVE project that has no
// bucket list to read (it answers not found).
func gcpOrgEstate(deny string) string {
	var b strings.Builder
	b.WriteString("gcp:\n  organization:\n    id: \"123456789012\"\n    folders:\n")
	b.WriteString("      - {id: \"1001\", name: prod}\n      - {id: \"1002\", parent: \"1001\"}\n      - {id: \"1003\", parent: \"1002\"}\n      - {id: \"1004\"}\n")
	if deny != "" {
		fmt.Fprintf(&b, "    deny: [%s]\n", deny)
	}
	b.WriteString("    projects:\n")
	parents := []string{"1001", "1002", "1003", "1004", "1001"}
	for i := range 26 {
		parent := ""
		if i >= 21 {
			parent = parents[i-21]
		}
		fmt.Fprintf(&b, "      - {id: org-proj-%02d, parent: %q}\n", i, parent)
	}
	b.WriteString("      - {id: org-gone-01, status: DELETE_REQUESTED, parent: \"1003\"}\n")
	b.WriteString("      - {id: org-bare-01, parent: \"1002\"}\n")
	b.WriteString("  projects:\n")
	for i := range 26 {
		fmt.Fprintf(&b, "    - id: org-proj-%02d\n      buckets:\n        - {name: org-gcs-%02d, location: us-central1, versioning: true}\n", i, i)
	}
	return b.String()
}

// organization: ORG audits every ACTIVE project under the organisation and
// its nested folders through the real Resource Manager client: pages
// followed, a project being deleted skipped and counted, a project whose
// buckets cannot be listed an UNK-002; folders: starts lower in the tree.
func TestScanDiscoversTheGCPOrganization(t *testing.T) {
	r := scanEstate(t, gcpOrgEstate(""), sandbox.Options{}, nil)
	cov := r.Summary.Coverage["gcp"]
	if len(cov.Asked) != 27 || len(cov.Listed) != 26 || !slices.Equal(cov.Failed, []string{"org-bare-01"}) {
		t.Fatalf("coverage asked %d listed %d failed %v", len(cov.Asked), len(cov.Listed), cov.Failed)
	}
	if cov.Source != "resourcemanager.projects.search" || cov.Skipped["DELETE_REQUESTED"] != 1 || len(cov.Skipped) != 1 {
		t.Errorf("discovery %q skipped %v", cov.Source, cov.Skipped)
	}
	if r.Summary.Buckets != 26 || r.Summary.ByRule["UNK-002"] != 1 {
		t.Errorf("%d buckets, %d UNK-002", r.Summary.Buckets, r.Summary.ByRule["UNK-002"])
	}
	// The organisation and each of its four folders once, and a second
	// page for the 21 projects right under the organisation.
	if s, f := calls(r, "gcp", "resourcemanager.projects.search"), calls(r, "gcp", "resourcemanager.folders.list"); s != 6 || f != 5 {
		t.Errorf("SearchProjects pages %d, ListFolders pages %d; want 6 and 5", s, f)
	}

	// Under folder 1002: its projects and those of 1003 below it.
	r = scanEstate(t, gcpOrgEstate(""), sandbox.Options{}, func(c map[string]providers.Config) {
		g := c["gcp"].(*gcp.Config)
		g.Organization, g.Folders = "", []string{"folders/1002"}
	})
	cov = r.Summary.Coverage["gcp"]
	if !slices.Equal(cov.Listed, []string{"org-proj-22", "org-proj-23"}) || !slices.Equal(cov.Failed, []string{"org-bare-01"}) ||
		cov.Skipped["DELETE_REQUESTED"] != 1 {
		t.Errorf("under folders/1002: listed %v failed %v skipped %v", cov.Listed, cov.Failed, cov.Skipped)
	}
}

// A hierarchy that cannot be read is one UNK-002 naming the call and the
// permission; nothing was audited. SearchProjects never refuses: a
// caller who may get no project finds none, which is reported as the gap.
func TestScanGCPOrganizationDenied(t *testing.T) {
	for _, tt := range []struct{ deny, api, permission string }{
		{"resourcemanager.projects.get", "resourcemanager.projects.search", "resourcemanager.projects.get (roles/browser) on organizations/123456789012"},
		{"resourcemanager.folders.list", "resourcemanager.folders.list", "resourcemanager.folders.list"},
	} {
		t.Run(tt.deny, func(t *testing.T) {
			r := scanEstate(t, gcpOrgEstate(tt.deny), sandbox.Options{}, nil)
			if r.Summary.CoverageState != agent.CoverageNone || r.Summary.ByRule["UNK-002"] != 1 {
				t.Fatalf("coverage %q, UNK-002 %d", r.Summary.CoverageState, r.Summary.ByRule["UNK-002"])
			}
			f := r.Findings[0]
			if f.Provider != "gcp" || f.Account != "*" || f.Evidence["api"] != tt.api || f.Evidence["permission"] != tt.permission {
				t.Errorf("finding %+v", f)
			}
		})
	}
}

// Throttling and unavailability of Resource Manager are retried: the
// discovery still finds every project.
func TestScanGCPOrganizationUnderFaults(t *testing.T) {
	faults := sandbox.NewFaults(
		sandbox.Fault{Op: "resourcemanager.projects.search", Kind: sandbox.FaultThrottle, Times: 2},
		sandbox.Fault{Op: "resourcemanager.folders.list", Kind: sandbox.FaultServer, Times: 2},
	)
	r := scanEstate(t, gcpOrgEstate(""), sandbox.Options{Faults: faults}, nil)
	cov := r.Summary.Coverage["gcp"]
	if len(cov.Listed) != 26 || len(r.Errors) != 1 {
		t.Errorf("listed %d, errors %+v", len(cov.Listed), r.Errors)
	}
}

// rdEstate is a resource directory of 104 members (two pages of
// ListAccounts at 100): 101 estate accounts, created, invited or
// promoted, three of them with a bucket; a member whose creation failed
// and one still being verified; and a member the audit has no
// credentials for.
func rdEstate(deny string) string {
	var b strings.Builder
	b.WriteString("alibaba:\n  resource_directory:\n    management: \"1000000000000000\"\n")
	if deny != "" {
		fmt.Fprintf(&b, "    deny: [%s]\n", deny)
	}
	b.WriteString("    members:\n")
	statuses := []string{"CreateSuccess", "InviteSuccess", "PromoteSuccess"}
	for i := range 101 {
		fmt.Fprintf(&b, "      - {id: \"%016d\", status: %s}\n", 1000000000000000+i, statuses[i%3])
	}
	b.WriteString("      - {id: \"2000000000000001\", status: CreateFailed}\n")
	b.WriteString("      - {id: \"2000000000000002\", status: CreateVerifying}\n")
	b.WriteString("      - {id: \"2000000000000003\", folder: fd-lab0001}\n") // no credentials
	b.WriteString("  accounts:\n")
	for i := range 101 {
		fmt.Fprintf(&b, "    - id: \"%016d\"\n", 1000000000000000+i)
		if i < 3 {
			fmt.Fprintf(&b, "      buckets:\n        - {name: rd-oss-%02d, region: cn-hangzhou, versioning: Enabled}\n", i)
		}
	}
	return b.String()
}

// resource_directory: true audits every member whose account exists,
// listed through the OpenAPI client's CallApi with the ACS3 signature the
// emulator checks: pages followed, members never created skipped and
// counted, a member with no credentials an UNK-002.
func TestScanDiscoversTheResourceDirectory(t *testing.T) {
	r := scanEstate(t, rdEstate(""), sandbox.Options{}, nil)
	cov := r.Summary.Coverage["alibaba"]
	if len(cov.Asked) != 102 || len(cov.Listed) != 101 || !slices.Equal(cov.Failed, []string{"2000000000000003"}) {
		t.Fatalf("coverage asked %d listed %d failed %v", len(cov.Asked), len(cov.Listed), cov.Failed)
	}
	if cov.Source != "resourcemanager:ListAccounts" || cov.Skipped["CreateFailed"] != 1 || cov.Skipped["CreateVerifying"] != 1 {
		t.Errorf("discovery %q skipped %v", cov.Source, cov.Skipped)
	}
	if r.Summary.Buckets != 3 || r.Summary.ByRule["UNK-002"] != 1 {
		t.Errorf("%d buckets, %d UNK-002", r.Summary.Buckets, r.Summary.ByRule["UNK-002"])
	}
	if n := calls(r, "alibaba", "ListAccounts"); n != 2 {
		t.Errorf("ListAccounts pages %d, want 2 (104 members, 100 a page)", n)
	}
}

// A directory that cannot be listed is one UNK-002 naming the call and
// the RAM action; nothing was audited.
func TestScanResourceDirectoryDenied(t *testing.T) {
	r := scanEstate(t, rdEstate("ListAccounts"), sandbox.Options{}, nil)
	if r.Summary.CoverageState != agent.CoverageNone || r.Summary.ByRule["UNK-002"] != 1 {
		t.Fatalf("coverage %q, UNK-002 %d", r.Summary.CoverageState, r.Summary.ByRule["UNK-002"])
	}
	f := r.Findings[0]
	if f.Provider != "alibaba" || f.Account != "*" || f.Evidence["api"] != "resourcemanager:ListAccounts" || f.Evidence["permission"] != "resourcemanager:ListAccounts" {
		t.Errorf("finding %+v", f)
	}
}

// partitionEstate holds a commercial account and a China account, each a
// partition of its own with its own keys.
const partitionEstate = `aws:
  accounts:
    - id: "111122223333"
      buckets:
        - {name: us-ledger, region: us-east-1, versioning: Enabled}
    - id: "444455556666"
      partition: aws-cn
      buckets:
        - {name: cn-ledger, region: cn-north-1, versioning: Enabled}
        - {name: cn-ledger-nw, region: cn-northwest-1, versioning: Enabled}
`

// One AWS section with regions: [] covers the accounts of both
// partitions, each through its own partition's credentials, role ARN and
// region, and says which partitions it covered; a China account listed
// as commercial cannot be reached and is an UNK-002, never a silent gap.
func TestScanCoversEveryPartition(t *testing.T) {
	r := scanEstate(t, partitionEstate, sandbox.Options{}, nil)
	cov := r.Summary.Coverage["aws"]
	if len(r.Errors) != 0 || r.Summary.Buckets != 3 || !slices.Equal(cov.Partitions, []string{"aws", "aws-cn"}) {
		t.Fatalf("%d buckets, partitions %v, errors %+v", r.Summary.Buckets, cov.Partitions, r.Errors)
	}
	for _, b := range r.Buckets {
		if want := map[string]string{"us-ledger": "111122223333", "cn-ledger": "444455556666", "cn-ledger-nw": "444455556666"}[b.Name]; b.Account != want || len(b.Unknowns) > 1 {
			t.Errorf("%s: account %s, want %s; unknowns %+v", b.Name, b.Account, want, b.Unknowns)
		}
	}

	r = scanEstate(t, partitionEstate, sandbox.Options{}, func(c map[string]providers.Config) {
		a := c["aws"].(*aws.Config)
		a.Accounts = append(a.Accounts, a.Partitions["aws-cn"].Accounts...)
		a.Partitions = nil
	})
	cov = r.Summary.Coverage["aws"]
	if !slices.Equal(cov.Failed, []string{"444455556666"}) || !slices.Equal(cov.Partitions, []string{"aws"}) || r.Summary.ByRule["UNK-002"] != 1 {
		t.Errorf("China account as commercial: failed %v, partitions %v, UNK-002 %d", cov.Failed, cov.Partitions, r.Summary.ByRule["UNK-002"])
	}
}

// A GCS project or an OSS account that answers its own throttling error
// above its rate (429 rateLimitExceeded; 503 ServerBusy) slows the scan
// down like an S3 account does: every bucket is in the result with every
// field read, each throttling answer the sandbox gave is counted, and the
// account's cap was cut below where it started.
func TestScanBacksOffThrottlingGCSAndOSS(t *testing.T) {
	for _, tt := range []struct {
		provider, estate string
	}{
		{"gcp", "gcp:\n  projects:\n    - id: acme-throttled\n      throttle: {rps: 100}\n      buckets:\n"},
		{"alibaba", "alibaba:\n  accounts:\n    - id: \"1234567890123456\"\n      throttle: {rps: 100}\n      buckets:\n"},
	} {
		t.Run(tt.provider, func(t *testing.T) {
			var b strings.Builder
			b.WriteString(tt.estate)
			const n = 40
			for i := range n {
				if tt.provider == "gcp" {
					fmt.Fprintf(&b, "        - {name: gcs-throttled-%03d, location: us-central1, versioning: true}\n", i)
				} else {
					fmt.Fprintf(&b, "        - {name: oss-throttled-%03d, region: cn-hangzhou, versioning: Enabled}\n", i)
				}
			}
			est, err := sandbox.ParseEstate("estate.yaml", []byte(b.String()))
			if err != nil {
				t.Fatal(err)
			}
			sb, err := sandbox.Start(context.Background(), est, sandbox.Options{Latency: 20 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			defer sb.Close()
			start := time.Now()
			r, err := agent.Scan(context.Background(), agent.ScanConfig{Providers: sb.Configs(), Policy: risk.DefaultPolicy(),
				Limits: agent.Limits{Concurrency: 32, PerAccount: 8}})
			if err != nil {
				t.Fatal(err)
			}
			if r.Summary.Buckets != n || len(r.Errors) != 0 {
				t.Fatalf("%d buckets, errors %+v", r.Summary.Buckets, r.Errors)
			}
			for _, bk := range r.Buckets {
				for _, u := range bk.Unknowns {
					if u.Field != providers.FieldSize {
						t.Fatalf("%s lost fields to throttling: %+v", bk.Name, bk.Unknowns)
					}
				}
			}
			srv := sb.Servers()[tt.provider].(interface{ Throttled() int64 })
			got, sent := r.Summary.Throttled[tt.provider], srv.Throttled()
			if sent == 0 || int64(got) != sent {
				t.Errorf("throttling answers counted %d, sandbox sent %d", got, sent)
			}
			var pace agent.Pace
			for k, p := range r.Summary.Pace {
				if strings.HasPrefix(k, tt.provider+"/") {
					pace = p
				}
			}
			if pace.Start != 8 || pace.Cuts == 0 || pace.End >= 8 {
				t.Errorf("pace %+v: want a start at 8 and cuts below it", pace)
			}
			t.Logf("%s: %d throttling answers, pace %+v, %d calls, %v", tt.provider, got, pace, sb.Requests(), time.Since(start).Round(time.Millisecond))
		})
	}
}
