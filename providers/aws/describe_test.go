package aws

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reachaudit/reachaudit/providers"
)

func TestDescribeHealthyBucketReadsEveryField(t *testing.T) {
	w := newWire(t)
	w.on("GetBucketTagging", ok(`<Tagging`+s3ns+`><TagSet><Tag><Key>data-class</Key><Value>restricted</Value></Tag></TagSet></Tagging>`))
	p, calls := w.open(t, nil)
	got := describe(t, p, "payroll", "ap-east-1")
	want := providers.Bucket{
		Provider: "aws", Account: testAccount, Name: "payroll", URI: "s3://payroll",
		Tags:   map[string]string{"data-class": "restricted"},
		Region: "ap-east-1", LocationType: "region", Countries: []string{"HK"},
		Controller: "US", ControllerEntity: "Amazon.com, Inc.", Operator: "US", OperatorEntity: "Amazon Web Services, Inc.",
		Custody: providers.CustodyProviderManaged, Encryption: "AES256",
		Copies: []providers.Copy{}, Versioning: "enabled", ObjectLock: providers.No,
		Public: providers.No, PublicAccessBlock: providers.No,
		Reachability: providers.Reachability{Reachable: true, Probe: "HeadBucket+ListObjectsV2"},
		Unknowns:     []providers.Unknown{},
	}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(providers.Reachability{}, "LatencyMS")); diff != "" {
		t.Errorf("record (-want +got):\n%s", diff)
	}
	if got.Reachability.LatencyMS <= 0 {
		t.Errorf("latency %v, want > 0", got.Reachability.LatencyMS)
	}
	// Region known from the listing, no public access block: every read
	// but GetBucketLocation, plus the two probe calls.
	if n := calls.Total(); n != 10 {
		t.Errorf("%d calls for one bucket, want 10: %v", n, calls.Snapshot())
	}
}

func TestDescribeDeniedCallNamesTheIAMAction(t *testing.T) {
	cases := []struct {
		op, field, permission string
	}{
		{"GetBucketEncryption", providers.FieldCustody, "s3:GetEncryptionConfiguration"},
		{"GetBucketReplication", providers.FieldCopies, "s3:GetReplicationConfiguration"},
		{"GetBucketVersioning", providers.FieldVersioning, "s3:GetBucketVersioning"},
		{"GetObjectLockConfiguration", providers.FieldObjectLock, "s3:GetBucketObjectLockConfiguration"},
		{"GetPublicAccessBlock", providers.FieldPublicAccessBlock, "s3:GetBucketPublicAccessBlock"},
		{"GetBucketPolicyStatus", providers.FieldPublic, "s3:GetBucketPolicyStatus"},
		{"GetBucketAcl", providers.FieldPublic, "s3:GetBucketAcl"},
		{"GetBucketTagging", providers.FieldTags, "s3:GetBucketTagging"},
		{"GetBucketLocation", providers.FieldRegion, "s3:GetBucketLocation"},
	}
	for _, tc := range cases {
		t.Run(tc.op, func(t *testing.T) {
			w := newWire(t)
			w.on(tc.op, s3Error(403, "AccessDenied", "Access Denied"))
			p, _ := w.open(t, nil)
			region := "us-west-2"
			if tc.op == "GetBucketLocation" {
				region = "" // only then is the location asked for
			}
			b := describe(t, p, "denied", region)
			want := []providers.Unknown{{Field: tc.field, API: "s3:" + tc.op, Error: "HTTP 403 AccessDenied: Access Denied", Permission: tc.permission}}
			if diff := cmp.Diff(want, b.Unknowns); diff != "" {
				t.Errorf("unknowns (-want +got):\n%s", diff)
			}
			if b.Name != "denied" || !b.Reachability.Reachable {
				t.Errorf("the rest of the bucket was not read: %+v", b)
			}
		})
	}
}

