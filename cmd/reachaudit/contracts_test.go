package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A bad `contracts:` entry, in a config or an estate, is exit 2 with the
// file, the line and the field.
func TestBadContractsExitTwo(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("estate.yaml", "aws:\n  accounts:\n    - id: \"111122223333\"\n      buckets:\n        - {name: bucket-one, region: us-east-1}\n")
	tests := []struct {
		name, file, body string
		args             []string
		want             string
	}{
		{"country in lower case", "c1.yaml", "sandbox: {estate: estate.yaml}\ncontracts:\n  aws:\n    - account: \"1111*\"\n      billing_country: de\n",
			[]string{"scan", "--config"}, "c1.yaml:5: contracts.aws[0].billing_country: \"de\" is not an ISO 3166-1 alpha-2"},
		{"no entity in the table", "c2.yaml", "sandbox: {estate: estate.yaml}\ncontracts:\n  alibaba:\n    - billing_country: CH\n",
			[]string{"scan", "--config"}, "c2.yaml:4: contracts.alibaba[0].billing_country: alibaba's table names no contracting entity for billing country CH"},
		{"end before start", "c3.yaml", "sandbox: {estate: estate.yaml}\ncontracts:\n  gcp:\n    - billing_country: US\n      start: \"2026-01-01\"\n      end: \"2025-01-01\"\n",
			[]string{"scan", "--config"}, "c3.yaml:6: contracts.gcp[0].end"},
		{"unknown provider", "c4.yaml", "sandbox: {estate: estate.yaml}\ncontracts:\n  oracle:\n    - billing_country: US\n",
			[]string{"scan", "--config"}, "c4.yaml:4: contracts.oracle: unknown provider"},
		{"unknown field", "c5.yaml", "sandbox: {estate: estate.yaml}\ncontracts:\n  aws:\n    - billing_country: US\n      auto_renew: true\n",
			[]string{"scan", "--config"}, "c5.yaml:5: contracts.aws[0].auto_renew: unknown key (want one of"},
		{"in an estate", "e1.yaml", "aws:\n  accounts:\n    - id: \"111122223333\"\ncontracts:\n  aws:\n    - {billing_country: US, notice_days: -30}\n",
			[]string{"demo", "--estate"}, "e1.yaml:6: contracts.aws[0].notice_days: must not be negative"},
		{"renewal reads the config too", "c6.yaml", "sandbox: {estate: estate.yaml}\ncontracts:\n  aws:\n    - {entity: Amazon Web Services Korea LLC}\n",
			[]string{"renewal", "--provider", "aws", "--config"}, "c6.yaml:4: contracts.aws[0].entity_country: is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := write(tt.file, tt.body)
			code, stderr := run(t, append(tt.args, p)...)
			if code != exitUsage {
				t.Fatalf("exit %d, want %d: %s", code, exitUsage, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Fatalf("output %q does not say %q", stderr, tt.want)
			}
		})
	}
}
