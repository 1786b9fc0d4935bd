package awsemu

import (
	"encoding/base64"
	"encoding/xml"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/reachaudit/reachaudit/providers/sandbox"
)

const (
	s3NS        = "http://s3.amazonaws.com/doc/2006-03-01/"
	xmlHeader   = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"
	s3Time      = "2006-01-02T15:04:05.000Z"
	allUsersURI = "http://acs.amazonaws.com/groups/global/AllUsers"
)

// iamActions name the permission each S3 operation needs, for AccessDenied
// messages that say what to grant, as S3's do.
var iamActions = map[string]string{
	opListBuckets:          "s3:ListAllMyBuckets",
	opGetBucketLocation:    "s3:GetBucketLocation",
	opGetBucketEncryption:  "s3:GetEncryptionConfiguration",
	opGetBucketReplication: "s3:GetReplicationConfiguration",
	opGetBucketVersioning:  "s3:GetBucketVersioning",
	opGetObjectLock:        "s3:GetBucketObjectLockConfiguration",
	opGetPublicAccessBlock: "s3:GetBucketPublicAccessBlock",
	opGetBucketPolicyStat:  "s3:GetBucketPolicyStatus",
	opGetBucketPolicy:      "s3:GetBucketPolicy",
	opGetBucketAcl:         "s3:GetBucketAcl",
	opGetBucketTagging:     "s3:GetBucketTagging",
	opHeadBucket:           "s3:ListBucket",
	opListObjectsV2:        "s3:ListBucket",
	opHeadObject:           "s3:GetObject",
}

type s3Service struct{ s *Server }

func (s3Service) name() string { return "s3" }

// identify reads the bucket from a bucket.localhost host or from the path,
// and the operation from the method and the sub-resource.
func (s3Service) identify(c *call) {
	r := c.r
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	if b, ok := strings.CutSuffix(host, ".localhost"); ok {
		c.bucket, c.object = b, path
	} else {
		c.bucket, c.object, _ = strings.Cut(path, "/")
	}
	q := r.URL.Query()
	switch {
	case c.bucket == "" && r.Method == http.MethodGet:
		c.op = opListBuckets
	case c.bucket == "":
		c.op = r.Method + " /"
	case c.object != "" && r.Method == http.MethodHead:
		c.op = opHeadObject
	case c.object != "":
		c.op = r.Method + " object"
	case r.Method == http.MethodHead:
		c.op = opHeadBucket
	case r.Method != http.MethodGet:
		c.op = r.Method + " bucket"
	default:
		for k := range q {
			if op, ok := bucketSubresources[k]; ok {
				c.op = op
				return
			}
		}
		if q.Get("list-type") == "2" {
			c.op = opListObjectsV2
		} else {
			c.op = "ListObjects"
		}
	}
}

func (s s3Service) errorReply(c *call, status int, code, msg string, extra ...[2]string) reply {
	var b xmlBuilder
	b.WriteString(xmlHeader)
	b.open("Error")
	b.el("Code", code)
	b.el("Message", msg)
	for _, kv := range extra {
		b.el(kv[0], kv[1])
	}
	b.el("RequestId", c.reqID)
	b.el("HostId", c.reqID+"/"+s.s.idPrefix)
	b.close("Error")
	return reply{status: status, ctype: "application/xml", body: []byte(b.String())}
}