func TestDescribeFailuresBecomeUnknownsNeverAGap(t *testing.T) {
	cases := []struct {
		name     string
		op       string
		answers  []answer
		timeout  time.Duration
		field    string
		errHas   string
		requests int // as the server saw them, retries included
		check    func(t *testing.T, b providers.Bucket)
	}{
		{
			name: "503 SlowDown twice is retried and then read", op: "GetBucketVersioning",
			answers: []answer{s3Error(503, "SlowDown", "Please reduce your request rate."), s3Error(503, "SlowDown", "Please reduce your request rate."),
				ok(`<VersioningConfiguration` + s3ns + `><Status>Suspended</Status></VersioningConfiguration>`)},
			requests: 3,
			check: func(t *testing.T, b providers.Bucket) {
				if b.Versioning != providers.VersioningSuspended {
					t.Errorf("versioning %q, want suspended", b.Versioning)
				}
			},
		},
		{
			name: "500 on every attempt gives up after five", op: "GetBucketReplication",
			answers: []answer{s3Error(500, "InternalError", "We encountered an internal error. Please try again.")},
			field:   providers.FieldCopies, errHas: "HTTP 500 InternalError", requests: 5,
		},
		{
			name: "malformed XML", op: "GetBucketVersioning",
			answers: []answer{ok(`<VersioningConfiguration` + s3ns + `><Status>Enab`)},
			field:   providers.FieldVersioning, errHas: "deserialization failed", requests: 1,
		},
		{
			name: "no answer until the call times out", op: "GetBucketTagging",
			answers: []answer{{hang: true}}, timeout: 300 * time.Millisecond,
			field: providers.FieldTags, errHas: "deadline exceeded",
		},
		{
			name: "object lock enabled", op: "GetObjectLockConfiguration",
			answers:  []answer{ok(`<ObjectLockConfiguration` + s3ns + `><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>`)},
			requests: 1,
			check: func(t *testing.T, b providers.Bucket) {
				if b.ObjectLock != providers.Yes {
					t.Errorf("object lock %q, want yes", b.ObjectLock)
				}
			},
		},
		{
			name: "no default encryption is custody none", op: "GetBucketEncryption",
			answers:  []answer{s3Error(404, "ServerSideEncryptionConfigurationNotFoundError", "The server side encryption configuration was not found")},
			requests: 1,
			check: func(t *testing.T, b providers.Bucket) {
				if b.Custody != providers.CustodyNone || b.Encryption != "none" {
					t.Errorf("custody %q encryption %q, want none none", b.Custody, b.Encryption)
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWire(t)
			w.on(tc.op, tc.answers...)
			p, calls := w.open(t, nil)
			if tc.timeout > 0 {
				p.timeout = tc.timeout
			}
			b := describe(t, p, "flaky", "eu-west-1")
			if tc.field == "" {
				if len(b.Unknowns) != 0 {
					t.Errorf("unknowns %+v, want none", b.Unknowns)
				}
			} else {
				u, found := unknownOf(b, tc.field)
				if !found || u.API != "s3:"+tc.op || !strings.Contains(u.Error, tc.errHas) || u.Permission != "" {
					t.Errorf("unknown for %s = %+v (found %v), want api s3:%s, error containing %q, no permission", tc.field, u, found, tc.op, tc.errHas)
				}
			}
			if tc.requests > 0 {
				if n := w.count(tc.op, "flaky"); n != tc.requests {
					t.Errorf("server saw %d %s requests, want %d", n, tc.op, tc.requests)
				}
			}
			// Retries are the SDK's: the audit counts one call.
			for _, oc := range calls.Snapshot() {
				if oc.Op == tc.op && oc.Calls != 1 {
					t.Errorf("%s counted %d times, want 1", tc.op, oc.Calls)
				}
			}
			if b.Name != "flaky" || !b.Reachability.Reachable || b.Region != "eu-west-1" {
				t.Errorf("bucket not fully recorded: %+v", b)
			}
			if tc.check != nil {
				tc.check(t, b)
			}
		})
	}
}

func kmsKeyJSON(id, manager, origin, state string, extra string) string {
	return fmt.Sprintf(`{"AWSAccountId":"444455556666","KeyId":"%[1]s","Arn":"arn:aws:kms:eu-central-1:444455556666:key/%[1]s",`+
		`"CreationDate":1.7e9,"Enabled":%[5]v,"KeyManager":"%[2]s","Origin":"%[3]s","KeyState":"%[4]s","KeyUsage":"ENCRYPT_DECRYPT",`+
		`"KeySpec":"SYMMETRIC_DEFAULT","Description":""%[6]s}`, id, manager, origin, state, state == "Enabled", extra)
}

func sseKMS(alg, key string) answer {
	k := ""
	if key != "" {
		k = "<KMSMasterKeyID>" + key + "</KMSMasterKeyID>"
	}
	return ok(`<ServerSideEncryptionConfiguration` + s3ns + `><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>` + alg +
		`</SSEAlgorithm>` + k + `</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`)
}

func TestKeyCustodyAndState(t *testing.T) {
	deletion := time.Date(2027, 1, 15, 0, 0, 0, 0, time.UTC)
	validTo := time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name      string
		alg, key  string
		meta      string // DescribeKey metadata for key "k1"; empty: no DescribeKey expected
		kmsAnswer *answer
		custody   providers.Custody
		wantKey   *providers.Key
		unknown   *providers.Unknown
	}{
		{
			name: "aws:kms without a key id is the AWS-managed aws/s3 key", alg: "aws:kms",
			custody: providers.CustodyProviderManaged,
			wantKey: &providers.Key{ID: "alias/aws/s3", Account: testAccount, Region: "eu-central-1", State: providers.KeyEnabled, Manager: "AWS"},
		},
		{
			name: "alias/aws/s3 named explicitly", alg: "aws:kms:dsse", key: "alias/aws/s3",
			custody: providers.CustodyProviderManaged,
			wantKey: &providers.Key{ID: "alias/aws/s3", Account: testAccount, Region: "eu-central-1", State: providers.KeyEnabled, Manager: "AWS"},
		},
		{
			name: "key managed by AWS by ARN", alg: "aws:kms", key: "k1", meta: kmsKeyJSON("k1", "AWS", "AWS_KMS", "Enabled", ""),
			custody: providers.CustodyProviderManaged,
			wantKey: &providers.Key{ID: "arn:aws:kms:eu-central-1:444455556666:key/k1", Account: "444455556666", Region: "eu-central-1", State: providers.KeyEnabled, ProviderState: "Enabled", Manager: "AWS", Origin: "AWS_KMS"},
		},
		{
			name: "customer key in KMS", alg: "aws:kms", key: "k1", meta: kmsKeyJSON("k1", "CUSTOMER", "AWS_KMS", "Enabled", ""),
			custody: providers.CustodyProviderKMS,
			wantKey: &providers.Key{ID: "arn:aws:kms:eu-central-1:444455556666:key/k1", Account: "444455556666", Region: "eu-central-1", State: providers.KeyEnabled, ProviderState: "Enabled", Manager: "CUSTOMER", Origin: "AWS_KMS"},
		},
		{
			name: "imported key material pending import", alg: "aws:kms", key: "k1", meta: kmsKeyJSON("k1", "CUSTOMER", "EXTERNAL", "PendingImport", ""),
			custody: providers.CustodyImportedKey,
			wantKey: &providers.Key{ID: "arn:aws:kms:eu-central-1:444455556666:key/k1", Account: "444455556666", Region: "eu-central-1", State: providers.KeyPendingImport, ProviderState: "PendingImport", Manager: "CUSTOMER", Origin: "EXTERNAL"},
		},
		{
			name: "imported key material that expires", alg: "aws:kms", key: "k1",
			meta:    kmsKeyJSON("k1", "CUSTOMER", "EXTERNAL", "Enabled", fmt.Sprintf(`,"ExpirationModel":"KEY_MATERIAL_EXPIRES","ValidTo":%d`, validTo.Unix())),
			custody: providers.CustodyImportedKey,
			wantKey: &providers.Key{ID: "arn:aws:kms:eu-central-1:444455556666:key/k1", Account: "444455556666", Region: "eu-central-1", State: providers.KeyEnabled, ProviderState: "Enabled", Manager: "CUSTOMER", Origin: "EXTERNAL", MaterialExpires: &validTo},
		},
		{
			name: "CloudHSM key store, unavailable", alg: "aws:kms", key: "k1",
			meta:    kmsKeyJSON("k1", "CUSTOMER", "AWS_CLOUDHSM", "Unavailable", `,"CustomKeyStoreId":"cks-1234567890abcdef0"`),
			custody: providers.CustodyDedicatedHSM,
			wantKey: &providers.Key{ID: "arn:aws:kms:eu-central-1:444455556666:key/k1", Account: "444455556666", Region: "eu-central-1", State: providers.KeyUnavailable, ProviderState: "Unavailable", Manager: "CUSTOMER", Origin: "AWS_CLOUDHSM", Instance: "cks-1234567890abcdef0"},
		},
		{
			name: "external key store, disabled", alg: "aws:kms", key: "k1",
			meta:    kmsKeyJSON("k1", "CUSTOMER", "EXTERNAL_KEY_STORE", "Disabled", `,"CustomKeyStoreId":"cks-0abcdef1234567890"`),
			custody: providers.CustodyExternalKeyManager,
			wantKey: &providers.Key{ID: "arn:aws:kms:eu-central-1:444455556666:key/k1", Account: "444455556666", Region: "eu-central-1", State: providers.KeyDisabled, ProviderState: "Disabled", Manager: "CUSTOMER", Origin: "EXTERNAL_KEY_STORE", Instance: "cks-0abcdef1234567890"},
		},
		{
			name: "key pending deletion", alg: "aws:kms", key: "k1",
			meta:    kmsKeyJSON("k1", "CUSTOMER", "AWS_KMS", "PendingDeletion", fmt.Sprintf(`,"DeletionDate":%d,"PendingDeletionWindowInDays":30`, deletion.Unix())),
			custody: providers.CustodyProviderKMS,
			wantKey: &providers.Key{ID: "arn:aws:kms:eu-central-1:444455556666:key/k1", Account: "444455556666", Region: "eu-central-1", State: providers.KeyPendingDeletion, ProviderState: "PendingDeletion", Manager: "CUSTOMER", Origin: "AWS_KMS", DeletionDate: &deletion},
		},
		{
			name: "replica key pending deletion", alg: "aws:kms", key: "k1",
			meta:    kmsKeyJSON("k1", "CUSTOMER", "AWS_KMS", "PendingReplicaDeletion", ""),
			custody: providers.CustodyProviderKMS,
			wantKey: &providers.Key{ID: "arn:aws:kms:eu-central-1:444455556666:key/k1", Account: "444455556666", Region: "eu-central-1", State: providers.KeyPendingDeletion, ProviderState: "PendingReplicaDeletion", Manager: "CUSTOMER", Origin: "AWS_KMS"},
		},
		{
			name: "DescribeKey denied", alg: "aws:kms", key: "arn:aws:kms:eu-central-1:444455556666:key/k1",
			kmsAnswer: &answer{status: 400, body: `{"__type":"AccessDeniedException","message":"User is not authorized to perform: kms:DescribeKey"}`},
			custody:   providers.CustodyUnknown,
			wantKey:   &providers.Key{ID: "arn:aws:kms:eu-central-1:444455556666:key/k1", Account: "444455556666", Region: "eu-central-1", State: providers.KeyStateUnknown},
			unknown:   &providers.Unknown{Field: providers.FieldKey, API: "kms:DescribeKey", Error: "HTTP 400 AccessDeniedException: User is not authorized to perform: kms:DescribeKey", Permission: "kms:DescribeKey"},
		},
		{
			name: "key that no longer exists", alg: "aws:kms", key: "gone",
			custody: providers.CustodyUnknown,
			wantKey: &providers.Key{ID: "gone", Account: testAccount, Region: "eu-central-1", State: providers.KeyStateUnknown},
			unknown: &providers.Unknown{Field: providers.FieldKey, API: "kms:DescribeKey", Error: "HTTP 400 NotFoundException: Key 'gone' does not exist"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWire(t)
			w.on("GetBucketEncryption", sseKMS(tc.alg, tc.key))
			if tc.meta != "" {
				w.keys["k1"] = tc.meta
			}
			if tc.kmsAnswer != nil {
				w.on("DescribeKey", *tc.kmsAnswer)
			}
			p, _ := w.open(t, nil)
			b := describe(t, p, "keyed", "eu-central-1")
			if b.Custody != tc.custody || b.Encryption != tc.alg {
				t.Errorf("custody %q encryption %q, want %q %q", b.Custody, b.Encryption, tc.custody, tc.alg)
			}
			if diff := cmp.Diff(tc.wantKey, b.Key); diff != "" {
				t.Errorf("key (-want +got):\n%s", diff)
			}
			u, found := unknownOf(b, providers.FieldKey)
			switch {
			case tc.unknown == nil && found:
				t.Errorf("unexpected unknown %+v", u)
			case tc.unknown != nil && !found:
				t.Errorf("no unknown for the key, want %+v", *tc.unknown)
			case tc.unknown != nil:
				if diff := cmp.Diff(*tc.unknown, u); diff != "" {
					t.Errorf("unknown (-want +got):\n%s", diff)
				}
				if !b.IsUnknown(providers.FieldCustody) {
					t.Errorf("custody not marked unknown")
				}
			}
			wantDescribe := 0
			if tc.meta != "" || tc.kmsAnswer != nil || tc.key == "gone" {
				wantDescribe = 1
			}
			if n := w.count("DescribeKey", ""); n != wantDescribe {
				t.Errorf("DescribeKey sent %d times, want %d", n, wantDescribe)
			}
		})
	}
}

