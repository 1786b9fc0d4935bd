package alibabaemu

import (
	"context"
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // V1 signatures
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	util "github.com/alibabacloud-go/tea-utils/v2/service"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/aliyun-oss-go-sdk/oss"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
	"github.com/reachaudit/reachaudit/providers/alibaba"
	"github.com/reachaudit/reachaudit/providers/sandbox"
)

const estate = `
alibaba:
  accounts:
    - id: "1111222233334444"
      keys:
        - {id: key-a, region: cn-hangzhou}
      buckets:
        - name: mine
          region: cn-hangzhou
          encryption: {algorithm: KMS, key: key-a}
          tags: {team: a}
    - id: "5555666677778888"
      buckets:
        - {name: theirs, region: cn-hangzhou}
`

func startEstate(t *testing.T, yaml string, opts sandbox.Options) (*Server, *alibaba.Config) {
	t.Helper()
	parsed, err := sandbox.ParseEstate("estate.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	sec, _ := parsed.Section("alibaba")
	s, err := Start(context.Background(), sec.(*Estate), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, s.Config().(*alibaba.Config)
}

func client(t *testing.T, cfg *alibaba.Config, account string, opts ...oss.ClientOption) *oss.Client {
	t.Helper()
	s := cfg.Static[account]
	c, err := oss.New(cfg.Endpoint, s.AccessKeyID, s.AccessKeySecret, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func code(err error) string {
	var se oss.ServiceError
	if errors.As(err, &se) {
		return se.Code
	}
	return ""
}

func TestOSSThroughTheSDK(t *testing.T) {
	_, cfg := startEstate(t, estate, sandbox.Options{})
	v4 := []oss.ClientOption{oss.AuthVersion(oss.AuthV4), oss.Region("cn-hangzhou")}
	c := client(t, cfg, "1111222233334444", v4...)

	list, err := c.ListBuckets()
	if err != nil || len(list.Buckets) != 1 || list.Buckets[0].Name != "mine" || list.Owner.ID != "1111222233334444" {
		t.Fatalf("ListBuckets: %+v %v", list, err)
	}
	info, err := c.GetBucketInfo("mine")
	if err != nil || info.BucketInfo.SseRule.SSEAlgorithm != "KMS" || info.BucketInfo.SseRule.KMSMasterKeyID != "key-a" ||
		info.BucketInfo.Location != "oss-cn-hangzhou" || info.BucketInfo.RedundancyType != "LRS" {
		t.Errorf("GetBucketInfo: %+v %v", info, err)
	}
	enc, err := c.GetBucketEncryption("mine")
	if err != nil || enc.SSEDefault.SSEAlgorithm != "KMS" {
		t.Errorf("GetBucketEncryption: %+v %v", enc, err)
	}
	tags, err := c.GetBucketTagging("mine")
	if err != nil || len(tags.Tags) != 1 || tags.Tags[0].Key != "team" {
		t.Errorf("GetBucketTagging: %+v %v", tags, err)
	}
	acl, err := c.GetBucketACL("mine")
	if err != nil || acl.ACL != "private" {
		t.Errorf("GetBucketACL: %+v %v", acl, err)
	}
	loc, err := c.GetBucketLocation("mine")
	if err != nil || loc != "oss-cn-hangzhou" {
		t.Errorf("GetBucketLocation: %q %v", loc, err)
	}
	if _, err := c.GetBucketPolicy("mine"); code(err) != "NoSuchBucketPolicy" {
		t.Errorf("GetBucketPolicy: %v", err)
	}
	if _, err := c.GetBucketReplication("mine"); code(err) != "NoSuchReplicationConfiguration" {
		t.Errorf("GetBucketReplication: %v", err)
	}
	if _, err := c.GetBucketInfo("theirs"); code(err) != "AccessDenied" {
		t.Errorf("another account's bucket: %v", err)
	}
	if _, err := c.GetBucketInfo("nobody"); code(err) != "NoSuchBucket" {
		t.Errorf("missing bucket: %v", err)
	}
	b, _ := c.Bucket("mine")
	if _, err := b.GetObjectMeta("absent.txt"); code(err) != "NoSuchKey" {
		t.Errorf("HEAD of an absent object (error in x-oss-err): %v", err)
	}
	if err := b.PutObject("x", strings.NewReader("data")); code(err) != "MethodNotAllowed" {
		t.Errorf("a write: %v", err)
	}
	if err := c.CreateBucket("new-bucket"); code(err) != "MethodNotAllowed" {
		t.Errorf("a bucket creation: %v", err)
	}
}

func TestOSSSignatureChecks(t *testing.T) {
	_, cfg := startEstate(t, estate, sandbox.Options{})
	acct := "1111222233334444"
	good := cfg.Static[acct]

	for _, tt := range []struct {
		name string
		opts []oss.ClientOption
		id   string
		sec  string
		want string
	}{
		{"V4 right secret", []oss.ClientOption{oss.AuthVersion(oss.AuthV4), oss.Region("cn-hangzhou")}, good.AccessKeyID, good.AccessKeySecret, ""},
		{"V4 wrong secret", []oss.ClientOption{oss.AuthVersion(oss.AuthV4), oss.Region("cn-hangzhou")}, good.AccessKeyID, "wrong", "SignatureDoesNotMatch"},
		{"V4 unknown key id", []oss.ClientOption{oss.AuthVersion(oss.AuthV4), oss.Region("cn-hangzhou")}, "LTAInobody", good.AccessKeySecret, "InvalidAccessKeyId"},
		{"V1 right secret", []oss.ClientOption{oss.AuthVersion(oss.AuthV1)}, good.AccessKeyID, good.AccessKeySecret, ""},
		{"V1 wrong secret", []oss.ClientOption{oss.AuthVersion(oss.AuthV1)}, good.AccessKeyID, "wrong", "SignatureDoesNotMatch"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := oss.New(cfg.Endpoint, tt.id, tt.sec, tt.opts...)
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.GetBucketInfo("mine")
			if code(err) != tt.want {
				t.Errorf("GetBucketInfo: %v, want %q", err, tt.want)
			}
		})
	}

	// A signature made for one query must not cover another: here a V1
	// request signed without the sub-resource it carries.
	t.Run("V1 signature leaving out a sub-resource", func(t *testing.T) {
		u := cfg.Endpoint + "/mine/?publicAccessBlock"
		date := time.Now().UTC().Format(http.TimeFormat)
		for _, tc := range []struct {
			resource string
			want     int
		}{{"/mine/?publicAccessBlock", 200}, {"/mine/", 403}} {
			h := hmac.New(sha1.New, []byte(good.AccessKeySecret))
			h.Write([]byte("GET\n\n\n" + date + "\n" + tc.resource))
			req, _ := http.NewRequest("GET", u, nil)
			req.Header.Set("Date", date)
			req.Header.Set("Authorization", "OSS "+good.AccessKeyID+":"+base64.StdEncoding.EncodeToString(h.Sum(nil)))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("signed %q: status %d, want %d", tc.resource, resp.StatusCode, tc.want)
			}
		}
	})

	t.Run("unsigned request", func(t *testing.T) {
		req, _ := http.NewRequest("GET", cfg.Endpoint+"/mine/?bucketInfo", nil)
		req.Header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Errorf("unsigned request: %d", resp.StatusCode)
		}
	})

	t.Run("skewed clock", func(t *testing.T) {
		date := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
		h := hmac.New(sha1.New, []byte(good.AccessKeySecret))
		h.Write([]byte("GET\n\n\n" + date + "\n/mine/?bucketInfo"))
		req, _ := http.NewRequest("GET", cfg.Endpoint+"/mine/?bucketInfo", nil)
		req.Header.Set("Date", date)
		req.Header.Set("Authorization", "OSS "+good.AccessKeyID+":"+base64.StdEncoding.EncodeToString(h.Sum(nil)))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Errorf("an hour-old request: %d", resp.StatusCode)
		}
	})
}

