package gcp_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/gcp"
)

func TestConfigDecodeAndValidate(t *testing.T) {
	tests := []struct {
		name, yaml string
		err        string // substring of the error; empty: valid
	}{
		{name: "minimal", yaml: "projects: [acme-prod]"},
		{name: "everything", yaml: `
projects: [acme-prod, acme-analytics]
credentials_file: /etc/reachaudit/gcp.json
credentials_type: external_account
impersonate_service_account: reachaudit@acme-prod.iam.gserviceaccount.com
endpoint: https://storage-psc.p.googleapis.com/storage/v1/
kms_endpoint: cloudkms.googleapis.com:443
universe_domain: s3nsapis.fr
canary: .reachaudit-canary
timeout: 45s`},
		{name: "emulator", yaml: "projects: [acme-prod]\nendpoint: http://127.0.0.1:4443/storage/v1/\nkms_endpoint: 127.0.0.1:9010\nwithout_authentication: true\ninsecure: true"},
		{name: "no projects", yaml: "canary: x", err: "projects: is required"},
		{name: "organization instead of projects", yaml: "organization: \"123456789012\""},
		{name: "folders instead of projects", yaml: "folders: [\"345678901234\", folders/456789012345]\nresourcemanager_endpoint: 127.0.0.1:9010"},
		{name: "organization named in full", yaml: "organization: organizations/123456789012\nprojects: [acme-prod]"},
		{name: "organization not a number", yaml: "organization: acme.com", err: "organization: \"acme.com\" is not an organization number"},
		{name: "folder not a number", yaml: "folders: [prod]", err: "folders[0]"},
		{name: "bad project id", yaml: "projects: [Acme_Prod]", err: "estate.yaml:1: projects[0]"},
		{name: "duplicate project", yaml: "projects: [acme-prod, acme-prod]", err: "listed twice"},
		{name: "unknown key", yaml: "projects: [acme-prod]\nregion: us", err: "region"},
		{name: "plain http needs insecure", yaml: "projects: [acme-prod]\nendpoint: http://127.0.0.1:4443/storage/v1/", err: "insecure: true"},
		{name: "endpoint not a URL", yaml: "projects: [acme-prod]\nendpoint: storage", err: "endpoint"},
		{name: "kms endpoint without port", yaml: "projects: [acme-prod]\nkms_endpoint: cloudkms.googleapis.com", err: "host:port"},
		{name: "bad service account", yaml: "projects: [acme-prod]\nimpersonate_service_account: bob@example.com", err: "service account"},
		{name: "no auth with credentials", yaml: "projects: [acme-prod]\nwithout_authentication: true\ncredentials_file: k.json", err: "cannot be combined"},
		{name: "unknown credentials type", yaml: "projects: [acme-prod]\ncredentials_file: k.json\ncredentials_type: api_key", err: "credentials_type"},
		{name: "credentials type without a file", yaml: "projects: [acme-prod]\ncredentials_type: service_account", err: "credentials_file, which is not given"},
		{name: "negative timeout", yaml: "projects: [acme-prod]\ntimeout: -1s", err: "negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c gcp.Config
			err := yamlfile.Decode("estate.yaml", []byte(strings.TrimSpace(tt.yaml)), &c)
			switch {
			case tt.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Fatalf("error = %v, want one containing %q", err, tt.err)
			}
			if tt.name == "everything" && c.Timeout != 45*time.Second {
				t.Errorf("timeout = %v", c.Timeout)
			}
		})
	}
}

func TestOpenWithMissingCredentialsFileFails(t *testing.T) {
	plug, _ := providers.Lookup("gcp")
	_, err := plug.Open(context.Background(), &gcp.Config{Projects: []string{"acme-prod"},
		CredentialsFile: "/nonexistent/reachaudit-gcp.json"}, providers.Env{})
	if err == nil || !strings.Contains(err.Error(), "reachaudit-gcp.json") {
		t.Fatalf("Open = %v, want an error naming the file", err)
	}
}
