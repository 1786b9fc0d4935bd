package awsemu

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"time"
)

const kmsJSON = "application/x-amz-json-1.1"

type kmsService struct{ s *Server }

func (kmsService) name() string { return "kms" }

func (kmsService) identify(c *call) {
	c.op = strings.TrimPrefix(c.r.Header.Get("X-Amz-Target"), "TrentService.")
}

func (kmsService) errorReply(status int, typ, msg string) reply {
	body, _ := json.Marshal(map[string]string{"__type": typ, "message": msg})
	return reply{status: status, ctype: kmsJSON, body: body}
}

func (k kmsService) authError(c *call) reply {
	switch c.auth.fault {
	case authMissing:
		return k.errorReply(400, "MissingAuthenticationTokenException", "Missing Authentication Token")
	case authUnknownKey, authBadToken:
		return k.errorReply(400, "UnrecognizedClientException", "The security token included in the request is invalid.")
	case authExpiredToken:
		return k.errorReply(400, "ExpiredTokenException", "The security token included in the request is expired")
	case authBadSignature:
		return k.errorReply(400, "InvalidSignatureException",
			"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	case authSkewed:
		return k.errorReply(400, "InvalidSignatureException", "Signature expired: the request time is too far from the current time.")
	}
	return k.errorReply(400, "IncompleteSignatureException", capitalise(c.auth.detail))
}

func (k kmsService) fault(c *call, kind string) reply {
	switch kind {
	case "throttle":
		return k.errorReply(400, "ThrottlingException", "Rate exceeded")
	case "too-large":
		return k.errorReply(413, "ValidationException", "Request entity too large")
	}
	return k.errorReply(500, "KMSInternalException", "We encountered an internal error. Please try again.")
}

func (k kmsService) handle(c *call) reply {
	var in struct {
		KeyID  string `json:"KeyId"`
		Limit  int    `json:"Limit"`
		Marker string `json:"Marker"`
	}
	if len(c.body) > 0 {
		if err := json.Unmarshal(c.body, &in); err != nil {
			return k.errorReply(400, "SerializationException", "Start of structure or map found where not expected.")
		}
	}
	switch c.op {
	case opDescribeKey:
		return k.describeKey(c, in.KeyID)
	case opListKeys:
		return k.listKeys(c, in.Limit, in.Marker)
	case opListAliases:
		return k.listAliases(c)
	}
	return k.errorReply(400, "UnknownOperationException", "")
}

// keyMetadata is DescribeKey's KeyMetadata; times are epoch seconds, as
// AWS JSON protocols write them.
type keyMetadata struct {
	AWSAccountID          string   `json:"AWSAccountId"`
	Arn                   string   `json:"Arn"`
	CreationDate          float64  `json:"CreationDate"`
	CustomKeyStoreID      string   `json:"CustomKeyStoreId,omitempty"`
	CloudHsmClusterID     string   `json:"CloudHsmClusterId,omitempty"`
	CustomerMasterKeySpec string   `json:"CustomerMasterKeySpec"`
	DeletionDate          *float64 `json:"DeletionDate,omitempty"`
	PendingDeletionWindow *int     `json:"PendingDeletionWindowInDays,omitempty"`
	Description           string   `json:"Description"`
	Enabled               bool     `json:"Enabled"`
	EncryptionAlgorithms  []string `json:"EncryptionAlgorithms"`
	ExpirationModel       string   `json:"ExpirationModel,omitempty"`
	KeyID                 string   `json:"KeyId"`
	KeyManager            string   `json:"KeyManager"`
	KeySpec               string   `json:"KeySpec"`
	KeyState              string   `json:"KeyState"`
	KeyUsage              string   `json:"KeyUsage"`
	MultiRegion           bool     `json:"MultiRegion"`
	Origin                string   `json:"Origin"`
	ValidTo               *float64 `json:"ValidTo,omitempty"`
	XksKeyConfiguration   *struct {
		ID string `json:"Id"`
	} `json:"XksKeyConfiguration,omitempty"`
}

func epoch(t time.Time) float64 { return float64(t.Unix()) }

func (k kmsService) metadata(key *key) keyMetadata {
	m := keyMetadata{
		AWSAccountID: key.account, Arn: key.arn, KeyID: key.id,
		CreationDate:          epoch(key.created),
		CustomerMasterKeySpec: "SYMMETRIC_DEFAULT", KeySpec: "SYMMETRIC_DEFAULT",
		EncryptionAlgorithms: []string{"SYMMETRIC_DEFAULT"},
		KeyManager:           key.manager, KeyState: key.state, KeyUsage: "ENCRYPT_DECRYPT",
		Origin: key.origin, Enabled: key.state == "Enabled",
		MultiRegion: strings.HasPrefix(key.id, "mrk-"),
	}
	if key.manager == "AWS" {
		m.Description = "Default key that protects my S3 objects when no other key is defined"
	}
	sum := hashHex([]byte(key.arn))
	switch key.origin {
	case "AWS_CLOUDHSM":
		m.CustomKeyStoreID = "cks-" + sum[:17]
		m.CloudHsmClusterID = "cluster-" + sum[17:28]
	case "EXTERNAL_KEY_STORE":
		m.CustomKeyStoreID = "cks-" + sum[:17]
		m.XksKeyConfiguration = &struct {
			ID string `json:"Id"`
		}{ID: "xks-" + sum[28:48]}
	case "EXTERNAL":
		if !key.validTo.IsZero() {
			v := epoch(key.validTo)
			m.ValidTo, m.ExpirationModel = &v, "KEY_MATERIAL_EXPIRES"
		} else if key.state != "PendingImport" {
			m.ExpirationModel = "KEY_MATERIAL_DOES_NOT_EXPIRE"
		}
	}
	if key.state == "PendingDeletion" {
		d := epoch(key.deletion)
		days := max(7, int(key.deletion.Sub(k.s.w.now).Hours()/24+0.5))
		m.DeletionDate, m.PendingDeletionWindow = &d, &days
	}
	return m
}

// describeKey finds a key by id, ARN, alias name or alias ARN. Keys are
// regional: a bare id or alias is looked up in the signing region, and an
// ARN must name that region. A key of another estate account can be
// described by its ARN (cross-account use); a key of an account outside
// the estate is refused, as its key policy grants the caller nothing.
func (k kmsService) describeKey(c *call, ref string) reply {
	if ref == "" {
		return k.errorReply(400, "ValidationException", "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null")
	}
	w := k.s.w
	p := c.auth.principal
	region := c.auth.region
	var key *key
	switch {
	case ref == managedAlias:
		key = w.managedKey(p.account, region)
	case strings.HasPrefix(ref, "alias/"):
		return k.errorReply(400, "NotFoundException", "Alias arn:"+partitionOf(region)+":kms:"+region+":"+p.account+":"+ref+" is not found.")
	case strings.HasPrefix(ref, "arn:"):
		m := keyARNRe.FindStringSubmatch(ref)
		if m == nil {
			return k.errorReply(400, "NotFoundException", "Invalid arn "+ref)
		}
		owner, kregion := m[3], m[2]
		if kregion != region {
			return k.errorReply(400, "NotFoundException", "Invalid arn "+ref+": the key is not in "+region)
		}
		if _, ok := w.accounts[owner]; !ok || w.accounts[owner].user == nil {
			return k.errorReply(400, "AccessDeniedException", "User: "+p.arn+
				" is not authorized to perform: kms:DescribeKey on resource: "+ref+" because no resource-based policy allows the kms:DescribeKey action")
		}
		switch {
		case m[4] == managedAlias:
			if owner != p.account {
				return k.errorReply(400, "NotFoundException", "Alias "+ref+" is not found.")
			}
			key = w.managedKey(owner, region)
		default:
			key = w.keys[ref]
			if mk := w.managedKey(owner, region); key == nil && mk.arn == ref {
				key = mk
			}
		}
	default:
		if a := w.accounts[p.account]; a != nil {
			if kk := a.keys[ref]; kk != nil && kk.region == region {
				key = kk
			}
		}
		if mk := w.managedKey(p.account, region); key == nil && mk.id == ref {
			key = mk
		}
	}
	if key == nil {
		return k.errorReply(400, "NotFoundException", "Key '"+keyARNOrRef(ref, region, p.account)+"' does not exist")
	}
	if key.deniedTo[p.account] {
		return k.errorReply(400, "AccessDeniedException", "User: "+p.arn+
			" is not authorized to perform: kms:DescribeKey on resource: "+key.arn+" because no identity-based policy allows the kms:DescribeKey action")
	}
	body, _ := json.Marshal(map[string]any{"KeyMetadata": k.metadata(key)})
	return reply{status: 200, ctype: kmsJSON, body: body}
}

func keyARNOrRef(ref, region, account string) string {
	if strings.HasPrefix(ref, "arn:") {
		return ref
	}
	return keyARN(region, account, ref)
}

// listKeys lists the caller's keys in the signing region, in pages.
func (k kmsService) listKeys(c *call, limit int, marker string) reply {
	w := k.s.w
	p := c.auth.principal
	region := c.auth.region
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var all []*key
	if a := w.accounts[p.account]; a != nil && a.user != nil {
		for _, kk := range a.keys {
			if kk.region == region {
				all = append(all, kk)
			}
		}
		all = append(all, w.managedKey(p.account, region))
	}
	sortKeys(all)
	start := 0
	if marker != "" {
		n, err := strconv.Atoi(marker)
		if err != nil || n < 0 || n > len(all) {
			return k.errorReply(400, "InvalidMarkerException", "The marker that specifies where to resume is not valid.")
		}
		start = n
	}
	end := min(start+limit, len(all))
	type entry struct {
		KeyArn string `json:"KeyArn"`
		KeyID  string `json:"KeyId"`
	}
	out := struct {
		Keys       []entry `json:"Keys"`
		NextMarker string  `json:"NextMarker,omitempty"`
		Truncated  bool    `json:"Truncated"`
	}{Keys: []entry{}}
	for _, kk := range all[start:end] {
		out.Keys = append(out.Keys, entry{kk.arn, kk.id})
	}
	if end < len(all) {
		out.NextMarker, out.Truncated = strconv.Itoa(end), true
	}
	body, _ := json.Marshal(out)
	return reply{status: 200, ctype: kmsJSON, body: body}
}

// listAliases lists the aws/s3 alias: the estate gives keys no other names.
func (k kmsService) listAliases(c *call) reply {
	p := c.auth.principal
	region := c.auth.region
	type alias struct {
		AliasArn    string `json:"AliasArn"`
		AliasName   string `json:"AliasName"`
		TargetKeyID string `json:"TargetKeyId"`
	}
	out := struct {
		Aliases   []alias `json:"Aliases"`
		Truncated bool    `json:"Truncated"`
	}{Aliases: []alias{}}
	if a := k.s.w.accounts[p.account]; a != nil && a.user != nil {
		mk := k.s.w.managedKey(p.account, region)
		out.Aliases = append(out.Aliases, alias{
			AliasArn:  "arn:" + partitionOf(region) + ":kms:" + region + ":" + p.account + ":" + managedAlias,
			AliasName: managedAlias, TargetKeyID: mk.id,
		})
	}
	body, _ := json.Marshal(out)
	return reply{status: 200, ctype: kmsJSON, body: body}
}

func sortKeys(ks []*key) {
	sort.Slice(ks, func(i, j int) bool { return ks[i].arn < ks[j].arn })
}