func TestKMSSignatureAndAnswers(t *testing.T) {
	_, cfg := startEstate(t, estate, sandbox.Options{})
	u, _ := url.Parse(cfg.KMSEndpoint)
	mk := func(account, secret string) *kms.Client {
		s := cfg.Static[account]
		if secret == "" {
			secret = s.AccessKeySecret
		}
		c, err := kms.NewClient(&openapi.Config{AccessKeyId: tea.String(s.AccessKeyID), AccessKeySecret: tea.String(secret),
			RegionId: tea.String("cn-hangzhou"), Endpoint: tea.String(u.Host), Protocol: tea.String("http")})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	errCode := func(err error) string {
		var se *tea.SDKError
		if errors.As(err, &se) {
			return tea.StringValue(se.Code)
		}
		return ""
	}
	out, err := mk("1111222233334444", "").DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String("key-a")})
	if err != nil {
		t.Fatal(err)
	}
	m := out.Body.KeyMetadata
	if tea.StringValue(m.Arn) != "acs:kms:cn-hangzhou:1111222233334444:key/key-a" || tea.StringValue(m.KeyState) != "Enabled" ||
		tea.StringValue(m.Origin) != "Aliyun_KMS" || tea.StringValue(m.Creator) != "1111222233334444" {
		t.Errorf("metadata %+v", m)
	}
	byARN, err := mk("1111222233334444", "").DescribeKey(&kms.DescribeKeyRequest{KeyId: m.Arn})
	if err != nil || tea.StringValue(byARN.Body.KeyMetadata.KeyId) != "key-a" {
		t.Errorf("by ARN: %v", err)
	}
	if _, err := mk("1111222233334444", "wrong").DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String("key-a")}); errCode(err) != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret: %v", err)
	}
	if _, err := mk("5555666677778888", "").DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String("key-a")}); errCode(err) != "Forbidden.KeyNotFound" {
		t.Errorf("another account's key: %v", err)
	}
}

