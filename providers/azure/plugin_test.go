package azure_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/azure"
	"github.com/reachaudit/reachaudit/providers/sandbox"
	"github.com/reachaudit/reachaudit/providers/sandbox/azureemu"
	"github.com/reachaudit/reachaudit/providers/sandbox/sandboxtest"
)

const estate = `azure:
  subscriptions:
    - id: "11111111-0000-4000-8000-000000000001"
      keys:
        - {vault: kv-one, name: soft}
        - {vault: kv-one, name: hsm-key, hsm: true, expires: "+10d"}
        - {vault: hsm-pool, name: pool-key, managed_hsm: true}
        - {vault: kv-one, name: off, enabled: false}
        - {vault: kv-one, name: gone, expires: "-1d"}
      storage_accounts:
        - name: euhsm
          location: westeurope
          redundancy: ZRS
          encryption: {key_source: Microsoft.Keyvault, key: hsm-pool/pool-key}
          versioning: true
          tags: {data-class: restricted}
          containers:
            - {name: customers, immutable: true, blobs: [a.txt]}
        - name: brgrs
          location: brazilsouth
          redundancy: RAGZRS
          encryption: {key_source: Microsoft.Keyvault, key: kv-one/hsm-key}
          containers:
            - name: sales
            - name: scoped
              encryption_scope: {name: s1, key_source: Microsoft.Keyvault, key: kv-one/off}
            - name: expired
              encryption_scope: {name: s2, key_source: Microsoft.Keyvault, key: kv-one/gone}
        - name: webpub
          location: eastus
          redundancy: LRS
          allow_blob_public_access: true
          containers:
            - {name: site, public_access: blob}
            - {name: closed, public_access: none}
            - {name: blocked, reachable: false}
            - {name: nokey, encryption_scope: {name: s3, key_source: Microsoft.Keyvault, key: kv-one/soft}, deny: [Microsoft.KeyVault/vaults/keys/read, Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read]}
        - name: privpub
          location: eastus
          containers:
            - {name: wants-public, public_access: container}
        - name: denied
          location: westus2
          redundancy: GRS
          deny: [Microsoft.Storage/storageAccounts/blobServices/read]
          containers:
            - {name: cone}
    - id: "22222222-0000-4000-8000-000000000002"
      cloud: AzureChinaCloud
      storage_accounts:
        - name: cnorders
          location: chinaeast2
          redundancy: GRS
          containers:
            - {name: orders}
`

