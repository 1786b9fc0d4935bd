package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/config"
	"github.com/reachaudit/reachaudit/agent/risk"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixedNow pins the clock of scans and the sandbox for golden output.
var fixedNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func TestMain(m *testing.M) {
	clock = func() time.Time { return fixedNow }
	// A test that needs the CLI as a process of its own (under a resource
	// limit, or to be killed) runs this binary with these variables.
	if args := os.Getenv(execArgsEnv); args != "" {
		os.Args = append([]string{"reachaudit"}, strings.Split(args, "\x1f")...)
		main()
	}
	os.Exit(m.Run())
}

// run executes the CLI in-process and returns its exit code and stderr.
func run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stderr bytes.Buffer
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(&stderr)
	root.SetErr(&stderr)
	err := root.ExecuteContext(context.Background())
	if err != nil {
		stderr.WriteString(err.Error())
	}
	return exitCodeQuiet(err), stderr.String()
}

func exitCodeQuiet(err error) int {
	saved := os.Stderr
	os.Stderr, _ = os.Open(os.DevNull)
	defer func() { os.Stderr = saved }()
	return exitCode(err)
}

func demoResult(t *testing.T, extra ...string) *agent.Result {
	t.Helper()
	out := filepath.Join(t.TempDir(), "demo.json")
	code, stderr := run(t, append([]string{"demo", "--format", "json", "--out", out}, extra...)...)
	if code != 0 {
		t.Fatalf("demo exited %d: %s", code, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var r agent.Result
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// volatile matches what changes from run to run: the run id, loopback
// ports and measured latencies.
var volatile = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`"run_id": "[^"]+"`), `"run_id": "RUN"`},
	{regexp.MustCompile(`127\.0\.0\.1:\d+`), `127.0.0.1:PORT`},
	{regexp.MustCompile(`"latency_ms": [0-9.e-]+`), `"latency_ms": 0`},
	{regexp.MustCompile(`(?i)(request ?id[=:] ?)[0-9a-z-]+`), `${1}REQUEST`},
}

func TestDemoJSONGolden(t *testing.T) {
	checkGolden(t, "demo.golden.json", "demo", "--format", "json")
}

// checkGolden runs the command with --out, masks what changes from run to
// run and compares the file with testdata/golden (rewritten with -update).
func checkGolden(t *testing.T, golden string, args ...string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out")
	if code, stderr := run(t, append(args, "--out", out)...); code != 0 {
		t.Fatalf("%s exited %d: %s", args[0], code, stderr)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range volatile {
		got = v.re.ReplaceAll(got, []byte(v.with))
	}
	golden = filepath.Join("testdata", golden)
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s output differs from %s (-want +got):\n%s", args[0], golden, diff)
	}
}

// The demo estate must make every rule of the catalogue fire at least once
// and keep clean buckets clean.
func TestDemoFiresEveryRule(t *testing.T) {
	r := demoResult(t)
	fired := map[string]int{}
	byBucket := map[string]int{}
	for _, f := range r.Findings {
		fired[f.Rule]++
		byBucket[f.Provider+":"+f.Account+":"+f.Bucket]++
	}
	for _, rule := range risk.Rules() {
		if fired[rule.ID] == 0 {
			t.Errorf("rule %s never fires on the demo estate", rule.ID)
		}
	}
	clean := map[string]int{}
	for _, b := range r.Buckets {
		if byBucket[b.Provider+":"+b.Account+":"+b.Name] == 0 {
			clean[b.Provider]++
		}
	}
	for _, p := range []string{"aws", "gcp", "alibaba"} {
		if r.Summary.BucketsByProvider[p] == 0 {
			t.Errorf("the demo estate has no %s buckets", p)
		}
	}
	if clean["aws"] == 0 || clean["gcp"] == 0 {
		t.Errorf("the demo should keep some buckets clean, got %v", clean)
	}
	// The one project the demo's scanner may not list (UNK-002) is its
	// only run error, and the run says its coverage is partial.
	if len(r.Errors) != 1 || r.Errors[0].Account != "northwind-research" || r.Errors[0].Op != "list" {
		t.Errorf("demo run errors: %+v", r.Errors)
	}
	if r.Summary.CoverageState != agent.CoveragePartial {
		t.Errorf("demo coverage %q, want partial", r.Summary.CoverageState)
	}
}

