package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/reports"
)

// shardConfig writes the demo estate and a config that scans it in shards
// of n (shards: n, the Indexed Job's form).
func shardConfig(t *testing.T, n int) (dir, cfg string) {
	t.Helper()
	dir = t.TempDir()
	files, err := sandboxDemoFiles()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "estate.yaml"), files, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg = filepath.Join(dir, "scan.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("sandbox: {estate: estate.yaml}\nshards: %d\n", n)), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, cfg
}

func readJSONResult(t *testing.T, path string) *agent.Result {
	t.Helper()
	r, err := readResult(path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// normalJSON is v's JSON without what changes from scan to scan.
func normalJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	data = regexp.MustCompile(`"latency_ms":[0-9.e+-]+`).ReplaceAll(data, []byte(`"latency_ms":0`))
	for _, v := range volatile {
		data = v.re.ReplaceAll(data, []byte(v.with))
	}
	return string(data)
}

// Three pods of an Indexed Job (JOB_COMPLETION_INDEX, REACHAUDIT_RUN_ID)
// scan their shards of the demo estate; merge joins them into the run a
// full scan writes, bucket for bucket, and every format renders it.
func TestScanShardsAndMerge(t *testing.T) {
	const n = 3
	dir, cfg := shardConfig(t, n)
	full := filepath.Join(dir, "full.json")
	if code, stderr := run(t, "scan", "--config", cfg, "--shard", "0/1", "--allow-partial", "--format", "json", "--out", full); code != 0 {
		t.Fatalf("full scan exited %d: %s", code, stderr)
	}
	shardDir := filepath.Join(dir, "shards")
	if err := os.Mkdir(shardDir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv(runIDEnv, "reachaudit-shards-x7k2p")
	for k := range n {
		t.Setenv("JOB_COMPLETION_INDEX", fmt.Sprint(k))
		out := filepath.Join(shardDir, fmt.Sprintf("shard-%d.json", k))
		if code, stderr := run(t, "scan", "--config", cfg, "--allow-partial", "--format", "json", "--out", out); code != 0 {
			t.Fatalf("shard %d exited %d: %s", k, code, stderr)
		}
		r := readJSONResult(t, out)
		if r.Shard == nil || *r.Shard != (agent.Shard{Index: k, Count: n}) || r.RunID != "reachaudit-shards-x7k2p" {
			t.Fatalf("shard %d: result records shard %v of run %s", k, r.Shard, r.RunID)
		}
	}
	merged := filepath.Join(dir, "merged.json")
	if code, stderr := run(t, "merge", "--allow-partial", "--format", "json", "--out", merged, shardDir); code != 0 {
		t.Fatalf("merge exited %d: %s", code, stderr)
	}
	m, f := readJSONResult(t, merged), readJSONResult(t, full)
	if m.Shard != nil || m.RunID != "reachaudit-shards-x7k2p" || len(m.Buckets) == 0 {
		t.Fatalf("merged run %s shard %v, %d buckets", m.RunID, m.Shard, len(m.Buckets))
	}
	if len(m.Buckets) != len(f.Buckets) {
		t.Fatalf("merged %d buckets, full scan %d", len(m.Buckets), len(f.Buckets))
	}
	for i := range f.Buckets {
		if got, want := normalJSON(t, m.Buckets[i]), normalJSON(t, f.Buckets[i]); got != want {
			t.Errorf("bucket %s differs:\nmerged %s\nfull   %s", f.Buckets[i].URI, got, want)
		}
	}
	if got, want := normalJSON(t, m.Findings), normalJSON(t, f.Findings); got != want {
		t.Errorf("merged findings (%d) differ from the full scan's (%d)", len(m.Findings), len(f.Findings))
	}
	ms, fs := m.Summary, f.Summary
	ms.APICalls, fs.APICalls = nil, nil
	if got, want := normalJSON(t, ms), normalJSON(t, fs); got != want {
		t.Errorf("summary:\nmerged %s\nfull   %s", got, want)
	}

	// Every format renders the merged run.
	for _, format := range reports.Formats() {
		out := filepath.Join(dir, "merged."+format)
		if code, stderr := run(t, "merge", "--allow-partial", "--format", format, "--out", out,
			filepath.Join(shardDir, "shard-2.json"), filepath.Join(shardDir, "shard-0.json"), filepath.Join(shardDir, "shard-1.json")); code != 0 {
			t.Fatalf("merge --format %s exited %d: %s", format, code, stderr)
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		switch format {
		case "dora-roi":
			// A register of contracts, not of buckets: a zip of its CSVs.
			if !bytes.HasPrefix(data, []byte("PK")) {
				t.Errorf("merge --format %s: not a zip", format)
			}
		default:
			// nw-cn-orders sits in one shard and has findings in every
			// format that lists findings or buckets.
			if !strings.Contains(string(data), "nw-cn-orders") {
				t.Errorf("merge --format %s: the report does not name nw-cn-orders", format)
			}
		}
	}
	// --fail-on gates the merged run as it gates a scan.
	if code, _ := run(t, "merge", "--allow-partial", "--fail-on", "critical", "--out", filepath.Join(dir, "gate.txt"), shardDir); code != exitFindings {
		t.Errorf("merge --fail-on critical exited %d, want %d", code, exitFindings)
	}
}

// Inputs that are not every shard of one run exit 2 with a message that
// says what is wrong; so do shards that could never be merged.
func TestMergeRefusesAndShardUsage(t *testing.T) {
	const n = 2
	dir, cfg := shardConfig(t, n)
	shard := func(runID string, k int) string {
		out := filepath.Join(dir, fmt.Sprintf("%s-%d.json", runID, k))
		if code, stderr := run(t, "scan", "--config", cfg, "--shard", fmt.Sprintf("%d/%d", k, n), "--run-id", runID, "--allow-partial", "--format", "json", "--out", out); code != 0 {
			t.Fatalf("shard %d of %s exited %d: %s", k, runID, code, stderr)
		}
		return out
	}
	a0, a1, b1 := shard("run-a", 0), shard("run-a", 1), shard("run-b", 1)
	whole := filepath.Join(dir, "whole.json")
	if code, stderr := run(t, "demo", "--format", "json", "--out", whole); code != 0 {
		t.Fatalf("demo exited %d: %s", code, stderr)
	}
	notJSON := filepath.Join(dir, "report.txt")
	if err := os.WriteFile(notJSON, []byte("reachaudit  run x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"missing shard", []string{"merge", a0}, "shard 1/2 missing (have 1 of 2)"},
		{"duplicated shard", []string{"merge", a0, a1, a1}, "shard 1/2 given more than once\n  " + a0 + ": run run-a, shard 0/2"},
		{"different runs", []string{"merge", a0, b1}, "shards of different runs: run-a (shard 0/2) and run-b (shard 1/2)"},
		{"a whole run", []string{"merge", a0, a1, whole}, "not a shard's result"},
		{"not a JSON result", []string{"merge", a0, notJSON}, "report.txt: not a reachaudit JSON result"},
		{"no such file", []string{"merge", filepath.Join(dir, "nope.json")}, "nope.json"},
		{"empty directory", []string{"merge", t.TempDir()}, "no *.json shard results"},
		{"shard without a run id", []string{"scan", "--config", cfg, "--shard", "0/2"}, "needs the run's id"},
		{"bad shard", []string{"scan", "--config", cfg, "--shard", "2/2", "--run-id", "r"}, "K must be from 0 to 1"},
		{"bad run id", []string{"scan", "--config", cfg, "--shard", "0/2", "--run-id", "a b/../c"}, "run id"},
		{"shards without an index", []string{"scan", "--config", cfg, "--run-id", "r"}, "shards: 2 needs JOB_COMPLETION_INDEX"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, stderr := run(t, c.args...)
			if code != exitUsage || !strings.Contains(stderr, c.want) {
				t.Fatalf("%v: exit %d, %q; want exit 2 saying %q", c.args, code, stderr, c.want)
			}
		})
	}
	t.Setenv("JOB_COMPLETION_INDEX", "5")
	if code, stderr := run(t, "scan", "--config", cfg, "--run-id", "r"); code != exitUsage || !strings.Contains(stderr, "JOB_COMPLETION_INDEX=5 with shards: 2") {
		t.Errorf("index out of range: exit %d, %q", code, stderr)
	}
}
