package alibabaemu

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/reachaudit/reachaudit/providers/sandbox"
)

// ossError is OSS's error document.
type ossError struct {
	XMLName    xml.Name `xml:"Error"`
	Code       string   `xml:"Code"`
	Message    string   `xml:"Message"`
	RequestID  string   `xml:"RequestId"`
	HostID     string   `xml:"HostId"`
	BucketName string   `xml:"BucketName,omitempty"`
	Endpoint   string   `xml:"Endpoint,omitempty"`
	EC         string   `xml:"EC"`
}

// Error codes' EC values, as OSS prints them (the part before the dash
// names the module, the rest the case).
var ecOf = map[string]string{
	"AccessDenied":                   "0003-00000001",
	"SignatureDoesNotMatch":          "0002-00000040",
	"InvalidAccessKeyId":             "0002-00000902",
	"RequestTimeTooSkewed":           "0002-00000904",
	"InvalidArgument":                "0002-00000003",
	"NoSuchBucket":                   "0015-00000101",
	"NoSuchKey":                      "0026-00000001",
	"NoSuchReplicationConfiguration": "0017-00000208",
	"NoSuchBucketPolicy":             "0031-00000001",
	"NoSuchServerSideEncryptionRule": "0010-00000001",
	"MethodNotAllowed":               "0003-00000005",
	"InternalError":                  "0001-00000001",
	"Throttling":                     "0001-00000003",
}

// ossCall is one OSS request as the emulator understands it.
type ossCall struct {
	op, bucket, object string
	w                  http.ResponseWriter
	r                  *http.Request
}

func (c *ossCall) host() string {
	if c.bucket == "" {
		return c.r.Host
	}
	return c.bucket + "." + c.r.Host
}

func (c *ossCall) fail(status int, code, message string) {
	c.failAt(status, code, message, "")
}

func (c *ossCall) failAt(status int, code, message, endpoint string) {
	id := requestID()
	body, _ := xml.MarshalIndent(ossError{Code: code, Message: message, RequestID: id, HostID: c.host(),
		BucketName: c.bucket, Endpoint: endpoint, EC: ecOf[code]}, "", "  ")
	doc := append([]byte(xml.Header), body...)
	h := c.w.Header()
	h.Set("x-oss-request-id", id)
	h.Set("x-oss-ec", ecOf[code])
	h.Set("Server", "AliyunOSS")
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	if c.r.Method == http.MethodHead {
		// A HEAD answer has no body: OSS puts the error document in a header.
		h.Set("x-oss-err", base64.StdEncoding.EncodeToString(doc))
		c.w.WriteHeader(status)
		return
	}
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(len(doc)))
	c.w.WriteHeader(status)
	_, _ = c.w.Write(doc)
}

func (c *ossCall) ok(v any) {
	body, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		c.fail(500, "InternalError", "We encountered an internal error. Please try again.")
		return
	}
	c.okRaw(append([]byte(xml.Header), body...), "application/xml")
}

func (c *ossCall) okRaw(body []byte, contentType string) {
	h := c.w.Header()
	h.Set("x-oss-request-id", requestID())
	h.Set("Server", "AliyunOSS")
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	c.w.WriteHeader(200)
	_, _ = c.w.Write(body)
}

// bucketOps name a bucket-level GET by its sub-resource.
var bucketOps = []struct{ param, op string }{
	{"bucketInfo", "GetBucketInfo"},
	{"location", "GetBucketLocation"},
	{"acl", "GetBucketAcl"},
	{"versioning", "GetBucketVersioning"},
	{"encryption", "GetBucketEncryption"},
	{"replication", "GetBucketReplication"},
	{"policyStatus", "GetBucketPolicyStatus"},
	{"policy", "GetBucketPolicy"},
	{"publicAccessBlock", "GetBucketPublicAccessBlock"},
	{"tagging", "GetBucketTags"},
	{"stat", "GetBucketStat"},
	{"worm", "GetBucketWorm"},
}

// dataPlane are the operations a reachable: false bucket refuses.
var dataPlane = map[string]bool{"ListObjects": true, "ListObjectsV2": true, "HeadObject": true,
	"GetObjectMeta": true, "GetObject": true}

