package awsemu

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/reachaudit/reachaudit/providers/sandbox"
)

// TestVerifierAgreesWithSDKSigner signs awkward requests with the SDK's
// own SigV4 signer and checks that the verifier accepts them, and refuses
// them once anything signed changes.
func TestVerifierAgreesWithSDKSigner(t *testing.T) {
	w, err := build(&Estate{Accounts: []Account{{ID: acctProd}}}, testNow)
	if err != nil {
		t.Fatal(err)
	}
	u := w.accounts[acctProd].user
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	tests := []struct {
		name, method, target string
		body                 string
		service              string
	}{
		{"list buckets", "GET", "http://127.0.0.1:9000/?x-id=ListBuckets", "", "s3"},
		{"sub-resource without value", "GET", "http://127.0.0.1:9000/alpha?encryption", "", "s3"},
		{"query needing encoding", "GET", "http://127.0.0.1:9000/alpha?list-type=2&prefix=a%20b%2Fc&start-after=%E2%82%AC", "", "s3"},
		{"key with spaces and unicode", "HEAD", "http://127.0.0.1:9000/alpha/dir/a%20b%E2%82%AC%2B.txt", "", "s3"},
		{"repeated query keys", "GET", "http://127.0.0.1:9000/alpha?b=2&a=1&b=1", "", "s3"},
		{"kms json body", "POST", "http://127.0.0.1:9000/", `{"KeyId":"alias/aws/s3"}`, "kms"},
		{"sts form body", "POST", "http://127.0.0.1:9000/", "Action=GetCallerIdentity&Version=2011-06-15", "sts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sign := func() *http.Request {
				r := httptest.NewRequest(tt.method, tt.target, bytes.NewReader([]byte(tt.body)))
				r.Header.Set("Content-Type", "application/x-amz-json-1.1")
				r.Header.Set("X-Amz-Meta-Note", "  two   spaces ")
				hash := hashHex([]byte(tt.body))
				if tt.service == "s3" {
					r.Header.Set("X-Amz-Content-Sha256", hash)
				}
				s := signer
				if tt.service != "s3" {
					s = v4.NewSigner()
				}
				err := s.SignHTTP(context.Background(), aws.Credentials{AccessKeyID: u.akid, SecretAccessKey: u.secret},
					r, hash, tt.service, "us-east-1", time.Now())
				if err != nil {
					t.Fatal(err)
				}
				return r
			}
			if res := w.verify(sign(), []byte(tt.body), tt.service); res.fault != authOK {
				t.Fatalf("refused: %d %s\n%s", res.fault, res.detail, res.canonical)
			}
			r := sign()
			r.Header.Set("X-Amz-Meta-Note", "tampered")
			if res := w.verify(r, []byte(tt.body), tt.service); res.fault != authBadSignature {
				t.Fatalf("tampered header: fault %d; want a signature mismatch", res.fault)
			}
			r = sign()
			r.URL.RawQuery += "&extra=1"
			if res := w.verify(r, []byte(tt.body), tt.service); res.fault != authBadSignature {
				t.Fatalf("tampered query: fault %d; want a signature mismatch", res.fault)
			}
			if tt.body != "" {
				r = sign()
				if res := w.verify(r, []byte(tt.body+" "), tt.service); res.fault == authOK {
					t.Fatal("tampered body accepted")
				}
			}
		})
	}
}

// tamper changes a signed header after the SDK has signed the request.
type tamper struct{ rt http.RoundTripper }

func (t tamper) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	// Change the last digit of the seconds to another digit: setting it
	// to a fixed one would leave one request in ten untouched.
	d := r.Header.Get("X-Amz-Date")
	last := "9"
	if d[14] == '9' {
		last = "8"
	}
	r.Header.Set("X-Amz-Date", d[:14]+last+"Z")
	return t.rt.RoundTrip(r)
}

func TestSignaturesAreVerified(t *testing.T) {
	srv := startTestEstate(t, sandbox.Options{})
	good, _ := srv.AccountCredentials(acctProd)
	wrongSecret := staticCreds(good.AccessKeyID, good.SecretAccessKey[:39]+"x")
	unknownKey := staticCreds("AKIAUNKNOWNUNKNOWN00", good.SecretAccessKey)
	tampered := &http.Client{Transport: tamper{http.DefaultTransport}}

	s3call := func(cp aws.CredentialsProvider, opts ...func(*s3.Options)) error {
		_, err := s3Client(srv, cp, "us-east-1", opts...).GetBucketEncryption(ctx(t), &s3.GetBucketEncryptionInput{Bucket: aws.String("alpha")})
		return err
	}
	kmscall := func(cp aws.CredentialsProvider, opts ...func(*kms.Options)) error {
		c := kms.New(kms.Options{Region: "us-east-1", Credentials: cp, BaseEndpoint: aws.String(srv.URL()), RetryMaxAttempts: 1}, opts...)
		_, err := c.DescribeKey(ctx(t), &kms.DescribeKeyInput{KeyId: aws.String(keyCMK)})
		return err
	}
	stscall := func(cp aws.CredentialsProvider, opts ...func(*sts.Options)) error {
		c := sts.New(sts.Options{Region: "us-east-1", Credentials: cp, BaseEndpoint: aws.String(srv.URL()), RetryMaxAttempts: 1}, opts...)
		_, err := c.GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
		return err
	}
	tests := []struct {
		name   string
		err    error
		code   string
		status int
	}{
		{"s3 good", s3call(creds(t, srv, acctProd)), "", 200},
		{"s3 wrong secret", s3call(wrongSecret), "SignatureDoesNotMatch", 403},
		{"s3 unknown key", s3call(unknownKey), "InvalidAccessKeyId", 403},
		{"s3 tampered header", s3call(creds(t, srv, acctProd), func(o *s3.Options) { o.HTTPClient = tampered }), "SignatureDoesNotMatch", 403},
		{"kms good", kmscall(creds(t, srv, acctProd)), "", 200},
		{"kms wrong secret", kmscall(wrongSecret), "InvalidSignatureException", 400},
		{"kms unknown key", kmscall(unknownKey), "UnrecognizedClientException", 400},
		{"kms tampered header", kmscall(creds(t, srv, acctProd), func(o *kms.Options) { o.HTTPClient = tampered }), "InvalidSignatureException", 400},
		{"sts good", stscall(creds(t, srv, acctProd)), "", 200},
		{"sts wrong secret", stscall(wrongSecret), "SignatureDoesNotMatch", 403},
		{"sts unknown key", stscall(unknownKey), "InvalidClientTokenId", 403},
		{"sts tampered header", stscall(creds(t, srv, acctProd), func(o *sts.Options) { o.HTTPClient = tampered }), "SignatureDoesNotMatch", 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantError(t, tt.err, tt.code, tt.status) })
	}
}

