package history

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
)

var t0 = time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)

func bucket(provider, account, name, region string, mut ...func(*providers.Bucket)) providers.Bucket {
	b := providers.NewBucket(provider, account, name, provider+"://"+name)
	b.Region = region
	b.Countries = []string{"US"}
	b.Controller, b.Operator = "US", "US"
	b.Custody = providers.CustodyProviderKMS
	b.Encryption = "aws:kms"
	b.Key = &providers.Key{ID: "k-" + name, Account: account, Region: region, State: providers.KeyEnabled}
	b.Versioning = providers.VersioningEnabled
	b.ObjectLock = providers.No
	b.Public = providers.No
	b.PublicAccessBlock = providers.Yes
	b.Reachability = providers.Reachability{Reachable: true, Probe: "HeadBucket"}
	for _, m := range mut {
		m(&b)
	}
	return b
}

func finding(rule string, sev risk.Severity, b providers.Bucket) risk.Finding {
	return risk.Finding{
		ID: rule + ":" + b.Provider + ":" + b.Account + ":" + b.Name, Rule: rule, Risk: risk.RiskBlock,
		Severity: sev, Status: risk.StatusOpen, Provider: b.Provider, Account: b.Account,
		Bucket: b.Name, Region: b.Region, Title: rule, Evidence: map[string]any{},
	}
}

func result(id string, at time.Time, buckets []providers.Bucket, findings ...risk.Finding) *agent.Result {
	r := &agent.Result{
		Schema: agent.Schema, RunID: id, StartedAt: at, FinishedAt: at.Add(time.Minute),
		Buckets: buckets, Findings: findings, Errors: []agent.RunError{},
	}
	if r.Findings == nil {
		r.Findings = []risk.Finding{}
	}
	r.Summary = agent.Summarise(r)
	return r
}

