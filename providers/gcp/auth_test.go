package gcp_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/gcp"
	"github.com/reachaudit/reachaudit/providers/sandbox"
	"github.com/reachaudit/reachaudit/providers/sandbox/gcpemu"
)

const authEstate = `
gcp:
  projects:
    - id: acme-prod
      keys:
        - name: projects/acme-prod/locations/us/keyRings/r/cryptoKeys/k
      buckets:
        - {name: acme-logs, location: us-east1, default_kms_key: projects/acme-prod/locations/us/keyRings/r/cryptoKeys/k, bytes: 100}
        - {name: acme-data, location: EU, versioning: true}
`

func emulator(t *testing.T, sb *sandbox.Sandbox) *gcpemu.Server {
	t.Helper()
	srv, ok := sb.Servers()["gcp"].(*gcpemu.Server)
	if !ok {
		t.Fatal("no GCP emulator")
	}
	return srv
}

// keyWith writes the sandbox's key file with its private key swapped for
// another: the same account, the wrong key.
func keyWith(t *testing.T, srv *gcpemu.Server) string {
	t.Helper()
	raw, err := os.ReadFile(srv.KeyFile())
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	doc["private_key"] = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	out, _ := json.Marshal(doc)
	name := filepath.Join(t.TempDir(), "wrong-key.json")
	if err := os.WriteFile(name, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return name
}

// The plugin authenticates with the sandbox's service account key through
// the token endpoint (the JWT-bearer grant), and the storage, KMS and
// monitoring clients share the one token it gets.
func TestServiceAccountKeyThroughTheTokenEndpoint(t *testing.T) {
	env := startSandbox(t, []byte(authEstate), sandbox.Options{}, nil)
	got := env.scan(t)
	b := got["acme-logs"]
	if len(got) != 2 || b.Key == nil || b.Key.State != providers.KeyEnabled || len(b.Unknowns) != 0 {
		t.Fatalf("scan: %d buckets, acme-logs %+v", len(got), b)
	}
	issued := emulator(t, env.sb).TokensIssued()
	if issued[gcpemu.ScannerAccount] != 1 || len(issued) != 1 {
		t.Errorf("tokens issued %v, want one for the scanner, shared by the three clients", issued)
	}
}

// A key the token endpoint does not know is refused there: the scan
// reports the project's failure as a run error and finds no bucket — it
// does not look like a clean project.
func TestWrongKeyIsAnErrorNotACleanScan(t *testing.T) {
	e, err := sandbox.ParseEstate("estate.yaml", []byte(authEstate))
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.Start(context.Background(), e, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	cfg := sb.Configs()["gcp"].(*gcp.Config)
	cfg.CredentialsFile = keyWith(t, emulator(t, sb))
	cfg.Timeout = 5e9
	res, err := agent.Scan(context.Background(), agent.ScanConfig{
		Providers: map[string]providers.Config{"gcp": cfg}, Policy: risk.DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Buckets) != 0 || len(res.Errors) == 0 {
		t.Fatalf("buckets %d errors %+v; want none and a run error", len(res.Buckets), res.Errors)
	}
	msg, _ := json.Marshal(res.Errors)
	if !strings.Contains(string(msg), "acme-prod") || !strings.Contains(string(msg), "invalid_grant") {
		t.Errorf("run errors %s; want the project and the token endpoint's refusal", msg)
	}
	if n := emulator(t, sb).TokensIssued()[gcpemu.ScannerAccount]; n != 0 {
		t.Errorf("%d tokens issued to a wrong key", n)
	}
}

// credentials_type is enforced: a service account key given as another
// type is refused at Open, naming the setting.
func TestCredentialsTypeIsEnforced(t *testing.T) {
	env := startSandbox(t, []byte(authEstate), sandbox.Options{}, nil)
	plug, _ := providers.Lookup("gcp")
	for _, typ := range []string{gcp.CredentialsAuthorizedUser, gcp.CredentialsExternalAccount, gcp.CredentialsImpersonatedAccount} {
		cfg := *env.cfg
		cfg.CredentialsType = typ
		_, err := plug.Open(context.Background(), &cfg, providers.Env{})
		if err == nil || !strings.Contains(err.Error(), "credentials_type "+typ) {
			t.Errorf("a service account key as %s: %v", typ, err)
		}
	}
}

// An impersonated_service_account credentials file: the scanner's key
// buys its own token, which buys the auditor's at generateAccessToken;
// the scan runs as the auditor.
func TestImpersonatedServiceAccountFile(t *testing.T) {
	env := startSandbox(t, []byte(authEstate), sandbox.Options{}, nil)
	srv := emulator(t, env.sb)
	src, err := os.ReadFile(srv.KeyFile())
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := json.Marshal(map[string]any{"type": "impersonated_service_account",
		"service_account_impersonation_url": srv.ImpersonationURL(), "source_credentials": json.RawMessage(src)})
	name := filepath.Join(t.TempDir(), "impersonated.json")
	if err := os.WriteFile(name, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := *env.cfg
	cfg.CredentialsFile, cfg.CredentialsType = name, gcp.CredentialsImpersonatedAccount
	plug, _ := providers.Lookup("gcp")
	p, err := plug.Open(context.Background(), &cfg, providers.Env{Calls: providers.NewCalls("gcp", 0, 0, nil)})
	if err != nil {
		t.Fatal(err)
	}
	refs, err := p.List(context.Background(), "acme-prod")
	if err != nil || len(refs) != 2 {
		t.Fatalf("List: %v %v", refs, err)
	}
	b := p.Describe(context.Background(), refs[1])
	if len(b.Unknowns) != 0 {
		t.Errorf("%s: unknowns %+v", b.Name, b.Unknowns)
	}
	if n := srv.TokensIssued()[gcpemu.AuditorAccount]; n != 1 {
		t.Errorf("auditor tokens %d, want 1", n)
	}
}
