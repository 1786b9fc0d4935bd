package aws_test

// The plugin against the sandbox's AWS emulator, through the registries as
// the agent uses them: an estate is parsed and served, the emulator hands
// out the plugin configuration (organisation credentials, a role per
// account, its endpoint), and every record field is checked.

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/aws"
	"github.com/reachaudit/reachaudit/providers/sandbox"
	_ "github.com/reachaudit/reachaudit/providers/sandbox/awsemu"
	"github.com/reachaudit/reachaudit/providers/sandbox/sandboxtest"
)

const estate = `
aws:
  accounts:
    - id: "111122223333"
      keys:
        - {id: 1111aaaa-0000-4000-8000-000000000001, region: us-east-1, manager: CUSTOMER, origin: AWS_KMS, state: Enabled}
        - {id: 1111aaaa-0000-4000-8000-000000000002, region: us-east-1, origin: EXTERNAL, valid_to: "+20d"}
        - {id: 1111aaaa-0000-4000-8000-000000000003, region: us-east-1, origin: AWS_CLOUDHSM, state: Unavailable}
        - {id: 1111aaaa-0000-4000-8000-000000000004, region: eu-west-1, origin: EXTERNAL_KEY_STORE}
        - {id: 1111aaaa-0000-4000-8000-000000000005, region: us-east-1, state: PendingDeletion, deletion_date: "+7d"}
        - {id: 1111aaaa-0000-4000-8000-000000000006, region: us-east-1, state: Disabled}
        - {id: 1111aaaa-0000-4000-8000-000000000007, region: us-east-1, origin: EXTERNAL, state: PendingImport}
        - {id: 1111aaaa-0000-4000-8000-000000000008, region: us-east-1}
      buckets:
        - name: payroll
          region: us-east-1
          encryption: {algorithm: "aws:kms", key: 1111aaaa-0000-4000-8000-000000000001}
          versioning: Enabled
          object_lock: true
          public_access_block: true
          replication: [{bucket: payroll-dr, region: us-west-2}]
          tags: {data-class: restricted, team: finance}
        - {name: payroll-dr, region: us-west-2, versioning: Enabled}
        - {name: open-data, region: eu-west-1, encryption: {algorithm: none}, public: true}
        - {name: hk-default, region: ap-east-1}
        - {name: managed, region: us-east-1, encryption: {algorithm: "aws:kms"}, versioning: Suspended}
        - {name: managed-dsse, region: us-east-1, encryption: {algorithm: "aws:kms:dsse", key: alias/aws/s3}}
        - {name: imported, region: us-east-1, encryption: {algorithm: "aws:kms", key: 1111aaaa-0000-4000-8000-000000000002}}
        - {name: hsm, region: us-east-1, encryption: {algorithm: "aws:kms", key: 1111aaaa-0000-4000-8000-000000000003}}
        - {name: xks, region: eu-west-1, encryption: {algorithm: "aws:kms", key: "arn:aws:kms:eu-west-1:111122223333:key/1111aaaa-0000-4000-8000-000000000004"}}
        - {name: deleting, region: us-east-1, encryption: {algorithm: "aws:kms", key: 1111aaaa-0000-4000-8000-000000000005}}
        - {name: disabled, region: us-east-1, encryption: {algorithm: "aws:kms", key: 1111aaaa-0000-4000-8000-000000000006}}
        - {name: pending-import, region: us-east-1, encryption: {algorithm: "aws:kms", key: 1111aaaa-0000-4000-8000-000000000007}}
        - name: partner-keyed
          region: us-east-1
          encryption: {algorithm: "aws:kms", key: "arn:aws:kms:us-east-1:999988887777:key/9999bbbb-0000-4000-8000-000000000001"}
        - name: locked-out
          region: us-east-1
          encryption: {algorithm: "aws:kms", key: 1111aaaa-0000-4000-8000-000000000008}
          versioning: Enabled
          replication: [{bucket: vault-copy, account: "222233334444", region: eu-central-1}]
          reachable: false
          deny: [GetBucketReplication, DescribeKey, GetBucketTagging, GetBucketAcl]
    - id: "222233334444"
      buckets:
        - {name: tokyo-archive, region: ap-northeast-1, versioning: Enabled, tags: {owner: archive}}
    - id: "999988887777"
      keys:
        - {id: 9999bbbb-0000-4000-8000-000000000001, region: us-east-1}
`

const customKeyStore = "cks-"

