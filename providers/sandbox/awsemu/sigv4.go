package awsemu

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// This file verifies AWS Signature Version 4 as the SigV4 specification
// describes it: the canonical request, the string to sign over its hash and
// the credential scope, and the signing key derived from the secret by
// HMAC-SHA256 over date, region, service and "aws4_request".

const (
	sigAlgorithm    = "AWS4-HMAC-SHA256"
	amzDateFormat   = "20060102T150405Z"
	scopeDateFormat = "20060102"
	maxClockSkew    = 15 * time.Minute
	emptySHA256     = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	unsignedPayload = "UNSIGNED-PAYLOAD"
)

// authFault is why a request's authentication failed; each service turns
// it into its own error code.
type authFault int

const (
	authOK              authFault = iota
	authMissing                   // no Authorization header
	authMalformed                 // the header or scope cannot be read
	authUnknownKey                // the access key id is not one of ours
	authBadSignature              // the signature does not match
	authSkewed                    // X-Amz-Date too far from now
	authBadToken                  // the session token is wrong or missing
	authExpiredToken              // temporary credentials have expired
	authUnsignedHeader            // an x-amz-* header is not signed (S3)
	authPayloadMismatch           // x-amz-content-sha256 is not the body's hash
)

// authResult is the outcome of verifying one request.
type authResult struct {
	fault     authFault
	detail    string // safe to show: never a secret
	principal *principal
	akid      string
	region    string // the credential scope's region
	// stringToSign and canonical are kept for S3's SignatureDoesNotMatch
	// answer, which shows them so that a client can find its mistake.
	stringToSign, canonical string
}

type authHeader struct {
	akid, date, region, service string
	signedHeaders               []string
	signature                   string
}

func parseAuthorization(h string) (authHeader, bool) {
	var a authHeader
	rest, ok := strings.CutPrefix(h, sigAlgorithm+" ")
	if !ok {
		return a, false
	}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, false
		}
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "aws4_request" {
				return a, false
			}
			a.akid, a.date, a.region, a.service = f[0], f[1], f[2], f[3]
		case "SignedHeaders":
			a.signedHeaders = strings.Split(v, ";")
		case "Signature":
			a.signature = v
		}
	}
	if a.akid == "" || len(a.signedHeaders) == 0 || a.signature == "" {
		return a, false
	}
	return a, true
}

