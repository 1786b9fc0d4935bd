package alibaba

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/google/go-cmp/cmp"

	"github.com/reachaudit/reachaudit/providers"
)

// The files in testdata are written in the shapes of Alibaba's published
// API examples; they go through the same decoding as live answers.

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseBucketInfo(t *testing.T) {
	yes := true
	tests := []struct {
		file       string
		region     string
		countries  []string
		endpoints  map[string]string
		redundancy string
		versioning string
		encryption string
		custody    providers.Custody
		keyID      string
		acl        string
		block      *bool
	}{
		{file: "get_bucket_info_kms_sm4.xml", region: "cn-hangzhou", countries: []string{"CN"},
			endpoints:  map[string]string{"extranet": "oss-cn-hangzhou.aliyuncs.com", "intranet": "oss-cn-hangzhou-internal.aliyuncs.com"},
			redundancy: "ZRS", versioning: providers.VersioningEnabled, encryption: "KMS:SM4",
			custody: providers.CustodyProviderManaged, acl: "private", block: &yes},
		{file: "get_bucket_info_kms_key_public.xml", region: "ap-southeast-1", countries: []string{"SG"},
			endpoints:  map[string]string{"extranet": "oss-ap-southeast-1.aliyuncs.com", "intranet": "oss-ap-southeast-1-internal.aliyuncs.com"},
			redundancy: "LRS", versioning: providers.VersioningSuspended, encryption: "KMS",
			custody: providers.CustodyUnknown, keyID: "key-sgp65a7b8c9d0e1f2g3h4", acl: "public-read"},
		{file: "get_bucket_info_none.xml", region: "us-west-1", countries: []string{"US"},
			endpoints:  map[string]string{"extranet": "oss-us-west-1.aliyuncs.com", "intranet": "oss-us-west-1-internal.aliyuncs.com"},
			redundancy: "LRS", versioning: providers.VersioningOff, encryption: "none",
			custody: providers.CustodyNone, acl: "private"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			info, err := parseBucketInfo(readTestdata(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			b := providers.NewBucket("alibaba", "1", info.Name, "oss://"+info.Name)
			keyID := applyBucketInfo(&b, info)
			if b.Region != tt.region || !cmp.Equal(b.Countries, tt.countries) || b.Controller != "CN" || b.Operator != "CN" {
				t.Errorf("place %s %v %s/%s", b.Region, b.Countries, b.Controller, b.Operator)
			}
			if !cmp.Equal(b.Endpoints, tt.endpoints) {
				t.Errorf("endpoints %v", b.Endpoints)
			}
			if b.Redundancy != tt.redundancy || b.Versioning != tt.versioning || b.RedundancyScope != redundancyScope[tt.redundancy] || b.RedundancyScope == "" {
				t.Errorf("redundancy %s (%s) versioning %s", b.Redundancy, b.RedundancyScope, b.Versioning)
			}
			if b.Encryption != tt.encryption || b.Custody != tt.custody || keyID != tt.keyID {
				t.Errorf("encryption %s custody %s key %q", b.Encryption, b.Custody, keyID)
			}
			if info.ACL != tt.acl || aclPublic(info.ACL) != (tt.acl == "public-read") {
				t.Errorf("acl %s", info.ACL)
			}
			if !cmp.Equal(info.BlockPublicAccess, tt.block) {
				t.Errorf("block public access %v", info.BlockPublicAccess)
			}
			if len(b.Unknowns) != 0 {
				t.Errorf("unknowns %v", b.Unknowns)
			}
		})
	}
}

func TestParseBrokenAnswers(t *testing.T) {
	for name, body := range map[string]string{
		"truncated":      `<?xml version="1.0"?><BucketInfo><Bucket><Name>x`,
		"empty":          ``,
		"other document": `<?xml version="1.0"?><Error><Code>x</Code></Error>`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseBucketInfo([]byte(body)); err == nil {
				t.Error("parseBucketInfo accepted it")
			}
			if _, err := parsePolicyStatus([]byte(body)); err == nil {
				t.Error("parsePolicyStatus accepted it")
			}
			if _, err := parsePublicAccessBlock([]byte(body)); err == nil {
				t.Error("parsePublicAccessBlock accepted it")
			}
			if _, err := parseWorm([]byte(body)); err == nil {
				t.Error("parseWorm accepted it")
			}
		})
	}
}

