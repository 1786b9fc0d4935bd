package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reachaudit/reachaudit/agent"
)

// A scan that lists nothing it was asked to cover exits 1 whatever
// --fail-on says, and its report says why instead of reading as clean; a
// scan that lists some accounts and not others exits 1 unless
// --allow-partial, and then its UNK-002 findings meet --fail-on.
func TestCoverageExitCodes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// No credentials anywhere the AWS SDK looks: no environment, no shared
	// files, no instance metadata.
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "no-aws-config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "no-aws-credentials"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	dead := "http://" + freePort(t) // nobody listens there

	noCreds := write("no-creds.yaml", "providers:\n  aws:\n    accounts: [\"111122223333\"]\n    endpoint: "+dead+"\n")
	noCredsDefault := write("no-creds-default.yaml", "providers:\n  aws:\n    endpoint: "+dead+"\n")
	deadEndpoint := write("dead.yaml", "providers:\n  gcp:\n    projects: [acme-prod]\n    endpoint: "+dead+"/storage/v1/\n    without_authentication: true\n    insecure: true\n    timeout: 2s\n")
	write("partial-estate.yaml", `gcp:
  projects:
    - id: acme-prod
      buckets:
        - {name: acme-clean, location: us-central1, versioning: true}
    - id: acme-research
      buckets:
        - {name: acme-notebooks, location: us-central1, versioning: true, deny: [storage.buckets.list]}
`)
	partial := write("partial.yaml", "sandbox: {estate: partial-estate.yaml}\n")
	// An organisation whose management account may not list it: the
	// members are never found, so nothing is audited.
	write("org-denied-estate.yaml", `aws:
  organization:
    deny: [ListAccounts]
  accounts:
    - id: "111122223333"
      buckets:
        - {name: acme-org-member, region: us-east-1, versioning: Enabled}
`)
	orgDenied := write("org-denied.yaml", "sandbox: {estate: org-denied-estate.yaml}\n")
	write("gcp-org-denied-estate.yaml", `gcp:
  organization:
    id: "123456789012"
    folders: [{id: "1001"}]
    deny: [resourcemanager.folders.list]
  projects:
    - id: acme-prod
      buckets:
        - {name: acme-clean, location: us-central1, versioning: true}
`)
	gcpOrgDenied := write("gcp-org-denied.yaml", "sandbox: {estate: gcp-org-denied-estate.yaml}\n")
	write("rd-denied-estate.yaml", `alibaba:
  resource_directory:
    deny: [ListAccounts]
  accounts:
    - id: "1234567890123456"
      buckets:
        - {name: acme-cn-orders, region: cn-hangzhou, versioning: Enabled}
`)
	rdDenied := write("rd-denied.yaml", "sandbox: {estate: rd-denied-estate.yaml}\n")

	tests := []struct {
		name    string
		args    []string
		want    int
		wantErr string
		// the document's coverage state and the accounts its UNK-002s name
		state  string
		unk002 []string
		// the API and permission every UNK-002 names, where it matters
		api, permission string
	}{
		{"no credentials", []string{"scan", "--config", noCreds}, exitFailure, "nothing was audited", agent.CoverageNone, []string{"aws:111122223333"}, "", ""},
		{"no credentials and no account named", []string{"scan", "--config", noCredsDefault}, exitFailure, "nothing was audited", agent.CoverageNone, []string{"aws:*"}, "", ""},
		{"an endpoint nobody listens on", []string{"scan", "--config", deadEndpoint}, exitFailure, "nothing was audited", agent.CoverageNone, []string{"gcp:acme-prod"}, "", ""},
		{"nothing listed fails even where --fail-on would pass", []string{"scan", "--config", noCreds, "--fail-on", "critical"}, exitFailure, "nothing was audited", agent.CoverageNone, []string{"aws:111122223333"}, "", ""},
		{"nothing listed fails rather than exit 3", []string{"scan", "--config", deadEndpoint, "--fail-on", "high", "--allow-partial"}, exitFailure, "nothing was audited", agent.CoverageNone, []string{"gcp:acme-prod"}, "", ""},
		{"partial coverage fails", []string{"scan", "--config", partial}, exitFailure, "partial audit: gcp acme-research", agent.CoveragePartial, []string{"gcp:acme-research"}, "", ""},
		{"partial coverage allowed", []string{"scan", "--config", partial, "--allow-partial"}, exitOK, "", agent.CoveragePartial, []string{"gcp:acme-research"}, "", ""},
		{"partial coverage allowed: UNK-002 meets --fail-on high", []string{"scan", "--config", partial, "--allow-partial", "--fail-on", "high"}, exitFindings, "at or above high", agent.CoveragePartial, []string{"gcp:acme-research"}, "", ""},
		{"partial coverage allowed: nothing at critical", []string{"scan", "--config", partial, "--allow-partial", "--fail-on", "critical"}, exitOK, "", agent.CoveragePartial, []string{"gcp:acme-research"}, "", ""},
		{"the organisation cannot be listed", []string{"scan", "--config", orgDenied, "--allow-partial"}, exitFailure, "nothing was audited", agent.CoverageNone, []string{"aws:*"},
			"organizations:ListAccounts", "organizations:ListAccounts"},
		{"the GCP hierarchy cannot be read", []string{"scan", "--config", gcpOrgDenied, "--allow-partial"}, exitFailure, "nothing was audited", agent.CoverageNone, []string{"gcp:*"},
			"resourcemanager.folders.list", "resourcemanager.folders.list"},
		{"the resource directory cannot be listed", []string{"scan", "--config", rdDenied, "--allow-partial"}, exitFailure, "nothing was audited", agent.CoverageNone, []string{"alibaba:*"},
			"resourcemanager:ListAccounts", "resourcemanager:ListAccounts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "result.json")
			code, stderr := run(t, append(tt.args, "--format", "json", "--out", out)...)
			if code != tt.want {
				t.Fatalf("exit %d, want %d; output: %s", code, tt.want, stderr)
			}
			if tt.wantErr != "" && !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("output %q does not mention %q", stderr, tt.wantErr)
			}
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("no report: %v", err)
			}
			var r agent.Result
			if err := json.Unmarshal(data, &r); err != nil {
				t.Fatal(err)
			}
			if r.Summary.CoverageState != tt.state {
				t.Errorf("coverage state %q, want %q (%+v)", r.Summary.CoverageState, tt.state, r.Summary.Coverage)
			}
			var got []string
			for _, f := range r.Findings {
				if f.Rule != "UNK-002" {
					continue
				}
				got = append(got, f.Provider+":"+f.Account)
				if f.Bucket != "*" || f.Severity.String() != "high" || f.Evidence["api"] == "" || f.Evidence["error"] == "" {
					t.Errorf("UNK-002 %+v", f)
				}
				if tt.api != "" && (f.Evidence["api"] != tt.api || f.Evidence["permission"] != tt.permission) {
					t.Errorf("UNK-002 names %v and %v, want %s and %s", f.Evidence["api"], f.Evidence["permission"], tt.api, tt.permission)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.unk002, ",") {
				t.Errorf("UNK-002 for %v, want %v", got, tt.unk002)
			}
			if len(r.Errors) != len(tt.unk002) {
				t.Errorf("errors %+v", r.Errors)
			}
		})
	}

	// The table never shows an empty run as clean.
	code, stderr := run(t, "scan", "--config", deadEndpoint, "--out", filepath.Join(dir, "table.txt"))
	if code != exitFailure {
		t.Fatalf("table: exit %d: %s", code, stderr)
	}
	table, _ := os.ReadFile(filepath.Join(dir, "table.txt"))
	for _, want := range []string{"0 buckets", "NOTHING AUDITED", "coverage gcp: 0/1 listed, failed: acme-prod", "UNK-002"} {
		if !strings.Contains(string(table), want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
}
