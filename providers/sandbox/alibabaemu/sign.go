package alibabaemu

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // OSS V1 signatures are HMAC-SHA1 by specification
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// The signature checks below are written from Alibaba Cloud's published
// specifications (OSS V4 "OSS4-HMAC-SHA256", OSS V1 HMAC-SHA1, and the
// OpenAPI V3 "ACS3-HMAC-SHA256" the KMS SDK sends), not from the SDKs, so
// that a broken signer cannot pass by agreeing with itself.

// authError is a refused signature: the error code and message to answer.
type authError struct {
	status  int
	code    string
	message string
}

func (e *authError) Error() string { return e.code + ": " + e.message }

func refuse(status int, code, format string, args ...any) *authError {
	return &authError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// secretOf looks up an AccessKey id; ok is false for an unknown id.
type secretOf func(accessKeyID string) (secret, account string, ok bool)

// maxSkew is how far a request's time may be from the server's.
const maxSkew = 15 * time.Minute

// ossRequest is what the OSS signature covers besides the headers.
type ossRequest struct {
	bucket, object string
}

// verifyOSS checks an OSS request's Authorization header, V4 or V1, and
// returns the signer's account and, for V4, the region it signed for.
func verifyOSS(r *http.Request, req ossRequest, secrets secretOf, now time.Time) (account, region string, err *authError) {
	auth := r.Header.Get("Authorization")
	switch {
	case auth == "":
		return "", "", refuse(403, "AccessDenied", "AccessDenied: Anonymous access is forbidden for this operation.")
	case strings.HasPrefix(auth, "OSS4-HMAC-SHA256 "):
		return verifyOSS4(r, req, auth, secrets, now)
	case strings.HasPrefix(auth, "OSS "):
		account, err := verifyOSS1(r, req, auth, secrets, now)
		return account, "", err
	}
	return "", "", refuse(400, "InvalidArgument", "Authorization header is invalid.")
}

// uriEncode percent-encodes s as RFC 3986 asks: everything but unreserved
// characters, and '/' too unless keepSlash.
func uriEncode(s string, keepSlash bool) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && keepSlash:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func hmacSHA256(key []byte, s string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(s))
	return h.Sum(nil)
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// verifyOSS4 checks "OSS4-HMAC-SHA256 Credential=<ak>/<date>/<region>/oss/
// aliyun_v4_request[,AdditionalHeaders=<h1;h2>],Signature=<hex>".
func verifyOSS4(r *http.Request, req ossRequest, auth string, secrets secretOf, now time.Time) (string, string, *authError) {
	fields := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(auth, "OSS4-HMAC-SHA256 "), ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return "", "", refuse(400, "InvalidArgument", "Authorization header is invalid.")
		}
		fields[k] = v
	}
	scope := strings.Split(fields["Credential"], "/")
	if len(scope) != 5 || scope[3] != "oss" || scope[4] != "aliyun_v4_request" || fields["Signature"] == "" {
		return "", "", refuse(400, "InvalidArgument", "Authorization header is invalid: want Credential=<AccessKeyId>/<date>/<region>/oss/aliyun_v4_request and Signature.")
	}
	akid, day, region := scope[0], scope[1], scope[2]
	secret, account, ok := secrets(akid)
	if !ok {
		return "", "", refuse(403, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records.")
	}
	// The time signed is x-oss-date, or the Date header when a client
	// sends only that.
	stamp := r.Header.Get("X-Oss-Date")
	var t time.Time
	var perr error
	if stamp != "" {
		t, perr = time.Parse("20060102T150405Z", stamp)
	} else {
		stamp = r.Header.Get("Date")
		t, perr = http.ParseTime(stamp)
	}
	if stamp == "" || perr != nil {
		return "", "", refuse(403, "AccessDenied", "x-oss-date or Date is required and must be valid.")
	}
	if d := now.Sub(t); d > maxSkew || d < -maxSkew {
		return "", "", refuse(403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
	}
	if t.UTC().Format("20060102") != day {
		return "", "", refuse(403, "SignatureDoesNotMatch", "The date in the credential scope is not the request's date.")
	}
	// OSS takes no payload hash in a V4 header signature: the header must
	// be UNSIGNED-PAYLOAD, and a digest there is refused (EC 0002-00000214)
	// rather than trusted unchecked.
	payload := r.Header.Get("X-Oss-Content-Sha256")
	switch payload {
	case "":
		return "", "", refuse(400, "InvalidArgument", "x-oss-content-sha256 is required with V4 signatures.")
	case "UNSIGNED-PAYLOAD":
	default:
		return "", "", refuse(400, "InvalidArgument", "The value of x-oss-content-sha256 is invalid: a V4 header signature needs UNSIGNED-PAYLOAD.")
	}

	uri := "/"
	if req.bucket != "" {
		uri = "/" + req.bucket + "/" + uriEncode(req.object, true)
	}

	// Every query parameter is signed in V4, sub-resource or not.
	q, qerr := url.ParseQuery(r.URL.RawQuery)
	if qerr != nil {
		return "", "", refuse(400, "InvalidArgument", "The query string is invalid.")
	}
	type kv struct{ k, v string }
	var params []kv
	for k, vs := range q {
		for _, v := range vs {
			params = append(params, kv{uriEncode(k, false), uriEncode(v, false)})
		}
	}
	sort.Slice(params, func(i, j int) bool {
		if params[i].k != params[j].k {
			return params[i].k < params[j].k
		}
		return params[i].v < params[j].v
	})
	var query []string
	for _, p := range params {
		if p.v == "" {
			query = append(query, p.k)
		} else {
			query = append(query, p.k+"="+p.v)
		}
	}

	var additional []string
	if a := fields["AdditionalHeaders"]; a != "" {
		additional = strings.Split(strings.ToLower(a), ";")
	}
	signed := map[string]bool{}
	for _, h := range additional {
		signed[h] = true
	}
	headers := map[string]string{}
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-oss-") || lk == "content-type" || lk == "content-md5" || signed[lk] {
			headers[lk] = strings.TrimSpace(vs[0])
		}
	}
	if signed["host"] {
		headers["host"] = r.Host
	}
	names := make([]string, 0, len(headers))
	for k := range headers {
		names = append(names, k)
	}
	sort.Strings(names)
	var canonHeaders strings.Builder
	for _, k := range names {
		canonHeaders.WriteString(k + ":" + headers[k] + "\n")
	}

	canonical := r.Method + "\n" + uri + "\n" + strings.Join(query, "&") + "\n" +
		canonHeaders.String() + "\n" + strings.Join(additional, ";") + "\n" + payload
	toSign := "OSS4-HMAC-SHA256\n" + stamp + "\n" + day + "/" + region + "/oss/aliyun_v4_request\n" +
		sha256Hex([]byte(canonical))
	key := hmacSHA256([]byte("aliyun_v4"+secret), day)
	key = hmacSHA256(key, region)
	key = hmacSHA256(key, "oss")
	key = hmacSHA256(key, "aliyun_v4_request")
	want := hex.EncodeToString(hmacSHA256(key, toSign))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(fields["Signature"]))) {
		return "", "", refuse(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
	}
	return account, region, nil
}