func TestSharedKeyIsDescribedOncePerScan(t *testing.T) {
	w := newWire(t)
	w.on("GetBucketEncryption", sseKMS("aws:kms", "k1"))
	w.keys["k1"] = kmsKeyJSON("k1", "CUSTOMER", "AWS_KMS", "Enabled", "")
	p, calls := w.open(t, nil)
	const n = 60
	var wg sync.WaitGroup
	records := make([]providers.Bucket, n)
	for i := range n {
		wg.Go(func() { records[i] = describe(t, p, fmt.Sprintf("shared-%02d", i), "eu-central-1") })
	}
	wg.Wait()
	for _, b := range records {
		if b.Custody != providers.CustodyProviderKMS || b.Key == nil || b.Key.State != providers.KeyEnabled {
			t.Fatalf("%s: custody %q key %+v", b.Name, b.Custody, b.Key)
		}
	}
	if got := w.count("DescribeKey", ""); got != 1 {
		t.Errorf("DescribeKey sent %d times for %d buckets sharing one key, want 1", got, n)
	}
	// Records do not share the key: one bucket's record cannot change another's.
	records[0].Key.State = providers.KeyDisabled
	if records[1].Key.State != providers.KeyEnabled {
		t.Errorf("records share one key value")
	}
	// A new scan (Accounts) asks again: a key may have changed between scans.
	if _, err := p.Accounts(context.Background()); err != nil {
		t.Fatal(err)
	}
	describe(t, p, "after", "eu-central-1")
	if got := w.count("DescribeKey", ""); got != 2 {
		t.Errorf("DescribeKey sent %d times after a new scan began, want 2", got)
	}
	perBucket := float64(calls.Total()-2) / float64(n+1)
	t.Logf("%d buckets, %d calls in all (%.2f per bucket besides DescribeKey and GetCallerIdentity)", n+1, calls.Total(), perBucket)
}