func TestEstateValidate(t *testing.T) {
	tests := []struct {
		name, yaml, field string
	}{
		{"bad account", `accounts: [{id: "12"}]`, "accounts[0].id"},
		{"missing region", `accounts: [{id: "1111222233334444", buckets: [{name: abc}]}]`, "accounts[0].buckets[0].region"},
		{"oss- prefix", `accounts: [{id: "1111222233334444", buckets: [{name: abc, region: oss-cn-hangzhou}]}]`, "accounts[0].buckets[0].region"},
		{"unknown key", `accounts: [{id: "1111222233334444", buckets: [{name: abc, region: cn-hangzhou, encryption: {algorithm: KMS, key: nope}}]}]`, "accounts[0].buckets[0].encryption.key"},
		{"key in another region", `accounts: [{id: "1111222233334444", keys: [{id: k1, region: us-west-1}], buckets: [{name: abc, region: cn-hangzhou, encryption: {algorithm: KMS, key: k1}}]}]`, "accounts[0].buckets[0].encryption.key"},
		{"bad algorithm", `accounts: [{id: "1111222233334444", buckets: [{name: abc, region: cn-hangzhou, encryption: {algorithm: aws:kms}}]}]`, "accounts[0].buckets[0].encryption.algorithm"},
		{"bad acl", `accounts: [{id: "1111222233334444", buckets: [{name: abc, region: cn-hangzhou, acl: authenticated-read}]}]`, "accounts[0].buckets[0].acl"},
		{"bad deny", `accounts: [{id: "1111222233334444", buckets: [{name: abc, region: cn-hangzhou, deny: [PutObject]}]}]`, "accounts[0].buckets[0].deny[0]"},
		{"duplicate bucket", `accounts: [{id: "1111222233334444", buckets: [{name: abc, region: cn-hangzhou}, {name: abc, region: cn-hangzhou}]}]`, "accounts[0].buckets[1].name"},
		{"expiry on a KMS-made key", `accounts: [{id: "1111222233334444", keys: [{id: k1, region: cn-hangzhou, material_expire_time: "+1d"}]}]`, "accounts[0].keys[0].material_expire_time"},
		{"bad state", `accounts: [{id: "1111222233334444", keys: [{id: k1, region: cn-hangzhou, state: Gone}]}]`, "accounts[0].keys[0].state"},
		{"unknown field", `accounts: [{id: "1111222233334444", buckets: [{name: abc, region: cn-hangzhou, public: true}]}]`, ""},
		{"directory member not 16 digits", `resource_directory: {members: [{id: "12"}]}`, "resource_directory.members[0].id"},
		{"directory member status", `resource_directory: {members: [{id: "1111222233334444", status: Active}]}`, "resource_directory.members[0].status"},
		{"directory deny", `resource_directory: {deny: [GetAccount]}`, "resource_directory.deny[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e Estate
			err := yamlfile.Decode("estate.yaml", []byte(tt.yaml), &e)
			var ye *yamlfile.Error
			if !errors.As(err, &ye) {
				t.Fatalf("got %v", err)
			}
			if tt.field != "" && ye.Field != tt.field {
				t.Errorf("field %q, want %q: %v", ye.Field, tt.field, err)
			}
		})
	}
}