func (s s3Service) authError(c *call) reply {
	a := c.auth
	switch a.fault {
	case authMissing:
		return s.errorReply(c, 403, "AccessDenied", "Access Denied")
	case authUnknownKey:
		return s.errorReply(c, 403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.",
			[2]string{"AWSAccessKeyId", a.akid})
	case authBadSignature:
		return s.errorReply(c, 403, "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided. Check your key and signing method.",
			[2]string{"AWSAccessKeyId", a.akid},
			[2]string{"StringToSign", a.stringToSign},
			[2]string{"CanonicalRequest", a.canonical})
	case authSkewed:
		return s.errorReply(c, 403, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.")
	case authBadToken:
		return s.errorReply(c, 400, "InvalidToken", "The provided token is malformed or otherwise invalid.")
	case authExpiredToken:
		return s.errorReply(c, 400, "ExpiredToken", "The provided token has expired.")
	case authUnsignedHeader:
		return s.errorReply(c, 403, "AccessDenied", capitalise(a.detail))
	case authPayloadMismatch:
		return s.errorReply(c, 400, "XAmzContentSHA256Mismatch", capitalise(a.detail))
	}
	return s.errorReply(c, 400, "AuthorizationHeaderMalformed", "The authorization header is malformed; "+a.detail+".")
}

func (s s3Service) fault(c *call, kind string) reply {
	switch kind {
	case "throttle":
		return s.errorReply(c, 503, "SlowDown", "Please reduce your request rate.")
	case "too-large":
		return s.errorReply(c, 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
	}
	return s.errorReply(c, 500, "InternalError", "We encountered an internal error. Please try again.")
}

func (s s3Service) accessDenied(c *call, b *bucket) reply {
	msg := "User: " + c.auth.principal.arn + " is not authorized to perform: " + iamActions[c.op] +
		" on resource: \"" + bucketARN(b) + "\" because no identity-based policy allows the " + iamActions[c.op] + " action"
	rep := s.errorReply(c, 403, "AccessDenied", msg)
	if c.op == opHeadBucket {
		// S3 tells the region of a bucket even to callers it refuses.
		rep.set("X-Amz-Bucket-Region", b.region)
	}
	return rep
}

func (s s3Service) handle(c *call) reply {
	w := s.s.w
	p := c.auth.principal
	if c.op == opListBuckets {
		return s.listBuckets(c, p)
	}
	if _, known := iamActions[c.op]; !known {
		return s.errorReply(c, 501, "NotImplemented",
			"A header or operation you provided implies functionality that is not implemented: the sandbox is read-only and answers the audit's calls.")
	}
	b := w.buckets[c.bucket]
	if b == nil {
		return s.errorReply(c, 404, "NoSuchBucket", "The specified bucket does not exist", [2]string{"BucketName", c.bucket})
	}
	// A caller that names the owner it expects gets AccessDenied from any
	// other owner's bucket, as S3 answers.
	expected := c.r.Header.Get("X-Amz-Expected-Bucket-Owner")
	if b.owner.id != p.account || b.deny[c.op] || (expected != "" && expected != b.owner.id) {
		return s.accessDenied(c, b)
	}
	if dataPlane[c.op] && !b.reachable {
		rep := s.errorReply(c, 403, "AccessDenied", "Access Denied")
		if c.op == opHeadBucket {
			rep.set("X-Amz-Bucket-Region", b.region)
		}
		return rep
	}
	switch c.op {
	case opGetBucketLocation:
		return s.location(b)
	case opGetBucketEncryption:
		return s.encryption(c, b)
	case opGetBucketReplication:
		return s.replication(c, b)
	case opGetBucketVersioning:
		return s.versioning(b)
	case opGetObjectLock:
		return s.objectLock(c, b)
	case opGetPublicAccessBlock:
		return s.publicAccessBlock(c, b)
	case opGetBucketPolicyStat:
		return s.policyStatus(c, b)
	case opGetBucketPolicy:
		return s.policy(c, b)
	case opGetBucketAcl:
		return s.acl(b)
	case opGetBucketTagging:
		return s.tagging(c, b)
	case opHeadBucket:
		rep := reply{status: 200, ctype: "application/xml"}
		rep.set("X-Amz-Bucket-Region", b.region)
		rep.set("X-Amz-Access-Point-Alias", "false")
		return rep
	case opListObjectsV2:
		return s.listObjects(c, b)
	}
	return s.headObject(c, b)
}

func xmlOK(b *xmlBuilder) reply {
	return reply{status: 200, ctype: "application/xml", body: []byte(b.String())}
}

func (s s3Service) listBuckets(c *call, p *principal) reply {
	q := c.r.URL.Query()
	limit := 10000
	if v := q.Get("max-buckets"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return s.errorReply(c, 400, "InvalidArgument", "Argument max-buckets must be an integer between 1 and 10000",
				[2]string{"ArgumentName", "max-buckets"}, [2]string{"ArgumentValue", v})
		}
		limit = n
	}
	after := ""
	if tok := q.Get("continuation-token"); tok != "" && c.fault == "" {
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			return s.errorReply(c, 400, "InvalidArgument", "The continuation token provided is incorrect",
				[2]string{"ArgumentName", "continuation-token"})
		}
		after = string(raw)
	}
	prefix, region := q.Get("prefix"), q.Get("bucket-region")
	acct := s.s.w.accounts[p.account]

	var page []*bucket
	more := false
	if acct != nil {
		for _, bk := range acct.buckets {
			if bk.name <= after || !strings.HasPrefix(bk.name, prefix) || (region != "" && bk.region != region) {
				continue
			}
			if len(page) == limit {
				more = true
				break
			}
			page = append(page, bk)
		}
	}
	token := ""
	if more {
		token = base64.RawURLEncoding.EncodeToString([]byte(page[len(page)-1].name))
	}
	if c.fault != "" {
		var all []*bucket
		if acct != nil {
			all = acct.buckets
		}
		var fail bool
		if page, token, fail = sandbox.HostilePage(c.fault, q.Get("continuation-token"), all); fail {
			return s.fault(c, sandbox.FaultServer)
		}
	}

	var b xmlBuilder
	b.WriteString(xmlHeader)
	b.openNS("ListAllMyBucketsResult")
	b.open("Buckets")
	for _, bk := range page {
		b.open("Bucket")
		b.el("Name", bk.name)
		b.el("CreationDate", bk.created.Format(s3Time))
		b.el("BucketRegion", bk.region)
		b.el("BucketArn", bucketARN(bk))
		b.close("Bucket")
	}
	b.close("Buckets")
	b.open("Owner")
	if acct != nil {
		b.el("DisplayName", acct.name)
		b.el("ID", acct.canonical)
	}
	b.close("Owner")
	if token != "" {
		b.el("ContinuationToken", token)
	}
	if prefix != "" {
		b.el("Prefix", prefix)
	}
	b.close("ListAllMyBucketsResult")
	return xmlOK(&b)
}

