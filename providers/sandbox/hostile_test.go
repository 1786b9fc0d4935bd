package sandbox_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/alibaba"
	"github.com/reachaudit/reachaudit/providers/aws"
	"github.com/reachaudit/reachaudit/providers/gcp"
	"github.com/reachaudit/reachaudit/providers/sandbox"
	_ "github.com/reachaudit/reachaudit/providers/sandbox/alibabaemu"
	_ "github.com/reachaudit/reachaudit/providers/sandbox/awsemu"
	_ "github.com/reachaudit/reachaudit/providers/sandbox/gcpemu"
)

// hostileEstates hold three buckets per provider, so that a listing whose
// first page gives half of them (two) is told from one that gives all.
var hostileEstates = map[string]string{
	"aws": `aws:
  accounts:
    - id: "111122223333"
      buckets:
        - {name: h-alpha, region: us-east-1, versioning: Enabled}
        - {name: h-beta, region: us-east-1, versioning: Enabled}
        - {name: h-gamma, region: us-west-2, versioning: Enabled}
`,
	"gcp": `gcp:
  projects:
    - id: hostile-project
      buckets:
        - {name: h-alpha, location: US, versioning: true}
        - {name: h-beta, location: US, versioning: true}
        - {name: h-gamma, location: EU, versioning: true}
`,
	"alibaba": `alibaba:
  accounts:
    - id: "1234567890123456"
      buckets:
        - {name: h-alpha, region: cn-hangzhou, versioning: Enabled, redundancy: ZRS}
        - {name: h-beta, region: cn-hangzhou, versioning: Enabled, redundancy: ZRS}
        - {name: h-gamma, region: us-west-1, versioning: Enabled, redundancy: ZRS}
`,
}

// listOps are each emulator's name of the bucket listing, for faults.
var listOps = map[string]string{"aws": "ListBuckets", "gcp": "storage.buckets.list", "alibaba": "ListBuckets"}

// hostileCallTimeout is the per-call timeout the hostile scans run with,
// so that each case ends in seconds.
const hostileCallTimeout = 2 * time.Second

// capTimeout is the per-call timeout of the endless-answer cases: the S3
// SDK's XML decoder takes seconds to read up to the cap (2-8 s on two
// busy cores), and the cap, not the timeout, must be what stops it.
const capTimeout = 30 * time.Second

// hostileRun is what one scan of a hostile endpoint did.
type hostileRun struct {
	res      *agent.Result
	elapsed  time.Duration
	requests int64
	peakHeap uint64
}

// scanHostile scans one provider's emulator with the faults injected,
// through the real plugin and SDK, and measures the scan's time and the
// peak of the heap in use while it ran.
func scanHostile(t *testing.T, provider string, lim agent.Limits, faults ...sandbox.Fault) hostileRun {
	return scanHostileTimeout(t, provider, hostileCallTimeout, lim, faults...)
}

func scanHostileTimeout(t *testing.T, provider string, callTimeout time.Duration, lim agent.Limits, faults ...sandbox.Fault) hostileRun {
	return scanHostileEstate(t, provider, hostileEstates[provider], callTimeout, lim, faults...)
}