func TestFaultsAndRequestCount(t *testing.T) {
	s, cfg := startEstate(t, estate, sandbox.Options{Faults: sandbox.NewFaults(
		sandbox.Fault{Op: "GetBucketTags", Kind: sandbox.FaultThrottle},
		sandbox.Fault{Op: "GetBucketAcl", Kind: sandbox.FaultServer},
		sandbox.Fault{Op: "GetBucketInfo", Kind: sandbox.FaultMalformed},
	)})
	c := client(t, cfg, "1111222233334444", oss.AuthVersion(oss.AuthV4), oss.Region("cn-hangzhou"))
	var se oss.ServiceError
	if _, err := c.GetBucketTagging("mine"); !errors.As(err, &se) || se.StatusCode != 503 || se.Code != "Throttling" {
		t.Errorf("throttle: %v", err)
	}
	if _, err := c.GetBucketACL("mine"); !errors.As(err, &se) || se.StatusCode != 500 || se.Code != "InternalError" {
		t.Errorf("5xx: %v", err)
	}
	if _, err := c.GetBucketInfo("mine"); err == nil || errors.As(err, &se) {
		t.Errorf("malformed: %v", err)
	}
	if s.Requests() != 3 {
		t.Errorf("requests %d, want 3", s.Requests())
	}
}

// Virtual-host addressing (bucket.localhost), as the SDK uses it for a
// named endpoint; the dialer stands in for DNS.
func TestVirtualHostAddressing(t *testing.T) {
	_, cfg := startEstate(t, estate, sandbox.Options{})
	u, _ := url.Parse(cfg.Endpoint)
	port := u.Port()
	dialer := &net.Dialer{}
	hc := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, "127.0.0.1:"+port)
	}}}
	s := cfg.Static["1111222233334444"]
	c, err := oss.New("http://localhost:"+port, s.AccessKeyID, s.AccessKeySecret,
		oss.AuthVersion(oss.AuthV4), oss.Region("cn-hangzhou"), oss.HTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.GetBucketInfo("mine")
	if err != nil || info.BucketInfo.Name != "mine" {
		t.Fatalf("GetBucketInfo by virtual host: %+v %v", info, err)
	}
	b, _ := c.Bucket("mine")
	if _, err := b.ListObjectsV2(oss.MaxKeys(1)); err != nil {
		t.Errorf("ListObjectsV2 by virtual host: %v", err)
	}
}

// addParam adds a query parameter to each request after the SDK signed it.
type addParam struct{ param string }

func (a addParam) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if r.URL.RawQuery != "" {
		r.URL.RawQuery += "&"
	}
	r.URL.RawQuery += a.param
	return http.DefaultTransport.RoundTrip(r)
}

// A V4 signature covers every query parameter: a sub-resource added after
// signing, which the signature leaves out, is refused.
func TestV4SignatureMustCoverEverySubResource(t *testing.T) {
	_, cfg := startEstate(t, estate, sandbox.Options{})
	s := cfg.Static["1111222233334444"]
	for _, tt := range []struct {
		param, want string
	}{{"", ""}, {"policyStatus", "SignatureDoesNotMatch"}, {"publicAccessBlock", "SignatureDoesNotMatch"}} {
		hc := http.DefaultClient
		if tt.param != "" {
			hc = &http.Client{Transport: addParam{tt.param}}
		}
		c, err := oss.New(cfg.Endpoint, s.AccessKeyID, s.AccessKeySecret,
			oss.AuthVersion(oss.AuthV4), oss.Region("cn-hangzhou"), oss.HTTPClient(hc))
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetBucketVersioning("mine")
		if code(err) != tt.want {
			t.Errorf("?versioning with %q added after signing: %v, want %q", tt.param, err, tt.want)
		}
	}
}