func TestExposure(t *testing.T) {
	pab := func(blockACLs, ignoreACLs, blockPolicy, restrict bool) answer {
		return ok(fmt.Sprintf(`<PublicAccessBlockConfiguration`+s3ns+`><BlockPublicAcls>%v</BlockPublicAcls><IgnorePublicAcls>%v</IgnorePublicAcls>`+
			`<BlockPublicPolicy>%v</BlockPublicPolicy><RestrictPublicBuckets>%v</RestrictPublicBuckets></PublicAccessBlockConfiguration>`,
			blockACLs, ignoreACLs, blockPolicy, restrict))
	}
	acl := func(group, perm string) answer {
		return ok(`<AccessControlPolicy` + s3ns + `><Owner><ID>abc</ID></Owner><AccessControlList>` +
			`<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>abc</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>` +
			`<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>` + group + `</URI></Grantee><Permission>` + perm + `</Permission></Grant>` +
			`</AccessControlList></AccessControlPolicy>`)
	}
	policy := func(public bool) answer {
		return ok(fmt.Sprintf(`<PolicyStatus`+s3ns+`><IsPublic>%v</IsPublic></PolicyStatus>`, public))
	}
	cases := []struct {
		name    string
		answers map[string]answer
		public  providers.Tri
		via     []string
		block   providers.Tri
		skipped []string // calls that must not be made
	}{
		{name: "all four flags on: not public, policy and ACL not asked",
			answers: map[string]answer{"GetPublicAccessBlock": pab(true, true, true, true), "GetBucketPolicyStatus": policy(true), "GetBucketAcl": acl(groupAllUsers, "READ")},
			public:  providers.No, block: providers.Yes, skipped: []string{"GetBucketPolicyStatus", "GetBucketAcl"}},
		{name: "no block, AllUsers may read",
			answers: map[string]answer{"GetBucketAcl": acl(groupAllUsers, "READ")},
			public:  providers.Yes, via: []string{"acl:AllUsers"}, block: providers.No},
		{name: "AuthenticatedUsers with full control",
			answers: map[string]answer{"GetBucketAcl": acl(groupAuthUsers, "FULL_CONTROL")},
			public:  providers.Yes, via: []string{"acl:AuthenticatedUsers"}, block: providers.No},
		{name: "AllUsers may only read the ACL: not public",
			answers: map[string]answer{"GetBucketAcl": acl(groupAllUsers, "READ_ACP")},
			public:  providers.No, block: providers.No},
		{name: "public policy",
			answers: map[string]answer{"GetBucketPolicyStatus": policy(true)},
			public:  providers.Yes, via: []string{"bucket-policy"}, block: providers.No},
		{name: "IgnorePublicAcls alone: the public ACL does not count and is not asked",
			answers: map[string]answer{"GetPublicAccessBlock": pab(false, true, false, false), "GetBucketAcl": acl(groupAllUsers, "READ"), "GetBucketPolicyStatus": policy(false)},
			public:  providers.No, block: providers.No, skipped: []string{"GetBucketAcl"}},
		{name: "policy status denied and ACL private: unknown",
			answers: map[string]answer{"GetBucketPolicyStatus": s3Error(403, "AccessDenied", "Access Denied")},
			public:  providers.TriUnknown, block: providers.No},
		{name: "policy status denied but ACL public: public",
			answers: map[string]answer{"GetBucketPolicyStatus": s3Error(403, "AccessDenied", "Access Denied"), "GetBucketAcl": acl(groupAllUsers, "READ")},
			public:  providers.Yes, via: []string{"acl:AllUsers"}, block: providers.No},
		{name: "block denied: both other calls made",
			answers: map[string]answer{"GetPublicAccessBlock": s3Error(403, "AccessDenied", "Access Denied")},
			public:  providers.No, block: providers.TriUnknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWire(t)
			for op, a := range tc.answers {
				w.on(op, a)
			}
			p, _ := w.open(t, nil)
			b := describe(t, p, "exposed", "us-east-1")
			if b.Public != tc.public || b.PublicAccessBlock != tc.block || !slices.Equal(b.PublicVia, tc.via) {
				t.Errorf("public %q via %v block %q, want %q via %v block %q", b.Public, b.PublicVia, b.PublicAccessBlock, tc.public, tc.via, tc.block)
			}
			for _, op := range tc.skipped {
				if n := w.count(op, "exposed"); n != 0 {
					t.Errorf("%s called %d times, want 0", op, n)
				}
			}
		})
	}
}