// verify checks the request's SigV4 signature for service ("s3", "kms",
// "sts"). body is the whole request body.
func (w *world) verify(r *http.Request, body []byte, service string) authResult {
	h := r.Header.Get("Authorization")
	if h == "" {
		return authResult{fault: authMissing, detail: "the request carries no signature"}
	}
	a, ok := parseAuthorization(h)
	if !ok {
		return authResult{fault: authMalformed, detail: "the Authorization header is not a valid AWS4-HMAC-SHA256 signature"}
	}
	res := authResult{akid: a.akid, region: a.region}
	if a.service != service {
		res.fault, res.detail = authMalformed, "credential should be scoped to correct service: '"+service+"'"
		return res
	}
	p := w.principal(a.akid)
	if p == nil {
		res.fault, res.detail = authUnknownKey, "the access key id is not known"
		return res
	}
	if kp, rp := orDefault(p.partition, "aws"), partitionOf(a.region); knownRegion(a.region) && kp != rp && (kp != "aws" || w.orgs[rp] != nil) {
		// Each partition is a cloud of its own: its endpoints know none
		// of another partition's keys. (An estate that places no account
		// in another partition serves every region to aws keys.)
		res.fault, res.detail = authUnknownKey, "the access key id is not known in partition "+partitionOf(a.region)
		return res
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse(amzDateFormat, amzDate)
	if err != nil {
		res.fault, res.detail = authMalformed, "X-Amz-Date is missing or not in the form 20060102T150405Z"
		return res
	}
	if t.Format(scopeDateFormat) != a.date {
		res.fault, res.detail = authMalformed, "the credential scope's date is not the date of X-Amz-Date"
		return res
	}
	if d := time.Since(t); d > maxClockSkew || d < -maxClockSkew {
		res.fault, res.detail = authSkewed, "the difference between the request time and the current time is too large"
		return res
	}
	if !signs(a.signedHeaders, "host") {
		res.fault, res.detail = authMalformed, "the host header must be signed"
		return res
	}
	if service == "s3" {
		for name := range r.Header {
			if l := strings.ToLower(name); strings.HasPrefix(l, "x-amz-") && !signs(a.signedHeaders, l) {
				res.fault, res.detail = authUnsignedHeader, "there were headers present in the request which were not signed: "+l
				return res
			}
		}
	}

	payload := r.Header.Get("X-Amz-Content-Sha256")
	switch {
	case service != "s3":
		payload = hashHex(body)
	case payload == "":
		res.fault, res.detail = authMalformed, "missing required header for this request: x-amz-content-sha256"
		return res
	case payload == unsignedPayload:
	case len(payload) == 64:
		if hashHex(body) != strings.ToLower(payload) {
			res.fault, res.detail = authPayloadMismatch, "the provided 'x-amz-content-sha256' header does not match what was computed"
			return res
		}
	default:
		res.fault, res.detail = authMalformed, "x-amz-content-sha256 must be a SHA-256 hex digest or UNSIGNED-PAYLOAD"
		return res
	}

	res.canonical = canonicalRequest(r, a.signedHeaders, payload, service == "s3")
	scope := a.date + "/" + a.region + "/" + a.service + "/aws4_request"
	res.stringToSign = sigAlgorithm + "\n" + amzDate + "\n" + scope + "\n" + hashHex([]byte(res.canonical))
	key := signingKey(p.secret, a.date, a.region, a.service)
	want := hex.EncodeToString(hmacSHA256(key, []byte(res.stringToSign)))
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(a.signature))) {
		res.fault, res.detail = authBadSignature, "the request signature we calculated does not match the signature you provided"
		return res
	}

	// The token is checked after the signature so that a request with a
	// forged signature learns nothing about tokens.
	token := r.Header.Get("X-Amz-Security-Token")
	switch {
	case p.token == "" && token != "":
		res.fault, res.detail = authBadToken, "the security token included in the request is invalid"
		return res
	case p.token != "" && !hmac.Equal([]byte(token), []byte(p.token)):
		res.fault, res.detail = authBadToken, "the security token included in the request is invalid"
		return res
	case !p.expires.IsZero() && time.Now().After(p.expires):
		res.fault, res.detail = authExpiredToken, "the security token included in the request is expired"
		return res
	}
	res.principal = p
	return res
}

func signs(signed []string, name string) bool {
	for _, s := range signed {
		if s == name {
			return true
		}
	}
	return false
}

// canonicalRequest builds the SigV4 canonical request. S3 encodes the path
// once; every other service encodes each segment twice.
func canonicalRequest(r *http.Request, signed []string, payloadHash string, s3 bool) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	path := r.URL.Path
	if path == "" {
		path = "/"
	}
	path = uriEncode(path, false)
	if !s3 {
		path = uriEncode(path, false)
	}
	b.WriteString(path)
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery))
	b.WriteByte('\n')
	for _, name := range signed {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signed, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// headerValue is a signed header's canonical value: its values trimmed,
// inner runs of spaces collapsed, joined by commas.
func headerValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	default:
		vals = r.Header.Values(name)
		if name == "content-length" && len(vals) == 0 && r.ContentLength >= 0 {
			vals = []string{itoa(r.ContentLength)}
		}
	}
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

// canonicalQuery sorts the query's parameters by encoded name, then value,
// each encoded as SigV4 asks (RFC 3986 unreserved characters kept).
func canonicalQuery(raw string) string {
	if raw == "" {
		return ""
	}
	type kv struct{ k, v string }
	var pairs []kv
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, err := url.QueryUnescape(k)
		if err != nil {
			dk = k
		}
		dv, err := url.QueryUnescape(v)
		if err != nil {
			dv = v
		}
		pairs = append(pairs, kv{uriEncode(dk, true), uriEncode(dv, true)})
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

// uriEncode percent-encodes every byte but the unreserved characters
// (A-Z a-z 0-9 - _ . ~), and '/' unless encodeSlash.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

func signingKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(date))
	k = hmacSHA256(k, []byte(region))
	k = hmacSHA256(k, []byte(service))
	return hmacSHA256(k, []byte("aws4_request"))
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

func hashHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