// Under eu-sovereignty the US-controlled providers are foreign: buckets
// that are clean under us-adversary gain EXP-003/EXP-004/BLK-002.
func TestDemoEUSovereignty(t *testing.T) {
	pol := filepath.Join(t.TempDir(), "eu.yaml")
	if err := os.WriteFile(pol, []byte("profile: eu-sovereignty\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := demoResult(t, "--policy", pol)
	fired := map[string]bool{}
	for _, f := range r.Findings {
		if f.Provider == "aws" || f.Provider == "gcp" {
			fired[f.Rule] = true
		}
	}
	for _, rule := range []string{"EXP-003", "EXP-004", "BLK-002"} {
		if !fired[rule] {
			t.Errorf("%s does not fire for US-controlled buckets under eu-sovereignty", rule)
		}
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badEstate := write("bad-estate.yaml", "aws:\n  accounts:\n    - id: \"111122223333\"\n      buckets:\n        - name: b\n          region: us-east-1\n          colour: red\n")
	badConfig := write("bad-config.yaml", "providers:\n  aws:\n    acounts: [\"111122223333\"]\n")
	unknownKey := write("unknown-key.yaml", "sandbox: {estate: x.yaml}\nlisten: 127.0.0.1:0\nfrobnicate: true\n")
	write("estate.yaml", "aws:\n  accounts:\n    - id: \"111122223333\"\n      buckets:\n        - {name: clean, region: us-east-1, encryption: {algorithm: AES256}, versioning: Enabled, public_access_block: true}\n")
	sandboxCfg := write("scan.yaml", "sandbox: {estate: estate.yaml}\n")
	badCron := write("bad-cron.yaml", "sandbox: {estate: estate.yaml}\nhistory: {path: h.db}\nschedules:\n  - {name: n, cron: \"61 * * * *\"}\n")
	badOutput := write("bad-output.yaml", "sandbox: {estate: estate.yaml}\noutputs:\n  - {type: carrier-pigeon}\n")
	badHistory := write("bad-history.yaml", "sandbox: {estate: estate.yaml}\nhistory: {path: /proc/no/such/dir/h.db}\nschedules: [{name: n, cron: \"@daily\"}]\n")
	noSchedules := write("no-schedules.yaml", "sandbox: {estate: estate.yaml}\nhistory: {path: h.db}\n")
	badListen := write("bad-listen.yaml", "sandbox: {estate: estate.yaml}\nlisten: \"localhost:99999\"\n")
	scalarList := write("scalar-list.yaml", "providers:\n  aws:\n    regions: us-east-1\n")
	wordForNumber := write("word-for-number.yaml", "sandbox: {estate: estate.yaml}\nlimits:\n  concurrency: lots\n")
	nestedTypo := write("nested-typo.yaml", "providers:\n  aws:\n    endpont: https://s3.example.com\n")
	out := filepath.Join(dir, "out.json")
	tests := []struct {
		name    string
		args    []string
		want    int
		wantErr string
	}{
		{"demo fails on critical findings", []string{"demo", "--format", "json", "--out", out, "--fail-on", "critical"}, exitFindings, "at or above critical"},
		{"unknown format", []string{"demo", "--format", "yaml"}, exitUsage, "--format"},
		{"unknown flag", []string{"demo", "--frobnicate"}, exitUsage, "frobnicate"},
		{"bad fail-on", []string{"demo", "--fail-on", "severe"}, exitUsage, "severity"},
		{"scan without config", []string{"scan"}, exitUsage, "--config"},
		{"estate with an unknown field names file and line", []string{"demo", "--estate", badEstate}, exitUsage, "bad-estate.yaml:7"},
		{"config with a misspelt key names file and line", []string{"scan", "--config", badConfig}, exitUsage, "bad-config.yaml:3"},
		{"config with an unknown top-level key", []string{"scan", "--config", unknownKey}, exitUsage, "unknown-key.yaml:3: frobnicate"},
		{"a string for a list names the field and the type", []string{"scan", "--config", scalarList}, exitUsage,
			`scalar-list.yaml:3: providers.aws.regions: expected a list of strings, got a string ("us-east-1") (a list of one is written [us-east-1])`},
		{"a word for a number names the field and the type", []string{"scan", "--config", wordForNumber}, exitUsage,
			`word-for-number.yaml:3: limits.concurrency: expected a whole number, got a string ("lots")`},
		{"a nested typo names its path, the keys allowed and the nearest", []string{"scan", "--config", nestedTypo}, exitUsage,
			`nested-typo.yaml:3: providers.aws.endpont: unknown key (want one of accounts, ca_cert,`},
		{"a nested typo suggests the key meant", []string{"scan", "--config", nestedTypo}, exitUsage, `did you mean "endpoint"?`},
		{"missing config file", []string{"scan", "--config", filepath.Join(dir, "nope.yaml")}, exitUsage, "nope.yaml"},
		{"clean sandbox scan passes the gate", []string{"scan", "--config", sandboxCfg, "--format", "json", "--out", out, "--fail-on", "low"}, exitOK, ""},
		{"agent with a bad cron spec", []string{"agent", "--config", badCron}, exitUsage, "bad-cron.yaml:4: schedules[0].cron"},
		{"unknown output type", []string{"scan", "--config", badOutput}, exitUsage, "bad-output.yaml:3: outputs[0].type"},
		{"agent with a history path it cannot open", []string{"agent", "--config", badHistory}, exitUsage, "bad-history.yaml: history.path"},
		{"agent without schedules", []string{"agent", "--config", noSchedules}, exitUsage, "schedules"},
		{"rules", []string{"rules", "--format", "json"}, exitOK, ""},
		{"extra positional argument is bad usage", []string{"scan", "--config", sandboxCfg, "extra"}, exitUsage, "reachaudit scan: unknown command \"extra\""},
		{"extra argument to rules", []string{"rules", "more"}, exitUsage, "rules"},
		{"unknown command is bad usage", []string{"scna"}, exitUsage, "unknown command"},
		{"fail-on in capitals", []string{"demo", "--format", "json", "--out", out, "--fail-on", "HIGH"}, exitFindings, "at or above high"},
		{"listen port out of range names file and line", []string{"scan", "--config", badListen}, exitUsage, "bad-listen.yaml:2: listen: \"localhost:99999\""},
		{"version", []string{"version"}, exitOK, "reachaudit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stderr := run(t, tt.args...)
			if code != tt.want {
				t.Fatalf("exit %d, want %d; output: %s", code, tt.want, stderr)
			}
			if tt.wantErr != "" && !strings.Contains(stderr, tt.wantErr) {
				t.Fatalf("output %q does not mention %q", stderr, tt.wantErr)
			}
		})
	}
}

func TestBadEnvironmentOverrideIsBadConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "scan.yaml")
	if err := os.WriteFile(cfg, []byte("sandbox: {estate: estate.yaml}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("REACHAUDIT_LIMITS_CONCURRENCY", "lots")
	code, out := run(t, "scan", "--config", cfg)
	if code != exitUsage || !strings.Contains(out, "REACHAUDIT_LIMITS_CONCURRENCY") || !strings.Contains(out, "whole number") {
		t.Fatalf("exit %d, want %d naming the variable; output: %s", code, exitUsage, out)
	}
}

func TestHelpAndCatalogueWording(t *testing.T) {
	code, help := run(t, "demo", "--help")
	if code != exitOK || !strings.Contains(help, "info, low, medium, high, critical") {
		t.Errorf("demo --help does not list info among --fail-on severities:\n%s", help)
	}
	var out bytes.Buffer
	root := newRootCmd()
	root.SetArgs([]string{"rules"})
	root.SetOut(&out)
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, "EXP-007") && !strings.Contains(line, "as that rule") {
			t.Errorf("rules shows EXP-007 with a fixed severity: %q", line)
		}
	}
}