func TestReplicationDestinations(t *testing.T) {
	w := newWire(t)
	w.buckets = []string{"orders", "orders-dr"}
	w.regions = map[string]string{"orders": "us-east-1", "orders-dr": "us-west-2"}
	w.on("GetBucketReplication", ok(`<ReplicationConfiguration`+s3ns+`><Role>arn:aws:iam::111122223333:role/repl</Role>`+
		`<Rule><ID>dr</ID><Priority>1</Priority><Status>Enabled</Status><Filter><Prefix></Prefix></Filter><Destination><Bucket>arn:aws:s3:::orders-dr</Bucket></Destination></Rule>`+
		`<Rule><ID>dr-again</ID><Priority>2</Priority><Status>Enabled</Status><Filter><Prefix>x/</Prefix></Filter><Destination><Bucket>arn:aws:s3:::orders-dr</Bucket></Destination></Rule>`+
		`<Rule><ID>vault</ID><Priority>3</Priority><Status>Enabled</Status><Filter><Prefix></Prefix></Filter><Destination><Bucket>arn:aws:s3:::orders-vault</Bucket><Account>777788889999</Account>`+
		`<EncryptionConfiguration><ReplicaKmsKeyID>arn:aws:kms:eu-west-1:777788889999:key/v1</ReplicaKmsKeyID></EncryptionConfiguration></Destination></Rule>`+
		`<Rule><ID>off</ID><Priority>4</Priority><Status>Disabled</Status><Filter><Prefix></Prefix></Filter><Destination><Bucket>arn:aws:s3:::orders-old</Bucket></Destination></Rule>`+
		`</ReplicationConfiguration>`))
	p, _ := w.open(t, nil)
	refs, err := p.List(context.Background(), testAccount)
	if err != nil {
		t.Fatal(err)
	}
	b := p.Describe(context.Background(), refs[0])
	want := []providers.Copy{
		{Provider: "aws", Account: testAccount, Bucket: "orders-dr", Region: "us-west-2", Source: providers.CopyReplication},
		// Another account's bucket: its region is not ours to know.
		{Provider: "aws", Account: "777788889999", Bucket: "orders-vault", Custody: providers.CustodyProviderKMS, Source: providers.CopyReplication},
	}
	if diff := cmp.Diff(want, b.Copies); diff != "" {
		t.Errorf("copies (-want +got):\n%s", diff)
	}
}