// startSandbox serves the estate and opens the plugin on it as the agent
// does, through both registries.
func startSandbox(t *testing.T, opts sandbox.Options) (providers.Provider, *providers.Calls, time.Time) {
	t.Helper()
	e, err := sandbox.ParseEstate("estate.yaml", []byte(estate))
	if err != nil {
		t.Fatal(err)
	}
	opts.Now = time.Now().UTC().Truncate(time.Second)
	sb, err := sandbox.Start(context.Background(), e, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	plugin, ok := providers.Lookup("aws")
	if !ok {
		t.Fatal("aws plugin not registered")
	}
	calls := providers.NewCalls("aws", 0, 0, nil)
	p, err := plugin.Open(context.Background(), sb.Configs()["aws"], providers.Env{Calls: calls})
	if err != nil {
		t.Fatal(err)
	}
	return p, calls, opts.Now
}

func TestSandboxEstateRecords(t *testing.T) {
	p, calls, now := startSandbox(t, sandbox.Options{})
	got := sandboxtest.ScanAll(t, p)

	awsInc := func(b providers.Bucket) providers.Bucket {
		b.Provider, b.Controller, b.ControllerEntity = "aws", "US", "Amazon.com, Inc."
		b.Operator, b.OperatorEntity, b.LocationType = "US", "Amazon Web Services, Inc.", "region"
		b.URI = "s3://" + b.Name
		if b.Account == "" {
			b.Account = "111122223333"
		}
		if b.Tags == nil {
			b.Tags = map[string]string{}
		}
		if b.Copies == nil {
			b.Copies = []providers.Copy{}
		}
		if b.Unknowns == nil {
			b.Unknowns = []providers.Unknown{}
		}
		if b.Versioning == "" {
			b.Versioning = "off"
		}
		if b.ObjectLock == "" {
			b.ObjectLock = providers.No
		}
		if b.Public == "" {
			b.Public = providers.No
		}
		if b.PublicAccessBlock == "" {
			b.PublicAccessBlock = providers.No
		}
		if b.Reachability.Probe == "" {
			b.Reachability = providers.Reachability{Reachable: true, Probe: "HeadBucket+ListObjectsV2"}
		}
		return b
	}
	us := func(name string) providers.Bucket {
		return providers.Bucket{Name: name, Region: "us-east-1", Countries: []string{"US"}}
	}
	key := func(n, region string) *providers.Key {
		return &providers.Key{ID: "arn:aws:kms:" + region + ":111122223333:key/1111aaaa-0000-4000-8000-00000000000" + n,
			Account: "111122223333", Region: region, State: providers.KeyEnabled, ProviderState: "Enabled", Manager: "CUSTOMER", Origin: "AWS_KMS"}
	}
	with := func(k *providers.Key, f func(*providers.Key)) *providers.Key { f(k); return k }
	inDays := func(d int) *time.Time { t := now.Add(time.Duration(d) * 24 * time.Hour); return &t }

	want := map[string]providers.Bucket{}
	add := func(b providers.Bucket) { want[b.Name] = awsInc(b) }

	b := us("payroll")
	b.Tags = map[string]string{"data-class": "restricted", "team": "finance"}
	b.Custody, b.Encryption, b.Key = providers.CustodyProviderKMS, "aws:kms", key("1", "us-east-1")
	b.Copies = []providers.Copy{{Provider: "aws", Account: "111122223333", Bucket: "payroll-dr", Region: "us-west-2", Source: "replication"}}
	b.Versioning, b.ObjectLock, b.PublicAccessBlock = "enabled", providers.Yes, providers.Yes
	add(b)

	add(providers.Bucket{Name: "payroll-dr", Region: "us-west-2", Countries: []string{"US"}, Custody: providers.CustodyProviderManaged, Encryption: "AES256", Versioning: "enabled"})
	add(providers.Bucket{Name: "open-data", Region: "eu-west-1", Countries: []string{"IE"}, Custody: providers.CustodyNone, Encryption: "none",
		Public: providers.Yes, PublicVia: []string{"bucket-policy", "acl:AllUsers"}})
	add(providers.Bucket{Name: "hk-default", Region: "ap-east-1", Countries: []string{"HK"}, Custody: providers.CustodyProviderManaged, Encryption: "AES256"})

	b = us("managed")
	b.Custody, b.Encryption, b.Versioning = providers.CustodyProviderManaged, "aws:kms", "suspended"
	b.Key = &providers.Key{ID: "alias/aws/s3", Account: "111122223333", Region: "us-east-1", State: providers.KeyEnabled, Manager: "AWS"}
	add(b)
	b = us("managed-dsse")
	b.Custody, b.Encryption = providers.CustodyProviderManaged, "aws:kms:dsse"
	b.Key = &providers.Key{ID: "alias/aws/s3", Account: "111122223333", Region: "us-east-1", State: providers.KeyEnabled, Manager: "AWS"}
	add(b)

	b = us("imported")
	b.Custody, b.Encryption = providers.CustodyImportedKey, "aws:kms"
	b.Key = with(key("2", "us-east-1"), func(k *providers.Key) { k.Origin, k.MaterialExpires = "EXTERNAL", inDays(20) })
	add(b)
	b = us("hsm")
	b.Custody, b.Encryption = providers.CustodyDedicatedHSM, "aws:kms"
	b.Key = with(key("3", "us-east-1"), func(k *providers.Key) {
		k.Origin, k.State, k.ProviderState = "AWS_CLOUDHSM", providers.KeyUnavailable, "Unavailable"
		k.Instance = customKeyStore
	})
	add(b)
	b = providers.Bucket{Name: "xks", Region: "eu-west-1", Countries: []string{"IE"}, Custody: providers.CustodyExternalKeyManager, Encryption: "aws:kms"}
	b.Key = with(key("4", "eu-west-1"), func(k *providers.Key) { k.Origin, k.Instance = "EXTERNAL_KEY_STORE", customKeyStore })
	add(b)
	b = us("deleting")
	b.Custody, b.Encryption = providers.CustodyProviderKMS, "aws:kms"
	b.Key = with(key("5", "us-east-1"), func(k *providers.Key) {
		k.State, k.ProviderState, k.DeletionDate = providers.KeyPendingDeletion, "PendingDeletion", inDays(7)
	})
	add(b)
	b = us("disabled")
	b.Custody, b.Encryption = providers.CustodyProviderKMS, "aws:kms"
	b.Key = with(key("6", "us-east-1"), func(k *providers.Key) { k.State, k.ProviderState = providers.KeyDisabled, "Disabled" })
	add(b)
	b = us("pending-import")
	b.Custody, b.Encryption = providers.CustodyImportedKey, "aws:kms"
	b.Key = with(key("7", "us-east-1"), func(k *providers.Key) {
		k.Origin, k.State, k.ProviderState = "EXTERNAL", providers.KeyPendingImport, "PendingImport"
	})
	add(b)

	b = us("partner-keyed")
	b.Custody, b.Encryption = providers.CustodyProviderKMS, "aws:kms"
	b.Key = &providers.Key{ID: "arn:aws:kms:us-east-1:999988887777:key/9999bbbb-0000-4000-8000-000000000001",
		Account: "999988887777", Region: "us-east-1", State: providers.KeyEnabled, ProviderState: "Enabled", Manager: "CUSTOMER", Origin: "AWS_KMS"}
	add(b)

	b = us("locked-out")
	b.Encryption, b.Versioning, b.Public = "aws:kms", "enabled", providers.TriUnknown
	b.Custody = providers.CustodyUnknown
	b.Key = &providers.Key{ID: "1111aaaa-0000-4000-8000-000000000008", Account: "111122223333", Region: "us-east-1", State: providers.KeyStateUnknown}
	b.Reachability = providers.Reachability{Failure: providers.FailHTTP403, Probe: "HeadBucket+ListObjectsV2"}
	b.Unknowns = []providers.Unknown{
		{Field: "key", API: "kms:DescribeKey", Permission: "kms:DescribeKey"},
		{Field: "custody", API: "kms:DescribeKey", Permission: "kms:DescribeKey"},
		{Field: "copies", API: "s3:GetBucketReplication", Permission: "s3:GetReplicationConfiguration"},
		{Field: "public", API: "s3:GetBucketAcl", Permission: "s3:GetBucketAcl"},
		{Field: "tags", API: "s3:GetBucketTagging", Permission: "s3:GetBucketTagging"},
	}
	add(b)

	add(providers.Bucket{Name: "tokyo-archive", Account: "222233334444", Region: "ap-northeast-1", Countries: []string{"JP"},
		Custody: providers.CustodyProviderManaged, Encryption: "AES256", Versioning: "enabled", Tags: map[string]string{"owner": "archive"}})

	// The emulator creates vault-copy (a replica destination that is not
	// itself an estate bucket) in account 222233334444, versioned as a
	// replication destination must be.
	add(providers.Bucket{Name: "vault-copy", Account: "222233334444", Region: "eu-central-1", Countries: []string{"DE"},
		Custody: providers.CustodyProviderManaged, Encryption: "AES256", Versioning: "enabled"})

	opts := cmp.Options{
		// The emulator names custom key stores itself; any cks- id will do.
		cmp.FilterValues(func(a, b string) bool { return a == customKeyStore || b == customKeyStore },
			cmp.Comparer(func(a, b string) bool { return strings.HasPrefix(a, "cks-") && strings.HasPrefix(b, "cks-") })),
		cmpopts.IgnoreFields(providers.Reachability{}, "LatencyMS", "Error"),
		cmpopts.IgnoreFields(providers.Unknown{}, "Error"),
		cmpopts.EquateApproxTime(2 * time.Second),
	}
	for name, w := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s: not scanned", name)
			continue
		}
		if diff := cmp.Diff(w, g, opts); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: scanned but not expected", name)
		}
	}
	lo := got["locked-out"]
	for _, u := range lo.Unknowns {
		if u.Error == "" || !strings.Contains(u.Error, "AccessDenied") {
			t.Errorf("locked-out unknown %+v: the error should say AccessDenied", u)
		}
	}
	if lo.Reachability.Error == "" {
		t.Errorf("locked-out probe failure without an error text")
	}
	logCalls(t, calls, len(got))
}

