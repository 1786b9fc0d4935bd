package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reachaudit/reachaudit/agent/config"
	"github.com/reachaudit/reachaudit/providers/aws"
	_ "github.com/reachaudit/reachaudit/providers/gcp"
)

const full = `policy:
  profile: eu-sovereignty
  residency: {allowed: [DE, FR]}
providers:
  aws:
    accounts: ["111122223333"]
    role_name: ReachAuditReadOnly
copies:
  - {from: "s3://acme-orders", to: "gs://acme-orders-copy"}
customer_keys: ["s3://acme-vault-*"]
limits: {concurrency: 16, per_account: 4, rate: {aws: 50}}
listen: 127.0.0.1:9999
history: {path: /var/lib/reachaudit/history.db, keep_runs: 100}
emit: all
log: {level: info, format: json}
`

func TestParseFull(t *testing.T) {
	c, err := config.Parse("c.yaml", []byte(full), []string{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy.Profile != "eu-sovereignty" || len(c.Policy.Residency.Allowed) != 2 || len(c.Policy.Home) != 27 {
		t.Errorf("policy: %+v", c.Policy)
	}
	a, ok := c.Providers["aws"].(*aws.Config)
	if !ok || a.RoleName != "ReachAuditReadOnly" || a.Accounts[0] != "111122223333" {
		t.Errorf("providers.aws: %#v", c.Providers["aws"])
	}
	if len(c.Copies) != 1 || c.Copies[0].To != "gs://acme-orders-copy" || c.CustomerKeys[0] != "s3://acme-vault-*" {
		t.Errorf("declarations: %+v %+v", c.Copies, c.CustomerKeys)
	}
	if c.Limits.Concurrency != 16 || c.Limits.PerAccount != 4 || c.Limits.Rate["aws"] != 50 {
		t.Errorf("limits: %+v", c.Limits)
	}
	if c.Listen != "127.0.0.1:9999" || c.History.KeepRuns != 100 || c.Emit != config.EmitAll || c.Log.Format != "json" {
		t.Errorf("scalars: %+v", c)
	}
}

func TestDefaults(t *testing.T) {
	c, err := config.Parse("c.yaml", []byte("providers: {aws: {}}\n"), []string{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy.Profile != "us-adversary" || c.Emit != config.EmitChanges || c.Listen != "127.0.0.1:9464" {
		t.Errorf("defaults: policy %q emit %q listen %q", c.Policy.Profile, c.Emit, c.Listen)
	}
}

func TestEnvOverrides(t *testing.T) {
	c, err := config.Parse("c.yaml", []byte(full), []string{
		"REACHAUDIT_LISTEN=0.0.0.0:9464", "REACHAUDIT_EMIT=changes", "REACHAUDIT_LIMITS_CONCURRENCY=64",
		"REACHAUDIT_HISTORY_PATH=/tmp/h.db", "REACHAUDIT_REQUIRE_EXTERNAL=1",
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "0.0.0.0:9464" || c.Emit != "changes" || c.Limits.Concurrency != 64 || c.History.Path != "/tmp/h.db" {
		t.Errorf("overrides not applied: %+v", c)
	}
	if _, err := config.Parse("c.yaml", []byte(full), []string{"REACHAUDIT_LIMITS_CONCURRENCY=many"}); err == nil {
		t.Error("a bad number in the environment was accepted")
	}
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"unknown top-level key", "providers: {aws: {}}\nfrobnicate: 1\n", "c.yaml:2: frobnicate: unknown key"},
		{"unknown provider", "providers:\n  azure: {}\n", "c.yaml:2: providers.azure: unknown provider"},
		{"misspelt provider field", "providers:\n  aws:\n    acounts: []\n", "c.yaml:3"},
		{"bad account id", "providers:\n  aws:\n    accounts: [\"12\"]\n", "c.yaml:3: providers.aws.accounts[0]"},
		{"bad policy value", "policy:\n  home: [usa]\nproviders: {aws: {}}\n", "c.yaml:2: policy.home[0]"},
		{"bad copy URI", "providers: {aws: {}}\ncopies:\n  - {from: \"ftp://x\", to: \"s3://y\"}\n", "c.yaml:3: copies[0].from"},
		{"bad emit", "providers: {aws: {}}\nemit: sometimes\n", "emit"},
		{"policy and policy_file", "providers: {aws: {}}\npolicy: {}\npolicy_file: p.yaml\n", "c.yaml:3: policy_file: give policy or policy_file"},
		{"nothing to scan", "listen: 127.0.0.1:1\n", "no provider is configured"},
		// Ranges checked at load.
		{"keep_days overflow", "providers: {aws: {}}\nhistory: {path: h.db, keep_days: 200000}\n", "c.yaml:2: history.keep_days: 200000 is outside 0..36500"},
		{"negative keep_runs", "providers: {aws: {}}\nhistory:\n  keep_runs: -1\n", "c.yaml:3: history.keep_runs: -1 is negative"},
		{"concurrency fraction", "providers: {aws: {}}\nlimits:\n  concurrency: 1.5\n", "c.yaml:3: limits.concurrency: 1.5 is not a whole number"},
		{"rate for an unknown provider", "providers: {aws: {}}\nlimits:\n  rate: {azzure: 5}\n", `c.yaml:3: limits.rate.azzure: unknown provider "azzure"`},
		{"negative rate", "providers: {aws: {}}\nlimits:\n  rate:\n    aws: -5\n", "c.yaml:4: limits.rate.aws: -5 is not a rate"},
		{"negative latency", "sandbox:\n  estate: e.yaml\n  latency: -1s\n", "c.yaml:3: sandbox.latency: -1s is outside"},
		{"bad customer_keys glob", "providers: {aws: {}}\ncustomer_keys:\n  - \"s3://acme-[\"\n", `c.yaml:3: customer_keys[0]: "s3://acme-[" is not a valid glob`},
		{"bad schedule tag glob", "providers: {aws: {}}\nschedules:\n  - name: n\n    cron: \"@daily\"\n    tags: {env: \"pr[od\"}\n", `schedules[0].tags.env: "pr[od" is not a valid glob`},
		{"@every negative", "providers: {aws: {}}\nschedules: [{name: n, cron: \"@every -1h\"}]\n", "at least 1s"},
		{"@every zero", "providers: {aws: {}}\nschedules: [{name: n, cron: \"@every 0s\"}]\n", "at least 1s"},
		{"@every 1ms", "providers: {aws: {}}\nschedules: [{name: n, cron: \"@every 1ms\"}]\n", "at least 1s"},
		{"@every 30s on real providers", "providers: {aws: {}}\nschedules:\n  - {name: n, cron: \"@every 30s\"}\n", "c.yaml:3: schedules[0].cron: @every 30s is shorter than the 1m0s minimum"},
		{"impossible date", "providers: {aws: {}}\nschedules: [{name: n, cron: \"0 0 30 2 *\"}]\n", "names no date that exists"},
		{"schedule account not configured", "providers: {aws: {accounts: [\"111122223333\"]}}\nschedules:\n  - {name: n, cron: \"@daily\", accounts: [\"not-an-account\"]}\n", `c.yaml:3: schedules[0].accounts[0]: "not-an-account" is not an account`},
		{"residency ZZ", "providers: {aws: {}}\npolicy:\n  residency: {allowed: [ZZ]}\n", `policy.residency.allowed[0]: "ZZ" is not an assigned ISO 3166-1`},
		{"home equal to concern", "providers: {aws: {}}\npolicy:\n  home: [CN]\n", "CN is both a home country and a country of concern"},
		// Inputs that once crashed the decoder or every command.
		{"tag on a block value", "sandbox: {estate: e.yaml}\ncustomer_keys:\n  ! 0\n", "c.yaml:3: YAML tags"},
		{"tag in a policy", "providers: {aws: {}}\npolicy:\n  home:\n    ! 0\n", "c.yaml:4: YAML tags"},
		{"tag in schedules", "providers: {aws: {}}\nschedules:\n  ! 0\n", "c.yaml:3: YAML tags"},
		{"control bytes echoed quoted", "providers: {aws: {}}\nfr\x00ob\x1b: 1\n", `fr\x00ob\x1b: unknown key`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse("c.yaml", []byte(tt.in), []string{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestRangesAccepted(t *testing.T) {
	for _, in := range []string{
		"sandbox: {estate: e.yaml}\nschedules: [{name: n, cron: \"@every 1s\"}]\n",
		"providers: {aws: {}}\nschedules: [{name: n, cron: \"@every 1m\"}, {name: m, cron: \"0 0 29 2 *\"}]\n",
		"providers: {aws: {accounts: [\"111122223333\"]}}\nschedules: [{name: n, cron: \"@daily\", accounts: [\"111122223333\"]}]\n",
		"providers: {aws: {}}\nschedules: [{name: n, cron: \"@daily\", accounts: [\"444455556666\"]}]\n",
		"providers: {aws: {}}\nhistory: {path: h.db, keep_days: 36500, keep_runs: 0}\nlimits: {concurrency: 2.0, rate: {aws: 0.5}}\n",
	} {
		if _, err := config.Parse("c.yaml", []byte(in), []string{}); err != nil {
			t.Errorf("%q: %v", in, err)
		}
	}
}

func TestBOMStripped(t *testing.T) {
	c, err := config.Parse("c.yaml", []byte("\ufeffsandbox: {estate: e.yaml}\n"), []string{})
	if err != nil || c.Sandbox.Estate == "" {
		t.Fatalf("a config starting with a byte order mark: %v", err)
	}
}

func TestPolicyFileAndEstateRelativeToConfig(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "p.yaml"), []byte("profile: eu-sovereignty\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(cfg, []byte("policy_file: p.yaml\nsandbox: {estate: e.yaml}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(cfg, []string{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Policy.Profile != "eu-sovereignty" || c.Sandbox.Estate != filepath.Join(dir, "e.yaml") {
		t.Errorf("got policy %q estate %q", c.Policy.Profile, c.Sandbox.Estate)
	}
}

// The README's config reference lists every environment override the
// loader honours, so the two cannot drift apart.
func TestReadmeListsEveryEnvOverride(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range config.EnvKeys() {
		if !strings.Contains(string(readme), "`"+k+"`") {
			t.Errorf("README.md does not list %s", k)
		}
	}
}
