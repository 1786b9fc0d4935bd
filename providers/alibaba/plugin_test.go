package alibaba_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/alibaba"
	"github.com/reachaudit/reachaudit/providers/sandbox"
	_ "github.com/reachaudit/reachaudit/providers/sandbox/alibabaemu"
	"github.com/reachaudit/reachaudit/providers/sandbox/sandboxtest"
)

const estateYAML = `
alibaba:
  accounts:
    - id: "1111222233334444"
      keys:
        - {id: key-hz-cmk, region: cn-hangzhou}
        - {id: key-hz-off, region: cn-hangzhou, state: Disabled}
        - {id: key-hz-del, region: cn-hangzhou, state: PendingDeletion}
        - {id: key-sg-byok, region: ap-southeast-1, origin: EXTERNAL, material_expire_time: "+15d"}
        - {id: key-sg-wait, region: ap-southeast-1, origin: EXTERNAL, state: PendingImport}
        - {id: key-us-hsm, region: us-west-1, protection_level: HSM}
        - {id: key-hz-oss, region: cn-hangzhou, creator: Oss}
      buckets:
        - name: hz-kms
          region: cn-hangzhou
          bytes: 2500000000
          objects: 1200
          encryption: {algorithm: KMS, key: key-hz-cmk}
          redundancy: ZRS
          versioning: Enabled
          replication: [{bucket: hz-kms-dr, region: us-west-1}]
          tags: {data-class: restricted, team: orders}
        - name: hz-off
          region: cn-hangzhou
          bytes: 2500000000
          objects: 1200
          encryption: {algorithm: KMS, key: key-hz-off}
        - name: hz-del
          region: cn-hangzhou
          bytes: 2500000000
          objects: 1200
          encryption: {algorithm: KMS, key: key-hz-del}
          versioning: Suspended
        - name: hz-svc
          region: cn-hangzhou
          bytes: 2500000000
          objects: 1200
          encryption: {algorithm: KMS, key: key-hz-oss}
        - name: hz-osskms
          region: cn-hangzhou
          bytes: 2500000000
          objects: 1200
          encryption: {algorithm: KMS}
        - name: sh-aes
          region: cn-shanghai
          bytes: 2500000000
          objects: 1200
          encryption: {algorithm: AES256}
          acl: public-read
        - name: sh-sm4-blocked
          region: cn-shanghai
          bytes: 2500000000
          objects: 1200
          encryption: {algorithm: SM4}
          acl: public-read-write
          block_public_access: true
        - name: hk-none
          region: cn-hongkong
          bytes: 2500000000
          objects: 1200
        - name: sg-byok
          region: ap-southeast-1
          bytes: 2500000000
          objects: 1200
          encryption: {algorithm: KMS, key: key-sg-byok}
        - name: sg-wait
          region: ap-southeast-1
          bytes: 2500000000
          objects: 1200
          encryption: {algorithm: KMS, key: key-sg-wait}
        - name: us-hsm
          region: us-west-1
          bytes: 2500000000
          objects: 1200
          encryption: {algorithm: KMS, key: key-us-hsm}
          redundancy: ZRS
        - name: us-denied
          region: us-west-1
          bytes: 2500000000
          objects: 1200
          encryption: {algorithm: AES256}
          deny: [GetBucketReplication, GetBucketPolicyStatus, GetBucketPublicAccessBlock, GetBucketTagging]
        - name: us-gone
          region: us-west-1
          bytes: 2500000000
          objects: 1200
          encryption: {algorithm: AES256}
          reachable: false
    - id: "5555666677778888"
      keys:
        - {id: key-de-cmk, region: eu-central-1}
      buckets:
        - name: de-keydenied
          region: eu-central-1
          bytes: 2500000000
          objects: 1200
          encryption: {algorithm: KMS, key: key-de-cmk}
          deny: [DescribeKey]
`