func TestBucketLocationQuirks(t *testing.T) {
	cases := []struct{ constraint, region, country string }{
		{"", "us-east-1", "US"},
		{"EU", "eu-west-1", "IE"},
		{"cn-northwest-1", "cn-northwest-1", "CN"},
		{"eusc-de-east-1", "eusc-de-east-1", "DE"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("constraint %q", tc.constraint), func(t *testing.T) {
			w := newWire(t)
			w.regions["old"] = tc.constraint
			p, calls := w.open(t, nil)
			b := describe(t, p, "old", "")
			if b.Region != tc.region || !slices.Equal(b.Countries, []string{tc.country}) {
				t.Errorf("region %q countries %v, want %q [%s]", b.Region, b.Countries, tc.region, tc.country)
			}
			if n := calls.Total(); n != 11 {
				t.Errorf("%d calls, want 11 (GetBucketLocation when the listing gives no region)", n)
			}
		})
	}
}

func TestUnknownRegionKeepsTheRecord(t *testing.T) {
	w := newWire(t)
	p, _ := w.open(t, nil)
	b := describe(t, p, "future", "xx-newland-1")
	if b.Region != "xx-newland-1" || len(b.Countries) != 0 || b.Controller != "US" || !b.IsUnknown(providers.FieldRegion) {
		t.Errorf("region %q countries %v controller %q unknowns %+v", b.Region, b.Countries, b.Controller, b.Unknowns)
	}
}