func (s s3Service) location(bk *bucket) reply {
	var b xmlBuilder
	b.WriteString(xmlHeader)
	if bk.region == "us-east-1" {
		// us-east-1 is the empty constraint, as it has always been.
		b.WriteString(`<LocationConstraint xmlns="` + s3NS + `"/>`)
	} else {
		b.WriteString(`<LocationConstraint xmlns="` + s3NS + `">`)
		b.text(bk.region)
		b.WriteString(`</LocationConstraint>`)
	}
	return xmlOK(&b)
}

func (s s3Service) encryption(c *call, bk *bucket) reply {
	if bk.algorithm == "" {
		return s.errorReply(c, 404, "ServerSideEncryptionConfigurationNotFoundError",
			"The server side encryption configuration was not found", [2]string{"BucketName", bk.name})
	}
	var b xmlBuilder
	b.WriteString(xmlHeader)
	b.openNS("ServerSideEncryptionConfiguration")
	b.open("Rule")
	b.open("ApplyServerSideEncryptionByDefault")
	b.el("SSEAlgorithm", bk.algorithm)
	if bk.keyRef != "" {
		b.el("KMSMasterKeyID", bk.keyRef)
	}
	b.close("ApplyServerSideEncryptionByDefault")
	b.el("BucketKeyEnabled", strconv.FormatBool(bk.algorithm == "aws:kms"))
	b.close("Rule")
	b.close("ServerSideEncryptionConfiguration")
	return xmlOK(&b)
}

func (s s3Service) replication(c *call, bk *bucket) reply {
	if len(bk.replication) == 0 {
		return s.errorReply(c, 404, "ReplicationConfigurationNotFoundError",
			"The replication configuration was not found", [2]string{"BucketName", bk.name})
	}
	w := s.s.w
	part := partitionOf(bk.region)
	var b xmlBuilder
	b.WriteString(xmlHeader)
	b.openNS("ReplicationConfiguration")
	b.el("Role", "arn:"+part+":iam::"+bk.owner.id+":role/s3-replication")
	for i, r := range bk.replication {
		dst := w.buckets[r.Bucket]
		b.open("Rule")
		b.el("ID", "replica-"+strconv.Itoa(i+1))
		b.el("Priority", strconv.Itoa(i+1))
		b.open("Filter")
		b.el("Prefix", "")
		b.close("Filter")
		b.el("Status", "Enabled")
		b.open("Destination")
		b.el("Bucket", bucketARN(dst))
		b.el("Account", dst.owner.id)
		if dst.owner != bk.owner {
			b.open("AccessControlTranslation")
			b.el("Owner", "Destination")
			b.close("AccessControlTranslation")
		}
		b.el("StorageClass", "STANDARD")
		b.close("Destination")
		b.open("DeleteMarkerReplication")
		b.el("Status", "Disabled")
		b.close("DeleteMarkerReplication")
		b.close("Rule")
	}
	b.close("ReplicationConfiguration")
	return xmlOK(&b)
}