func logCalls(t *testing.T, calls *providers.Calls, buckets int) {
	t.Helper()
	var parts []string
	for _, oc := range calls.Snapshot() {
		parts = append(parts, fmt.Sprintf("%s=%d", oc.Op, oc.Calls))
	}
	t.Logf("%d buckets, %d calls: %s", buckets, calls.Total(), strings.Join(parts, " "))
}

func TestSandboxFaultsBecomeUnknownsOrAreRetried(t *testing.T) {
	faults := sandbox.NewFaults(
		sandbox.Fault{Op: "GetBucketVersioning", Bucket: "payroll", Kind: sandbox.FaultThrottle, Times: 2},
		sandbox.Fault{Op: "DescribeKey", Kind: sandbox.FaultThrottle, Times: 3},
		sandbox.Fault{Op: "GetBucketTagging", Bucket: "hk-default", Kind: sandbox.FaultServer},
		sandbox.Fault{Op: "GetBucketEncryption", Bucket: "payroll-dr", Kind: sandbox.FaultMalformed},
		sandbox.Fault{Op: "GetObjectLockConfiguration", Bucket: "managed", Kind: sandbox.FaultTimeout},
		sandbox.Fault{Op: "HeadBucket", Bucket: "disabled", Kind: sandbox.FaultThrottle},
		sandbox.Fault{Op: "ListObjectsV2", Bucket: "imported", Kind: sandbox.FaultServer},
	)
	p, calls, _ := startSandbox(t, sandbox.Options{Faults: faults})
	p.(interface{ SetCallTimeout(time.Duration) }).SetCallTimeout(500 * time.Millisecond)
	got := sandboxtest.ScanAll(t, p)
	if len(got) != 16 {
		t.Errorf("%d buckets, want all 16 despite the faults", len(got))
	}
	cases := []struct {
		bucket, field, api, errHas string
		check                      func(b providers.Bucket) bool
	}{
		{bucket: "payroll", check: func(b providers.Bucket) bool {
			// SlowDown twice, then answered; DescribeKey throttled three times, then answered.
			return b.Versioning == "enabled" && b.Custody == providers.CustodyProviderKMS && b.Key.State == providers.KeyEnabled
		}},
		{bucket: "hk-default", field: "tags", api: "s3:GetBucketTagging", errHas: "HTTP 500 InternalError"},
		{bucket: "payroll-dr", field: "custody", api: "s3:GetBucketEncryption", errHas: "deserialization failed"},
		{bucket: "managed", field: "object_lock", api: "s3:GetObjectLockConfiguration", errHas: "deadline exceeded"},
		// A throttled or failing probe is no evidence of a block: the
		// reachability is unknown (UNK-001), not BLK-005.
		{bucket: "disabled", field: "reachability", api: "HeadBucket+ListObjectsV2", errHas: "HTTP 503", check: func(b providers.Bucket) bool {
			return !b.Reachability.Reachable && b.Reachability.Failure == providers.FailThrottled
		}},
		{bucket: "imported", field: "reachability", api: "HeadBucket+ListObjectsV2", errHas: "HTTP 500", check: func(b providers.Bucket) bool {
			return !b.Reachability.Reachable && b.Reachability.Failure == providers.FailHTTP5xx
		}},
	}
	for _, tc := range cases {
		b := got[tc.bucket]
		if tc.check != nil && !tc.check(b) {
			t.Errorf("%s: %+v", tc.bucket, b)
		}
		if tc.field == "" {
			if len(b.Unknowns) != 0 {
				t.Errorf("%s: unknowns %+v", tc.bucket, b.Unknowns)
			}
			continue
		}
		if len(b.Unknowns) != 1 || b.Unknowns[0].Field != tc.field || b.Unknowns[0].API != tc.api ||
			!strings.Contains(b.Unknowns[0].Error, tc.errHas) || b.Unknowns[0].Permission != "" {
			t.Errorf("%s: unknowns %+v, want one for %s from %s saying %q, with no permission to grant", tc.bucket, b.Unknowns, tc.field, tc.api, tc.errHas)
		}
		// The other fields were still read.
		if b.Versioning == providers.VersioningUnknown || b.Public == providers.TriUnknown {
			t.Errorf("%s: a fault in one call cost other fields: %+v", tc.bucket, b)
		}
	}
	logCalls(t, calls, len(got))
}