func start(t *testing.T, opts sandbox.Options) (providers.Provider, *providers.Calls) {
	t.Helper()
	est, err := sandbox.ParseEstate("estate.yaml", []byte(estate))
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.Start(context.Background(), est, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	pl, _ := providers.Lookup("azure")
	calls := providers.NewCalls("azure", 0, 0, nil)
	p, err := pl.Open(context.Background(), sb.Configs()["azure"], providers.Env{Calls: calls})
	if err != nil {
		t.Fatal(err)
	}
	return p, calls
}

func unknownOf(b providers.Bucket, field string) *providers.Unknown {
	for i := range b.Unknowns {
		if b.Unknowns[i].Field == field {
			return &b.Unknowns[i]
		}
	}
	return nil
}

// Every record field, through the real SDKs against the emulator, which
// checks the token of every call.
func TestDescribeEveryField(t *testing.T) {
	p, calls := start(t, sandbox.Options{})
	got := sandboxtest.ScanAll(t, p)
	if len(got) != 11 {
		t.Fatalf("%d containers, want 11: %v", len(got), keys(got))
	}
	eu := got["euhsm/customers"]
	if eu.URI != "az://euhsm/customers" || eu.Account != "11111111-0000-4000-8000-000000000001" || eu.Region != "westeurope" ||
		strings.Join(eu.Countries, ",") != "NL" || eu.Controller != "US" || eu.Operator != "US" {
		t.Errorf("identity and place: %+v", eu)
	}
	if eu.Custody != providers.CustodyDedicatedHSM || eu.Key == nil || eu.Key.State != providers.KeyEnabled ||
		eu.Key.ProtectionLevel != "RSA-HSM" || eu.Key.Manager != "Managed HSM" || !strings.HasPrefix(eu.Key.ID, "https://hsm-pool.managedhsm.azure.net/keys/pool-key/") {
		t.Errorf("managed HSM key: custody %s key %+v", eu.Custody, eu.Key)
	}
	if eu.Redundancy != "ZRS" || eu.RedundancyScope != providers.RedundancyMultiZone || len(eu.Copies) != 0 ||
		eu.Versioning != providers.VersioningEnabled || eu.ObjectLock != providers.Yes || eu.Tags["data-class"] != "restricted" {
		t.Errorf("resilience: %+v", eu)
	}
	if eu.Public != providers.No || eu.PublicAccessBlock != providers.Yes || !eu.Reachability.Reachable || eu.Reachability.Probe != "ListBlobs" {
		t.Errorf("exposure and probe: %+v %+v", eu.Public, eu.Reachability)
	}
	if len(eu.Unknowns) != 0 {
		t.Errorf("unknowns %+v", eu.Unknowns)
	}

	br := got["brgrs/sales"]
	if br.Custody != providers.CustodyProviderKMS || br.Key.ProtectionLevel != "RSA-HSM" || br.Key.MaterialExpires == nil ||
		time.Until(*br.Key.MaterialExpires) > 11*24*time.Hour {
		t.Errorf("vault HSM key with expiry: %s %+v", br.Custody, br.Key)
	}
	if br.RedundancyScope != providers.RedundancyMultiRegion || len(br.Copies) != 1 || br.Copies[0].Region != "southcentralus" ||
		br.Copies[0].Provider != "azure" || br.Copies[0].Source != providers.CopyReplication || br.Versioning != providers.VersioningOff {
		t.Errorf("geo copy in the pair: %+v", br.Copies)
	}
	if k := got["brgrs/scoped"].Key; k == nil || k.State != providers.KeyDisabled || !strings.Contains(k.ID, "/keys/off/") {
		t.Errorf("the container's encryption scope overrides the account's key: %+v", k)
	}
	if k := got["brgrs/expired"].Key; k == nil || k.State != providers.KeyUnavailable || k.ProviderState != "Expired" {
		t.Errorf("expired key: %+v", k)
	}

	site := got["webpub/site"]
	if site.Public != providers.Yes || strings.Join(site.PublicVia, ",") != "container-public-access:Blob" ||
		site.PublicAccessBlock != providers.No || site.RedundancyScope != providers.RedundancySingleZone ||
		site.Custody != providers.CustodyProviderManaged || site.Encryption != "Microsoft.Storage" || site.Key != nil {
		t.Errorf("public LRS container: %+v", site)
	}
	if got["webpub/closed"].Public != providers.No {
		t.Errorf("a private container is public")
	}
	if got["privpub/wants-public"].Public != providers.No {
		t.Errorf("allowBlobPublicAccess false must win over the container's level")
	}
	blk := got["webpub/blocked"].Reachability
	if blk.Reachable || blk.Failure != providers.FailHTTP403 {
		t.Errorf("unreachable container: %+v", blk)
	}
	nk := got["webpub/nokey"]
	if u := unknownOf(nk, providers.FieldKey); u == nil || u.API != "GetKey" || u.Permission != "Microsoft.KeyVault/vaults/keys/read" ||
		nk.Reachability.Failure != providers.FailHTTP403 || !strings.Contains(nk.Reachability.Error, "blobs/read") {
		t.Errorf("denied key and blobs: %+v %+v", nk.Unknowns, nk.Reachability)
	}
	den := got["denied/cone"]
	if u := unknownOf(den, providers.FieldVersioning); u == nil || u.Permission != "Microsoft.Storage/storageAccounts/blobServices/read" ||
		!strings.Contains(u.Error, "AuthorizationFailed") || den.Versioning != providers.VersioningUnknown {
		t.Errorf("AuthorizationFailed names the action: %+v", den.Unknowns)
	}

	cn := got["cnorders/orders"]
	if cn.Operator != "CN" || !strings.Contains(cn.OperatorEntity, "21Vianet") || cn.Controller != "US" ||
		len(cn.Copies) != 1 || cn.Copies[0].Region != "chinanorth2" || cn.Endpoints["blob"] != "https://cnorders.blob.core.chinacloudapi.cn/" {
		t.Errorf("China cloud: %+v", cn)
	}

	// Calls per container: the lists are per subscription and account,
	// the service properties per account, keys per key.
	n := 0
	for _, oc := range calls.Snapshot() {
		n += oc.Calls
	}
	t.Logf("%d calls for %d containers: %+v", n, len(got), calls.Snapshot())
}

func keys(m map[string]providers.Bucket) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// Throttling is retried away; a call that keeps failing or answers
// garbage leaves its field unknown and the rest of the record is read.
func TestFaults(t *testing.T) {
	tests := []struct {
		name  string
		fault sandbox.Fault
		check func(t *testing.T, b providers.Bucket)
	}{
		{"429 retried", sandbox.Fault{Op: "Microsoft.Storage/storageAccounts/blobServices/read", Bucket: "euhsm", Kind: sandbox.FaultThrottle, Times: 2},
			func(t *testing.T, b providers.Bucket) {
				if b.Versioning != providers.VersioningEnabled {
					t.Errorf("versioning %s after throttling: %+v", b.Versioning, b.Unknowns)
				}
			}},
		{"5xx", sandbox.Fault{Op: "Microsoft.Storage/storageAccounts/blobServices/read", Bucket: "euhsm", Kind: sandbox.FaultServer},
			func(t *testing.T, b providers.Bucket) {
				if u := unknownOf(b, providers.FieldVersioning); u == nil || u.Permission != "" || !strings.Contains(u.Error, "500") {
					t.Errorf("5xx: %+v", b.Unknowns)
				}
				if b.Custody != providers.CustodyDedicatedHSM {
					t.Errorf("the rest of the record is lost: %s", b.Custody)
				}
			}},
		{"malformed key answer", sandbox.Fault{Op: "Microsoft.KeyVault/managedHsm/keys/read/action", Kind: sandbox.FaultMalformed},
			func(t *testing.T, b providers.Bucket) {
				if b.Custody != providers.CustodyUnknown || unknownOf(b, providers.FieldCustody) == nil {
					t.Errorf("malformed key: custody %s %+v", b.Custody, b.Unknowns)
				}
			}},
		{"probe throttled for good", sandbox.Fault{Op: "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read", Bucket: "euhsm/*", Kind: sandbox.FaultThrottle},
			func(t *testing.T, b providers.Bucket) {
				if b.Reachability.Reachable || b.Reachability.Failure != providers.FailThrottled {
					t.Errorf("probe: %+v", b.Reachability)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _ := start(t, sandbox.Options{Faults: sandbox.NewFaults(tt.fault)})
			got := sandboxtest.ScanAll(t, p)
			tt.check(t, got["euhsm/customers"])
		})
	}
}

// A malformed or failing container list loses no account silently: the
// error names the account, and the other accounts are still listed.
func TestListFaults(t *testing.T) {
	p, _ := start(t, sandbox.Options{Faults: sandbox.NewFaults(
		sandbox.Fault{Op: "Microsoft.Storage/storageAccounts/blobServices/containers/read", Bucket: "webpub", Kind: sandbox.FaultMalformed},
		sandbox.Fault{Op: "ListContainers", Bucket: "webpub", Kind: sandbox.FaultServer},
	)})
	refs, err := p.List(context.Background(), "11111111-0000-4000-8000-000000000001")
	if err == nil || !strings.Contains(err.Error(), "webpub") {
		t.Fatalf("err %v, want one naming webpub", err)
	}
	for _, r := range refs {
		if strings.HasPrefix(r.Name, "webpub/") {
			t.Errorf("listed %s from a failed list", r.Name)
		}
	}
	if len(refs) != 6 {
		t.Errorf("%d containers from the other accounts, want 6", len(refs))
	}
}

// When ARM refuses the container list, the data plane's list gives the
// same containers and public access levels.
func TestContainerListFallsBackToDataPlane(t *testing.T) {
	p, _ := start(t, sandbox.Options{Faults: sandbox.NewFaults(
		sandbox.Fault{Op: "Microsoft.Storage/storageAccounts/blobServices/containers/read", Bucket: "webpub", Kind: sandbox.FaultServer})})
	got := sandboxtest.ScanAll(t, p)
	if got["webpub/site"].Public != providers.Yes || got["webpub/closed"].Public != providers.No || len(got) != 11 {
		t.Errorf("data-plane fallback: %d containers, site public %s", len(got), got["webpub/site"].Public)
	}
}

// A subscription id the credential does not know answers
// SubscriptionNotFound, as a list error.
func TestUnknownSubscription(t *testing.T) {
	p, _ := start(t, sandbox.Options{})
	_, err := p.List(context.Background(), "33333333-0000-4000-8000-000000000003")
	if err == nil || !strings.Contains(err.Error(), "SubscriptionNotFound") {
		t.Fatalf("err %v", err)
	}
}

// The emulator refuses calls without a valid token, and a wrong secret
// gets no token.
func TestTokensAreChecked(t *testing.T) {
	est, err := sandbox.ParseEstate("estate.yaml", []byte(estate))
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.Start(context.Background(), est, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	cfg := sb.Configs()["azure"].(*azure.Config)
	cfg.SandboxCredentials(sb.Servers()["azure"].(*azureemu.Server).CAPEM(), "not-the-secret")
	pl, _ := providers.Lookup("azure")
	p, err := pl.Open(context.Background(), cfg, providers.Env{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.List(context.Background(), "11111111-0000-4000-8000-000000000001"); err == nil || !strings.Contains(err.Error(), "invalid_client") {
		t.Fatalf("a wrong secret listed: %v", err)
	}
}

func TestParseName(t *testing.T) {
	for in, ok := range map[string]bool{"acct/ctr": true, "acct/ctr/": true, "acct": false, "Acct/ctr": false, "acct/ctr/blob": false, "/ctr": false} {
		if _, err := azure.ParseName(in); (err == nil) != ok {
			t.Errorf("ParseName(%q) = %v", in, err)
		}
	}
	pl, name, err := providers.ParseBucketURI("az://nwprodblob/invoices")
	if err != nil || pl.Name != "azure" || name != "nwprodblob/invoices" || pl.URI(name) != "az://nwprodblob/invoices" {
		t.Errorf("ParseBucketURI: %s %q %v", pl.Name, name, err)
	}
}
