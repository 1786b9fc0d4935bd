package gcp_test

import (
	"context"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/gcp"
	"github.com/reachaudit/reachaudit/providers/sandbox"
	_ "github.com/reachaudit/reachaudit/providers/sandbox/gcpemu"
	"github.com/reachaudit/reachaudit/providers/sandbox/sandboxtest"
)

// scanEnv is one sandbox and one opened plugin over it.
type scanEnv struct {
	sb    *sandbox.Sandbox
	cfg   *gcp.Config
	prov  providers.Provider
	calls *providers.Calls
}

func startSandbox(t *testing.T, estate []byte, opts sandbox.Options, tweak func(*gcp.Config)) *scanEnv {
	t.Helper()
	e, err := sandbox.ParseEstate("estate.yaml", estate)
	if err != nil {
		t.Fatalf("estate: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sb, err := sandbox.Start(ctx, e, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	cfg := sb.Configs()["gcp"].(*gcp.Config)
	if tweak != nil {
		tweak(cfg)
	}
	plug, ok := providers.Lookup("gcp")
	if !ok {
		t.Fatal("gcp plugin not registered")
	}
	calls := providers.NewCalls("gcp", 0, 0, nil)
	prov, err := plug.Open(ctx, cfg, providers.Env{Calls: calls})
	if err != nil {
		t.Fatal(err)
	}
	return &scanEnv{sb: sb, cfg: cfg, prov: prov, calls: calls}
}

// scan lists and describes every bucket of every project.
func (s *scanEnv) scan(t *testing.T) map[string]providers.Bucket {
	t.Helper()
	return sandboxtest.ScanAll(t, s.prov)
}

func readEstate(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/estate.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// view is the part of a record a case checks.
type view struct {
	Region, LocationType string
	Countries            []string
	Candidates           bool
	Operator             string
	Custody              providers.Custody
	Encryption           string
	KeyAccount           string
	KeyRegion            string
	KeyState             providers.KeyState
	KeyProviderState     string
	KeyLevel             string
	Versioning           string
	ObjectLock           providers.Tri
	Public               providers.Tri
	PublicVia            []string
	PublicAccessBlock    providers.Tri
	Redundancy           string
	Tags                 map[string]string
	Reachable            bool
	Failure              string
	Unknown              []string // field@api#permission
}

func viewOf(b providers.Bucket) view {
	v := view{Region: b.Region, LocationType: b.LocationType, Countries: b.Countries, Candidates: b.CountriesAreCandidates,
		Operator: b.Operator, Custody: b.Custody, Encryption: b.Encryption, Versioning: b.Versioning,
		ObjectLock: b.ObjectLock, Public: b.Public, PublicVia: b.PublicVia, PublicAccessBlock: b.PublicAccessBlock,
		Redundancy: b.Redundancy, Tags: b.Tags, Reachable: b.Reachability.Reachable, Failure: b.Reachability.Failure}
	if b.Key != nil {
		v.KeyAccount, v.KeyRegion, v.KeyState, v.KeyProviderState, v.KeyLevel =
			b.Key.Account, b.Key.Region, b.Key.State, b.Key.ProviderState, b.Key.ProtectionLevel
	}
	for _, u := range b.Unknowns {
		v.Unknown = append(v.Unknown, u.Field+"@"+u.API+"#"+u.Permission)
	}
	sort.Strings(v.Unknown)
	return v
}

// regional is the view of a plain US regional bucket with Google-managed
// encryption, the base most cases change.
func regional(region string) view {
	return view{Region: region, LocationType: "region", Countries: []string{"US"}, Operator: "US",
		Custody: providers.CustodyProviderManaged, Encryption: "google-managed", Versioning: "off",
		ObjectLock: providers.No, Public: providers.No, PublicAccessBlock: providers.No,
		Tags: map[string]string{}, Reachable: true}
}

func with(v view, f func(*view)) view { f(&v); return v }

func cmek(v view, c providers.Custody, level, state, pstate string) view {
	v.Custody, v.Encryption, v.KeyAccount, v.KeyRegion = c, "cmek", "acme-prod", "us"
	v.KeyLevel, v.KeyState, v.KeyProviderState = level, providers.KeyState(state), pstate
	return v
}

func TestDescribeEveryField(t *testing.T) {
	env := startSandbox(t, readEstate(t), sandbox.Options{}, nil)
	got := env.scan(t)

	want := map[string]view{
		"plain-region": regional("us-east1"),
		"ekm-nam4": with(cmek(regional("NAM4"), providers.CustodyExternalKeyManager, "EXTERNAL", "enabled", "ENABLED"), func(v *view) {
			v.LocationType, v.Countries, v.Redundancy = "dual-region", []string{"US"}, "turbo"
			v.Versioning, v.ObjectLock, v.PublicAccessBlock = "enabled", providers.Yes, providers.Yes
			v.Tags = map[string]string{"data-class": "restricted", "team": "finance"}
		}),
		"custom-dual": with(cmek(regional("US"), providers.CustodyExternalKeyManager, "EXTERNAL_VPC", "enabled", "ENABLED"), func(v *view) {
			v.LocationType, v.Redundancy = "dual-region", "dual-region"
		}),
		"asia-multi": with(cmek(regional("ASIA"), providers.CustodyProviderKMS, "SOFTWARE", "enabled", "ENABLED"), func(v *view) {
			v.LocationType, v.Redundancy, v.Candidates = "multi-region", "multi-region", true
			v.Countries = []string{"HK", "ID", "IN", "JP", "KR", "SG", "TW"}
		}),
		"eu-multi": with(cmek(regional("EU"), providers.CustodyProviderKMS, "HSM", "enabled", "ENABLED"), func(v *view) {
			v.LocationType, v.Redundancy, v.Candidates = "multi-region", "multi-region", true
			v.Countries = []string{"BE", "DE", "ES", "FI", "FR", "IT", "NL", "PL", "SE"}
		}),
		"single-tenant": with(cmek(regional("europe-west3"), providers.CustodyDedicatedHSM, "HSM_SINGLE_TENANT", "enabled", "ENABLED"), func(v *view) {
			v.Countries = []string{"DE"}
		}),
		"sovereign": with(regional("u-france-east1"), func(v *view) { v.Countries, v.Operator = []string{"FR"}, "FR" }),
		"hong-kong": with(regional("asia-east2"), func(v *view) {
			v.Countries, v.Public, v.PublicVia = []string{"HK"}, providers.Yes, []string{"iam:roles/storage.objectViewer:allUsers"}
		}),
		"acl-public": with(regional("us-central1"), func(v *view) {
			v.Public, v.PublicVia = providers.Yes, []string{"acl:READER:allUsers"}
		}),
		"acl-private":   regional("us-central1"),
		"key-disabled":  cmek(regional("us-east4"), providers.CustodyProviderKMS, "SOFTWARE", "disabled", "DISABLED"),
		"key-doomed":    cmek(regional("us-east4"), providers.CustodyProviderKMS, "SOFTWARE", "pending-deletion", "DESTROY_SCHEDULED"),
		"key-gone":      cmek(regional("us-east4"), providers.CustodyProviderKMS, "SOFTWARE", "unavailable", "DESTROYED"),
		"key-importing": with(cmek(regional("us-east4"), providers.CustodyImportedKey, "SOFTWARE", "pending-import", "PENDING_IMPORT"), func(v *view) {}),
		"key-foreign": with(cmek(regional("us-west1"), providers.CustodyProviderKMS, "SOFTWARE", "enabled", "ENABLED"), func(v *view) {
			v.KeyAccount, v.KeyRegion = "partner-keys", "europe-west1"
		}),
		"unreachable": with(regional("us-west1"), func(v *view) { v.Reachable, v.Failure = false, "http-403" }),
		"iam-denied": with(regional("us-west1"), func(v *view) {
			v.Public = providers.TriUnknown
			v.Unknown = []string{"public@storage.buckets.getIamPolicy#storage.buckets.getIamPolicy"}
		}),
		"acl-denied": with(regional("us-west1"), func(v *view) {
			v.Public = providers.TriUnknown
			v.Unknown = []string{"public@storage.bucketAccessControls.list#storage.buckets.getIamPolicy",
				"public@storage.buckets.getIamPolicy#storage.buckets.getIamPolicy"}
		}),
		"kms-denied": with(cmek(regional("us-west1"), providers.CustodyUnknown, "", "unknown", ""), func(v *view) {
			v.Unknown = []string{"custody@cloudkms.cryptoKeys.get#cloudkms.cryptoKeys.get", "key@cloudkms.cryptoKeys.get#cloudkms.cryptoKeys.get"}
		}),
		"with-canary": regional("us-west1"),
	}
	if len(got) != len(want) {
		t.Errorf("scanned %d buckets, want %d", len(got), len(want))
	}
	for name, w := range want {
		t.Run(name, func(t *testing.T) {
			b, ok := got[name]
			if !ok {
				t.Fatal("bucket not listed")
			}
			if diff := cmp.Diff(w, viewOf(b)); diff != "" {
				t.Errorf("record (-want +got):\n%s", diff)
			}
			if b.URI != "gs://"+name || b.Account != "acme-prod" || b.Provider != "gcp" || b.Controller != "US" {
				t.Errorf("identity = %s %s %s controller %s", b.Provider, b.Account, b.URI, b.Controller)
			}
		})
	}
	doomed := got["key-doomed"].Key
	if doomed == nil || doomed.DeletionDate == nil || !doomed.DeletionDate.Equal(time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("key-doomed deletion date = %+v", doomed)
	}
	if op := got["sovereign"].OperatorEntity; op != "S3NS (Thales)" {
		t.Errorf("sovereign operator entity = %q", op)
	}
}