// Only a locked WORM policy is an object lock: one InProgress can still be
// deleted, and a State the table does not know is not guessed at.
func TestParseWorm(t *testing.T) {
	for _, tt := range []struct {
		name string
		body []byte
		want providers.Tri
		err  bool
	}{
		{"locked", readTestdata(t, "get_bucket_worm_locked.xml"), providers.Yes, false},
		{"in progress", readTestdata(t, "get_bucket_worm_in_progress.xml"), providers.No, false},
		{"unknown state", []byte(`<WormConfiguration><State>Expired</State></WormConfiguration>`), providers.TriUnknown, true},
		{"no state", []byte(`<WormConfiguration><WormId>1</WormId></WormConfiguration>`), providers.TriUnknown, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseWorm(tt.body)
			if got != tt.want || (err != nil) != tt.err {
				t.Errorf("parseWorm: %s, %v; want %s, error %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestParseReplication(t *testing.T) {
	res, err := parseReplication(readTestdata(t, "get_bucket_replication.xml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []providers.Copy{{Provider: "alibaba", Bucket: "destbucket", Region: "cn-beijing", Source: providers.CopyReplication}}
	if diff := cmp.Diff(want, copiesOf(res)); diff != "" {
		t.Errorf("copies (-want +got; the closing rule copies nothing):\n%s", diff)
	}
}

func TestParseTagsPolicyStatusAndBlock(t *testing.T) {
	tags, err := parseTagging(readTestdata(t, "get_bucket_tags.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"testa": "testv1", "testb": "testv2"}, tagsOf(tags)); diff != "" {
		t.Errorf("tags:\n%s", diff)
	}
	empty, err := parseTagging(readTestdata(t, "get_bucket_tags_empty.xml"))
	if err != nil || len(tagsOf(empty)) != 0 {
		t.Errorf("empty tag set: %v %v", tagsOf(empty), err)
	}
	public, err := parsePolicyStatus(readTestdata(t, "get_bucket_policy_status.xml"))
	if err != nil || !public {
		t.Errorf("policy status: %v %v", public, err)
	}
	block, err := parsePublicAccessBlock(readTestdata(t, "get_bucket_public_access_block.xml"))
	if err != nil || !block {
		t.Errorf("public access block: %v %v", block, err)
	}
	// Some published examples name the root BucketPublicAccessBlockConfiguration.
	block, err = parsePublicAccessBlock([]byte(`<BucketPublicAccessBlockConfiguration><BlockPublicAccess>false</BlockPublicAccess></BucketPublicAccessBlockConfiguration>`))
	if err != nil || block {
		t.Errorf("bucket-named root: %v %v", block, err)
	}
}

func TestParseListBuckets(t *testing.T) {
	res, err := parseListBuckets(readTestdata(t, "list_buckets.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsTruncated || res.NextMarker != "mybucket10" || len(res.Buckets) != 2 {
		t.Fatalf("%+v", res)
	}
	if res.Buckets[0].Region != "cn-shanghai" || RegionID(res.Buckets[1].Location) != "cn-hangzhou" {
		t.Errorf("regions %q %q", res.Buckets[0].Region, res.Buckets[1].Location)
	}
}

func TestKeyRecords(t *testing.T) {
	tests := []struct {
		file    string
		custody providers.Custody
		want    providers.Key
	}{
		{"describe_key_external.json", providers.CustodyImportedKey, providers.Key{
			ID: "key-hzz62f1cb66fa42qo****", Account: "1540355698848459", Region: "cn-hangzhou",
			State: providers.KeyEnabled, ProviderState: "Enabled", MaterialExpires: at("2027-01-02T13:20:50Z"),
			Manager: "1540355698848459", Origin: "EXTERNAL", ProtectionLevel: "SOFTWARE"}},
		{"describe_key_dedicated.json", providers.CustodyDedicatedHSM, providers.Key{
			ID: "key-shh6645e3b1f2e9k8v****", Account: "1540355698848459", Region: "cn-shanghai",
			State: providers.KeyPendingDeletion, ProviderState: "PendingDeletion", DeletionDate: at("2026-12-24T00:00:00Z"),
			Manager: "1540355698848459", Origin: "Aliyun_KMS", ProtectionLevel: "SOFTWARE", Instance: "kst-shh6645e3b1d1d7s6z****"}},
		{"describe_key_service.json", providers.CustodyProviderManaged, providers.Key{
			ID: "4f6a1c2e-0f9b-4c1a-9a77-5e9c0b1d****", Account: "1540355698848459", Region: "eu-central-1",
			State: providers.KeyEnabled, ProviderState: "Enabled", Manager: "Oss", Origin: "Aliyun_KMS", ProtectionLevel: "SOFTWARE"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var body kms.DescribeKeyResponseBody
			if err := json.Unmarshal(readTestdata(t, tt.file), &body); err != nil {
				t.Fatal(err)
			}
			custody, key := keyRecord(metaOf(body.KeyMetadata), "ignored-when-the-arn-says")
			if custody != tt.custody {
				t.Errorf("custody %s, want %s", custody, tt.custody)
			}
			if diff := cmp.Diff(&tt.want, key); diff != "" {
				t.Errorf("key (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCustodyTable(t *testing.T) {
	tests := []struct {
		name string
		meta keyMeta
		want providers.Custody
	}{
		{"customer key in shared KMS", keyMeta{Creator: "1234567890123456", Origin: "Aliyun_KMS", ProtectionLevel: "SOFTWARE"}, providers.CustodyProviderKMS},
		{"service key", keyMeta{Creator: "Oss", Origin: "Aliyun_KMS"}, providers.CustodyProviderManaged},
		{"imported material", keyMeta{Creator: "1234567890123456", Origin: "EXTERNAL"}, providers.CustodyImportedKey},
		{"managed HSM", keyMeta{Creator: "1234567890123456", Origin: "Aliyun_KMS", ProtectionLevel: "HSM"}, providers.CustodyDedicatedHSM},
		{"dedicated KMS instance", keyMeta{Creator: "1234567890123456", DKMSInstanceID: "kst-1"}, providers.CustodyDedicatedHSM},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _ := keyRecord(tt.meta, "cn-hangzhou"); got != tt.want {
				t.Errorf("custody %s, want %s", got, tt.want)
			}
		})
	}
	for state, want := range map[string]providers.KeyState{"Enabled": providers.KeyEnabled, "Disabled": providers.KeyDisabled,
		"PendingDeletion": providers.KeyPendingDeletion, "PendingImport": providers.KeyPendingImport, "Frozen": providers.KeyUnavailable} {
		if _, k := keyRecord(keyMeta{KeyState: state}, "cn-hangzhou"); k.State != want {
			t.Errorf("state %s → %s, want %s", state, k.State, want)
		}
	}
}

func at(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}