func (s s3Service) versioning(bk *bucket) reply {
	var b xmlBuilder
	b.WriteString(xmlHeader)
	if bk.versioning == "" {
		// A bucket that never had versioning answers an empty configuration.
		b.WriteString(`<VersioningConfiguration xmlns="` + s3NS + `"/>`)
		return xmlOK(&b)
	}
	b.openNS("VersioningConfiguration")
	b.el("Status", bk.versioning)
	b.close("VersioningConfiguration")
	return xmlOK(&b)
}

func (s s3Service) objectLock(c *call, bk *bucket) reply {
	if !bk.objectLock {
		return s.errorReply(c, 404, "ObjectLockConfigurationNotFoundError",
			"Object Lock configuration does not exist for this bucket", [2]string{"BucketName", bk.name})
	}
	var b xmlBuilder
	b.WriteString(xmlHeader)
	b.openNS("ObjectLockConfiguration")
	b.el("ObjectLockEnabled", "Enabled")
	b.open("Rule")
	b.open("DefaultRetention")
	b.el("Mode", "GOVERNANCE")
	b.el("Days", "30")
	b.close("DefaultRetention")
	b.close("Rule")
	b.close("ObjectLockConfiguration")
	return xmlOK(&b)
}

func (s s3Service) publicAccessBlock(c *call, bk *bucket) reply {
	if !bk.pab {
		return s.errorReply(c, 404, "NoSuchPublicAccessBlockConfiguration",
			"The public access block configuration was not found", [2]string{"BucketName", bk.name})
	}
	var b xmlBuilder
	b.WriteString(xmlHeader)
	b.openNS("PublicAccessBlockConfiguration")
	for _, f := range []string{"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"} {
		b.el(f, "true")
	}
	b.close("PublicAccessBlockConfiguration")
	return xmlOK(&b)
}

// Only public buckets carry a bucket policy: the one that makes them public.
func (s s3Service) noPolicy(c *call, bk *bucket) reply {
	return s.errorReply(c, 404, "NoSuchBucketPolicy", "The bucket policy does not exist", [2]string{"BucketName", bk.name})
}

func (s s3Service) policyStatus(c *call, bk *bucket) reply {
	if !bk.public {
		return s.noPolicy(c, bk)
	}
	var b xmlBuilder
	b.WriteString(xmlHeader)
	b.openNS("PolicyStatus")
	b.el("IsPublic", "true")
	b.close("PolicyStatus")
	return xmlOK(&b)
}

