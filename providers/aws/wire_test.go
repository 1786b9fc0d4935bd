package aws

// These tests drive the plugin through the real SDK against an HTTP server
// that answers in S3's REST-XML and KMS's JSON wire shapes, to reach error
// paths (a malformed body, a timeout, a given error code on a given call)
// precisely. Whole-estate behaviour is tested against the sandbox emulator
// in sandbox_test.go.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reachaudit/reachaudit/providers"
)

func TestMain(m *testing.M) {
	// Retries keep their count but not their real-world pauses.
	maxBackoff = 20 * time.Millisecond
	os.Exit(m.Run())
}

const testAccount = "111122223333"

// answer is one canned HTTP answer.
type answer struct {
	status int
	body   string
	// hang holds the request until the client gives up.
	hang bool
}

// wire is an S3/KMS/STS endpoint with per-operation answers. An operation
// without an answer for the bucket gets a healthy default.
type wire struct {
	t       *testing.T
	mu      sync.Mutex
	answers map[string][]answer // "op" or "op bucket"; consumed in order, the last one sticks
	seen    map[string]int      // requests by "op bucket"
	buckets []string            // ListBuckets
	regions map[string]string   // BucketRegion for ListBuckets; absent: not returned
	keys    map[string]string   // DescribeKey metadata JSON by key id
	auth    []string            // "op credential-scope" of each request
	roles   []string            // "RoleArn ExternalId RoleSessionName" of each AssumeRole
	srv     *httptest.Server
}

func newWire(t *testing.T) *wire {
	w := &wire{t: t, answers: map[string][]answer{}, seen: map[string]int{}, regions: map[string]string{}, keys: map[string]string{}}
	w.srv = httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *wire) on(op string, a ...answer) *wire {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.answers[op] = append(w.answers[op], a...)
	return w
}

func (w *wire) count(op, bucket string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen[op+" "+bucket]
}

var subresources = []struct{ query, op string }{
	{"location", "GetBucketLocation"}, {"encryption", "GetBucketEncryption"}, {"replication", "GetBucketReplication"},
	{"versioning", "GetBucketVersioning"}, {"object-lock", "GetObjectLockConfiguration"},
	{"publicAccessBlock", "GetPublicAccessBlock"}, {"policyStatus", "GetBucketPolicyStatus"},
	{"acl", "GetBucketAcl"}, {"tagging", "GetBucketTagging"},
}

// operation names the request as AWS names the operation.
func operation(r *http.Request) (op, bucket string) {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return strings.TrimPrefix(t, "TrentService."), ""
	}
	if r.Method == http.MethodPost {
		_ = r.ParseForm()
		return r.Form.Get("Action"), ""
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	q := r.URL.Query()
	switch {
	case bucket == "":
		return "ListBuckets", ""
	case r.Method == http.MethodHead && key != "":
		return "HeadObject", bucket
	case r.Method == http.MethodHead:
		return "HeadBucket", bucket
	case q.Get("list-type") == "2":
		return "ListObjectsV2", bucket
	}
	for _, s := range subresources {
		if q.Has(s.query) {
			return s.op, bucket
		}
	}
	return "Unknown", bucket
}

func (w *wire) serve(rw http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=") {
		w.t.Errorf("request without SigV4 authorisation: %s %s", r.Method, r.URL)
	}
	op, bucket := operation(r)
	if got := r.Header.Get("X-Amz-Expected-Bucket-Owner"); bucket != "" && got != testAccount {
		w.t.Errorf("%s on %s with expected bucket owner %q, want %s", op, bucket, got, testAccount)
	}
	w.mu.Lock()
	w.seen[op+" "+bucket]++
	w.auth = append(w.auth, op+" "+strings.Fields(strings.TrimPrefix(auth, "AWS4-HMAC-SHA256 Credential="))[0])
	if op == "AssumeRole" {
		w.roles = append(w.roles, r.Form.Get("RoleArn")+" "+r.Form.Get("ExternalId")+" "+r.Form.Get("RoleSessionName"))
	}
	a, ok := w.next(op + " " + bucket)
	if !ok {
		a, ok = w.next(op)
	}
	w.mu.Unlock()
	if !ok {
		a = w.healthy(op, bucket, r)
	}
	if a.hang {
		<-r.Context().Done()
		return
	}
	if strings.HasPrefix(a.body, "{") {
		rw.Header().Set("Content-Type", "application/x-amz-json-1.1")
	} else if a.body != "" {
		rw.Header().Set("Content-Type", "application/xml")
	}
	rw.Header().Set("x-amz-request-id", "0123456789ABCDEF")
	rw.WriteHeader(a.status)
	if r.Method != http.MethodHead {
		_, _ = rw.Write([]byte(a.body))
	}
}

// next pops the answer queued for k; the last one stays. Callers hold mu.
func (w *wire) next(k string) (answer, bool) {
	q := w.answers[k]
	if len(q) == 0 {
		return answer{}, false
	}
	if len(q) > 1 {
		w.answers[k] = q[1:]
	}
	return q[0], true
}

const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

func s3Error(status int, code, msg string) answer {
	return answer{status: status, body: xmlHeader + fmt.Sprintf(
		`<Error><Code>%s</Code><Message>%s</Message><RequestId>0123456789ABCDEF</RequestId><HostId>aG9zdA==</HostId></Error>`, code, msg)}
}

