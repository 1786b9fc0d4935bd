package alibaba

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"github.com/aliyun/aliyun-oss-go-sdk/oss"

	"github.com/reachaudit/reachaudit/providers"
)

// The OSS answers are decoded here, from bytes, so that the same code reads
// the service, the sandbox and the published examples in testdata.

// bucketInfo is what GetBucketInfo tells: the SDK's own BucketInfo plus
// BlockPublicAccess, which newer answers carry and the v1 SDK's struct
// lacks. When it is there, GetBucketPublicAccessBlock need not be called.
type bucketInfo struct {
	oss.BucketInfo
	BlockPublicAccess *bool
}

func decodeXML(body []byte, v any) error {
	if err := xml.NewDecoder(bytes.NewReader(body)).Decode(v); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}

func parseBucketInfo(body []byte) (bucketInfo, error) {
	var res oss.GetBucketInfoResult
	if err := decodeXML(body, &res); err != nil {
		return bucketInfo{}, err
	}
	var extra struct {
		BlockPublicAccess string `xml:"Bucket>BlockPublicAccess"`
	}
	if err := decodeXML(body, &extra); err != nil {
		return bucketInfo{}, err
	}
	info := bucketInfo{BucketInfo: res.BucketInfo}
	if info.Location == "" && info.Name == "" {
		return bucketInfo{}, fmt.Errorf("decode answer: no Bucket element in BucketInfo")
	}
	switch strings.ToLower(extra.BlockPublicAccess) {
	case "true":
		t := true
		info.BlockPublicAccess = &t
	case "false":
		f := false
		info.BlockPublicAccess = &f
	}
	return info, nil
}

func parseListBuckets(body []byte) (oss.ListBucketsResult, error) {
	var res oss.ListBucketsResult
	err := decodeXML(body, &res)
	return res, err
}

func parseReplication(body []byte) (oss.GetBucketReplicationResult, error) {
	var res oss.GetBucketReplicationResult
	err := decodeXML(body, &res)
	return res, err
}

func parseTagging(body []byte) (oss.GetBucketTaggingResult, error) {
	var res oss.GetBucketTaggingResult
	err := decodeXML(body, &res)
	return res, err
}

// parsePolicyStatus reads <PolicyStatus><IsPublic>…</IsPublic></PolicyStatus>.
func parsePolicyStatus(body []byte) (bool, error) {
	var res struct {
		XMLName  xml.Name `xml:"PolicyStatus"`
		IsPublic string   `xml:"IsPublic"`
	}
	if err := decodeXML(body, &res); err != nil {
		return false, err
	}
	switch strings.ToLower(res.IsPublic) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("decode answer: IsPublic is %q", res.IsPublic)
}

// wormLocks maps a WORM configuration's State onto object lock. Only a
// locked retention policy binds: one InProgress may still be deleted (and
// lapses after 24 hours unless it is locked), so it protects nothing.
var wormLocks = map[string]providers.Tri{
	"Locked":     providers.Yes,
	"InProgress": providers.No,
}

// parseWorm reads GetBucketWorm's <WormConfiguration>: whether a locked
// retention policy holds the bucket's objects.
func parseWorm(body []byte) (providers.Tri, error) {
	var res oss.WormConfiguration
	if err := decodeXML(body, &res); err != nil {
		return providers.TriUnknown, err
	}
	if t, ok := wormLocks[res.State]; ok {
		return t, nil
	}
	return providers.TriUnknown, fmt.Errorf("decode answer: WORM State is %q", res.State)
}

// parsePublicAccessBlock reads the bucket's Block Public Access answer. The
// root element is not checked: it is PublicAccessBlockConfiguration in the
// API reference and BucketPublicAccessBlockConfiguration in some examples.
func parsePublicAccessBlock(body []byte) (bool, error) {
	var res struct {
		BlockPublicAccess string `xml:"BlockPublicAccess"`
	}
	if err := decodeXML(body, &res); err != nil {
		return false, err
	}
	switch strings.ToLower(res.BlockPublicAccess) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, fmt.Errorf("decode answer: BlockPublicAccess is %q", res.BlockPublicAccess)
}