func (s s3Service) policy(c *call, bk *bucket) reply {
	if !bk.public {
		return s.noPolicy(c, bk)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"` +
		bucketARN(bk) + `/*"}]}`
	return reply{status: 200, ctype: "application/json", body: []byte(doc)}
}

func (s s3Service) acl(bk *bucket) reply {
	o := bk.owner
	var b xmlBuilder
	b.WriteString(xmlHeader)
	b.openNS("AccessControlPolicy")
	b.open("Owner")
	b.el("ID", o.canonical)
	b.el("DisplayName", o.name)
	b.close("Owner")
	b.open("AccessControlList")
	b.WriteString(`<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">`)
	b.el("ID", o.canonical)
	b.el("DisplayName", o.name)
	b.WriteString(`</Grantee><Permission>FULL_CONTROL</Permission></Grant>`)
	if bk.public {
		b.WriteString(`<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group">`)
		b.el("URI", allUsersURI)
		b.WriteString(`</Grantee><Permission>READ</Permission></Grant>`)
	}
	b.close("AccessControlList")
	b.close("AccessControlPolicy")
	return xmlOK(&b)
}

func (s s3Service) tagging(c *call, bk *bucket) reply {
	if len(bk.tags) == 0 {
		return s.errorReply(c, 404, "NoSuchTagSet", "The TagSet does not exist", [2]string{"BucketName", bk.name})
	}
	var b xmlBuilder
	b.WriteString(xmlHeader)
	b.openNS("Tagging")
	b.open("TagSet")
	for _, t := range bk.tags {
		b.open("Tag")
		b.el("Key", t[0])
		b.el("Value", t[1])
		b.close("Tag")
	}
	b.close("TagSet")
	b.close("Tagging")
	return xmlOK(&b)
}

func (s s3Service) listObjects(c *call, bk *bucket) reply {
	q := c.r.URL.Query()
	limit := 1000
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return s.errorReply(c, 400, "InvalidArgument", "Provided max-keys not an integer or within integer range",
				[2]string{"ArgumentName", "max-keys"}, [2]string{"ArgumentValue", v})
		}
		limit = min(n, 1000)
	}
	after := q.Get("start-after")
	token := q.Get("continuation-token")
	if token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(token)
		if err != nil {
			return s.errorReply(c, 400, "InvalidArgument", "The continuation token provided is incorrect",
				[2]string{"ArgumentName", "continuation-token"})
		}
		after = string(raw)
	}
	prefix := q.Get("prefix")
	urlEnc := q.Get("encoding-type") == "url"
	enc := func(s string) string {
		if urlEnc {
			return uriEncode(s, false)
		}
		return s
	}

	var b xmlBuilder
	b.WriteString(xmlHeader)
	b.openNS("ListBucketResult")
	b.el("Name", bk.name)
	b.el("Prefix", enc(prefix))
	if token != "" {
		b.el("ContinuationToken", token)
	}
	if sa := q.Get("start-after"); sa != "" {
		b.el("StartAfter", enc(sa))
	}
	var contents xmlBuilder
	n, more, last := 0, false, ""
	for _, o := range bk.objects {
		if o.key <= after || !strings.HasPrefix(o.key, prefix) {
			continue
		}
		if n == limit {
			more = true
			break
		}
		contents.open("Contents")
		contents.el("Key", enc(o.key))
		contents.el("LastModified", o.modified.Format(s3Time))
		contents.el("ETag", o.etag)
		contents.el("Size", strconv.FormatInt(o.size, 10))
		contents.el("StorageClass", "STANDARD")
		contents.close("Contents")
		last = o.key
		n++
	}
	b.el("KeyCount", strconv.Itoa(n))
	b.el("MaxKeys", strconv.Itoa(limit))
	if urlEnc {
		b.el("EncodingType", "url")
	}
	b.el("IsTruncated", strconv.FormatBool(more))
	if more {
		b.el("NextContinuationToken", base64.RawURLEncoding.EncodeToString([]byte(last)))
	}
	b.WriteString(contents.String())
	b.close("ListBucketResult")
	return xmlOK(&b)
}

func (s s3Service) headObject(c *call, bk *bucket) reply {
	for _, o := range bk.objects {
		if o.key != c.object {
			continue
		}
		rep := reply{status: 200, ctype: "application/octet-stream"}
		rep.set("Content-Length", strconv.FormatInt(o.size, 10))
		rep.set("ETag", o.etag)
		rep.set("Last-Modified", o.modified.Format(http.TimeFormat))
		rep.set("Accept-Ranges", "bytes")
		switch bk.algorithm {
		case "":
		case "AES256":
			rep.set("X-Amz-Server-Side-Encryption", "AES256")
		default:
			rep.set("X-Amz-Server-Side-Encryption", bk.algorithm)
			rep.set("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", s.s.w.objectKeyARN(bk))
		}
		return rep
	}
	return s.errorReply(c, 404, "NoSuchKey", "The specified key does not exist.", [2]string{"Key", c.object})
}

// xmlBuilder writes XML by hand: the shapes are fixed and small, and this
// keeps element order and namespaces exactly as S3 writes them.
type xmlBuilder struct{ strings.Builder }

func (b *xmlBuilder) open(name string)  { b.WriteString("<" + name + ">") }
func (b *xmlBuilder) close(name string) { b.WriteString("</" + name + ">") }
func (b *xmlBuilder) openNS(name string) {
	b.WriteString("<" + name + ` xmlns="` + s3NS + `">`)
}
func (b *xmlBuilder) text(s string) { xml.EscapeText(b, []byte(s)) }
func (b *xmlBuilder) el(name, value string) {
	b.open(name)
	b.text(value)
	b.close(name)
}

func capitalise(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:] + "."
}
