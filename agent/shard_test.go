package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/sandbox"
	_ "github.com/reachaudit/reachaudit/providers/sandbox/alibabaemu"
	_ "github.com/reachaudit/reachaudit/providers/sandbox/awsemu"
	_ "github.com/reachaudit/reachaudit/providers/sandbox/azureemu"
	_ "github.com/reachaudit/reachaudit/providers/sandbox/gcpemu"
)

func TestParseShard(t *testing.T) {
	for _, c := range []struct {
		in   string
		want agent.Shard
		err  string
	}{
		{"0/1", agent.Shard{Index: 0, Count: 1}, ""},
		{"3/4", agent.Shard{Index: 3, Count: 4}, ""},
		{" 15/16 ", agent.Shard{Index: 15, Count: 16}, ""},
		{"4/4", agent.Shard{}, "K must be from 0 to 3"},
		{"-1/4", agent.Shard{}, "K must be from 0 to 3"},
		{"0/0", agent.Shard{}, "N must be from 1"},
		{"1/5000", agent.Shard{}, "N must be from 1 to 1024"},
		{"2", agent.Shard{}, "want K/N"},
		{"a/b", agent.Shard{}, "whole numbers"},
	} {
		got, err := agent.ParseShard(c.in)
		if c.err == "" {
			if err != nil || got != c.want {
				t.Errorf("ParseShard(%q) = %v, %v; want %v", c.in, got, err, c.want)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("ParseShard(%q) error %v; want one saying %q", c.in, err, c.err)
		}
	}
}

// Every account is in exactly one shard for every N from 1 to 16; the
// shards are near even; an account's shard depends on it alone (it keeps
// its shard as the organisation grows, and across releases: the pinned
// values), and going from N to N+1 shards moves accounts only into the new
// shard.
func TestShardAssignmentCompleteAndStable(t *testing.T) {
	var accounts []string
	for i := range 2000 {
		accounts = append(accounts, fmt.Sprintf("%012d", 100000000000+i*7919))
	}
	prev := map[string]int{}
	for n := 1; n <= 16; n++ {
		size := make([]int, n)
		for _, a := range accounts {
			holders := 0
			for k := range n {
				if (agent.Shard{Index: k, Count: n}).Holds("aws", a) {
					holders++
					size[k]++
					if got := agent.ShardOf("aws", a, n); got != k {
						t.Fatalf("ShardOf(%s, %d) = %d but shard %d holds it", a, n, got, k)
					}
				}
			}
			if holders != 1 {
				t.Fatalf("N=%d: account %s is in %d shards", n, a, holders)
			}
			if k := agent.ShardOf("aws", a, n); n > 1 && k != prev[a] && k != n-1 {
				t.Errorf("N=%d: account %s moved from shard %d to %d, not to the new shard", n, a, prev[a], k)
			}
			prev[a] = agent.ShardOf("aws", a, n)
		}
		even := len(accounts) / n
		for k, s := range size {
			if s < even*3/4 || s > even*5/4 {
				t.Errorf("N=%d: shard %d holds %d accounts, far from %d", n, k, s, even)
			}
		}
	}
	// The organisation grows tenfold: the first accounts keep their shards.
	grown := append([]string(nil), accounts...)
	for i := range 18000 {
		grown = append(grown, fmt.Sprintf("acct-%d", i))
	}
	for _, a := range grown[:len(accounts)] {
		if agent.ShardOf("aws", a, 16) != prev[a] {
			t.Fatalf("account %s changed shard as the organisation grew", a)
		}
	}
	// Pinned: a change of hash would reshuffle every fleet on upgrade.
	for _, c := range []struct {
		prov, acct string
		n, want    int
	}{
		{"aws", "111122223333", 4, 1},
		{"aws", "111122223333", 16, 1},
		{"gcp", "acme-prod", 4, 2},
		{"gcp", "acme-prod", 7, 6},
		{"gcp", "acme-prod", 16, 14},
		{"alibaba", "1234567890123456", 7, 6},
		{"alibaba", "1234567890123456", 16, 8},
	} {
		if got := agent.ShardOf(c.prov, c.acct, c.n); got != c.want {
			t.Errorf("ShardOf(%s, %s, %d) = %d, want %d", c.prov, c.acct, c.n, got, c.want)
		}
	}
	differ := 0
	for _, a := range accounts {
		if agent.ShardOf("aws", a, 16) != agent.ShardOf("gcp", a, 16) {
			differ++
		}
	}
	if differ < len(accounts)/2 {
		t.Errorf("the same id at two providers lands in the same shard %d times of %d: the provider takes no part in the hash", len(accounts)-differ, len(accounts))
	}
}

// demoScan serves the built-in demo estate and returns a scan of it judged
// with the demo policy at a pinned time, with the estate's declared copies
// and customer keys, as `reachaudit demo` scans it.
func demoScan(t *testing.T) agent.ScanConfig {
	t.Helper()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	est, err := sandbox.Demo()
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.Start(context.Background(), est, sandbox.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	pol, err := risk.DemoPolicy()
	if err != nil {
		t.Fatal(err)
	}
	sc := agent.ScanConfig{Providers: sb.Configs(), Policy: pol, Now: func() time.Time { return now }}
	d := est.Declarations()
	for _, c := range d.Copies {
		sc.Copies = append(sc.Copies, agent.DeclaredCopy{From: c.From, To: c.To})
	}
	sc.CustomerKeys = d.CustomerKeys
	return sc
}

// roundTrip passes a result through its JSON document, as merge reads it.
func roundTrip(t *testing.T, r *agent.Result) *agent.Result {
	t.Helper()
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var out agent.Result
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

// requestID is the emulators' per-request id, which error texts quote.
var requestID = regexp.MustCompile(`(RequestId|request id|RequestID)[=: ]+[A-Za-z0-9-]+`)

// normal is v's JSON without what differs between two scans of the same
// estate: the probe's latency and the request ids in error texts.
func normal(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	data = regexp.MustCompile(`"latency_ms":[0-9.e+-]+`).ReplaceAll(data, []byte(`"latency_ms":0`))
	return string(requestID.ReplaceAll(data, []byte("$1=?")))
}

// N shards of the demo estate, merged, equal one full scan bucket for
// bucket and finding for finding — including the copies whose destination
// another shard scanned, which no shard alone can judge.
func TestMergedShardsEqualFullScan(t *testing.T) {
	sc := demoScan(t)
	ctx := context.Background()
	full, err := agent.Scan(ctx, sc)
	if err != nil {
		t.Fatal(err)
	}
	full = roundTrip(t, full)
	fullFindings := map[string]bool{}
	for _, f := range full.Findings {
		fullFindings[normal(t, f)] = true
	}
	for _, n := range []int{2, 5, 16} {
		t.Run(fmt.Sprintf("%d-shards", n), func(t *testing.T) {
			var shards []*agent.Result
			judgedAlone := 0 // shard findings the whole estate judges otherwise
			for k := range n {
				sc := sc
				sc.RunID = "fleet-run-1"
				sc.Scope.Shard = agent.Shard{Index: k, Count: n}
				r, err := agent.Scan(ctx, sc)
				if err != nil {
					t.Fatal(err)
				}
				if r.Shard == nil || *r.Shard != sc.Scope.Shard || r.RunID != "fleet-run-1" {
					t.Fatalf("shard %d/%d result records shard %v run %s", k, n, r.Shard, r.RunID)
				}
				for _, f := range r.Findings {
					if !fullFindings[normal(t, f)] {
						judgedAlone++
					}
				}
				shards = append(shards, roundTrip(t, r))
			}
			// Reverse order: the order of the files does not matter.
			for i, j := 0, len(shards)-1; i < j; i, j = i+1, j-1 {
				shards[i], shards[j] = shards[j], shards[i]
			}
			merged, err := agent.Merge(shards)
			if err != nil {
				t.Fatal(err)
			}
			merged = roundTrip(t, merged)
			if merged.Shard != nil || merged.RunID != "fleet-run-1" || merged.Schema != agent.Schema {
				t.Errorf("merged: shard %v run %s schema %s", merged.Shard, merged.RunID, merged.Schema)
			}
			if len(merged.Buckets) != len(full.Buckets) {
				t.Fatalf("merged %d buckets, full scan %d", len(merged.Buckets), len(full.Buckets))
			}
			for i := range full.Buckets {
				if got, want := normal(t, merged.Buckets[i]), normal(t, full.Buckets[i]); got != want {
					t.Errorf("bucket %s:\nmerged %s\nfull   %s", full.Buckets[i].URI, got, want)
				}
			}
			if got, want := normal(t, merged.Findings), normal(t, full.Findings); got != want {
				t.Errorf("merged %d findings, full scan %d", len(merged.Findings), len(full.Findings))
				seen := map[string]bool{}
				for _, f := range merged.Findings {
					seen[normal(t, f)] = true
				}
				for _, f := range full.Findings {
					if !seen[normal(t, f)] {
						t.Errorf("not so in the merge: %s %s:%s", f.Rule, f.Account, f.Bucket)
					}
				}
			}
			ms, fs := merged.Summary, full.Summary
			ms.APICalls, fs.APICalls = nil, nil
			if !reflect.DeepEqual(ms, fs) {
				t.Errorf("summary merged %+v\nfull %+v", ms, fs)
			}
			calls := func(r *agent.Result) (n int) {
				for _, ops := range r.Summary.APICalls {
					for _, op := range ops {
						n += op.Calls
					}
				}
				return n
			}
			if calls(merged) < calls(full) {
				t.Errorf("merged call counts %d below the full scan's %d", calls(merged), calls(full))
			}
			if judgedAlone == 0 {
				t.Errorf("no shard judged a finding otherwise than the whole estate: the demo no longer tests what merge re-evaluates")
			}
			t.Logf("%d shards: %d buckets, %d findings merged; %d findings of the shards alone judged otherwise over the whole estate", n, len(merged.Buckets), len(merged.Findings), judgedAlone)
		})
	}
}

func TestMergeRefusesBadInputs(t *testing.T) {
	mk := func(run string, k, n int) *agent.Result {
		return &agent.Result{Schema: agent.Schema, RunID: run, Shard: &agent.Shard{Index: k, Count: n}, Policy: risk.DefaultPolicy(),
			Buckets: []providers.Bucket{providers.NewBucket("aws", fmt.Sprint(k), fmt.Sprintf("b%d", k), fmt.Sprintf("s3://b%d", k))}}
	}
	whole := mk("r1", 0, 1)
	whole.Shard = nil
	other := mk("r1", 1, 3)
	other.Policy.Home = []string{"DE"}
	dupBucket := mk("r1", 1, 3)
	dupBucket.Buckets = mk("r1", 0, 3).Buckets
	for _, c := range []struct {
		name   string
		shards []*agent.Result
		want   string
	}{
		{"none", nil, "no shard results"},
		{"different runs", []*agent.Result{mk("r1", 0, 2), mk("r2", 1, 2)}, "shards of different runs: r1 (shard 0/2) and r2 (shard 1/2)"},
		{"different counts", []*agent.Result{mk("r1", 0, 2), mk("r1", 1, 3)}, "split 2 ways and 3 ways"},
		{"missing", []*agent.Result{mk("r1", 0, 4), mk("r1", 2, 4)}, "shard 1/4, 3/4 missing (have 2 of 4)"},
		{"duplicated", []*agent.Result{mk("r1", 0, 2), mk("r1", 0, 2), mk("r1", 1, 2)}, "shard 0/2 given more than once"},
		{"not a shard", []*agent.Result{mk("r1", 0, 2), whole}, "not a shard's result"},
		{"policies differ", []*agent.Result{mk("r1", 0, 3), other, mk("r1", 2, 3)}, "different policies"},
		{"schema", []*agent.Result{{Schema: "other/v9", RunID: "r1", Shard: &agent.Shard{Count: 1}}}, `schema "other/v9"`},
		{"same bucket twice", []*agent.Result{mk("r1", 0, 3), dupBucket, mk("r1", 2, 3)}, "bucket aws:0:b0 is in more than one shard"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := agent.Merge(c.shards)
			var me *agent.MergeError
			if !errors.As(err, &me) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Merge: %v; want a MergeError saying %q", err, c.want)
			}
		})
	}
	ok, err := agent.Merge([]*agent.Result{mk("r1", 1, 2), mk("r1", 0, 2)})
	if err != nil || len(ok.Buckets) != 2 || ok.Buckets[0].Name != "b0" {
		t.Fatalf("Merge of two good shards: %v, %+v", err, ok)
	}
}