// route names the operation and its bucket and object. Buckets are
// addressed path-style (/bucket/key) or, on a *.localhost host, by
// virtual host (bucket.localhost).
func route(r *http.Request) (op, bucket, object string) {
	path := r.URL.Path
	host := r.Host
	if h, _, err := splitHostPort(host); err == nil {
		host = h
	}
	if strings.HasSuffix(host, ".localhost") {
		bucket = strings.TrimSuffix(host, ".localhost")
		object = strings.TrimPrefix(path, "/")
	} else {
		rest := strings.TrimPrefix(path, "/")
		bucket, object, _ = strings.Cut(rest, "/")
	}
	q := r.URL.Query()
	switch {
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		return "", bucket, object
	case bucket == "":
		return "ListBuckets", "", ""
	case object != "" && r.Method == http.MethodHead && q.Has("objectMeta"):
		return "GetObjectMeta", bucket, object
	case object != "" && r.Method == http.MethodHead:
		return "HeadObject", bucket, object
	case object != "":
		return "GetObject", bucket, object
	}
	for _, bo := range bucketOps {
		if q.Has(bo.param) {
			return bo.op, bucket, ""
		}
	}
	if q.Get("list-type") == "2" {
		return "ListObjectsV2", bucket, ""
	}
	return "ListObjects", bucket, ""
}

func splitHostPort(h string) (string, string, error) {
	i := strings.LastIndexByte(h, ':')
	if i < 0 {
		return h, "", fmt.Errorf("no port")
	}
	return h[:i], h[i+1:], nil
}

func (s *Server) serveOSS(w http.ResponseWriter, r *http.Request) {
	if !s.admit(r) {
		return
	}
	op, bucketName, object := route(r)
	c := &ossCall{op: op, bucket: bucketName, object: object, w: w, r: r}
	acctID, region, aerr := verifyOSS(r, ossRequest{bucket: bucketName, object: object}, s.secrets, s.now())
	if aerr != nil {
		c.fail(aerr.status, aerr.code, aerr.message)
		return
	}
	if op == "" {
		c.fail(405, "MethodNotAllowed", "The specified method is not allowed against this resource: the sandbox is read-only.")
		return
	}
	kind := s.opts.Faults.Match(op, bucketName)
	if kind == "" && !s.budgets.Allow(acctID) {
		// The account's rate is spent: OSS answers ServerBusy.
		c.fail(503, "ServerBusy", "Please reduce your request rate.")
		return
	}
	switch kind {
	case sandbox.FaultThrottle:
		c.fail(503, "Throttling", "Please reduce your request rate.")
		return
	case sandbox.FaultServer:
		c.serverError()
		return
	case sandbox.FaultEndlessBody:
		sandbox.Endless(w, r, 200, "application/xml",
			[]byte(xml.Header+"<ListAllMyBucketsResult><Buckets>"),
			[]byte("<Bucket><Name>endless</Name><Location>oss-cn-hangzhou</Location><Region>cn-hangzhou</Region></Bucket>"), s.closing)
		return
	case sandbox.FaultHugeError:
		sandbox.Endless(w, r, 500, "application/xml",
			[]byte(xml.Header+"<Error><Code>InternalError</Code><Message>We encountered an internal error"),
			[]byte(". Please try again"), s.closing)
		return
	case sandbox.FaultRedirectLoop:
		sandbox.RedirectLoop(w, r)
		return
	case sandbox.FaultTimeout:
		s.hang(r)
		return
	case sandbox.FaultMalformed:
		c.okRaw([]byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n<BucketInfo><Bucket><Name>"+bucketName), "application/xml")
		return
	}
	acct := s.accounts[acctID]
	if op == "ListBuckets" {
		if !sandbox.ListingFault(kind) {
			kind = ""
		}
		s.listBuckets(c, acct, kind)
		return
	}
	b, ok := s.buckets[bucketName]
	if !ok {
		c.fail(404, "NoSuchBucket", "The specified bucket does not exist.")
		return
	}
	if b.account != acct {
		c.fail(403, "AccessDenied", "The bucket you access does not belong to you.")
		return
	}
	// A V4 request is signed for a region, which stands for the endpoint
	// it was sent to. GetBucketInfo and GetBucketLocation may be asked at
	// any endpoint; everything else must go to the bucket's own.
	if region != "" && region != b.Region && op != "GetBucketInfo" && op != "GetBucketLocation" {
		c.failAt(403, "AccessDenied", "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.",
			"oss-"+b.Region+".aliyuncs.com")
		return
	}
	if b.deny[op] {
		c.fail(403, "AccessDenied", "You have no right to access this resource: "+op+" is denied.")
		return
	}
	if dataPlane[op] && !b.reachable {
		c.fail(403, "AccessDenied", "You have no right to access this object because of bucket acl.")
		return
	}
	s.serveBucket(c, b)
}

type owner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName"`
}