func kmsError(code, msg string) answer {
	return answer{status: 400, body: fmt.Sprintf(`{"__type":"%s","message":"%s"}`, code, msg)}
}

func ok(body string) answer { return answer{status: 200, body: xmlHeader + body} }

const s3ns = ` xmlns="http://s3.amazonaws.com/doc/2006-03-01/"`

// healthy answers like a private, versioned, SSE-S3 bucket with no other
// configuration.
func (w *wire) healthy(op, bucket string, r *http.Request) answer {
	switch op {
	case "ListBuckets":
		// Two buckets a page, so that paging is exercised.
		start := 0
		if tok := r.URL.Query().Get("continuation-token"); tok != "" {
			fmt.Sscanf(tok, "page-%d", &start)
		}
		end := min(start+2, len(w.buckets))
		var sb strings.Builder
		for _, b := range w.buckets[start:end] {
			sb.WriteString("<Bucket><Name>" + b + "</Name><CreationDate>2024-01-02T03:04:05.000Z</CreationDate>")
			if reg, ok := w.regions[b]; ok {
				sb.WriteString("<BucketRegion>" + reg + "</BucketRegion>")
			}
			sb.WriteString("</Bucket>")
		}
		next := ""
		if end < len(w.buckets) {
			next = fmt.Sprintf("<ContinuationToken>page-%d</ContinuationToken>", end)
		}
		return ok(`<ListAllMyBucketsResult` + s3ns + `><Owner><ID>abc</ID></Owner><Buckets>` + sb.String() + `</Buckets>` + next + `</ListAllMyBucketsResult>`)
	case "GetBucketLocation":
		return ok(`<LocationConstraint` + s3ns + `>` + w.regions[bucket] + `</LocationConstraint>`)
	case "GetBucketEncryption":
		return ok(`<ServerSideEncryptionConfiguration` + s3ns + `><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`)
	case "GetBucketReplication":
		return s3Error(404, "ReplicationConfigurationNotFoundError", "The replication configuration was not found")
	case "GetBucketVersioning":
		return ok(`<VersioningConfiguration` + s3ns + `><Status>Enabled</Status></VersioningConfiguration>`)
	case "GetObjectLockConfiguration":
		return s3Error(404, "ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket")
	case "GetPublicAccessBlock":
		return s3Error(404, "NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found")
	case "GetBucketPolicyStatus":
		return s3Error(404, "NoSuchBucketPolicy", "The bucket policy does not exist")
	case "GetBucketAcl":
		return ok(`<AccessControlPolicy` + s3ns + `><Owner><ID>abc</ID></Owner><AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>abc</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>`)
	case "GetBucketTagging":
		return s3Error(404, "NoSuchTagSet", "The TagSet does not exist")
	case "HeadBucket", "HeadObject":
		return answer{status: 200}
	case "ListObjectsV2":
		return ok(`<ListBucketResult` + s3ns + `><Name>` + bucket + `</Name><Prefix></Prefix><KeyCount>0</KeyCount><MaxKeys>1</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`)
	case "DescribeKey":
		var in struct{ KeyId string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		if m, ok := w.keys[in.KeyId]; ok {
			return answer{status: 200, body: `{"KeyMetadata":` + m + `}`}
		}
		return kmsError("NotFoundException", "Key '"+in.KeyId+"' does not exist")
	case "AssumeRole":
		exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		return ok(`<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>` +
			`<AccessKeyId>ASIAWIRE</AccessKeyId><SecretAccessKey>assumed-secret</SecretAccessKey><SessionToken>token</SessionToken>` +
			`<Expiration>` + exp + `</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::` + testAccount + `:assumed-role/audit/reachaudit</Arn>` +
			`<AssumedRoleId>AROA:reachaudit</AssumedRoleId></AssumedRoleUser></AssumeRoleResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></AssumeRoleResponse>`)
	case "GetCallerIdentity":
		return ok(`<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::` + testAccount + `:user/audit</Arn><UserId>AIDA</UserId><Account>` + testAccount + `</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
	}
	w.t.Errorf("unexpected request %s %s", r.Method, r.URL)
	return s3Error(400, "NotImplemented", "not implemented")
}

// open opens the plugin against the wire with a call counter.
func (w *wire) open(t *testing.T, mod func(*Config)) (*Provider, *providers.Calls) {
	t.Helper()
	cfg := &Config{
		Endpoint:    w.srv.URL,
		Region:      "us-east-1",
		Credentials: &StaticCredentials{AccessKeyID: "AKIDWIRE", SecretAccessKey: "wire-secret"},
	}
	if mod != nil {
		mod(cfg)
	}
	calls := providers.NewCalls(name, 0, 0, nil)
	p, err := Open(context.Background(), cfg, providers.Env{Calls: calls})
	if err != nil {
		t.Fatal(err)
	}
	return p, calls
}

func unknownOf(b providers.Bucket, field string) (providers.Unknown, bool) {
	for _, u := range b.Unknowns {
		if u.Field == field {
			return u, true
		}
	}
	return providers.Unknown{}, false
}

func describe(t *testing.T, p *Provider, bucket, region string) providers.Bucket {
	t.Helper()
	return p.Describe(context.Background(), providers.BucketRef{Account: testAccount, Name: bucket, Region: region})
}

func newTLSServer(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}
