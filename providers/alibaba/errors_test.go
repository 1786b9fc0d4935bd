package alibaba_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/aliyun-oss-go-sdk/oss"

	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/alibaba"
	"github.com/reachaudit/reachaudit/providers/sandbox"
)

const faultEstate = `
alibaba:
  accounts:
    - id: "1111222233334444"
      keys:
        - {id: key-a, region: cn-hangzhou}
      buckets:
        - name: target
          region: cn-hangzhou
          encryption: {algorithm: KMS, key: key-a}
          replication: [{bucket: target-dr, region: cn-beijing}]
          tags: {a: b}
          bytes: 52000000
          objects: 1300
`

func describeOne(t *testing.T, cfg *alibaba.Config) (providers.Bucket, *providers.Calls) {
	t.Helper()
	p, calls := open(t, cfg)
	refs, err := p.List(context.Background(), cfg.Accounts[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 {
		t.Fatalf("listed %v", refs)
	}
	return p.Describe(context.Background(), refs[0]), calls
}

func hasUnknown(b providers.Bucket, field, api string) bool {
	for _, u := range b.Unknowns {
		if u.Field == field && u.API == api {
			return true
		}
	}
	return false
}

// Every error path ends in an unknown naming the API, never in a dropped
// bucket or a panic; an absent configuration is a fact.
func TestErrorPaths(t *testing.T) {
	tests := []struct {
		name  string
		fault sandbox.Fault
		check func(t *testing.T, b providers.Bucket)
	}{
		{"GetBucketInfo 5xx leaves custody unknown", sandbox.Fault{Op: "GetBucketInfo", Kind: sandbox.FaultServer},
			func(t *testing.T, b providers.Bucket) {
				if b.Custody != providers.CustodyUnknown || !hasUnknown(b, providers.FieldCustody, "oss:GetBucketInfo") {
					t.Errorf("custody %s unknowns %v", b.Custody, unknownFields(b))
				}
				if b.Region != "cn-hangzhou" || b.Controller != "CN" {
					t.Errorf("place from the list lost: %s %s", b.Region, b.Controller)
				}
				if b.Public != providers.TriUnknown {
					t.Errorf("public %s with the ACL unread", b.Public)
				}
			}},
		{"GetBucketInfo malformed XML", sandbox.Fault{Op: "GetBucketInfo", Kind: sandbox.FaultMalformed},
			func(t *testing.T, b providers.Bucket) {
				if !hasUnknown(b, providers.FieldVersioning, "oss:GetBucketInfo") {
					t.Errorf("unknowns %v", unknownFields(b))
				}
			}},
		{"GetBucketInfo timeout", sandbox.Fault{Op: "GetBucketInfo", Kind: sandbox.FaultTimeout},
			func(t *testing.T, b providers.Bucket) {
				if !hasUnknown(b, providers.FieldRedundancy, "oss:GetBucketInfo") {
					t.Errorf("unknowns %v", unknownFields(b))
				}
			}},
		{"throttling once is retried", sandbox.Fault{Op: "GetBucketInfo", Kind: sandbox.FaultThrottle, Times: 1},
			func(t *testing.T, b providers.Bucket) {
				if len(b.Unknowns) != 0 || b.Custody != providers.CustodyProviderKMS {
					t.Errorf("custody %s unknowns %v", b.Custody, unknownFields(b))
				}
			}},
		{"throttling that lasts is an unknown", sandbox.Fault{Op: "GetBucketReplication", Kind: sandbox.FaultThrottle},
			func(t *testing.T, b providers.Bucket) {
				if !hasUnknown(b, providers.FieldCopies, "oss:GetBucketReplication") {
					t.Errorf("unknowns %v", unknownFields(b))
				}
			}},
		{"replication malformed XML", sandbox.Fault{Op: "GetBucketReplication", Kind: sandbox.FaultMalformed},
			func(t *testing.T, b providers.Bucket) {
				if !hasUnknown(b, providers.FieldCopies, "oss:GetBucketReplication") {
					t.Errorf("unknowns %v", unknownFields(b))
				}
			}},
		{"policy status 5xx", sandbox.Fault{Op: "GetBucketPolicyStatus", Kind: sandbox.FaultServer},
			func(t *testing.T, b providers.Bucket) {
				if b.Public != providers.TriUnknown || !hasUnknown(b, providers.FieldPublic, "oss:GetBucketPolicyStatus") {
					t.Errorf("public %s unknowns %v", b.Public, unknownFields(b))
				}
			}},
		{"public access block timeout", sandbox.Fault{Op: "GetBucketPublicAccessBlock", Kind: sandbox.FaultTimeout},
			func(t *testing.T, b providers.Bucket) {
				if b.PublicAccessBlock != providers.TriUnknown {
					t.Errorf("block %s", b.PublicAccessBlock)
				}
			}},
		{"tags malformed XML", sandbox.Fault{Op: "GetBucketTags", Kind: sandbox.FaultMalformed},
			func(t *testing.T, b providers.Bucket) {
				if !hasUnknown(b, providers.FieldTags, "oss:GetBucketTagging") {
					t.Errorf("unknowns %v", unknownFields(b))
				}
			}},
		{"DescribeKey 5xx", sandbox.Fault{Op: "DescribeKey", Kind: sandbox.FaultServer},
			func(t *testing.T, b providers.Bucket) {
				if b.Custody != providers.CustodyUnknown || !hasUnknown(b, providers.FieldKey, "kms:DescribeKey") {
					t.Errorf("custody %s unknowns %v", b.Custody, unknownFields(b))
				}
				if b.Key == nil || b.Key.ID != "key-a" || b.Key.State != providers.KeyStateUnknown {
					t.Errorf("key %+v", b.Key)
				}
			}},
		{"DescribeKey malformed JSON", sandbox.Fault{Op: "DescribeKey", Kind: sandbox.FaultMalformed},
			func(t *testing.T, b providers.Bucket) {
				if !hasUnknown(b, providers.FieldCustody, "kms:DescribeKey") {
					t.Errorf("unknowns %v", unknownFields(b))
				}
			}},
		{"DescribeKey throttled once is retried", sandbox.Fault{Op: "DescribeKey", Kind: sandbox.FaultThrottle, Times: 1},
			func(t *testing.T, b providers.Bucket) {
				if b.Custody != providers.CustodyProviderKMS || len(b.Unknowns) != 0 {
					t.Errorf("custody %s unknowns %v", b.Custody, unknownFields(b))
				}
			}},
		{"DescribeKey timeout", sandbox.Fault{Op: "DescribeKey", Kind: sandbox.FaultTimeout},
			func(t *testing.T, b providers.Bucket) {
				if !hasUnknown(b, providers.FieldKey, "kms:DescribeKey") {
					t.Errorf("unknowns %v", unknownFields(b))
				}
			}},
		{"probe 5xx", sandbox.Fault{Op: "ListObjectsV2", Kind: sandbox.FaultServer},
			func(t *testing.T, b providers.Bucket) {
				if b.Reachability.Reachable || b.Reachability.Failure != providers.FailHTTP5xx {
					t.Errorf("reachability %+v", b.Reachability)
				}
			}},
		{"probe throttled", sandbox.Fault{Op: "ListObjectsV2", Kind: sandbox.FaultThrottle},
			func(t *testing.T, b providers.Bucket) {
				if b.Reachability.Failure != providers.FailThrottled {
					t.Errorf("reachability %+v", b.Reachability)
				}
			}},
		{"probe timeout", sandbox.Fault{Op: "ListObjectsV2", Kind: sandbox.FaultTimeout},
			func(t *testing.T, b providers.Bucket) {
				if b.Reachability.Failure != providers.FailTimeout {
					t.Errorf("reachability %+v", b.Reachability)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg, _ := start(t, faultEstate, sandbox.Options{Faults: sandbox.NewFaults(tt.fault)})
			cfg.Timeout = "200ms"
			b, _ := describeOne(t, cfg)
			if b.Name != "target" || b.Provider != "alibaba" {
				t.Fatalf("bucket %q", b.Name)
			}
			tt.check(t, b)
		})
	}
}

func TestAbsentConfigurationsAreFacts(t *testing.T) {
	cfg, _ := start(t, `
alibaba:
  accounts:
    - id: "1111222233334444"
      buckets:
        - {name: bare, region: eu-west-1, bytes: 0, objects: 0}
`, sandbox.Options{})
	b, _ := describeOne(t, cfg)
	if len(b.Unknowns) != 0 {
		t.Fatalf("unknowns %v", unknownFields(b))
	}
	if len(b.Copies) != 0 || len(b.Tags) != 0 || b.Custody != providers.CustodyNone || b.Encryption != "none" {
		t.Errorf("copies %v tags %v custody %s", b.Copies, b.Tags, b.Custody)
	}
	if b.Countries[0] != "GB" || b.Operator != "CN" {
		t.Errorf("place %v %s", b.Countries, b.Operator)
	}
}

// A signer with the wrong secret must be refused, for every signature the
// SDKs send, so that a broken signer cannot pass the other tests.
func TestWrongSecretIsRefused(t *testing.T) {
	for _, version := range []string{"v4", "v1"} {
		t.Run("OSS "+version, func(t *testing.T) {
			cfg, _ := start(t, faultEstate, sandbox.Options{})
			cfg.AuthVersion = version
			a := cfg.Accounts[0]
			s := cfg.Static[a]
			s.AccessKeySecret = strings.Repeat("0", len(s.AccessKeySecret))
			cfg.Static[a] = s
			p, _ := open(t, cfg)
			_, err := p.List(context.Background(), a)
			if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
				t.Fatalf("List with a wrong secret: %v", err)
			}
			// A refused signature is the scanner's fault: no permission to
			// grant, and no evidence that the data is blocked (no BLK-005),
			// only unknowns.
			b := p.Describe(context.Background(), providers.BucketRef{Account: a, Name: "target", Region: "cn-hangzhou"})
			if b.Custody != providers.CustodyUnknown || b.Reachability.Reachable || b.Reachability.Failure != providers.FailOther ||
				!b.IsUnknown(providers.FieldReachability) {
				t.Errorf("describe with a wrong secret: custody %s reachability %+v", b.Custody, b.Reachability)
			}
			for _, u := range b.Unknowns {
				if u.Permission != "" {
					t.Errorf("a refused signature names a permission to grant: %+v", u)
				}
			}
		})
	}
	t.Run("KMS ACS3", func(t *testing.T) {
		cfg, _ := start(t, faultEstate, sandbox.Options{})
		s := cfg.Static[cfg.Accounts[0]]
		u, _ := url.Parse(cfg.KMSEndpoint)
		for _, tt := range []struct {
			secret  string
			wantErr string
		}{{s.AccessKeySecret, ""}, {"x" + s.AccessKeySecret[1:], "SignatureDoesNotMatch"}} {
			c, err := kms.NewClient(&openapi.Config{AccessKeyId: tea.String(s.AccessKeyID),
				AccessKeySecret: tea.String(tt.secret), RegionId: tea.String("cn-hangzhou"),
				Endpoint: tea.String(u.Host), Protocol: tea.String("http")})
			if err != nil {
				t.Fatal(err)
			}
			out, err := c.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String("key-a")})
			switch {
			case tt.wantErr == "" && (err != nil || tea.StringValue(out.Body.KeyMetadata.KeyId) != "key-a"):
				t.Errorf("right secret: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("wrong secret: got %v, want %s", err, tt.wantErr)
			}
		}
	})
}

// Under V1 the SDK's signer leaves sub-resources it does not know out of
// the string it signs; OSS (and the sandbox) then refuse the request. The
// plugin does not send those calls under V1 and says why.
func TestV1LeavesOutUnknownSubResources(t *testing.T) {
	cfg, _ := start(t, faultEstate, sandbox.Options{})
	a := cfg.Accounts[0]
	s := cfg.Static[a]
	for _, tt := range []struct {
		version oss.AuthVersionType
		wantErr string
	}{{oss.AuthV1, "SignatureDoesNotMatch"}, {oss.AuthV4, ""}} {
		opts := []oss.ClientOption{oss.AuthVersion(tt.version), oss.Region("cn-hangzhou")}
		c, err := oss.New(cfg.Endpoint, s.AccessKeyID, s.AccessKeySecret, opts...)
		if err != nil {
			t.Fatal(err)
		}
		for _, sub := range []string{"policyStatus", "publicAccessBlock"} {
			resp, err := c.Conn.DoWithContext(context.Background(), "GET", "target", "",
				map[string]interface{}{sub: nil}, nil, nil, 0, nil)
			if resp != nil {
				resp.Body.Close()
			}
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("%s ?%s: %v", tt.version, sub, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("%s ?%s: got %v, want %s", tt.version, sub, err, tt.wantErr)
			}
		}
	}

	cfg.AuthVersion = "v1"
	b, calls := describeOne(t, cfg)
	if b.Custody != providers.CustodyProviderKMS || len(b.Copies) != 1 {
		t.Errorf("V1 scan: custody %s copies %v", b.Custody, b.Copies)
	}
	if !hasUnknown(b, providers.FieldPublic, "oss:GetBucketPolicyStatus") ||
		!hasUnknown(b, providers.FieldPublicAccessBlock, "oss:GetBucketPublicAccessBlock") {
		t.Errorf("V1 scan unknowns %v", unknownFields(b))
	}
	for _, oc := range calls.Snapshot() {
		if oc.Op == "GetBucketPolicyStatus" || oc.Op == "GetBucketPublicAccessBlock" {
			t.Errorf("V1 scan sent %s", oc.Op)
		}
		if oc.Errors != 0 {
			t.Errorf("V1 scan: %s failed %d times", oc.Op, oc.Errors)
		}
	}
}

// With V4 the signing region stands for the endpoint: a bucket asked for
// with another region's signature is refused as OSS refuses a wrong
// endpoint, except GetBucketInfo, which any endpoint answers; the plugin
// uses that to find a bucket's region when the list did not give it.
func TestSigningRegion(t *testing.T) {
	cfg, _ := start(t, faultEstate, sandbox.Options{})
	cfg.Regions = []string{"us-west-1"}
	p, _ := open(t, cfg)
	b := p.Describe(context.Background(), providers.BucketRef{Account: cfg.Accounts[0], Name: "target"})
	if b.Region != "cn-hangzhou" || len(b.Unknowns) != 0 || !b.Reachability.Reachable {
		t.Errorf("region %s unknowns %v reachability %+v", b.Region, unknownFields(b), b.Reachability)
	}

	s := cfg.Static[cfg.Accounts[0]]
	c, err := oss.New(cfg.Endpoint, s.AccessKeyID, s.AccessKeySecret, oss.AuthVersion(oss.AuthV4), oss.Region("us-west-1"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetBucketReplication("target")
	var se oss.ServiceError
	if !errors.As(err, &se) || se.Code != "AccessDenied" || se.Endpoint != "oss-cn-hangzhou.aliyuncs.com" {
		t.Errorf("wrong region: %v", err)
	}
}

func TestCallsPerBucketAndKeyCache(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("alibaba:\n  accounts:\n    - id: \"1111222233334444\"\n      keys:\n")
	const n, keys = 40, 10
	for k := 0; k < keys; k++ {
		fmt.Fprintf(&sb, "        - {id: shared-%d, region: cn-hangzhou}\n", k)
	}
	sb.WriteString("      buckets:\n")
	for i := 0; i < n; i++ {
		key := fmt.Sprintf("shared-%d", i%keys)
		bpa := "false"
		if i%4 == 0 {
			bpa = "true"
		}
		sb.WriteString("        - {name: b" + string(rune('a'+i/26)) + string(rune('a'+i%26)) +
			"-bucket, region: cn-hangzhou, encryption: {algorithm: KMS, key: " + key + "}, block_public_access: " + bpa + ", bytes: 1000}\n")
	}
	cfg, _ := start(t, sb.String(), sandbox.Options{})
	p, calls := open(t, cfg)
	refs, err := p.List(context.Background(), cfg.Accounts[0])
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	out := make([]providers.Bucket, len(refs))
	for i, ref := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = p.Describe(context.Background(), ref)
		}()
	}
	wg.Wait()
	for _, b := range out {
		if len(b.Unknowns) != 0 || b.Custody != providers.CustodyProviderKMS {
			t.Fatalf("%s: custody %s unknowns %v", b.Name, b.Custody, unknownFields(b))
		}
	}
	byOp := map[string]int{}
	for _, oc := range calls.Snapshot() {
		byOp[oc.Op] = oc.Calls
	}
	if byOp["DescribeKey"] != keys {
		t.Errorf("DescribeKey called %d times for %d keys", byOp["DescribeKey"], keys)
	}
	perBucket := float64(calls.Total()-byOp["DescribeKey"]) / n
	t.Logf("calls: %v; %.2f per bucket plus %d DescribeKey", byOp, perBucket, byOp["DescribeKey"])
	// GetBucketStat and GetBucketWorm are the seventh and eighth: OSS
	// reads sizes and retention one bucket at a time.
	if perBucket > 8 {
		t.Errorf("%.2f calls per bucket, want at most 8", perBucket)
	}
	if byOp["GetBucketPublicAccessBlock"] != n-n/4 {
		t.Errorf("GetBucketPublicAccessBlock called %d times; buckets whose GetBucketInfo carries it need none", byOp["GetBucketPublicAccessBlock"])
	}
}

func TestCanaryProbe(t *testing.T) {
	cfg, _ := start(t, faultEstate, sandbox.Options{})
	cfg.Canary = "health/canary.txt"
	b, _ := describeOne(t, cfg)
	// The estate holds no objects, so the canary is not found.
	if b.Reachability.Probe != "GetBucketInfo+GetObjectMeta" || b.Reachability.Failure != providers.FailHTTP404 {
		t.Errorf("reachability %+v", b.Reachability)
	}
}

func TestLatencyIsHonoured(t *testing.T) {
	cfg, sb := start(t, faultEstate, sandbox.Options{Latency: 30 * time.Millisecond})
	start := time.Now()
	b, calls := describeOne(t, cfg)
	if b.Reachability.LatencyMS < 30 {
		t.Errorf("probe latency %vms under 30ms of injected latency", b.Reachability.LatencyMS)
	}
	if min := time.Duration(calls.Total()) * 30 * time.Millisecond; time.Since(start) < min {
		t.Errorf("scan took %v for %d calls", time.Since(start), calls.Total())
	}
	if sb.Requests() != int64(calls.Total()) {
		t.Errorf("sandbox counted %d requests, plugin %d calls", sb.Requests(), calls.Total())
	}
}

// Every RAM action an UNK-001 asks for is in the read-only policy the
// README gives.
func TestDeniedCallsNameActionsOfTheRAMPolicy(t *testing.T) {
	data, err := os.ReadFile("ram-policy.json")
	if err != nil {
		t.Fatal(err)
	}
	var policy struct {
		Statement []struct {
			Effect string
			Action []string
		}
	}
	if err := json.Unmarshal(data, &policy); err != nil {
		t.Fatal(err)
	}
	allowed := map[string]bool{}
	for _, s := range policy.Statement {
		for _, a := range s.Action {
			allowed[a] = s.Effect == "Allow"
		}
	}
	cfg, _ := start(t, strings.Replace(faultEstate, "tags: {a: b}",
		"tags: {a: b}\n          deny: [GetBucketInfo, GetBucketReplication, GetBucketPolicyStatus, GetBucketPublicAccessBlock, GetBucketTags]", 1), sandbox.Options{})
	b, _ := describeOne(t, cfg)
	cfg2, _ := start(t, strings.Replace(faultEstate, "tags: {a: b}", "tags: {a: b}\n          deny: [DescribeKey]", 1), sandbox.Options{})
	b2, _ := describeOne(t, cfg2)
	seen := map[string]bool{}
	for _, u := range append(b.Unknowns, b2.Unknowns...) {
		if u.Permission == "" {
			t.Errorf("denied %s for %s names no permission: %s", u.API, u.Field, u.Error)
			continue
		}
		seen[u.Permission] = true
		if !allowed[u.Permission] {
			t.Errorf("%s is not in ram-policy.json", u.Permission)
		}
	}
	if len(seen) != 6 {
		t.Errorf("permissions named: %v", seen)
	}
	// The directory's listing, whose denial the UNK-002 names.
	if !allowed["resourcemanager:ListAccounts"] {
		t.Errorf("resourcemanager:ListAccounts is not in ram-policy.json")
	}
}

func TestListFailures(t *testing.T) {
	for _, kind := range []string{sandbox.FaultServer, sandbox.FaultMalformed, sandbox.FaultTimeout} {
		t.Run(kind, func(t *testing.T) {
			cfg, _ := start(t, faultEstate, sandbox.Options{Faults: sandbox.NewFaults(sandbox.Fault{Op: "ListBuckets", Kind: kind})})
			cfg.Timeout = "200ms"
			p, _ := open(t, cfg)
			refs, err := p.List(context.Background(), cfg.Accounts[0])
			if err == nil || !strings.Contains(err.Error(), "ListBuckets") || refs != nil {
				t.Errorf("List: %v %v", refs, err)
			}
		})
	}
	t.Run("credentials of another account", func(t *testing.T) {
		cfg, _ := start(t, estateYAML, sandbox.Options{})
		cfg.Static[cfg.Accounts[0]] = cfg.Static[cfg.Accounts[1]]
		p, _ := open(t, cfg)
		if _, err := p.List(context.Background(), cfg.Accounts[0]); err == nil || !strings.Contains(err.Error(), "belong to account") {
			t.Errorf("List: %v", err)
		}
	})
}

// Credentials named by environment variables reach both SDKs; variables
// that are not set stop Open with a message that names them.
func TestCredentialsFromEnvironment(t *testing.T) {
	cfg, _ := start(t, faultEstate, sandbox.Options{})
	a := cfg.Accounts[0]
	s := cfg.Static[a]
	cfg.Static = nil
	cfg.Credentials = map[string]alibaba.AccountCredentials{a: {AccessKeyIDEnv: "RA_TEST_ID", AccessKeySecretEnv: "RA_TEST_SECRET"}}
	t.Setenv("RA_TEST_ID", s.AccessKeyID)
	t.Setenv("RA_TEST_SECRET", s.AccessKeySecret)
	b, _ := describeOne(t, cfg)
	if b.Custody != providers.CustodyProviderKMS || len(b.Unknowns) != 0 {
		t.Errorf("custody %s unknowns %v", b.Custody, unknownFields(b))
	}

	t.Setenv("RA_TEST_SECRET", "")
	_, err := alibaba.Open(context.Background(), cfg, providers.Env{})
	if err == nil || !strings.Contains(err.Error(), "RA_TEST_SECRET") || strings.Contains(err.Error(), s.AccessKeyID) {
		t.Errorf("Open without the secret: %v", err)
	}
}

// The services' clocks 20 minutes from the scanner's, both ways: OSS
// refuses every request with RequestTimeTooSkewed (403), through the
// plugin's real SDK path. That is the scanner's fault: the listing fails
// as a run error that names no permission to grant, and a bucket described
// anyway has only unknowns — no permission blamed, and its probe unknown
// reachability rather than a block (BLK-005).
func TestSkewedClockIsRefusedNotDenied(t *testing.T) {
	for _, skew := range []time.Duration{20 * time.Minute, -20 * time.Minute} {
		t.Run(skew.String(), func(t *testing.T) {
			cfg, _ := start(t, faultEstate, sandbox.Options{ClockSkew: skew})
			p, _ := open(t, cfg)
			_, err := p.List(context.Background(), cfg.Accounts[0])
			if err == nil || !strings.Contains(err.Error(), "RequestTimeTooSkewed") {
				t.Fatalf("List: %v", err)
			}
			if api, perm := providers.APIOf(err); api != "oss:ListBuckets" || perm != "" {
				t.Errorf("List failure names api %q permission %q; want the API and no permission", api, perm)
			}
			b := p.Describe(context.Background(), providers.BucketRef{Account: cfg.Accounts[0], Name: "target", Region: "cn-hangzhou"})
			if b.Reachability.Reachable || b.Reachability.Failure != providers.FailOther || !b.IsUnknown(providers.FieldReachability) {
				t.Errorf("reachability %+v; want unknown (other), not a block", b.Reachability)
			}
			if len(b.Unknowns) < 5 {
				t.Errorf("unknowns %v", unknownFields(b))
			}
			for _, u := range b.Unknowns {
				if u.Permission != "" || !strings.Contains(u.Error, "RequestTimeTooSkewed") {
					t.Errorf("unknown %+v; want the skew and no permission", u)
				}
			}
		})
	}
}
