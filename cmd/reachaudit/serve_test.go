package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/reachaudit/reachaudit/agent"
)

// `sandbox serve` in one process and `scan --config` in another, through
// the config and credentials serve writes: the way a user rehearses a scan
// against the sandbox, and the way the benchmark measures one. The scan
// must see the whole estate, declarations included, as the demo does.
func TestSandboxServeThenScan(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	estate := filepath.Join(dir, "estate.yaml")
	files, err := sandboxDemoFiles()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(estate, files, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, env, stop := serveSandbox(t, bin, dir, estate, 0)
	defer stop()
	out := filepath.Join(dir, "result.json")
	// The demo estate holds a project the scanner may not list.
	scan := exec.Command(bin, "scan", "--config", cfg, "--format", "json", "--out", out, "--allow-partial")
	scan.Env = append(os.Environ(), env...)
	if msg, err := scan.CombinedOutput(); err != nil {
		t.Fatalf("scan: %v\n%s", err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got agent.Result
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	want := demoResult(t, "--estate", estate)
	if len(got.Errors) != len(want.Errors) {
		t.Errorf("run errors: %+v, in-process demo: %+v", got.Errors, want.Errors)
	}
	if got.Summary.Buckets != want.Summary.Buckets || got.Summary.Findings != want.Summary.Findings {
		t.Errorf("scan through serve: %d buckets, %d findings; in-process demo of the same estate: %d, %d",
			got.Summary.Buckets, got.Summary.Findings, want.Summary.Buckets, want.Summary.Findings)
	}
	for _, b := range got.Buckets {
		if b.Name == "nw-ali-us-vault" && b.Custody != "customer-supplied" {
			t.Errorf("the estate's customer_keys did not reach the scan: vault custody %s", b.Custody)
		}
	}
}