func scanHostileEstate(t *testing.T, provider, estate string, callTimeout time.Duration, lim agent.Limits, faults ...sandbox.Fault) hostileRun {
	t.Helper()
	est, err := sandbox.ParseEstate("hostile.yaml", []byte(estate))
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.Start(context.Background(), est, sandbox.Options{Faults: sandbox.NewFaults(faults...)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	cfgs := sb.Configs()
	switch c := cfgs[provider].(type) {
	case *aws.Config:
		c.Timeout = callTimeout
	case *gcp.Config:
		c.Timeout = callTimeout
	case *alibaba.Config:
		c.Timeout = callTimeout.String()
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	stop := make(chan struct{})
	var peak uint64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var m runtime.MemStats
		for {
			runtime.ReadMemStats(&m)
			if m.HeapInuse > peak {
				peak = m.HeapInuse
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	start := time.Now()
	res, err := agent.Scan(context.Background(), agent.ScanConfig{Providers: cfgs, Policy: risk.DefaultPolicy(), Limits: lim})
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	run := hostileRun{res: res, elapsed: elapsed, requests: sb.Requests()}
	if peak > base.HeapInuse {
		run.peakHeap = peak - base.HeapInuse
	}
	calls := 0
	for _, oc := range res.Summary.APICalls[provider] {
		calls += oc.Calls
	}
	t.Logf("%s: %d buckets, %d API calls, %d requests served, %v, heap peak +%d MiB, coverage %s; list error: %s",
		provider, len(res.Buckets), calls, run.requests, elapsed.Round(time.Millisecond), run.peakHeap>>20, res.Summary.CoverageState, listError(res))
	return run
}

func bucketNames(bs []providers.Bucket) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.Name)
	}
	return out
}

// listError is the run's error for the account listing, "" if none.
func listError(r *agent.Result) string {
	for _, e := range r.Errors {
		if e.Op == "list" {
			return e.Error
		}
	}
	return ""
}

// A listing that cannot end (a repeated token, cyclic markers) or fails
// at page 2 stops with an error naming its API, keeps the buckets of the
// pages it read, and leaves the account's coverage failed, so the scan
// never looks clean; a listing that names a bucket twice gives one record.
func TestHostileListings(t *testing.T) {
	apis := map[string]string{"aws": "s3:ListBuckets", "gcp": "storage.buckets.list", "alibaba": "oss:ListBuckets"}
	cases := []struct {
		kind    string
		buckets int    // what the scan keeps: the first page's two, or all three
		err     string // in the listing's error; "" for a listing that succeeds
	}{
		{sandbox.FaultRepeatToken, 2, "earlier page already gave"},
		{sandbox.FaultCycleToken, 2, "earlier page already gave"},
		{sandbox.FaultPage2, 2, "page 2"},
		{sandbox.FaultDuplicates, 3, ""},
	}
	for _, provider := range []string{"aws", "gcp", "alibaba"} {
		for _, c := range cases {
			t.Run(provider+"/"+c.kind, func(t *testing.T) {
				run := scanHostile(t, provider, agent.Limits{}, sandbox.Fault{Op: listOps[provider], Kind: c.kind})
				r := run.res
				if run.elapsed > 20*time.Second {
					t.Errorf("the scan took %v", run.elapsed)
				}
				if len(r.Buckets) != c.buckets {
					t.Fatalf("buckets %v, want %d", bucketNames(r.Buckets), c.buckets)
				}
				ids := map[string]bool{}
				for _, f := range r.Findings {
					if ids[f.ID] {
						t.Errorf("finding id %s twice (%s %s)", f.ID, f.Rule, f.Bucket)
					}
					ids[f.ID] = true
				}
				cov := r.Summary.Coverage[provider]
				if c.err == "" {
					if r.Summary.CoverageState != agent.CoverageComplete || listError(r) != "" {
						t.Fatalf("coverage %s, list error %q", r.Summary.CoverageState, listError(r))
					}
					return
				}
				le := listError(r)
				if !strings.Contains(le, apis[provider]) || !strings.Contains(le, c.err) {
					t.Errorf("list error %q, want it to name %s and say %q", le, apis[provider], c.err)
				}
				if cov == nil || len(cov.Failed) != 1 || r.Summary.CoverageState == agent.CoverageComplete {
					t.Errorf("coverage %+v state %s: the account whose listing failed must not look covered", cov, r.Summary.CoverageState)
				}
				if r.Summary.ByRule["UNK-002"] != 1 {
					t.Errorf("UNK-002 findings %d, want 1", r.Summary.ByRule["UNK-002"])
				}
			})
		}
	}
}

// An endless answer, an error whose body never ends and a redirect loop
// cost a bounded time, memory and number of requests: the listing fails
// with the cap or the redirect bound named, and the account's coverage
// says so.
func TestHostileAnswers(t *testing.T) {
	cases := []struct {
		kind string
		err  string
		// timeout is the per-call timeout: reading 64 MiB of listing
		// takes the S3 SDK's XML decoder a few seconds.
		timeout time.Duration
		// maxRequests bounds what the endpoint sees: the SDK's retries
		// of one call, each following at most httpclient.MaxRedirects.
		maxRequests int64
	}{
		{sandbox.FaultEndlessBody, "longer than 64 MiB", capTimeout, 10},
		{sandbox.FaultHugeError, "", hostileCallTimeout, 10},
		{sandbox.FaultRedirectLoop, "", hostileCallTimeout, 40},
	}
	for _, provider := range []string{"aws", "gcp", "alibaba"} {
		for _, c := range cases {
			t.Run(provider+"/"+c.kind, func(t *testing.T) {
				run := scanHostileTimeout(t, provider, c.timeout, agent.Limits{}, sandbox.Fault{Op: listOps[provider], Kind: c.kind})
				r := run.res
				if run.elapsed > c.timeout+5*time.Second {
					t.Errorf("the scan took %v", run.elapsed)
				}
				if run.peakHeap > 1<<30 {
					t.Errorf("heap grew by %d MiB", run.peakHeap>>20)
				}
				if run.requests > c.maxRequests {
					t.Errorf("%d requests, want at most %d", run.requests, c.maxRequests)
				}
				want := c.err
				if c.kind == sandbox.FaultEndlessBody && provider == "aws" {
					want = "longer than 16 MiB" // S3's ListBuckets pages are capped tighter
				}
				le := listError(r)
				if le == "" || !strings.Contains(le, want) {
					t.Errorf("list error %q, want one saying %q", le, want)
				}
				if r.Summary.CoverageState == agent.CoverageComplete || r.Summary.ByRule["UNK-002"] != 1 {
					t.Errorf("coverage %s, UNK-002 %d: a listing that failed must not look covered", r.Summary.CoverageState, r.Summary.ByRule["UNK-002"])
				}
			})
		}
	}
}

// limits.scan_timeout ends a scan whose endpoint hangs on every bucket
// call, however long the per-call timeout: the scan keeps the listed
// buckets with what was not read unknown, is partial, and raises no
// BLK-005 for a probe that the deadline, not the endpoint, cut off.
func TestHostileScanTimeout(t *testing.T) {
	for _, provider := range []string{"aws", "gcp", "alibaba"} {
		t.Run(provider, func(t *testing.T) {
			run := scanHostileTimeout(t, provider, time.Minute, agent.Limits{ScanTimeout: time.Second},
				sandbox.Fault{Bucket: "?*", Kind: sandbox.FaultTimeout})
			r := run.res
			if run.elapsed > 5*time.Second {
				t.Errorf("the scan took %v past its 1s scan_timeout", run.elapsed)
			}
			if len(r.Buckets) != 3 || !r.Partial || r.Summary.CoverageState != agent.CoveragePartial {
				t.Fatalf("buckets %v partial %v coverage %s", bucketNames(r.Buckets), r.Partial, r.Summary.CoverageState)
			}
			for _, b := range r.Buckets {
				if len(b.Unknowns) == 0 {
					t.Errorf("%s: nothing unknown after the deadline", b.Name)
				}
			}
			if r.Summary.ByRule["BLK-005"] != 0 || r.Summary.ByRule["UNK-001"] == 0 {
				t.Errorf("rules %v: want UNK-001 and no BLK-005", r.Summary.ByRule)
			}
			found := false
			for _, e := range r.Errors {
				found = found || strings.Contains(e.Error, "limits.scan_timeout")
			}
			if !found {
				t.Errorf("errors %+v: none names limits.scan_timeout", r.Errors)
			}
		})
	}
}

// estateOf is an estate of n buckets at one account of provider.
func estateOf(provider string, n int) string {
	var b strings.Builder
	switch provider {
	case "aws":
		b.WriteString("aws:\n  accounts:\n    - id: \"111122223333\"\n      buckets:\n")
		for i := range n {
			fmt.Fprintf(&b, "        - {name: h-%03d, region: us-east-1, versioning: Enabled}\n", i)
		}
	case "gcp":
		b.WriteString("gcp:\n  projects:\n    - id: hostile-project\n      buckets:\n")
		for i := range n {
			fmt.Fprintf(&b, "        - {name: h-%03d, location: US, versioning: true}\n", i)
		}
	case "alibaba":
		b.WriteString("alibaba:\n  accounts:\n    - id: \"1234567890123456\"\n      buckets:\n")
		for i := range n {
			fmt.Fprintf(&b, "        - {name: h-%03d, region: cn-hangzhou, versioning: Enabled, redundancy: ZRS}\n", i)
		}
	}
	return b.String()
}

// An endpoint that lists its buckets and then hangs on every bucket call
// costs a few call timeouts per account, not nine per bucket: after
// providers.BreakAfter timeouts in a row the account's calls stop, and
// every field not read is unknown with the reason, quickly.
func TestHostileHangBreaker(t *testing.T) {
	const callTimeout = time.Second
	for _, provider := range []string{"aws", "gcp", "alibaba"} {
		for _, n := range []int{3, 100} {
			t.Run(fmt.Sprintf("%s/%d buckets", provider, n), func(t *testing.T) {
				t.Parallel() // each waits on timeouts, not on the CPU
				run := scanHostileEstate(t, provider, estateOf(provider, n), callTimeout, agent.Limits{},
					sandbox.Fault{Bucket: "?*", Kind: sandbox.FaultTimeout})
				r := run.res
				// Two rounds of timeouts open the breaker with three
				// buckets in flight, one with eight; then nothing waits.
				if limit := 6 * callTimeout; run.elapsed > limit {
					t.Errorf("the scan took %v, want under %v", run.elapsed, limit)
				}
				if len(r.Buckets) != n {
					t.Fatalf("%d buckets, want %d", len(r.Buckets), n)
				}
				stopped := 0
				for _, b := range r.Buckets {
					if len(b.Unknowns) == 0 {
						t.Errorf("%s: nothing unknown", b.Name)
					}
					for _, u := range b.Unknowns {
						if strings.Contains(u.Error, "stopped calling its endpoint") {
							stopped++
							break
						}
					}
				}
				if stopped == 0 || r.Summary.ByRule["UNK-001"] == 0 {
					t.Errorf("%d buckets name the breaker, UNK-001 %d", stopped, r.Summary.ByRule["UNK-001"])
				}
				found := false
				for _, e := range r.Errors {
					found = found || (e.Op == "calls" && strings.Contains(e.Error, "in a row timed out"))
				}
				if !found {
					t.Errorf("errors %+v: the run does not say which account's endpoint stopped answering", r.Errors)
				}
			})
		}
	}
}

// A describe call that answers without end costs its bucket that field,
// within the answer cap: the S3 and OSS encryption reads, GCS's IAM
// policy, and Alibaba KMS's DescribeKey, whose SDK runtime is handed the
// shared capped client.
func TestHostileDescribeAnswers(t *testing.T) {
	const keyed = `alibaba:
  accounts:
    - id: "1234567890123456"
      keys:
        - {id: key-hostile, region: cn-hangzhou}
      buckets:
        - {name: h-alpha, region: cn-hangzhou, versioning: Enabled, redundancy: ZRS, encryption: {algorithm: KMS, key: key-hostile}}
`
	cases := []struct {
		name, provider, estate, op, field string
	}{
		{"s3 GetBucketEncryption", "aws", hostileEstates["aws"], "GetBucketEncryption", providers.FieldCustody},
		{"gcs getIamPolicy", "gcp", hostileEstates["gcp"], "storage.buckets.getIamPolicy", providers.FieldPublic},
		{"oss GetBucketReplication", "alibaba", hostileEstates["alibaba"], "GetBucketReplication", providers.FieldCopies},
		{"alibaba kms DescribeKey", "alibaba", keyed, "DescribeKey", providers.FieldCustody},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			run := scanHostileEstate(t, c.provider, c.estate, capTimeout, agent.Limits{}, sandbox.Fault{Op: c.op, Kind: sandbox.FaultEndlessBody})
			if run.elapsed > capTimeout+5*time.Second || run.peakHeap > 1<<30 {
				t.Errorf("the scan took %v and %d MiB", run.elapsed, run.peakHeap>>20)
			}
			if len(run.res.Buckets) == 0 {
				t.Fatal("no bucket")
			}
			for _, b := range run.res.Buckets {
				found := false
				for _, u := range b.Unknowns {
					found = found || (u.Field == c.field && strings.Contains(u.Error, "longer than 16 MiB"))
				}
				if !found {
					t.Errorf("%s: unknowns %+v, want %s unknown at the 16 MiB cap", b.Name, b.Unknowns, c.field)
				}
			}
		})
	}
}