func TestProbe(t *testing.T) {
	cases := []struct {
		name    string
		answers map[string][]answer
		canary  string
		closed  bool
		failure string
		probe   string
	}{
		{name: "HeadBucket forbidden", answers: map[string][]answer{"HeadBucket": {{status: 403}}}, failure: providers.FailHTTP403},
		{name: "bucket gone", answers: map[string][]answer{"HeadBucket": {{status: 404}}}, failure: providers.FailHTTP404},
		{name: "list forbidden after a good HEAD", answers: map[string][]answer{"ListObjectsV2": {s3Error(403, "AccessDenied", "Access Denied")}}, failure: providers.FailHTTP403},
		{name: "throttled beyond the retries", answers: map[string][]answer{"ListObjectsV2": {s3Error(503, "SlowDown", "Please reduce your request rate.")}}, failure: providers.FailThrottled},
		{name: "HEAD throttled, with no body to say so", answers: map[string][]answer{"HeadBucket": {{status: 503}}}, failure: providers.FailThrottled},
		{name: "server errors", answers: map[string][]answer{"HeadBucket": {{status: 500}}}, failure: providers.FailHTTP5xx},
		{name: "canary present", canary: "probe/canary.txt", probe: "HeadBucket+HeadObject"},
		{name: "canary missing", canary: "probe/canary.txt", answers: map[string][]answer{"HeadObject": {{status: 404}}}, failure: providers.FailHTTP404, probe: "HeadBucket+HeadObject"},
		{name: "nothing listening", closed: true, failure: providers.FailConnect},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newWire(t)
			for op, as := range tc.answers {
				w.on(op, as...)
			}
			p, _ := w.open(t, func(c *Config) { c.Canary = tc.canary })
			if tc.closed {
				w.srv.Close()
			}
			b := describe(t, p, "probed", "us-east-2")
			r := b.Reachability
			if r.Reachable != (tc.failure == "") || r.Failure != tc.failure {
				t.Errorf("reachable %v failure %q (%s), want failure %q", r.Reachable, r.Failure, r.Error, tc.failure)
			}
			want := tc.probe
			if want == "" {
				want = "HeadBucket+ListObjectsV2"
			}
			if r.Probe != want {
				t.Errorf("probe %q, want %q", r.Probe, want)
			}
			if tc.failure != "" && r.Error == "" {
				t.Errorf("failure without an error text")
			}
			if tc.closed && (b.Name != "probed" || len(b.Unknowns) < 8) {
				t.Errorf("with nothing listening every read must be an unknown: %+v", b.Unknowns)
			}
		})
	}
}