func TestSandboxConcurrentScanMatchesSequential(t *testing.T) {
	p, _, _ := startSandbox(t, sandbox.Options{Latency: 2 * time.Millisecond})
	want := sandboxtest.ScanAll(t, p)
	ctx := context.Background()
	accounts, err := p.Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var refs []providers.BucketRef
	for _, a := range accounts {
		r, err := p.List(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, r...)
	}
	got := make([]providers.Bucket, len(refs))
	var wg sync.WaitGroup
	for i, ref := range refs {
		wg.Go(func() { got[i] = p.Describe(ctx, ref) })
	}
	wg.Wait()
	for _, b := range got {
		if diff := cmp.Diff(want[b.Name], b, cmpopts.IgnoreFields(providers.Reachability{}, "LatencyMS")); diff != "" {
			t.Errorf("%s differs when described concurrently (-sequential +concurrent):\n%s", b.Name, diff)
		}
	}
}

func TestSandboxRefusesAWrongSecret(t *testing.T) {
	e, err := sandbox.ParseEstate("estate.yaml", []byte(estate))
	if err != nil {
		t.Fatal(err)
	}
	sb, err := sandbox.Start(context.Background(), e, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	cfg := sb.Configs()["aws"].(*aws.Config)
	const wrong = "not-the-secret-at-all"
	cfg.Credentials.SecretAccessKey = wrong
	p, err := aws.Open(context.Background(), cfg, providers.Env{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.List(context.Background(), cfg.Accounts[0])
	if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") || strings.Contains(err.Error(), wrong) {
		t.Errorf("list with a wrong secret: %v; want SignatureDoesNotMatch, without the secret", err)
	}
}

func TestSandboxCallsPerBucket(t *testing.T) {
	p, calls, _ := startSandbox(t, sandbox.Options{})
	got := sandboxtest.ScanAll(t, p)
	perOp := map[string]int{}
	for _, oc := range calls.Snapshot() {
		perOp[oc.Op] = oc.Calls
	}
	describeKeys := perOp["DescribeKey"]
	setup := perOp["ListBuckets"] + perOp["AssumeRole"] + perOp["GetCallerIdentity"]
	perBucket := float64(calls.Total()-describeKeys-setup) / float64(len(got))
	// Nine keys are described: eight of the organisation's and the
	// partner's; the AWS-managed aws/s3 key needs no call.
	if describeKeys != 9 {
		t.Errorf("DescribeKey %d times, want 9 (one per distinct key)", describeKeys)
	}
	if perBucket > 10 {
		t.Errorf("%.2f calls per bucket besides DescribeKey, want at most 10", perBucket)
	}
	if perOp["GetBucketLocation"] != 0 {
		t.Errorf("GetBucketLocation called %d times although ListBuckets gives each region", perOp["GetBucketLocation"])
	}
	t.Logf("%.2f calls per bucket (plus %d DescribeKey, %d list/role calls)", perBucket, describeKeys, setup)
}