// subResources are the query parameters that OSS V1 signatures cover (the
// canonicalized resource's sub-resources), as the OSS API reference lists
// them, including those added since: policyStatus, publicAccessBlock.
var subResources = map[string]bool{}

func init() {
	for _, s := range strings.Fields(`acl uploads location cors logging website referer lifecycle
		delete append tagging objectMeta uploadId partNumber security-token position img style
		styleName replication replicationProgress replicationLocation cname bucketInfo comp qos
		live status vod startTime endTime symlink x-oss-process response-content-type
		response-content-language response-expires response-cache-control
		response-content-disposition response-content-encoding restore callback callback-var
		policy policyStatus publicAccessBlock stat encryption versions versioning versionId
		requestPayment x-oss-request-payer inventory inventoryId continuation-token worm wormId
		wormExtend transferAcceleration resourceGroup regionList accessMonitor rtc`) {
		subResources[s] = true
	}
}

// verifyOSS1 checks "OSS <ak>:<base64 HMAC-SHA1>" over
// VERB\nContent-MD5\nContent-Type\nDate\nCanonicalizedOSSHeaders CanonicalizedResource.
func verifyOSS1(r *http.Request, req ossRequest, auth string, secrets secretOf, now time.Time) (string, *authError) {
	akid, sig, ok := strings.Cut(strings.TrimPrefix(auth, "OSS "), ":")
	if !ok || akid == "" || sig == "" {
		return "", refuse(400, "InvalidArgument", "Authorization header is invalid.")
	}
	secret, account, ok := secrets(akid)
	if !ok {
		return "", refuse(403, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our records.")
	}
	date := r.Header.Get("Date")
	t, err := http.ParseTime(date)
	if err != nil {
		return "", refuse(403, "AccessDenied", "Date is required and must be valid.")
	}
	if d := now.Sub(t); d > maxSkew || d < -maxSkew {
		return "", refuse(403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
	}
	var ossHeaders []string
	for k, vs := range r.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-oss-") {
			ossHeaders = append(ossHeaders, lk+":"+vs[0]+"\n")
		}
	}
	sort.Strings(ossHeaders)

	resource := "/"
	if req.bucket != "" {
		resource = "/" + req.bucket + "/" + req.object
	}
	q, qerr := url.ParseQuery(r.URL.RawQuery)
	if qerr != nil {
		return "", refuse(400, "InvalidArgument", "The query string is invalid.")
	}
	var subs []string
	for k, vs := range q {
		if !subResources[k] {
			continue
		}
		if vs[0] == "" {
			subs = append(subs, k)
		} else {
			subs = append(subs, k+"="+vs[0])
		}
	}
	sort.Strings(subs)
	if len(subs) > 0 {
		resource += "?" + strings.Join(subs, "&")
	}
	toSign := r.Method + "\n" + r.Header.Get("Content-MD5") + "\n" + r.Header.Get("Content-Type") + "\n" +
		date + "\n" + strings.Join(ossHeaders, "") + resource
	h := hmac.New(sha1.New, []byte(secret))
	h.Write([]byte(toSign))
	want := base64.StdEncoding.EncodeToString(h.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return "", refuse(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
	}
	return account, nil
}

// verifyACS3 checks an OpenAPI V3 request ("ACS3-HMAC-SHA256
// Credential=<ak>,SignedHeaders=<h1;h2>,Signature=<hex>"), the signature
// the KMS SDK sends. Host and every x-acs-* header must be signed, and the
// body must hash to x-acs-content-sha256.
func verifyACS3(r *http.Request, body []byte, secrets secretOf, now time.Time) (string, *authError) {
	auth := r.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "ACS3-HMAC-SHA256 ") {
		return "", refuse(400, "IncompleteSignature", "The request signature does not conform to Aliyun standards (want ACS3-HMAC-SHA256).")
	}
	fields := map[string]string{}
	for _, part := range strings.Split(strings.TrimPrefix(auth, "ACS3-HMAC-SHA256 "), ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return "", refuse(400, "IncompleteSignature", "The Authorization header is malformed.")
		}
		fields[k] = v
	}
	akid, signedList, sig := fields["Credential"], fields["SignedHeaders"], fields["Signature"]
	if akid == "" || signedList == "" || sig == "" {
		return "", refuse(400, "IncompleteSignature", "Credential, SignedHeaders and Signature are required.")
	}
	secret, account, ok := secrets(akid)
	if !ok {
		return "", refuse(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
	}
	t, err := time.Parse("2006-01-02T15:04:05Z", r.Header.Get("X-Acs-Date"))
	if err != nil {
		return "", refuse(400, "MissingParameter", "x-acs-date is required (ISO 8601, UTC).")
	}
	if d := now.Sub(t); d > maxSkew || d < -maxSkew {
		return "", refuse(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
	}
	payload := r.Header.Get("X-Acs-Content-Sha256")
	if payload != sha256Hex(body) {
		return "", refuse(400, "SignatureDoesNotMatch", "x-acs-content-sha256 does not match the request body.")
	}
	signed := strings.Split(signedList, ";")
	isSigned := map[string]bool{}
	for _, h := range signed {
		isSigned[h] = true
	}
	if !isSigned["host"] {
		return "", refuse(400, "IncompleteSignature", "The host header must be signed.")
	}
	for k := range r.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-acs-") && !isSigned[lk] && lk != "x-acs-security-token" && lk != "x-acs-accesskey-id" {
			return "", refuse(400, "IncompleteSignature", "The header %s must be signed.", lk)
		}
	}
	if !sort.StringsAreSorted(signed) {
		return "", refuse(400, "IncompleteSignature", "SignedHeaders must be sorted.")
	}
	var canonHeaders strings.Builder
	for _, h := range signed {
		v := strings.TrimSpace(r.Header.Get(h))
		if h == "host" {
			v = r.Host
		}
		canonHeaders.WriteString(h + ":" + v + "\n")
	}
	q, qerr := url.ParseQuery(r.URL.RawQuery)
	if qerr != nil {
		return "", refuse(400, "InvalidParameter", "The query string is invalid.")
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return uriEncode(keys[i], false) < uriEncode(keys[j], false) })
	var query []string
	for _, k := range keys {
		for _, v := range q[k] {
			query = append(query, uriEncode(k, false)+"="+uriEncode(v, false))
		}
	}
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	canonical := r.Method + "\n" + path + "\n" + strings.Join(query, "&") + "\n" +
		canonHeaders.String() + "\n" + signedList + "\n" + payload
	toSign := "ACS3-HMAC-SHA256\n" + sha256Hex([]byte(canonical))
	want := hex.EncodeToString(hmacSHA256([]byte(secret), toSign))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(sig))) {
		return "", refuse(400, "SignatureDoesNotMatch", "Specified signature is not matched with our calculation.")
	}
	return account, nil
}