func TestListPagesAndFiltersByRegion(t *testing.T) {
	w := newWire(t)
	w.buckets = []string{"a-us", "b-eu", "c-old", "d-hk", "e-denied"}
	w.regions = map[string]string{"a-us": "us-east-1", "b-eu": "eu-west-1", "d-hk": "ap-east-1"}
	// c-old is listed without a region (as by S3-compatible stores) and
	// sits in eu-west-1 under its legacy name; e-denied cannot be located.
	w.on("GetBucketLocation c-old", ok(`<LocationConstraint`+s3ns+`>EU</LocationConstraint>`))
	w.on("GetBucketLocation e-denied", s3Error(403, "AccessDenied", "Access Denied"))

	p, _ := w.open(t, nil)
	all, err := p.List(context.Background(), testAccount)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 || w.count("ListBuckets", "") != 3 {
		t.Errorf("%d buckets over %d pages, want 5 over 3", len(all), w.count("ListBuckets", ""))
	}
	if n := w.count("GetBucketLocation", "c-old"); n != 0 {
		t.Errorf("unfiltered list located buckets (%d calls); Describe does that", n)
	}

	p, _ = w.open(t, func(c *Config) { c.Regions = []string{"eu-west-1"} })
	eu, err := p.List(context.Background(), testAccount)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range eu {
		names = append(names, r.Name+"@"+r.Region)
	}
	// A bucket that cannot be located is kept: dropping it would hide it.
	if want := []string{"b-eu@eu-west-1", "c-old@eu-west-1", "e-denied@"}; !slices.Equal(names, want) {
		t.Errorf("filtered list %v, want %v", names, want)
	}
}

func TestAccountsFromTheCredentials(t *testing.T) {
	w := newWire(t)
	p, _ := w.open(t, nil)
	got, err := p.Accounts(context.Background())
	if err != nil || !slices.Equal(got, []string{testAccount}) {
		t.Errorf("accounts %v %v, want [%s]", got, err, testAccount)
	}
	p, _ = w.open(t, func(c *Config) { c.Accounts = []string{"222233334444"} })
	got, _ = p.Accounts(context.Background())
	if !slices.Equal(got, []string{"222233334444"}) || w.count("GetCallerIdentity", "") != 1 {
		t.Errorf("configured accounts %v, STS asked %d times", got, w.count("GetCallerIdentity", ""))
	}
	w.on("GetCallerIdentity", answer{status: 403, body: `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error><RequestId>r</RequestId></ErrorResponse>`})
	p, _ = w.open(t, nil)
	if _, err := p.Accounts(context.Background()); err == nil || !strings.Contains(err.Error(), "InvalidClientTokenId") || strings.Contains(err.Error(), "wire-secret") {
		t.Errorf("error %v, want InvalidClientTokenId without the secret", err)
	}
}

func TestOpenRefusesBadSettings(t *testing.T) {
	cases := map[string]Config{
		"relative endpoint": {Endpoint: "localhost:9000"},
		"missing CA file":   {CACert: "/nonexistent/ca.pem"},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Open(context.Background(), &cfg, providers.Env{}); err == nil {
				t.Error("Open accepted it")
			}
		})
	}
}

func TestPathStyle(t *testing.T) {
	cases := []struct {
		endpoint string
		force    bool
		want     bool
	}{
		{"http://127.0.0.1:9000", false, true},
		{"http://[::1]:9000", false, true},
		{"http://localhost:4566", false, true},
		{"https://bucket.vpce-1a2b3c4d-5e6f.s3.us-east-1.vpce.amazonaws.com", false, false},
		{"https://minio.example.com", true, true},
		{"", false, false},
	}
	for _, tc := range cases {
		ep, err := resolveEndpoints(&Config{Endpoint: tc.endpoint, PathStyle: tc.force})
		if err != nil || ep.pathStyle != tc.want {
			t.Errorf("%q (path_style %v): path style %v %v, want %v", tc.endpoint, tc.force, ep.pathStyle, err, tc.want)
		}
	}
}