type bucketEntry struct {
	CreationDate     string `xml:"CreationDate"`
	ExtranetEndpoint string `xml:"ExtranetEndpoint"`
	IntranetEndpoint string `xml:"IntranetEndpoint"`
	Location         string `xml:"Location"`
	Name             string `xml:"Name"`
	Region           string `xml:"Region"`
	StorageClass     string `xml:"StorageClass"`
}

func (c *ossCall) serverError() {
	c.fail(500, "InternalError", "We encountered an internal error. Please try again.")
}

// listBuckets answers ListBuckets (GetService); a listing fault changes
// its pages.
func (s *Server) listBuckets(c *ossCall, acct *account, hostile string) {
	q := c.r.URL.Query()
	maxKeys := 100
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			c.fail(400, "InvalidArgument", "max-keys must be between 1 and 1000.")
			return
		}
		maxKeys = n
	}
	prefix, marker := q.Get("prefix"), q.Get("marker")
	type result struct {
		XMLName     xml.Name      `xml:"ListAllMyBucketsResult"`
		Prefix      string        `xml:"Prefix,omitempty"`
		Marker      string        `xml:"Marker,omitempty"`
		MaxKeys     int           `xml:"MaxKeys,omitempty"`
		IsTruncated bool          `xml:"IsTruncated,omitempty"`
		NextMarker  string        `xml:"NextMarker,omitempty"`
		Owner       owner         `xml:"Owner"`
		Buckets     []bucketEntry `xml:"Buckets>Bucket"`
	}
	res := result{Owner: owner{ID: acct.id, DisplayName: acct.id}, Prefix: prefix, Marker: marker}
	var page []*bucket
	for _, b := range acct.buckets {
		if !strings.HasPrefix(b.Name, prefix) || b.Name <= marker {
			continue
		}
		if len(page) == maxKeys {
			res.IsTruncated, res.NextMarker, res.MaxKeys = true, page[len(page)-1].Name, maxKeys
			break
		}
		page = append(page, b)
	}
	if hostile != "" {
		var fail bool
		if page, res.NextMarker, fail = sandbox.HostilePage(hostile, marker, acct.buckets); fail {
			c.serverError()
			return
		}
		res.IsTruncated = res.NextMarker != ""
	}
	for _, b := range page {
		res.Buckets = append(res.Buckets, bucketEntry{
			CreationDate:     b.created.Format("2006-01-02T15:04:05.000Z"),
			ExtranetEndpoint: "oss-" + b.Region + ".aliyuncs.com",
			IntranetEndpoint: "oss-" + b.Region + "-internal.aliyuncs.com",
			Location:         "oss-" + b.Region,
			Name:             b.Name,
			Region:           b.Region,
			StorageClass:     "Standard",
		})
	}
	c.ok(res)
}

type sseRule struct {
	SSEAlgorithm      string `xml:"SSEAlgorithm"`
	KMSMasterKeyID    string `xml:"KMSMasterKeyID,omitempty"`
	KMSDataEncryption string `xml:"KMSDataEncryption,omitempty"`
}

// sse is the bucket's default encryption as OSS names it; "" for none.
func (b *bucket) sse() (algorithm, keyID string) {
	if b.Encryption == nil || b.Encryption.Algorithm == "none" {
		return "", ""
	}
	return b.Encryption.Algorithm, b.Encryption.Key
}