func TestUnsignedRequestsAreRefused(t *testing.T) {
	srv := startTestEstate(t, sandbox.Options{})
	for _, tt := range []struct {
		name, method, path, target string
		status                     int
		code                       string
	}{
		{"s3 anonymous", "GET", "/alpha?encryption", "", 403, "<Code>AccessDenied</Code>"},
		{"kms anonymous", "POST", "/", "TrentService.DescribeKey", 400, "MissingAuthenticationTokenException"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, srv.URL()+tt.path, bytes.NewReader([]byte("{}")))
			if tt.target != "" {
				req.Header.Set("X-Amz-Target", tt.target)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var buf bytes.Buffer
			buf.ReadFrom(resp.Body)
			if resp.StatusCode != tt.status || !bytes.Contains(buf.Bytes(), []byte(tt.code)) {
				t.Fatalf("%d %s", resp.StatusCode, buf.String())
			}
		})
	}
}

func TestAssumeRole(t *testing.T) {
	srv := startTestEstate(t, sandbox.Options{})
	org := srv.OrganisationCredentials()
	orgSTS := stsClient(srv, staticCreds(org.AccessKeyID, org.SecretAccessKey))

	id, err := orgSTS.GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *id.Account == acctProd || *id.Account == acctData {
		t.Fatalf("organisation key belongs to estate account %s", *id.Account)
	}

	t.Run("organisation key assumes a role in each organisation account", func(t *testing.T) {
		for acct, bucket := range map[string]string{acctProd: "alpha", acctData: "bravo-in-data"} {
			role := "arn:aws:iam::" + acct + ":role/AnyName"
			cp := aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(orgSTS, role))
			got, err := stsClient(srv, cp).GetCallerIdentity(ctx(t), &sts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatal(err)
			}
			if *got.Account != acct || *got.Arn != "arn:aws:sts::"+acct+":assumed-role/AnyName/"+sessionPrefix(*got.Arn) {
				t.Errorf("identity %s %s", *got.Account, *got.Arn)
			}
			out, err := s3Client(srv, cp, "us-east-1").ListBuckets(ctx(t), &s3.ListBucketsInput{})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Buckets) == 0 || *out.Buckets[0].Name != bucket {
				t.Errorf("%s lists %+v", acct, out.Buckets)
			}
			if _, err := kmsClient(srv, cp, "us-east-1").DescribeKey(ctx(t), &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/s3")}); err != nil {
				t.Error(err)
			}
		}
	})

	t.Run("the partner account is outside the organisation", func(t *testing.T) {
		_, err := orgSTS.AssumeRole(ctx(t), &sts.AssumeRoleInput{
			RoleArn: aws.String("arn:aws:iam::" + acctPartner + ":role/ReachAuditReadOnly"), RoleSessionName: aws.String("scan")})
		wantError(t, err, "AccessDenied", 403)
	})

	t.Run("an account key cannot assume a role in another account", func(t *testing.T) {
		_, err := stsClient(srv, creds(t, srv, acctProd)).AssumeRole(ctx(t), &sts.AssumeRoleInput{
			RoleArn: aws.String("arn:aws:iam::" + acctData + ":role/ReachAuditReadOnly"), RoleSessionName: aws.String("scan")})
		wantError(t, err, "AccessDenied", 403)
	})

	t.Run("temporary credentials need their session token", func(t *testing.T) {
		out, err := orgSTS.AssumeRole(ctx(t), &sts.AssumeRoleInput{
			RoleArn: aws.String("arn:aws:iam::" + acctProd + ":role/R"), RoleSessionName: aws.String("scan")})
		if err != nil {
			t.Fatal(err)
		}
		c := out.Credentials
		if out.Credentials.Expiration.Before(time.Now().Add(50 * time.Minute)) {
			t.Errorf("expires %v", c.Expiration)
		}
		noToken := staticCreds(*c.AccessKeyId, *c.SecretAccessKey)
		_, err = s3Client(srv, noToken, "us-east-1").ListBuckets(ctx(t), &s3.ListBucketsInput{})
		wantError(t, err, "InvalidToken", 400)
	})

	t.Run("bad role ARN is a validation error", func(t *testing.T) {
		_, err := orgSTS.AssumeRole(ctx(t), &sts.AssumeRoleInput{RoleArn: aws.String("role/x"), RoleSessionName: aws.String("scan")})
		wantError(t, err, "ValidationError", 400)
	})
}

func sessionPrefix(arn string) string {
	for i := len(arn) - 1; i >= 0; i-- {
		if arn[i] == '/' {
			return arn[i+1:]
		}
	}
	return ""
}
