package scenario

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestScenarioHeadline(t *testing.T) {
	sc := Scenario{Title: "Ban of alibaba", Totals: Totals{
		BucketsHit: 11, LostBuckets: 9, LostBytes: 4.1e12, SurvivesBuckets: 2, ExitBytes: 6.2e12, ExitHours: 13.78,
	}, Buckets: []Bucket{{Effect: Survives, Copy: "s3://orders-archive"}}}
	want := "Ban of alibaba: 11 buckets, 4.1 TB lost with no surviving copy (9 buckets); 2 survive at aws; exit 6.2 TB ≈ 13.8 h at 1 Gbit/s"
	if got := sc.Headline(Exit{BandwidthGbps: 1}); got != want {
		t.Errorf("headline\n got %s\nwant %s", got, want)
	}
	cost := 434.0
	sc.Totals.ExitCost, sc.Totals.UnknownSizeBuckets = &cost, 3
	if got := sc.Headline(Exit{}); !strings.HasSuffix(got, "egress ≈ 434.00; 3 of unknown size, not in these sums") {
		t.Errorf("headline with cost and unknowns: %s", got)
	}
	none := Scenario{Title: "Loss of gcp region x"}
	if got := none.Headline(Exit{}); got != "Loss of gcp region x: no bucket is hit" {
		t.Errorf("headline of a miss: %s", got)
	}
}

// Scope keeps the buckets asked for and sums them again: the exit of a
// ban narrowed to one account moves only that account's bytes, and its
// cost is priced from the same table.
func TestScopeSumsAgain(t *testing.T) {
	n := func(v int64) *int64 { return &v }
	sc := Scenario{Spec: "ban:alibaba", Title: "Ban of alibaba", Buckets: []Bucket{
		{Provider: "alibaba", Account: "a1", Bucket: "ledger", Effect: Lost, Bytes: n(3 * TB)},
		{Provider: "alibaba", Account: "a1", Bucket: "scratch", Effect: Lost},
		{Provider: "alibaba", Account: "a2", Bucket: "orders", Effect: Survives, Bytes: n(1 * TB), Copy: "s3://orders-copy"},
	}}
	exit := Exit{BandwidthGbps: 10, EgressPerGB: map[string]float64{"alibaba": 0.05}}
	got := sc.Scope(func(b Bucket) bool { return b.Account == "a1" }, exit)
	want := Totals{BucketsHit: 2, LostBuckets: 2, LostBytes: 3 * TB, UnknownSizeBuckets: 1, ExitBytes: 3 * TB, ExitHours: 0.67}
	cost := 150.0
	want.ExitCost = &cost
	if diff := cmp.Diff(want, got.Totals); diff != "" {
		t.Errorf("scoped totals (-want +got):\n%s", diff)
	}
	if len(got.Buckets) != 2 || got.Spec != sc.Spec || got.Title != sc.Title {
		t.Errorf("scoped scenario: %+v", got)
	}
	// A compel scenario scoped keeps its exposed bytes and has no exit.
	cp := Scenario{Spec: "compel:CN", Buckets: []Bucket{{Provider: "alibaba", Account: "a1", Bucket: "ledger", Effect: Exposed, Bytes: n(2 * TB)}}}
	if got := cp.Scope(func(Bucket) bool { return true }, exit).Totals; got.ExposedBytes != 2*TB || got.ExitBytes != 0 || got.ExitCost != nil {
		t.Errorf("scoped compel totals: %+v", got)
	}
}
