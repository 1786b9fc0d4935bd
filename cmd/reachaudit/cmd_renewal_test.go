package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `reachaudit renewal --provider alibaba` on the demo gives the pack the
// golden file holds.
func TestRenewalDemoJSONGolden(t *testing.T) {
	checkGolden(t, "renewal-alibaba.golden.json", "renewal", "--provider", "alibaba", "--format", "json")
}

func TestRenewalUsage(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(filepath.Join(dir, "estate.yaml"), []byte("aws:\n  accounts:\n    - id: \"111122223333\"\n      buckets:\n        - {name: bucket-one, region: us-east-1}\n"), 0o644)
	os.WriteFile(cfg, []byte("sandbox: {estate: estate.yaml}\n"), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no provider", []string{"renewal"}, exitUsage, "provider"},
		{"unknown provider", []string{"renewal", "--provider", "oracle"}, exitUsage, "want one of"},
		{"unknown format", []string{"renewal", "--provider", "aws", "--format", "pdf"}, exitUsage, "--format"},
		{"bad glob", []string{"renewal", "--provider", "aws", "--account", "["}, exitUsage, "glob"},
		{"config and demo flags", []string{"renewal", "--provider", "aws", "--config", cfg, "--estate", cfg}, exitUsage, "not both"},
		{"provider the config lacks", []string{"renewal", "--provider", "gcp", "--config", cfg}, exitUsage, "not configured"},
		{"markdown from a config", []string{"renewal", "--provider", "aws", "--config", cfg, "--out", filepath.Join(dir, "p.md")}, exitOK, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stderr := run(t, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d (%s), want %d with %q", code, stderr, tc.code, tc.want)
			}
		})
	}
}
