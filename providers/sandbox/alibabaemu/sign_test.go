package alibabaemu

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/aliyun-oss-go-sdk/oss"

	"github.com/reachaudit/reachaudit/providers/sandbox"
)

// afterSigning changes each request after the SDK signed it, as a
// man in the middle would.
type afterSigning func(*http.Request)

func (f afterSigning) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	f(r)
	return http.DefaultTransport.RoundTrip(r)
}

func setBody(r *http.Request, body string) {
	r.Body = io.NopCloser(strings.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
}

func ossStatus(err error) (int, string) {
	var se oss.ServiceError
	if errors.As(err, &se) {
		return se.StatusCode, se.Code
	}
	return 0, ""
}

// The OSS V4 verifier, driven by the real SDK: every way a request can
// differ from what was signed, or be signed at the wrong time, is refused
// with OSS's own status and code; the untouched request passes.
func TestOSSV4Verifier(t *testing.T) {
	const minute = time.Minute
	for _, tt := range []struct {
		name   string
		skew   time.Duration // the server's clock against the client's
		date   time.Duration // the client's x-oss-date against its clock
		tamper func(*http.Request)
		secret string
		status int
		code   string
		msg    string // which check refused it
	}{
		{name: "untouched", status: 200},
		{name: "server 14 minutes ahead", skew: 14 * minute, status: 200},
		{name: "server 14 minutes behind", skew: -14 * minute, status: 200},
		{name: "server 16 minutes ahead", skew: 16 * minute, status: 403, code: "RequestTimeTooSkewed"},
		{name: "server 16 minutes behind", skew: -16 * minute, status: 403, code: "RequestTimeTooSkewed"},
		{name: "client clock 20 minutes fast", date: 20 * minute, status: 403, code: "RequestTimeTooSkewed"},
		{name: "client clock 20 minutes slow", date: -20 * minute, status: 403, code: "RequestTimeTooSkewed"},
		{name: "client clock 10 minutes slow", date: -10 * minute, status: 200},
		{name: "signed date changed", tamper: func(r *http.Request) {
			// The SDK signs the Date header when it sends no x-oss-date.
			d, err := http.ParseTime(r.Header.Get("Date"))
			if err != nil || r.Header.Get("X-Oss-Date") != "" {
				t.Fatalf("the SDK signs another time header: %v %v", r.Header, err)
			}
			r.Header.Set("Date", d.Add(-time.Second).UTC().Format(http.TimeFormat))
		}, status: 403, code: "SignatureDoesNotMatch"},
		{name: "unsigned x-oss header added", tamper: func(r *http.Request) { r.Header.Set("X-Oss-Meta-Extra", "1") },
			status: 403, code: "SignatureDoesNotMatch"},
		{name: "payload hash of another body", tamper: func(r *http.Request) {
			sum := sha256.Sum256([]byte("another body"))
			r.Header.Set("X-Oss-Content-Sha256", hex.EncodeToString(sum[:]))
			setBody(r, "this body")
		}, status: 400, code: "InvalidArgument", msg: "x-oss-content-sha256"},
		{name: "payload hash missing", tamper: func(r *http.Request) { r.Header.Del("X-Oss-Content-Sha256") },
			status: 400, code: "InvalidArgument"},
		{name: "query changed", tamper: func(r *http.Request) { r.URL.RawQuery = "acl" }, status: 403, code: "SignatureDoesNotMatch"},
		{name: "wrong secret", secret: "wrong", status: 403, code: "SignatureDoesNotMatch"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, cfg := startEstate(t, estate, sandbox.Options{ClockSkew: tt.skew})
			s := cfg.Static["1111222233334444"]
			secret := s.AccessKeySecret
			if tt.secret != "" {
				secret = tt.secret
			}
			hc := http.DefaultClient
			if tt.tamper != nil {
				hc = &http.Client{Transport: afterSigning(tt.tamper)}
			}
			c, err := oss.New(cfg.Endpoint, s.AccessKeyID, secret, oss.AuthVersion(oss.AuthV4), oss.Region("cn-hangzhou"), oss.HTTPClient(hc))
			if err != nil {
				t.Fatal(err)
			}
			var opts []oss.Option
			if tt.date != 0 {
				// A client whose clock is off signs its own time: the
				// SDK signs whatever x-oss-date it is given.
				opts = append(opts, oss.SetHeader("X-Oss-Date", time.Now().UTC().Add(tt.date).Format("20060102T150405Z")))
			}
			_, err = c.GetBucketInfo("mine", opts...)
			status, code := ossStatus(err)
			if err == nil {
				status = 200
			}
			if status != tt.status || code != tt.code || (tt.msg != "" && !strings.Contains(err.Error(), tt.msg)) {
				t.Errorf("GetBucketInfo: %d %s (%v), want %d %s", status, code, err, tt.status, tt.code)
			}
		})
	}
}