// applyPlace fills region, countries and control from an OSS location or
// region id. A region missing from the table keeps its id and CN control
// (Alibaba runs every region) and records its countries as unknown.
func applyPlace(b *providers.Bucket, location, api string) {
	id := RegionID(location)
	if p, ok := Place(id); ok {
		b.ApplyPlace(p, Controller)
		return
	}
	b.Region = id
	b.LocationType = providers.LocationRegion
	b.Controller, b.ControllerEntity = Controller.Jurisdiction, Controller.Entity
	b.Operator, b.OperatorEntity = Controller.Jurisdiction, Controller.Entity
	b.SetUnknown(providers.FieldRegion, api, fmt.Errorf("region %q is not in the OSS region table", id), "")
}

// sse is a bucket's default encryption as GetBucketInfo gives it.
type sse struct {
	algorithm string // AES256, KMS, SM4, or "" for none
	keyID     string // KMSMasterKeyID, for KMS
	data      string // KMSDataEncryption (SM4), for KMS
}

func sseOf(info oss.BucketInfo) sse {
	s := sse{
		algorithm: strings.TrimSpace(info.SseRule.SSEAlgorithm),
		keyID:     strings.TrimSpace(info.SseRule.KMSMasterKeyID),
		data:      strings.TrimSpace(info.SseRule.KMSDataEncryption),
	}
	if strings.EqualFold(s.algorithm, "None") {
		s.algorithm = ""
	}
	if strings.EqualFold(s.keyID, "None") {
		s.keyID = ""
	}
	return s
}

// encryptionName is the record's Encryption: the provider's own name.
func (s sse) encryptionName() string {
	switch {
	case s.algorithm == "":
		return "none"
	case s.algorithm == "KMS" && s.data != "":
		return "KMS:" + s.data
	}
	return s.algorithm
}

// applyBucketInfo fills what GetBucketInfo answers. It returns the KMS key
// to describe, if the custody depends on one.
// redundancyScope maps OSS's DataRedundancyType onto the neutral scope.
var redundancyScope = map[string]string{
	"LRS": providers.RedundancySingleZone,
	"ZRS": providers.RedundancyMultiZone,
}

func applyBucketInfo(b *providers.Bucket, info bucketInfo) (keyID string) {
	applyPlace(b, info.Location, "oss:GetBucketInfo")
	if info.ExtranetEndpoint != "" || info.IntranetEndpoint != "" {
		b.Endpoints = map[string]string{}
		if info.ExtranetEndpoint != "" {
			b.Endpoints["extranet"] = info.ExtranetEndpoint
		}
		if info.IntranetEndpoint != "" {
			b.Endpoints["intranet"] = info.IntranetEndpoint
		}
	}
	b.Redundancy = info.RedundancyType
	if b.Redundancy == "" {
		// OSS answers without DataRedundancyType for buckets created before
		// ZRS existed, which are all locally redundant.
		b.Redundancy = "LRS"
	}
	b.RedundancyScope = redundancyScope[b.Redundancy]
	switch strings.ToLower(info.Versioning) {
	case "enabled":
		b.Versioning = providers.VersioningEnabled
	case "suspended":
		b.Versioning = providers.VersioningSuspended
	default:
		// Absent means versioning was never turned on.
		b.Versioning = providers.VersioningOff
	}
	// Retention (WORM) is not in GetBucketInfo's answer: see retention.
	s := sseOf(info.BucketInfo)
	b.Encryption = s.encryptionName()
	switch s.algorithm {
	case "":
		b.Custody = providers.CustodyNone
	case "AES256", "SM4":
		b.Custody = providers.CustodyProviderManaged
	case "KMS":
		if s.keyID == "" {
			// The OSS-managed default KMS key: OSS holds it.
			b.Custody = providers.CustodyProviderManaged
			return ""
		}
		return s.keyID
	default:
		b.SetUnknown(providers.FieldCustody, "oss:GetBucketInfo",
			fmt.Errorf("unknown SSEAlgorithm %q", s.algorithm), "")
	}
	return ""
}