// TestREADMEListsEveryCommand keeps the README's command table complete,
// cobra's own completion command included.
func TestREADMEListsEveryCommand(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	root := newRootCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		if c.Hidden || c.Name() == "help" {
			continue
		}
		if !strings.Contains(string(readme), "| `reachaudit "+c.Name()) {
			t.Errorf("README's command table does not list %q", c.Name())
		}
	}
}

func TestTableWidthFollowsColumns(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	t.Setenv("COLUMNS", "90")
	if got := tableWidth(f); got != 90 {
		t.Errorf("COLUMNS=90: width %d", got)
	}
	t.Setenv("COLUMNS", "")
	if got := tableWidth(f); got != 100 {
		t.Errorf("not a terminal, no COLUMNS: width %d, want 100", got)
	}
}

func TestAgentWarnsThatChangesRewriteAFile(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "agent.yaml")
	body := "sandbox: {estate: estate.yaml}\nemit: changes\noutputs:\n  - {type: file, path: " + filepath.Join(dir, "f.jsonl") + ", format: jsonl}\n"
	if err := os.WriteFile(cfgPath, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath, []string{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	warnReplacedFiles(cfg, slog.New(slog.NewTextHandler(&buf, nil)))
	if !strings.Contains(buf.String(), "emit: changes rewrites this file output") {
		t.Errorf("no warning for a file output under emit: changes: %q", buf.String())
	}
}