func (s *Server) serveBucket(c *ossCall, b *bucket) {
	acl := or(b.ACL, "private")
	alg, keyID := b.sse()
	switch c.op {
	case "GetBucketInfo":
		type info struct {
			AccessMonitor          string  `xml:"AccessMonitor"`
			CreationDate           string  `xml:"CreationDate"`
			ExtranetEndpoint       string  `xml:"ExtranetEndpoint"`
			IntranetEndpoint       string  `xml:"IntranetEndpoint"`
			Location               string  `xml:"Location"`
			StorageClass           string  `xml:"StorageClass"`
			TransferAcceleration   string  `xml:"TransferAcceleration"`
			CrossRegionReplication string  `xml:"CrossRegionReplication"`
			DataRedundancyType     string  `xml:"DataRedundancyType"`
			Name                   string  `xml:"Name"`
			ResourceGroupID        string  `xml:"ResourceGroupId"`
			Owner                  owner   `xml:"Owner"`
			ACL                    string  `xml:"AccessControlList>Grant"`
			SSE                    sseRule `xml:"ServerSideEncryptionRule"`
			Versioning             string  `xml:"Versioning,omitempty"`
			// Carried once Block Public Access has been turned on.
			BlockPublicAccess string `xml:"BlockPublicAccess,omitempty"`
		}
		type doc struct {
			XMLName xml.Name `xml:"BucketInfo"`
			Bucket  info     `xml:"Bucket"`
		}
		crr := "Disabled"
		if len(b.Replication) > 0 {
			crr = "Enabled"
		}
		sse := sseRule{SSEAlgorithm: "None"}
		if alg != "" {
			sse = sseRule{SSEAlgorithm: alg, KMSMasterKeyID: keyID}
		}
		bpa := ""
		if b.BlockPublicAccess {
			bpa = "true"
		}
		c.ok(doc{Bucket: info{
			AccessMonitor: "Disabled", CreationDate: b.created.Format("2006-01-02T15:04:05.000Z"),
			ExtranetEndpoint: "oss-" + b.Region + ".aliyuncs.com", IntranetEndpoint: "oss-" + b.Region + "-internal.aliyuncs.com",
			Location: "oss-" + b.Region, StorageClass: "Standard", TransferAcceleration: "Disabled",
			CrossRegionReplication: crr, DataRedundancyType: or(b.Redundancy, "LRS"), Name: b.Name,
			ResourceGroupID: "rg-default-id", Owner: owner{ID: b.account.id, DisplayName: b.account.id},
			ACL: acl, SSE: sse, Versioning: b.Versioning.Status(), BlockPublicAccess: bpa,
		}})
	case "GetBucketLocation":
		c.ok(struct {
			XMLName xml.Name `xml:"LocationConstraint"`
			V       string   `xml:",chardata"`
		}{V: "oss-" + b.Region})
	case "GetBucketAcl":
		c.ok(struct {
			XMLName xml.Name `xml:"AccessControlPolicy"`
			Owner   owner    `xml:"Owner"`
			Grant   string   `xml:"AccessControlList>Grant"`
		}{Owner: owner{ID: b.account.id, DisplayName: b.account.id}, Grant: acl})
	case "GetBucketVersioning":
		c.ok(struct {
			XMLName xml.Name `xml:"VersioningConfiguration"`
			Status  string   `xml:"Status,omitempty"`
		}{Status: b.Versioning.Status()})
	case "GetBucketEncryption":
		if alg == "" {
			c.fail(404, "NoSuchServerSideEncryptionRule", "The server side encryption configuration was not found.")
			return
		}
		c.ok(struct {
			XMLName xml.Name `xml:"ServerSideEncryptionRule"`
			Default sseRule  `xml:"ApplyServerSideEncryptionByDefault"`
		}{Default: sseRule{SSEAlgorithm: alg, KMSMasterKeyID: keyID}})
	case "GetBucketReplication":
		s.replication(c, b)
	case "GetBucketStat":
		s.stat(c, b)
	case "GetBucketWorm":
		s.worm(c, b)
	case "GetBucketPolicy":
		c.fail(404, "NoSuchBucketPolicy", "The bucket policy does not exist.")
	case "GetBucketPolicyStatus":
		// The estate holds no bucket policies, so none grants anyone access.
		c.ok(struct {
			XMLName  xml.Name `xml:"PolicyStatus"`
			IsPublic bool     `xml:"IsPublic"`
		}{})
	case "GetBucketPublicAccessBlock":
		c.ok(struct {
			XMLName           xml.Name `xml:"PublicAccessBlockConfiguration"`
			BlockPublicAccess bool     `xml:"BlockPublicAccess"`
		}{BlockPublicAccess: b.BlockPublicAccess})
	case "GetBucketTags":
		type tag struct {
			Key   string `xml:"Key"`
			Value string `xml:"Value"`
		}
		doc := struct {
			XMLName xml.Name `xml:"Tagging"`
			Tags    []tag    `xml:"TagSet>Tag"`
		}{}
		keys := make([]string, 0, len(b.Tags))
		for k := range b.Tags {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			doc.Tags = append(doc.Tags, tag{k, b.Tags[k]})
		}
		if len(doc.Tags) == 0 {
			c.okRaw([]byte(xml.Header+"<Tagging>\n  <TagSet/>\n</Tagging>"), "application/xml")
			return
		}
		c.ok(doc)
	case "ListObjects", "ListObjectsV2":
		s.listObjects(c, b)
	case "HeadObject", "GetObjectMeta", "GetObject":
		// An estate has buckets, not objects.
		c.fail(404, "NoSuchKey", "The specified key does not exist.")
	default:
		c.fail(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
	}
}

func (s *Server) replication(c *ossCall, b *bucket) {
	if len(b.Replication) == 0 {
		c.fail(404, "NoSuchReplicationConfiguration", "The bucket you specified does not have replication configuration.")
		return
	}
	type dest struct {
		Bucket       string `xml:"Bucket"`
		Location     string `xml:"Location"`
		TransferType string `xml:"TransferType"`
	}
	type rule struct {
		ID                          string `xml:"ID"`
		Action                      string `xml:"Action"`
		Destination                 dest   `xml:"Destination"`
		Status                      string `xml:"Status"`
		HistoricalObjectReplication string `xml:"HistoricalObjectReplication"`
	}
	doc := struct {
		XMLName xml.Name `xml:"ReplicationConfiguration"`
		Rules   []rule   `xml:"Rule"`
	}{}
	for i, rep := range b.Replication {
		doc.Rules = append(doc.Rules, rule{
			ID: fmt.Sprintf("%s-rule-%d", b.Name, i+1), Action: "ALL",
			Destination: dest{Bucket: rep.Bucket, Location: "oss-" + rep.Region, TransferType: "internal"},
			Status:      "doing", HistoricalObjectReplication: "enabled",
		})
	}
	c.ok(doc)
}

func (s *Server) listObjects(c *ossCall, b *bucket) {
	q := c.r.URL.Query()
	maxKeys := 100
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1000 {
			c.fail(400, "InvalidArgument", "max-keys must be between 0 and 1000.")
			return
		}
		maxKeys = n
	}
	// The estate models buckets, not their objects: every list is empty.
	type result struct {
		XMLName     xml.Name `xml:"ListBucketResult"`
		Name        string   `xml:"Name"`
		Prefix      string   `xml:"Prefix"`
		Marker      *string  `xml:"Marker,omitempty"`
		StartAfter  *string  `xml:"StartAfter,omitempty"`
		MaxKeys     int      `xml:"MaxKeys"`
		Delimiter   string   `xml:"Delimiter"`
		IsTruncated bool     `xml:"IsTruncated"`
		KeyCount    *int     `xml:"KeyCount,omitempty"`
	}
	res := result{Name: b.Name, Prefix: q.Get("prefix"), MaxKeys: maxKeys, Delimiter: q.Get("delimiter")}
	if c.op == "ListObjectsV2" {
		zero := 0
		res.KeyCount = &zero
		if v := q.Get("start-after"); v != "" {
			res.StartAfter = &v
		}
	} else {
		m := q.Get("marker")
		res.Marker = &m
	}
	c.ok(res)
}