// start serves the estate and returns the plugin configuration for it.
func start(t *testing.T, yaml string, opts sandbox.Options) (*alibaba.Config, *sandbox.Sandbox) {
	t.Helper()
	e, err := sandbox.ParseEstate("estate.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.Start(context.Background(), e, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	cfg := sb.Configs()["alibaba"].(*alibaba.Config)
	cfg.Timeout = "2s"
	return cfg, sb
}

func open(t *testing.T, cfg *alibaba.Config) (providers.Provider, *providers.Calls) {
	t.Helper()
	calls := providers.NewCalls("alibaba", 0, 0, nil)
	p, err := alibaba.Open(context.Background(), cfg, providers.Env{Calls: calls})
	if err != nil {
		t.Fatal(err)
	}
	return p, calls
}

func unknownFields(b providers.Bucket) []string {
	var out []string
	for _, u := range b.Unknowns {
		out = append(out, u.Field+"@"+u.API)
	}
	return out
}

func TestDescribeEveryRecordField(t *testing.T) {
	cfg, _ := start(t, estateYAML, sandbox.Options{})
	p, _ := open(t, cfg)
	got := sandboxtest.ScanAll(t, p)
	if len(got) != 14 {
		t.Fatalf("got %d buckets, want 14", len(got))
	}

	hz := got["hz-kms"]
	want := providers.Bucket{
		Provider: "alibaba", Account: "1111222233334444", Name: "hz-kms", URI: "oss://hz-kms",
		Tags:   map[string]string{"data-class": "restricted", "team": "orders"},
		Region: "cn-hangzhou", LocationType: "region", Countries: []string{"CN"},
		Endpoints:  map[string]string{"extranet": "oss-cn-hangzhou.aliyuncs.com", "intranet": "oss-cn-hangzhou-internal.aliyuncs.com"},
		Controller: "CN", ControllerEntity: "Alibaba Group Holding Ltd.",
		Operator: "CN", OperatorEntity: "Alibaba Cloud Computing Co., Ltd.",
		Custody: providers.CustodyProviderKMS, Encryption: "KMS",
		Key: &providers.Key{ID: "key-hz-cmk", Account: "1111222233334444", Region: "cn-hangzhou",
			State: providers.KeyEnabled, ProviderState: "Enabled", Manager: "1111222233334444",
			Origin: "Aliyun_KMS", ProtectionLevel: "SOFTWARE"},
		Copies:     []providers.Copy{{Provider: "alibaba", Bucket: "hz-kms-dr", Region: "us-west-1", Source: providers.CopyReplication}},
		Redundancy: "ZRS", RedundancyScope: providers.RedundancyMultiZone, Versioning: providers.VersioningEnabled, ObjectLock: providers.No,
		Public: providers.No, PublicAccessBlock: providers.No,
		Reachability: providers.Reachability{Reachable: true, Probe: "GetBucketInfo+ListObjectsV2"},
		Size:         &providers.Size{Bytes: 2500000000, Objects: ptr(int64(1200)), Source: "oss:GetBucketStat"},
		Unknowns:     []providers.Unknown{},
	}
	if diff := cmp.Diff(want, hz, cmpopts.IgnoreFields(providers.Reachability{}, "LatencyMS"), cmpopts.IgnoreFields(providers.Size{}, "AsOf")); diff != "" {
		t.Errorf("hz-kms record (-want +got):\n%s", diff)
	}
	if hz.Reachability.LatencyMS <= 0 {
		t.Errorf("probe latency %v, want > 0", hz.Reachability.LatencyMS)
	}

	tests := []struct {
		bucket     string
		custody    providers.Custody
		encryption string
		keyState   providers.KeyState
		public     providers.Tri
		via        []string
		block      providers.Tri
		versioning string
		redundancy string
		country    string
		operator   string
		reachable  bool
		failure    string
		unknowns   []string
	}{
		{bucket: "hz-off", custody: providers.CustodyProviderKMS, encryption: "KMS", keyState: providers.KeyDisabled,
			public: providers.No, block: providers.No, versioning: "off", redundancy: "LRS", country: "CN", operator: "CN", reachable: true},
		{bucket: "hz-del", custody: providers.CustodyProviderKMS, encryption: "KMS", keyState: providers.KeyPendingDeletion,
			public: providers.No, block: providers.No, versioning: "suspended", redundancy: "LRS", country: "CN", operator: "CN", reachable: true},
		{bucket: "hz-svc", custody: providers.CustodyProviderManaged, encryption: "KMS", keyState: providers.KeyEnabled,
			public: providers.No, block: providers.No, versioning: "off", redundancy: "LRS", country: "CN", operator: "CN", reachable: true},
		{bucket: "hz-osskms", custody: providers.CustodyProviderManaged, encryption: "KMS",
			public: providers.No, block: providers.No, versioning: "off", redundancy: "LRS", country: "CN", operator: "CN", reachable: true},
		{bucket: "sh-aes", custody: providers.CustodyProviderManaged, encryption: "AES256",
			public: providers.Yes, via: []string{"acl:public-read"}, block: providers.No, versioning: "off", redundancy: "LRS", country: "CN", operator: "CN", reachable: true},
		{bucket: "sh-sm4-blocked", custody: providers.CustodyProviderManaged, encryption: "SM4",
			public: providers.No, block: providers.Yes, versioning: "off", redundancy: "LRS", country: "CN", operator: "CN", reachable: true},
		{bucket: "hk-none", custody: providers.CustodyNone, encryption: "none",
			public: providers.No, block: providers.No, versioning: "off", redundancy: "LRS", country: "HK", operator: "CN", reachable: true},
		{bucket: "sg-byok", custody: providers.CustodyImportedKey, encryption: "KMS", keyState: providers.KeyEnabled,
			public: providers.No, block: providers.No, versioning: "off", redundancy: "LRS", country: "SG", operator: "CN", reachable: true},
		{bucket: "sg-wait", custody: providers.CustodyImportedKey, encryption: "KMS", keyState: providers.KeyPendingImport,
			public: providers.No, block: providers.No, versioning: "off", redundancy: "LRS", country: "SG", operator: "CN", reachable: true},
		{bucket: "us-hsm", custody: providers.CustodyDedicatedHSM, encryption: "KMS", keyState: providers.KeyEnabled,
			public: providers.No, block: providers.No, versioning: "off", redundancy: "ZRS", country: "US", operator: "CN", reachable: true},
		{bucket: "us-denied", custody: providers.CustodyProviderManaged, encryption: "AES256",
			public: providers.TriUnknown, block: providers.TriUnknown, versioning: "off", redundancy: "LRS", country: "US", operator: "CN", reachable: true,
			unknowns: []string{"copies@oss:GetBucketReplication", "public@oss:GetBucketPolicyStatus",
				"public_access_block@oss:GetBucketPublicAccessBlock", "tags@oss:GetBucketTagging"}},
		{bucket: "us-gone", custody: providers.CustodyProviderManaged, encryption: "AES256",
			public: providers.No, block: providers.No, versioning: "off", redundancy: "LRS", country: "US", operator: "CN",
			reachable: false, failure: providers.FailHTTP403},
		{bucket: "de-keydenied", custody: providers.CustodyUnknown, encryption: "KMS", keyState: providers.KeyStateUnknown,
			public: providers.No, block: providers.No, versioning: "off", redundancy: "LRS", country: "DE", operator: "CN", reachable: true,
			unknowns: []string{"custody@kms:DescribeKey", "key@kms:DescribeKey"}},
	}
	for _, tt := range tests {
		t.Run(tt.bucket, func(t *testing.T) {
			b, ok := got[tt.bucket]
			if !ok {
				t.Fatal("bucket missing")
			}
			if b.Custody != tt.custody || b.Encryption != tt.encryption {
				t.Errorf("custody %s encryption %s; want %s %s", b.Custody, b.Encryption, tt.custody, tt.encryption)
			}
			if tt.keyState != "" && (b.Key == nil || b.Key.State != tt.keyState) {
				t.Errorf("key %+v; want state %s", b.Key, tt.keyState)
			}
			if tt.keyState == "" && b.Key != nil {
				t.Errorf("key %+v; want none", b.Key)
			}
			if b.Public != tt.public || !cmp.Equal(b.PublicVia, tt.via) || b.PublicAccessBlock != tt.block {
				t.Errorf("public %s via %v block %s; want %s %v %s", b.Public, b.PublicVia, b.PublicAccessBlock, tt.public, tt.via, tt.block)
			}
			if b.Versioning != tt.versioning || b.Redundancy != tt.redundancy {
				t.Errorf("versioning %s redundancy %s; want %s %s", b.Versioning, b.Redundancy, tt.versioning, tt.redundancy)
			}
			if !cmp.Equal(b.Countries, []string{tt.country}) || b.Operator != tt.operator || b.Controller != "CN" {
				t.Errorf("countries %v operator %s controller %s", b.Countries, b.Operator, b.Controller)
			}
			if b.Reachability.Reachable != tt.reachable || b.Reachability.Failure != tt.failure {
				t.Errorf("reachability %+v; want reachable %v failure %q", b.Reachability, tt.reachable, tt.failure)
			}
			if diff := cmp.Diff(tt.unknowns, unknownFields(b)); diff != "" {
				t.Errorf("unknowns (-want +got):\n%s", diff)
			}
			for _, u := range b.Unknowns {
				if strings.Contains(u.Error, "AccessDenied") || strings.Contains(u.Error, "Forbidden") {
					if u.Permission == "" {
						t.Errorf("denied %s names no permission", u.API)
					}
				}
			}
		})
	}

	t.Run("imported material expiry", func(t *testing.T) {
		k := got["sg-byok"].Key
		if k == nil || k.MaterialExpires == nil {
			t.Fatalf("key %+v has no material expiry", k)
		}
		if d := time.Until(*k.MaterialExpires); d < 14*24*time.Hour || d > 16*24*time.Hour {
			t.Errorf("material expires in %v, want about 15 days", d)
		}
		if k.Origin != "EXTERNAL" || k.Region != "ap-southeast-1" {
			t.Errorf("key %+v", k)
		}
	})
	t.Run("pending deletion date", func(t *testing.T) {
		k := got["hz-del"].Key
		if k == nil || k.DeletionDate == nil || k.DeletionDate.Before(time.Now()) {
			t.Fatalf("key %+v has no future deletion date", k)
		}
	})
	t.Run("service key creator", func(t *testing.T) {
		if k := got["hz-svc"].Key; k == nil || k.Manager != "Oss" {
			t.Fatalf("key %+v", k)
		}
	})
	t.Run("denied key names the RAM action", func(t *testing.T) {
		for _, u := range got["de-keydenied"].Unknowns {
			if u.Permission != "kms:DescribeKey" {
				t.Errorf("unknown %+v", u)
			}
		}
	})
	t.Run("record has no secret", func(t *testing.T) {
		j, _ := json.Marshal(got)
		for _, s := range cfg.Static {
			if strings.Contains(string(j), s.AccessKeySecret) {
				t.Fatal("a secret reached the records")
			}
		}
	})
}

// HYG-001 at Alibaba: a bucket with neither versioning nor a locked WORM
// retention policy can lose data for good; a locked WORM policy stands in
// for versioning as an object lock does at AWS. A bucket whose retention
// could not be read is not judged on a guess.
func TestRetentionStandsInForVersioning(t *testing.T) {
	cfg, _ := start(t, `
alibaba:
  accounts:
    - id: "1111222233334444"
      buckets:
        - {name: bare, region: us-west-1, encryption: {algorithm: AES256}}
        - {name: suspended, region: us-west-1, encryption: {algorithm: AES256}, versioning: Suspended}
        - {name: worm, region: us-west-1, encryption: {algorithm: AES256}, object_lock: true}
        - {name: versioned, region: us-west-1, encryption: {algorithm: AES256}, versioning: Enabled}
        - {name: worm-denied, region: us-west-1, encryption: {algorithm: AES256}, bytes: 1000, deny: [GetBucketWorm]}
`, sandbox.Options{})
	p, calls := open(t, cfg)
	got := sandboxtest.ScanAll(t, p)
	for name, want := range map[string]providers.Tri{"bare": providers.No, "suspended": providers.No,
		"worm": providers.Yes, "versioned": providers.No, "worm-denied": providers.TriUnknown} {
		if got[name].ObjectLock != want {
			t.Errorf("%s: object lock %s, want %s", name, got[name].ObjectLock, want)
		}
	}
	if diff := cmp.Diff([]providers.Unknown{{Field: providers.FieldObjectLock, API: "oss:GetBucketWorm",
		Permission: "oss:GetBucketWorm"}}, got["worm-denied"].Unknowns, cmpopts.IgnoreFields(providers.Unknown{}, "Error")); diff != "" {
		t.Errorf("denied GetBucketWorm (-want +got):\n%s", diff)
	}
	var buckets []providers.Bucket
	for _, b := range got {
		buckets = append(buckets, b)
	}
	hyg := map[string]bool{}
	for _, f := range risk.Evaluate(buckets, risk.DefaultPolicy(), risk.Options{}) {
		if f.Rule == "HYG-001" {
			hyg[f.Bucket] = true
		}
	}
	if diff := cmp.Diff(map[string]bool{"bare": true, "suspended": true}, hyg); diff != "" {
		t.Errorf("HYG-001 per bucket (-want +got):\n%s", diff)
	}
	worm := 0
	for _, oc := range calls.Snapshot() {
		if oc.Op == "GetBucketWorm" {
			worm = oc.Calls
		}
	}
	if worm != len(got) {
		t.Errorf("GetBucketWorm called %d times for %d buckets", worm, len(got))
	}
}

func ptr[T any](v T) *T { return &v }