// The ACS3 verifier, driven by the real KMS SDK through a proxy that
// changes the signed request: each change, and a clock beyond the
// allowed window either way, is refused with the OpenAPI's own code.
func TestACS3Verifier(t *testing.T) {
	const minute = time.Minute
	for _, tt := range []struct {
		name   string
		skew   time.Duration
		tamper func(*http.Request)
		secret string
		status int
		code   string
		msg    string // which check refused it
	}{
		{name: "untouched", status: 200},
		{name: "server 14 minutes ahead", skew: 14 * minute, status: 200},
		{name: "server 14 minutes behind", skew: -14 * minute, status: 200},
		{name: "server 16 minutes ahead", skew: 16 * minute, status: 400, code: "InvalidTimeStamp.Expired"},
		{name: "server 16 minutes behind", skew: -16 * minute, status: 400, code: "InvalidTimeStamp.Expired"},
		{name: "signed nonce changed", tamper: func(r *http.Request) {
			r.Header.Set("X-Acs-Signature-Nonce", r.Header.Get("X-Acs-Signature-Nonce")+"0")
		}, status: 400, code: "SignatureDoesNotMatch"},
		{name: "signed action changed", tamper: func(r *http.Request) { r.Header.Set("X-Acs-Action", "ListKeys") },
			status: 400, code: "SignatureDoesNotMatch"},
		{name: "body added, the empty body's hash kept", tamper: func(r *http.Request) {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			setBody(r, "KeyId=key-b")
		}, status: 400, code: "SignatureDoesNotMatch", msg: "x-acs-content-sha256 does not match"},
		{name: "body hash changed to match the new body", tamper: func(r *http.Request) {
			body := "KeyId=key-b"
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			sum := sha256.Sum256([]byte(body))
			r.Header.Set("X-Acs-Content-Sha256", hex.EncodeToString(sum[:]))
			setBody(r, body)
		}, status: 400, code: "SignatureDoesNotMatch", msg: "Specified signature is not matched"},
		{name: "unsigned x-acs header added", tamper: func(r *http.Request) { r.Header.Set("X-Acs-Extra", "1") },
			status: 400, code: "IncompleteSignature", msg: "x-acs-extra must be signed"},
		{name: "host left out of the signed headers", tamper: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "host;", "", 1))
		}, status: 400, code: "IncompleteSignature", msg: "host header must be signed"},
		{name: "wrong secret", secret: "wrong", status: 400, code: "SignatureDoesNotMatch"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, cfg := startEstate(t, estate, sandbox.Options{ClockSkew: tt.skew})
			target, _ := url.Parse(cfg.KMSEndpoint)
			endpoint := target.Host
			if tt.tamper != nil {
				proxy := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
					pr.SetURL(target)
					pr.Out.Host = pr.In.Host // the signed host is the one the SDK dialled
					if pr.Out.Body != nil {
						b, _ := io.ReadAll(pr.Out.Body)
						pr.Out.Body = io.NopCloser(bytes.NewReader(b))
					}
					tt.tamper(pr.Out)
				}})
				t.Cleanup(proxy.Close)
				u, _ := url.Parse(proxy.URL)
				endpoint = u.Host
			}
			s := cfg.Static["1111222233334444"]
			secret := s.AccessKeySecret
			if tt.secret != "" {
				secret = tt.secret
			}
			c, err := kms.NewClient(&openapi.Config{AccessKeyId: tea.String(s.AccessKeyID), AccessKeySecret: tea.String(secret),
				RegionId: tea.String("cn-hangzhou"), Endpoint: tea.String(endpoint), Protocol: tea.String("http")})
			if err != nil {
				t.Fatal(err)
			}
			out, err := c.DescribeKey(&kms.DescribeKeyRequest{KeyId: tea.String("key-a")})
			status, code := 200, ""
			var se *tea.SDKError
			switch {
			case errors.As(err, &se):
				status, code = tea.IntValue(se.StatusCode), tea.StringValue(se.Code)
			case err != nil:
				t.Fatal(err)
			case tea.StringValue(out.Body.KeyMetadata.KeyId) != "key-a":
				t.Errorf("answer %+v", out.Body)
			}
			if status != tt.status || code != tt.code || (tt.msg != "" && !strings.Contains(err.Error(), tt.msg)) {
				t.Errorf("DescribeKey: %d %s (%v), want %d %s", status, code, err, tt.status, tt.code)
			}
		})
	}
}
