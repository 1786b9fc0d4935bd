package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/history"
	"github.com/reachaudit/reachaudit/agent/scenario"
)

// result reads a JSON result the command wrote, with the reader merge uses.
func result(t *testing.T, file string) *agent.Result {
	t.Helper()
	r, err := readResult(file)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// --scenario replaces the policy's list, on demo and on a stored run; the
// ban's effects are what DESIGN implies for the estate: every bucket at the
// provider is hit, lost unless a copy elsewhere survives, and its bytes
// must leave.
func TestScenarioFlag(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "ban.json")
	if code, stderr := run(t, "demo", "--scenario", "ban:alibaba", "--format", "json", "--out", out); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	r := result(t, out)
	if len(r.Scenarios) != 1 || r.Scenarios[0].Spec != "ban:alibaba" {
		t.Fatalf("scenarios %+v, want only ban:alibaba", r.Scenarios)
	}
	checkBan(t, r, r.Scenarios[0])

	// Repeatable, in the order given; the raw JSON has DESIGN's field names.
	out2 := filepath.Join(dir, "two.json")
	if code, stderr := run(t, "demo", "--scenario", "ban:alibaba", "--scenario", "COMPEL:cn", "--format", "json", "--out", out2); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var raw struct {
		Scenarios []map[string]json.RawMessage `json:"scenarios"`
	}
	data, _ := os.ReadFile(out2)
	if err := json.Unmarshal(data, &raw); err != nil || len(raw.Scenarios) != 2 {
		t.Fatalf("scenarios in %s: %v", data[:min(len(data), 200)], err)
	}
	var first struct {
		Spec   string                     `json:"spec"`
		Totals map[string]json.RawMessage `json:"totals"`
	}
	_ = json.Unmarshal(raw.Scenarios[1]["spec"], &first.Spec)
	_ = json.Unmarshal(raw.Scenarios[0]["totals"], &first.Totals)
	for _, k := range []string{"buckets_hit", "lost_buckets", "lost_bytes", "survives_buckets", "exposed_buckets", "exposed_bytes", "unknown_size_buckets", "exit_bytes", "exit_hours"} {
		if _, ok := first.Totals[k]; !ok {
			t.Errorf("totals lack %s", k)
		}
	}
	if first.Spec != "compel:CN" {
		t.Errorf("second scenario %q, want compel:CN (specs are case-insensitive)", first.Spec)
	}

	// A stored run answers a new scenario without a new scan.
	db := filepath.Join(dir, "history.db")
	store, err := history.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Record(context.Background(), &history.Run{Schedule: "nightly", Status: history.StatusOf(r, nil), Result: r,
		StartedAt: r.StartedAt, FinishedAt: r.FinishedAt}); err != nil {
		t.Fatal(err)
	}
	store.Close()
	out3 := filepath.Join(dir, "shown.json")
	if code, stderr := run(t, "history", "show", r.RunID, "--db", db, "--scenario", "cutoff:CN", "--format", "json", "--out", out3); code != exitOK {
		t.Fatalf("history show: exit %d: %s", code, stderr)
	}
	if shown := result(t, out3); len(shown.Scenarios) != 1 || shown.Scenarios[0].Spec != "cutoff:CN" || shown.Scenarios[0].Totals.BucketsHit < r.Scenarios[0].Totals.BucketsHit {
		t.Errorf("history show --scenario cutoff:CN: %+v", shown.Scenarios)
	}
}

func checkBan(t *testing.T, r *agent.Result, sc scenario.Scenario) {
	t.Helper()
	var at, exit int64
	unknown, n := 0, 0
	for _, b := range r.Buckets {
		if b.Provider != "alibaba" {
			continue
		}
		n++
		if b.Size == nil {
			unknown++
		} else {
			at += b.Size.Bytes
		}
	}
	for _, b := range sc.Buckets {
		if b.Provider != "alibaba" {
			t.Errorf("ban:alibaba hits %s/%s", b.Provider, b.Bucket)
		}
		switch b.Effect {
		case scenario.Lost:
		case scenario.Survives:
			if b.Copy == "" || strings.HasPrefix(b.Copy, "oss://") {
				t.Errorf("%s survives on %q: a copy at the banned provider saves nothing", b.Bucket, b.Copy)
			}
		default:
			t.Errorf("%s: effect %s under a ban", b.Bucket, b.Effect)
		}
		if b.Bytes != nil {
			exit += *b.Bytes
		}
	}
	tot := sc.Totals
	if tot.BucketsHit != n || len(sc.Buckets) != n || tot.ExitBytes != at || exit != at || tot.UnknownSizeBuckets != unknown || tot.LostBuckets+tot.SurvivesBuckets != n {
		t.Errorf("ban totals %+v over %d alibaba buckets holding %d bytes (%d unknown)", tot, n, at, unknown)
	}
}

// A bad spec is bad usage naming the spec and the forms it may take;
// --fail-on-loss gates on the bytes a scenario loses.
func TestScenarioUsageAndLossGate(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r.json")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown kind", []string{"demo", "--scenario", "nuke:alibaba"}, exitUsage, `"nuke:alibaba"`},
		{"unknown kind names the forms", []string{"demo", "--scenario", "nuke:alibaba"}, exitUsage, "ban:PROVIDER"},
		{"empty provider", []string{"demo", "--scenario", "ban:"}, exitUsage, "--scenario"},
		{"bad amount", []string{"demo", "--fail-on-loss", "lots"}, exitUsage, "--fail-on-loss \"lots\""},
		// The demo's ban of Alibaba loses 32 TB with no surviving copy.
		{"loss above the gate", []string{"demo", "--scenario", "ban:alibaba", "--fail-on-loss", "1TB", "--format", "json", "--out", out}, exitFindings, "scenario ban:alibaba loses"},
		{"loss below the gate", []string{"demo", "--scenario", "ban:alibaba", "--fail-on-loss", "100TB", "--format", "json", "--out", out}, exitOK, ""},
		{"a scenario that loses nothing passes any gate", []string{"demo", "--scenario", "compel:CN", "--fail-on-loss", "1B", "--format", "json", "--out", out}, exitOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stderr := run(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, want %d; output %q does not mention %q", code, tc.code, stderr, tc.want)
			}
		})
	}
}