// wormRetentionDays is the retention period a locked WORM policy of the
// estate answers with.
const wormRetentionDays = 365

// worm answers GetBucketWorm: a locked retention policy for an
// object_lock: true bucket, NoSuchWORMConfiguration otherwise.
func (s *Server) worm(c *ossCall, b *bucket) {
	if !b.ObjectLock {
		c.fail(404, "NoSuchWORMConfiguration", "The WORM Configuration does not exist.")
		return
	}
	sum := sha256.Sum256([]byte(b.Name))
	c.ok(struct {
		XMLName               xml.Name `xml:"WormConfiguration"`
		WormID                string   `xml:"WormId"`
		State                 string   `xml:"State"`
		RetentionPeriodInDays int      `xml:"RetentionPeriodInDays"`
		CreationDate          string   `xml:"CreationDate"`
		ExpirationDate        string   `xml:"ExpirationDate"`
	}{
		WormID: strings.ToUpper(hex.EncodeToString(sum[:8])), State: "Locked", RetentionPeriodInDays: wormRetentionDays,
		CreationDate:   b.created.Format("2006-01-02T15:04:05.000Z"),
		ExpirationDate: b.created.AddDate(0, 0, wormRetentionDays).Format("2006-01-02T15:04:05.000Z"),
	})
}

// stat answers GetBucketStat. OSS refreshes the statistics every few
// hours; a bucket the estate gives no size has none yet, which OSS shows
// as zeros with no LastModifiedTime.
func (s *Server) stat(c *ossCall, b *bucket) {
	doc := struct {
		XMLName              xml.Name `xml:"BucketStat"`
		Storage              int64    `xml:"Storage"`
		ObjectCount          int64    `xml:"ObjectCount"`
		MultipartUploadCount int64    `xml:"MultipartUploadCount"`
		LiveChannelCount     int64    `xml:"LiveChannelCount"`
		LastModifiedTime     int64    `xml:"LastModifiedTime"`
		StandardStorage      int64    `xml:"StandardStorage"`
		StandardObjectCount  int64    `xml:"StandardObjectCount"`
	}{}
	if b.Bytes != nil {
		doc.Storage, doc.StandardStorage = *b.Bytes, *b.Bytes
		if b.Objects != nil {
			doc.ObjectCount, doc.StandardObjectCount = *b.Objects, *b.Objects
		}
		doc.LastModifiedTime = s.opts.Now.Add(-3 * time.Hour).Unix()
	}
	c.ok(doc)
}