// GetBucketWorm through the SDK's own method: a locked policy for
// object_lock: true, NoSuchWORMConfiguration otherwise; deny and faults
// apply to it as to every call, after the signature is checked.
func TestGetBucketWorm(t *testing.T) {
	_, cfg := startEstate(t, `
alibaba:
  accounts:
    - id: "1111222233334444"
      buckets:
        - {name: locked, region: cn-hangzhou, object_lock: true}
        - {name: plain, region: cn-hangzhou}
        - {name: denied, region: cn-hangzhou, object_lock: true, deny: [GetBucketWorm]}
        - {name: flaky, region: cn-hangzhou, object_lock: true}
`, sandbox.Options{Faults: sandbox.NewFaults(sandbox.Fault{Op: "GetBucketWorm", Bucket: "flaky", Kind: sandbox.FaultThrottle})})
	v4 := []oss.ClientOption{oss.AuthVersion(oss.AuthV4), oss.Region("cn-hangzhou")}
	c := client(t, cfg, "1111222233334444", v4...)
	w, err := c.GetBucketWorm("locked")
	if err != nil || w.State != "Locked" || w.RetentionPeriodInDays != wormRetentionDays || w.WormId == "" {
		t.Errorf("locked: %+v %v", w, err)
	}
	for bucket, want := range map[string]string{"plain": "NoSuchWORMConfiguration", "denied": "AccessDenied", "flaky": "Throttling"} {
		if _, err := c.GetBucketWorm(bucket); code(err) != want {
			t.Errorf("%s: %v, want %s", bucket, err, want)
		}
	}
	s := cfg.Static["1111222233334444"]
	wrong, err := oss.New(cfg.Endpoint, s.AccessKeyID, "wrong", v4...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.GetBucketWorm("locked"); code(err) != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret: %v", err)
	}
	v1 := client(t, cfg, "1111222233334444", oss.AuthVersion(oss.AuthV1))
	if w, err := v1.GetBucketWorm("locked"); err != nil || w.State != "Locked" {
		t.Errorf("V1 (worm is a signed sub-resource): %+v %v", w, err)
	}
}

// ListAccounts through the OpenAPI client's generic CallApi: signed with
// ACS3-HMAC-SHA256, answered to the management account only, paged.
func TestResourceDirectoryListAccounts(t *testing.T) {
	_, cfg := startEstate(t, estate+"  resource_directory:\n    members: [{id: \"1111222233334444\"}, {id: \"5555666677778888\", status: InviteSuccess}, {id: \"9999000011112222\", status: CreateFailed}]\n", sandbox.Options{})
	u, _ := url.Parse(cfg.ResourceManagerEndpoint)
	list := func(account, secret, page string) (map[string]any, error) {
		s := cfg.Static[account]
		if secret == "" {
			secret = s.AccessKeySecret
		}
		c, err := openapi.NewClient(&openapi.Config{AccessKeyId: tea.String(s.AccessKeyID), AccessKeySecret: tea.String(secret),
			RegionId: tea.String("cn-hangzhou"), Endpoint: tea.String(u.Host), Protocol: tea.String("http")})
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.CallApi(&openapi.Params{Action: tea.String("ListAccounts"), Version: tea.String("2020-03-31"),
			Protocol: tea.String("http"), Pathname: tea.String("/"), Method: tea.String("POST"), AuthType: tea.String("AK"),
			Style: tea.String("RPC"), ReqBodyType: tea.String("formData"), BodyType: tea.String("json")},
			&openapi.OpenApiRequest{Query: map[string]*string{"PageNumber": tea.String(page), "PageSize": tea.String("2")}}, &util.RuntimeOptions{})
		if err != nil {
			return nil, err
		}
		body, _ := res["body"].(map[string]any)
		return body, nil
	}
	errCode := func(err error) string {
		var se *tea.SDKError
		if errors.As(err, &se) {
			return tea.StringValue(se.Code)
		}
		return ""
	}
	var got []string
	for _, page := range []string{"1", "2"} {
		body, err := list("1111222233334444", "", page)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(body["TotalCount"]) != "3" {
			t.Errorf("TotalCount %v", body["TotalCount"])
		}
		accts, _ := body["Accounts"].(map[string]any)["Account"].([]any)
		for _, a := range accts {
			m := a.(map[string]any)
			got = append(got, m["AccountId"].(string)+":"+m["Status"].(string))
		}
	}
	if strings.Join(got, ",") != "1111222233334444:CreateSuccess,5555666677778888:InviteSuccess,9999000011112222:CreateFailed" {
		t.Errorf("members %v", got)
	}
	if _, err := list("1111222233334444", "wrong", "1"); errCode(err) != "SignatureDoesNotMatch" {
		t.Errorf("wrong secret: %v", err)
	}
	if _, err := list("5555666677778888", "", "1"); errCode(err) != "NoPermission" {
		t.Errorf("a member, not the management account: %v", err)
	}
}
