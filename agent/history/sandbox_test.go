package history_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/history"
	"github.com/reachaudit/reachaudit/agent/risk"
	_ "github.com/reachaudit/reachaudit/providers/aws"
	"github.com/reachaudit/reachaudit/providers/sandbox"
	_ "github.com/reachaudit/reachaudit/providers/sandbox/awsemu"
)

const account = "111122223333"

// estate is the sandbox estate of one run; the steps change it as an
// estate changes between two scans.
func estate(keyState string, logsPublic, oldExists, eastReachable bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, `aws:
  accounts:
    - id: "%s"
      keys:
        - {id: 1234abcd-12ab-34cd-56ef-1234567890ab, region: us-east-1, manager: CUSTOMER, state: %s}
      buckets:
        - {name: payroll, region: us-east-1, encryption: {algorithm: "aws:kms", key: 1234abcd-12ab-34cd-56ef-1234567890ab}, versioning: Enabled, public_access_block: true, reachable: %t}
        - {name: logs, region: us-east-1, encryption: {algorithm: AES256}, versioning: Enabled, public_access_block: %t, public: %t, reachable: %t}
        - {name: archive, region: us-west-2, encryption: {algorithm: AES256}, versioning: Enabled, public_access_block: true}
`, account, keyState, eastReachable, !logsPublic, logsPublic, eastReachable)
	if oldExists {
		b.WriteString("        - {name: old, region: us-west-2, encryption: {algorithm: AES256}, versioning: Suspended, public_access_block: true}\n")
	}
	return b.String()
}

func scanEstate(t *testing.T, name, yaml string) *agent.Result {
	t.Helper()
	ctx := context.Background()
	est, err := sandbox.ParseEstate(name, []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.Start(ctx, est, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	res, err := agent.Scan(ctx, agent.ScanConfig{Providers: sb.Configs(), Policy: risk.DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) > 0 {
		t.Fatalf("scan errors: %+v", res.Errors)
	}
	return res
}

// ruleOn names findings by rule and bucket, which is what a reader of the
// drift sees (IDs are opaque).
func ruleOn(fs []risk.Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.Rule+" "+f.Bucket)
	}
	slices.Sort(out)
	return out
}

// Three scans of a sandbox whose estate changes in between, through the
// real AWS plugin and a real history file: the drift is exactly the change.
func TestDriftOfAChangingSandbox(t *testing.T) {
	ctx := context.Background()
	store, err := history.Open(ctx, filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	ref := func(name string) history.BucketRef {
		return history.BucketRef{Provider: "aws", Account: account, Name: name}
	}
	steps := []struct {
		name         string
		estate       string
		wantNew      []string
		wantResolved []string
		wantRemoved  []history.BucketRef
		wantFacts    []history.FactChange
		wantLoss     []history.ReachLoss
	}{
		{
			name:    "first run: everything is new",
			estate:  estate("Enabled", false, true, true),
			wantNew: []string{"HYG-001 old"},
		},
		{
			name:         "a key disabled, a bucket made public, a bucket removed",
			estate:       estate("Disabled", true, false, true),
			wantNew:      []string{"BLK-003 payroll", "EXP-006 logs"},
			wantResolved: []string{"HYG-001 old"},
			wantRemoved:  []history.BucketRef{ref("old")},
			wantFacts: []history.FactChange{
				{Bucket: ref("logs"), Field: "public", Before: "no", After: "yes"},
				{Bucket: ref("payroll"), Field: "key_state", Before: "enabled", After: "disabled"},
			},
		},
		{
			name:    "every bucket of a region unreachable",
			estate:  estate("Disabled", true, false, false),
			wantNew: []string{"BLK-005 *", "BLK-005 logs", "BLK-005 payroll"},
			wantFacts: []history.FactChange{
				{Bucket: ref("logs"), Field: "reachable", Before: "yes", After: "no"},
				{Bucket: ref("payroll"), Field: "reachable", Before: "yes", After: "no"},
			},
			wantLoss: []history.ReachLoss{{Provider: "aws", Region: "us-east-1", Buckets: []history.BucketRef{ref("logs"), ref("payroll")}}},
		},
		{
			name:   "the loss goes on: no drift",
			estate: estate("Disabled", true, false, false),
		},
	}
	for i, step := range steps {
		res := scanEstate(t, fmt.Sprintf("estate-%d.yaml", i), step.estate)
		var prev *agent.Result
		if base, err := store.Baseline(ctx, "nightly"); err == nil {
			prev = base.Result
		}
		history.AddReachLoss(prev, res)
		d := history.Diff(prev, res)
		if err := store.Record(ctx, &history.Run{Schedule: "nightly", Status: history.StatusOf(res, nil), Result: res,
			New: len(d.New), Changed: len(d.Changed), Resolved: len(d.Resolved)}); err != nil {
			t.Fatal(err)
		}
		got := struct {
			New, Resolved []string
			Removed       []history.BucketRef
			Facts         []history.FactChange
			Loss          []history.ReachLoss
			Changed       int
		}{ruleOn(d.New), ruleOn(d.Resolved), d.Removed, d.Facts, d.ReachLoss, len(d.Changed)}
		want := got
		want.New, want.Resolved, want.Removed, want.Facts, want.Loss, want.Changed =
			step.wantNew, step.wantResolved, step.wantRemoved, step.wantFacts, step.wantLoss, 0
		if i == 0 {
			want.Facts, want.Removed = nil, nil
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: drift (-want +got):\n%s", step.name, diff)
		}
	}

	// The stored history answers the same.
	runs, err := store.List(ctx, 0)
	if err != nil || len(runs) != len(steps) {
		t.Fatalf("List: %d runs, %v", len(runs), err)
	}
	from, to, err := store.Pair(ctx, runs[2].ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if from.ID != runs[3].ID || to.ID != runs[2].ID {
		t.Errorf("Pair(%s) = %s..%s", runs[2].ID, from.ID, to.ID)
	}
	if d := history.Diff(from.Result, to.Result); !slices.Equal(ruleOn(d.New), steps[1].wantNew) {
		t.Errorf("stored drift new = %v", ruleOn(d.New))
	}
}