// openStore opens a new, empty history for t: SQLite, or PostgreSQL while
// TestPostgresHistory runs the same tests there.
var openStore = func(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// twoRuns is a run and the next one after a key was disabled, a bucket
// made public, a bucket removed, a replica dropped and a finding suppressed.
func twoRuns() (first, second *agent.Result) {
	payroll := bucket("aws", "111122223333", "payroll", "us-east-1", func(b *providers.Bucket) {
		b.Copies = []providers.Copy{{Provider: "aws", Account: "111122223333", Bucket: "payroll-dr", Region: "us-west-2", Source: providers.CopyReplication}}
	})
	logs := bucket("aws", "111122223333", "logs", "us-east-1")
	old := bucket("aws", "111122223333", "old", "us-west-2")
	first = result("run-1", t0, []providers.Bucket{payroll, logs, old},
		finding("EXP-004", risk.Medium, payroll), finding("HYG-001", risk.Low, logs), finding("BLK-002", risk.Medium, old))

	payroll2 := payroll
	payroll2.Key = &providers.Key{ID: "k-payroll", Account: "111122223333", Region: "us-east-1", State: providers.KeyDisabled}
	payroll2.Copies = []providers.Copy{}
	logs2 := logs
	logs2.Public = providers.Yes
	exp004 := finding("EXP-004", risk.Medium, payroll2)
	exp004.Status, exp004.SuppressedReason = risk.StatusSuppressed, "accepted"
	second = result("run-2", t0.Add(24*time.Hour), []providers.Bucket{payroll2, logs2},
		exp004, finding("BLK-003", risk.Critical, payroll2), finding("HYG-001", risk.Low, logs2), finding("EXP-006", risk.Critical, logs2))

	return first, second
}

// The drift of a changed estate, through a real database: a key disabled,
// a bucket made public, a bucket removed, a replica gone.
func TestDriftThroughDatabase(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)

	first, second := twoRuns()
	payroll, logs, old := first.Buckets[0], first.Buckets[1], first.Buckets[2]
	payroll2, logs2 := second.Buckets[0], second.Buckets[1]
	exp004 := second.Findings[0]

	if err := s.Record(ctx, &Run{Schedule: "nightly", Status: StatusOK, Result: first}); err != nil {
		t.Fatal(err)
	}
	base, err := s.Baseline(ctx, "nightly")
	if err != nil {
		t.Fatal(err)
	}
	d := Diff(base.Result, second)
	run := &Run{Schedule: "nightly", Status: StatusOK, Result: second, New: len(d.New), Changed: len(d.Changed), Resolved: len(d.Resolved)}
	if err := s.Record(ctx, run); err != nil {
		t.Fatal(err)
	}

	ref := func(b providers.Bucket) BucketRef { return BucketRef{b.Provider, b.Account, b.Name} }
	want := Drift{
		From: "run-1", To: "run-2",
		New:      []risk.Finding{finding("BLK-003", risk.Critical, payroll2), finding("EXP-006", risk.Critical, logs2)},
		Changed:  []FindingChange{{Before: finding("EXP-004", risk.Medium, payroll), After: exp004, Fields: []string{"status"}}},
		Resolved: []risk.Finding{finding("BLK-002", risk.Medium, old)},
		Removed:  []BucketRef{ref(old)},
		Facts: []FactChange{
			{Bucket: ref(logs), Field: "public", Before: "no", After: "yes"},
			{Bucket: ref(payroll), Field: "copy", Before: "aws:111122223333:payroll-dr@us-west-2"},
			{Bucket: ref(payroll), Field: "key_state", Before: "enabled", After: "disabled"},
		},
	}
	if diff := cmp.Diff(want, d, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("drift (-want +got):\n%s", diff)
	}

	// The same drift again from what the database holds.
	from, to, err := s.Pair(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if from.ID != "run-1" || to.ID != "run-2" {
		t.Fatalf("Pair() = %s, %s; want run-1, run-2", from.ID, to.ID)
	}
	if diff := cmp.Diff(want, Diff(from.Result, to.Result), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("drift from stored runs (-want +got):\n%s", diff)
	}

	runs, err := s.List(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := []Run{runs[0], runs[1]}
	wantRuns := []Run{
		{ID: "run-2", Schedule: "nightly", StartedAt: t0.Add(24 * time.Hour), FinishedAt: t0.Add(24*time.Hour + time.Minute),
			Status: StatusOK, Buckets: 2, Findings: 4, Open: 3, Critical: 2, New: 2, Changed: 1, Resolved: 1},
		{ID: "run-1", Schedule: "nightly", StartedAt: t0, FinishedAt: t0.Add(time.Minute),
			Status: StatusOK, Buckets: 3, Findings: 3, Open: 3},
	}
	if diff := cmp.Diff(wantRuns, got); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
}

func TestDiffWhereTheRunDidNotLook(t *testing.T) {
	a1 := bucket("aws", "111", "a1", "us-east-1")
	g1 := bucket("gcp", "proj", "g1", "us-central1")
	first := result("r1", t0, []providers.Bucket{a1, g1}, finding("BLK-002", risk.Medium, a1), finding("BLK-002", risk.Medium, g1))

	tests := []struct {
		name         string
		second       *agent.Result
		wantRemoved  int
		wantResolved int
	}{
		{"complete run: gone is gone", result("r2", t0, []providers.Bucket{a1}, finding("BLK-002", risk.Medium, a1)), 1, 1},
		{"cut short: not seen is not gone", func() *agent.Result {
			r := result("r2", t0, []providers.Bucket{a1}, finding("BLK-002", risk.Medium, a1))
			r.Partial = true
			return r
		}(), 0, 0},
		{"listing the provider failed", func() *agent.Result {
			r := result("r2", t0, []providers.Bucket{a1}, finding("BLK-002", risk.Medium, a1))
			r.Errors = []agent.RunError{{Provider: "gcp", Account: "proj", Op: "ListBuckets", Error: "denied"}}
			return r
		}(), 0, 0},
		{"listing another account failed", func() *agent.Result {
			r := result("r2", t0, []providers.Bucket{a1}, finding("BLK-002", risk.Medium, a1))
			r.Errors = []agent.RunError{{Provider: "gcp", Account: "other", Op: "ListBuckets", Error: "denied"}}
			return r
		}(), 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Diff(first, tt.second)
			if len(d.Removed) != tt.wantRemoved || len(d.Resolved) != tt.wantResolved {
				t.Errorf("removed %v resolved %v; want %d and %d", d.Removed, d.Resolved, tt.wantRemoved, tt.wantResolved)
			}
		})
	}
}

func TestDiffAgainstEmptyHistory(t *testing.T) {
	b := bucket("aws", "111", "a", "us-east-1")
	d := Diff(nil, result("r1", t0, []providers.Bucket{b}, finding("HYG-001", risk.Low, b)))
	if len(d.New) != 1 || len(d.Added) != 1 || len(d.Resolved)+len(d.Removed)+len(d.Facts) != 0 {
		t.Errorf("first run drift = %+v; want everything new", d)
	}
	if d.Empty() {
		t.Error("Empty() = true")
	}
	same := Diff(result("r1", t0, []providers.Bucket{b}), result("r2", t0, []providers.Bucket{b}))
	if !same.Empty() {
		t.Errorf("identical runs drift = %+v", same)
	}
}

func unreachable(b *providers.Bucket) {
	b.Reachability = providers.Reachability{Reachable: false, Failure: providers.FailHTTP403, Probe: "HeadBucket"}
}

func TestReachLoss(t *testing.T) {
	east1 := bucket("alibaba", "123", "e1", "cn-hangzhou")
	east2 := bucket("alibaba", "123", "e2", "cn-hangzhou")
	west := bucket("alibaba", "123", "w", "us-west-1")
	aws := bucket("aws", "111", "a", "us-east-1")
	down := func(b providers.Bucket) providers.Bucket { unreachable(&b); return b }
	ok := []providers.Bucket{east1, east2, west, aws}
	ali := func(names ...string) []BucketRef {
		var out []BucketRef
		for _, n := range names {
			out = append(out, BucketRef{"alibaba", "123", n})
		}
		return out
	}

	tests := []struct {
		name   string
		before []providers.Bucket
		after  *agent.Result
		want   []ReachLoss
	}{
		{"all reachable", ok, result("r2", t0, ok), nil},
		{"one bucket of a region down is per-bucket only", ok,
			result("r2", t0, []providers.Bucket{down(east1), east2, west, aws}), nil},
		{"a whole region down", ok,
			result("r2", t0, []providers.Bucket{down(east1), down(east2), west, aws}),
			[]ReachLoss{{Provider: "alibaba", Region: "cn-hangzhou", Buckets: ali("e1", "e2")}}},
		{"a whole provider down is one loss, not one per region", ok,
			result("r2", t0, []providers.Bucket{down(east1), down(east2), down(west), aws}),
			[]ReachLoss{{Provider: "alibaba", Buckets: ali("e1", "e2", "w")}}},
		{"a provider whose listing fails", ok, func() *agent.Result {
			r := result("r2", t0, []providers.Bucket{aws})
			r.Errors = []agent.RunError{{Provider: "alibaba", Account: "123", Op: "ListBuckets", Error: "AccessDenied"}}
			return r
		}(), []ReachLoss{{Provider: "alibaba", Buckets: ali("e1", "e2", "w")}}},
		{"deleted buckets are not lost", ok, result("r2", t0, []providers.Bucket{aws}), nil},
		{"a run cut short gives no verdict", ok, func() *agent.Result {
			r := result("r2", t0, []providers.Bucket{down(east1), down(east2), down(west), aws})
			r.Partial = true
			return r
		}(), nil},
		{"already unreachable before is no new loss", []providers.Bucket{down(east1), down(east2), west, aws},
			result("r2", t0, []providers.Bucket{down(east1), down(east2), west, aws}), nil},
		{"what was reachable before is all that counts", []providers.Bucket{down(east1), east2, west, aws},
			result("r2", t0, []providers.Bucket{down(east1), down(east2), west, aws}),
			[]ReachLoss{{Provider: "alibaba", Region: "cn-hangzhou", Buckets: ali("e1", "e2")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := result("r1", t0, tt.before)
			got := AddReachLoss(before, tt.after)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("losses (-want +got):\n%s", diff)
			}
			var added []risk.Finding
			for _, f := range tt.after.Findings {
				if f.Rule == "BLK-005" && f.Bucket == "*" {
					added = append(added, f)
				}
			}
			if len(added) != len(tt.want) {
				t.Fatalf("added %d findings; want %d", len(added), len(tt.want))
			}
			for i, f := range added {
				region := tt.want[i].Region
				if region == "" {
					region = "*"
				}
				if f.Severity != risk.Critical || f.Provider != tt.want[i].Provider || f.Region != region || f.Account != "123" {
					t.Errorf("finding %+v; want critical %s in %s", f, tt.want[i].Provider, region)
				}
				if got := f.Evidence["buckets"].([]string); len(got) != len(tt.want[i].Buckets) {
					t.Errorf("evidence buckets %v", got)
				}
			}
			if tt.want != nil && tt.after.Summary.BySeverity["critical"] < len(tt.want) {
				t.Errorf("summary not recomputed: %+v", tt.after.Summary)
			}
		})
	}
}

// A loss that goes on stays one open finding; it resolves when reach comes
// back.
func TestReachLossPersistsUntilReachReturns(t *testing.T) {
	e1 := bucket("alibaba", "123", "e1", "cn-hangzhou")
	e2 := bucket("alibaba", "123", "e2", "cn-hangzhou")
	d1, d2 := e1, e2
	unreachable(&d1)
	unreachable(&d2)

	r1 := result("r1", t0, []providers.Bucket{e1, e2})
	r2 := result("r2", t0, []providers.Bucket{d1, d2})
	AddReachLoss(r1, r2)
	if d := Diff(r1, r2); len(d.New) != 1 || d.New[0].Rule != "BLK-005" {
		t.Fatalf("loss not new: %+v", d.New)
	}
	r3 := result("r3", t0, []providers.Bucket{d1, d2})
	if got := AddReachLoss(r2, r3); len(got) != 1 {
		t.Fatalf("loss ongoing: got %v", got)
	}
	if d := Diff(r2, r3); !d.Empty() {
		t.Errorf("ongoing loss drift = %+v; want none", d)
	}
	r4 := result("r4", t0, []providers.Bucket{e1, d2})
	if got := AddReachLoss(r3, r4); got != nil {
		t.Fatalf("reach back: got %v", got)
	}
	if d := Diff(r3, r4); len(d.Resolved) != 1 || d.Resolved[0].Bucket != "*" {
		t.Errorf("resolved = %+v; want the provider-wide finding", d.Resolved)
	}
}

func TestChanges(t *testing.T) {
	a := bucket("aws", "111", "a", "us-east-1")
	b := bucket("aws", "111", "b", "us-east-1")
	c := bucket("aws", "111", "c", "us-east-1")
	first := result("r1", t0, []providers.Bucket{a, b, c}, finding("HYG-001", risk.Low, a), finding("HYG-001", risk.Low, b), finding("BLK-002", risk.Medium, c))
	b2 := b
	b2.Public = providers.Yes
	second := result("r2", t0, []providers.Bucket{a, b2, c}, finding("HYG-001", risk.Low, a), finding("EXP-006", risk.Critical, b2), finding("HYG-001", risk.Low, b2))
	d := Diff(first, second)
	out := Changes(second, &d)

	var got []string
	for _, f := range out.Findings {
		got = append(got, f.ID+" "+f.Status)
	}
	want := []string{"EXP-006:aws:111:b open", "BLK-002:aws:111:c resolved"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	var names []string
	for _, bk := range out.Buckets {
		names = append(names, bk.Name)
	}
	if diff := cmp.Diff([]string{"b", "c"}, names); diff != "" {
		t.Errorf("buckets (-want +got):\n%s", diff)
	}
	if out.Summary.Findings != 2 || out.Summary.Open != 1 || out.Summary.Buckets != 2 {
		t.Errorf("summary %+v", out.Summary)
	}
	if len(second.Findings) != 3 || second.Summary.Findings != 3 {
		t.Error("Changes modified its input")
	}
}

func TestRetention(t *testing.T) {
	ctx := context.Background()
	now := t0.Add(30 * 24 * time.Hour)
	tests := []struct {
		name               string
		keepRuns, keepDays int
		want               []string
	}{
		{"no limits keep everything", 0, 0, []string{"n-9", "n-8", "n-7", "n-6", "n-5", "n-4", "n-3", "n-2", "n-1", "n-0", "w-1", "w-0"}},
		{"by count", 3, 0, []string{"n-9", "n-8", "n-7", "n-6", "w-1"}},
		{"by age", 0, 25, []string{"n-9", "n-8", "n-7", "n-6", "n-5", "n-4", "n-3", "n-2", "w-1"}},
		{"by age and count", 2, 25, []string{"n-9", "n-8", "n-6", "w-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			// Weekly runs long ago, then nightly runs; n-7..n-9 failed, so
			// n-6 is nightly's baseline and w-1 weekly's; both survive.
			for i := range 2 {
				at := t0.Add(time.Duration(i) * time.Hour)
				if err := s.Record(ctx, &Run{Schedule: "weekly", Status: StatusOK, Result: result(fmt.Sprintf("w-%d", i), at, nil)}); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 10 {
				at := t0.Add(time.Duration(i*3) * 24 * time.Hour)
				run := &Run{Schedule: "nightly", Status: StatusOK, Result: result(fmt.Sprintf("n-%d", i), at, nil)}
				if i >= 7 {
					run = &Run{ID: fmt.Sprintf("n-%d", i), Schedule: "nightly", Status: StatusFailed, Error: "boom", StartedAt: at, FinishedAt: at}
				}
				if err := s.Record(ctx, run); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.Prune(ctx, tt.keepRuns, tt.keepDays, now); err != nil {
				t.Fatal(err)
			}
			runs, err := s.List(ctx, 0)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range runs {
				got = append(got, r.ID)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("kept (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGetAndBaseline(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	for _, r := range []*Run{
		{Schedule: "nightly", Status: StatusOK, Result: result("20261128T020000Z-aa", t0, nil)},
		{Schedule: "nightly", Status: StatusPartial, Result: result("20261129T020000Z-bb", t0.Add(time.Hour), nil)},
		{Schedule: "nightly", Status: StatusFailed, ID: "20261130T020000Z-cc", Error: "scan: no credentials"},
		{Schedule: "hourly", Status: StatusPartial, Result: result("20261130T030000Z-dd", t0.Add(2*time.Hour), nil)},
	} {
		if err := s.Record(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, call, arg, want, wantErr string
	}{
		{"get by full ID", "get", "20261129T020000Z-bb", "20261129T020000Z-bb", ""},
		{"get by unique prefix", "get", "20261128", "20261128T020000Z-aa", ""},
		{"ambiguous prefix", "get", "202611", "", "ambiguous"},
		{"unknown run", "get", "nope", "", "no such run"},
		{"baseline prefers the newest ok run", "baseline", "nightly", "20261128T020000Z-aa", ""},
		{"baseline falls back to a partial run", "baseline", "hourly", "20261130T030000Z-dd", ""},
		{"no baseline for a new schedule", "baseline", "weekly", "", "no such run"},
		{"before a run", "before", "20261129T020000Z-bb", "20261128T020000Z-aa", ""},
		{"nothing before the first run", "before", "20261128T020000Z-aa", "", "no such run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r *Run
			var err error
			switch tt.call {
			case "get":
				r, err = s.Get(ctx, tt.arg)
			case "baseline":
				r, err = s.Baseline(ctx, tt.arg)
			case "before":
				r, err = s.Before(ctx, tt.arg)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v; want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.ID != tt.want {
				t.Errorf("got %s; want %s", r.ID, tt.want)
			}
		})
	}
	failed, err := s.Get(ctx, "20261130T020000Z-cc")
	if err != nil || failed.Result != nil || failed.Status != StatusFailed || failed.Error != "scan: no credentials" {
		t.Errorf("failed run = %+v, %v", failed, err)
	}
	if _, err := s.Get(ctx, "zzz"); !errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v; want ErrNotFound", err)
	}
	if _, _, err := s.Pair(ctx, "20261130T020000Z-cc", "20261130T030000Z-dd"); err == nil {
		t.Error("Pair with a failed run: no error")
	}
}

// One writer and readers in another connection pool (as `history list`
// beside a running agent), at the same time.
func TestWriterAndReaders(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	w, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	b := bucket("aws", "111", "a", "us-east-1")
	var wg sync.WaitGroup
	wg.Add(2)
	errs := make(chan error, 2)
	go func() {
		defer wg.Done()
		for i := range 30 {
			if err := w.Record(ctx, &Run{Schedule: "s", Status: StatusOK, Result: result(fmt.Sprintf("r%02d", i), t0, []providers.Bucket{b})}); err != nil {
				errs <- err
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		for range 30 {
			if _, err := r.List(ctx, 5); err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	runs, err := r.List(ctx, 0)
	if err != nil || len(runs) != 30 {
		t.Fatalf("reader sees %d runs, %v", len(runs), err)
	}
	if err := r.Record(ctx, &Run{Schedule: "s", Status: StatusFailed}); err == nil {
		t.Error("read-only store accepted a write")
	}

	// Reading when no agent runs (its -wal and -shm files are gone).
	r.Close()
	w.Close()
	r2, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if runs, err := r2.List(ctx, 0); err != nil || len(runs) != 30 {
		t.Fatalf("reader after the writer closed sees %d runs, %v", len(runs), err)
	}
}

func TestDatabaseIsPrivate(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "h.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Record(ctx, &Run{Schedule: "s", Status: StatusFailed}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s mode %v; want no access for group and others", filepath.Base(name), fi.Mode().Perm())
		}
	}
}

func TestOpenRefuses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := Open(ctx, filepath.Join(dir, "missing", "h.db")); err == nil {
		t.Error("Open in a missing directory: no error")
	}
	if _, err := OpenReadOnly(ctx, filepath.Join(dir, "none.db")); err == nil {
		t.Error("OpenReadOnly of a missing file: no error")
	}
	path := filepath.Join(dir, "future.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `PRAGMA user_version = 99`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(ctx, path); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("Open of a newer schema: %v", err)
	}
}