// aclPublic says whether a canned ACL lets anyone read.
func aclPublic(acl string) bool {
	return acl == "public-read" || acl == "public-read-write"
}

// copiesOf turns replication rules into copies. Rules being closed no
// longer copy anything.
func copiesOf(res oss.GetBucketReplicationResult) []providers.Copy {
	out := []providers.Copy{}
	for _, r := range res.Rule {
		if r.Destination == nil || r.Destination.Bucket == "" || strings.EqualFold(r.Status, "closing") {
			continue
		}
		out = append(out, providers.Copy{
			Provider: "alibaba",
			Bucket:   r.Destination.Bucket,
			Region:   RegionID(r.Destination.Location),
			Source:   providers.CopyReplication,
		})
	}
	return out
}

func tagsOf(res oss.GetBucketTaggingResult) map[string]string {
	out := make(map[string]string, len(res.Tags))
	for _, t := range res.Tags {
		out[t.Key] = t.Value
	}
	return out
}

// keyMeta is what DescribeKey tells of a key, out of the SDK's types.
type keyMeta struct {
	KeyID              string
	Arn                string
	Creator            string
	Origin             string
	ProtectionLevel    string
	KeyState           string
	DeleteDate         string
	MaterialExpireTime string
	DKMSInstanceID     string
}

// keyRecord maps a described key to its custody class and record.
func keyRecord(m keyMeta, region string) (providers.Custody, *providers.Key) {
	k := &providers.Key{
		ID:              m.KeyID,
		Region:          region,
		ProviderState:   m.KeyState,
		Manager:         m.Creator,
		Origin:          m.Origin,
		ProtectionLevel: m.ProtectionLevel,
		Instance:        m.DKMSInstanceID,
	}
	if acct, reg, ok := parseKeyARN(m.Arn); ok {
		k.Account, k.Region = acct, reg
	}
	switch m.KeyState {
	case "Enabled":
		k.State = providers.KeyEnabled
	case "Disabled":
		k.State = providers.KeyDisabled
	case "PendingDeletion":
		k.State = providers.KeyPendingDeletion
	case "PendingImport":
		k.State = providers.KeyPendingImport
	case "":
		k.State = providers.KeyStateUnknown
	default:
		k.State = providers.KeyUnavailable
	}
	k.DeletionDate = parseTime(m.DeleteDate)
	k.MaterialExpires = parseTime(m.MaterialExpireTime)

	var c providers.Custody
	switch {
	case isServiceCreator(m.Creator):
		// A key KMS made for a cloud service (Creator "Oss"): the service
		// holds it like any provider-managed key.
		c = providers.CustodyProviderManaged
	case m.Origin == "EXTERNAL":
		c = providers.CustodyImportedKey
	case m.DKMSInstanceID != "" || m.ProtectionLevel == "HSM":
		c = providers.CustodyDedicatedHSM
	default:
		c = providers.CustodyProviderKMS
	}
	return c, k
}

// isServiceCreator tells a cloud service's name from an account or RAM
// user id, which are numeric.
func isServiceCreator(creator string) bool {
	if creator == "" {
		return false
	}
	for _, r := range creator {
		if r < '0' || r > '9' {
			return true
		}
	}
	return false
}

// parseKeyARN reads acs:kms:<region>:<account>:key/<id>.
func parseKeyARN(arn string) (account, region string, ok bool) {
	parts := strings.SplitN(arn, ":", 5)
	if len(parts) != 5 || parts[0] != "acs" || parts[1] != "kms" || !strings.HasPrefix(parts[4], "key/") {
		return "", "", false
	}
	return parts[3], parts[2], parts[3] != ""
}

func parseTime(s string) *time.Time {
	if s == "" {
		return nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05Z0700", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			return &t
		}
	}
	return nil
}
