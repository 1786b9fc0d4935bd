package providers

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// Tri is a fact that may not have been readable: yes, no or unknown.
type Tri string

const (
	Yes        Tri = "yes"
	No         Tri = "no"
	TriUnknown Tri = "unknown"
)

// TriOf converts a bool into Yes or No.
func TriOf(b bool) Tri {
	if b {
		return Yes
	}
	return No
}

// Custody says who holds the key that protects a bucket's data at rest.
type Custody string

// The custody classes, from the one that gives the provider the most reach
// to the one that gives it the least.
const (
	CustodyNone               Custody = "none"
	CustodyProviderManaged    Custody = "provider-managed"
	CustodyProviderKMS        Custody = "provider-kms"
	CustodyImportedKey        Custody = "imported-key"
	CustodyDedicatedHSM       Custody = "dedicated-hsm"
	CustodyExternalKeyManager Custody = "external-key-manager"
	CustodyCustomerSupplied   Custody = "customer-supplied"
	CustodyUnknown            Custody = "unknown"
)

// Custodies lists every custody class, for tests and documentation.
var Custodies = []Custody{
	CustodyNone, CustodyProviderManaged, CustodyProviderKMS, CustodyImportedKey,
	CustodyDedicatedHSM, CustodyExternalKeyManager, CustodyCustomerSupplied, CustodyUnknown,
}

// ProviderCanDecrypt reports whether a provider holding data under this
// custody could decrypt it without the customer's cooperation. Unknown
// custody answers false: the rules treat it through UNK-001, not as a fact.
func (c Custody) ProviderCanDecrypt() bool {
	switch c {
	case CustodyNone, CustodyProviderManaged, CustodyProviderKMS, CustodyImportedKey, CustodyDedicatedHSM:
		return true
	}
	return false
}

// KeyState is the provider-neutral state of an encryption key.
type KeyState string

const (
	KeyEnabled         KeyState = "enabled"
	KeyDisabled        KeyState = "disabled"
	KeyPendingDeletion KeyState = "pending-deletion"
	KeyPendingImport   KeyState = "pending-import"
	KeyUnavailable     KeyState = "unavailable"
	KeyStateUnknown    KeyState = "unknown"
)

// Location types.
const (
	LocationRegion      = "region"
	LocationDualRegion  = "dual-region"
	LocationMultiRegion = "multi-region"
)

// Redundancy scopes: how far the provider itself spreads a bucket's data,
// whatever it calls the class. Each plugin maps its own words onto these.
const (
	RedundancySingleZone  = "single-zone"  // one zone or data center (OSS LRS, Azure LRS)
	RedundancyMultiZone   = "multi-zone"   // zones of one region (OSS ZRS, Azure ZRS, a GCS region)
	RedundancyMultiRegion = "multi-region" // more than one region (GCS dual- and multi-regions)
)

// Versioning states.
const (
	VersioningEnabled   = "enabled"
	VersioningSuspended = "suspended"
	VersioningOff       = "off"
	VersioningUnknown   = "unknown"
)

// Bucket is everything a plugin records about one bucket. A field that could
// not be read holds its unknown value and has an entry in Unknowns naming the
// API call, the error and the permission to grant.
type Bucket struct {
	// Identity.
	Provider string            `json:"provider"`
	Account  string            `json:"account"`
	Name     string            `json:"name"`
	URI      string            `json:"uri"`
	Tags     map[string]string `json:"tags"`

	// Place.
	Region       string `json:"region"`
	LocationType string `json:"location_type"`
	// Countries are the ISO 3166-1 alpha-2 codes of the data's locations.
	Countries []string `json:"countries"`
	// DataRegions are the two regions of a dual-region.
	DataRegions []string `json:"data_regions,omitempty"`
	// CountriesAreCandidates is set when the provider names no fixed list
	// (a multi-region): the data may sit in any of Countries.
	CountriesAreCandidates bool              `json:"countries_are_candidates,omitempty"`
	Endpoints              map[string]string `json:"endpoints,omitempty"`

	// Control: jurisdictions as ISO 3166-1 alpha-2 codes, with the entities.
	Controller       string `json:"controller"`
	ControllerEntity string `json:"controller_entity"`
	Operator         string `json:"operator"`
	OperatorEntity   string `json:"operator_entity"`
	// Contract is the contracting entity and terms the config declares for
	// the bucket's account; nil when it declares none.
	Contract *Contract `json:"contract,omitempty"`

	// Custody of the default encryption key.
	Custody Custody `json:"custody"`
	// Encryption is the provider's own name for the default encryption
	// (AES256, aws:kms, KMS, SM4, google-managed, none).
	Encryption string `json:"encryption"`
	Key        *Key   `json:"key"`

	// Copies: replicas from the provider's configuration and copies the
	// user declared; Redundancy is the provider's own redundancy class
	// (LRS, ZRS, dual-region, multi-region, turbo), RedundancyScope the
	// same fact in the vocabulary the rules read (RedundancySingleZone…),
	// empty where the provider does not say.
	Copies          []Copy `json:"copies"`
	Redundancy      string `json:"redundancy,omitempty"`
	RedundancyScope string `json:"redundancy_scope,omitempty"`

	// Resilience.
	Versioning string `json:"versioning"`
	ObjectLock Tri    `json:"object_lock"`

	// Exposure.
	Public            Tri      `json:"public"`
	PublicVia         []string `json:"public_via,omitempty"`
	PublicAccessBlock Tri      `json:"public_access_block"`

	Reachability Reachability `json:"reachability"`

	// Size is the data at stake; nil when no metric or API gave it, with
	// an Unknown for FieldSize saying why.
	Size *Size `json:"size"`

	Unknowns []Unknown `json:"unknowns"`
}

// Key is the encryption key a bucket's default encryption uses.
type Key struct {
	ID      string   `json:"id"`
	Account string   `json:"account,omitempty"`
	Region  string   `json:"region,omitempty"`
	State   KeyState `json:"state"`
	// ProviderState is the state as the provider names it (PendingDeletion,
	// DESTROY_SCHEDULED, …).
	ProviderState   string     `json:"provider_state,omitempty"`
	DeletionDate    *time.Time `json:"deletion_date,omitempty"`
	MaterialExpires *time.Time `json:"material_expires,omitempty"`
	// Raw custody facts, as the provider gives them.
	Manager         string `json:"manager,omitempty"`
	Origin          string `json:"origin,omitempty"`
	ProtectionLevel string `json:"protection_level,omitempty"`
	Instance        string `json:"instance,omitempty"`
}

// Copy sources.
const (
	CopyReplication = "replication"
	CopyDeclared    = "declared"
)

// Copy is another place a bucket's data is kept.
type Copy struct {
	Provider string `json:"provider"`
	Account  string `json:"account,omitempty"`
	Bucket   string `json:"bucket"`
	Region   string `json:"region,omitempty"`
	// Filled from the destination provider's place table by the agent when
	// the plugin leaves them empty.
	Countries  []string `json:"countries,omitempty"`
	Controller string   `json:"controller,omitempty"`
	Operator   string   `json:"operator,omitempty"`
	// Custody of the copy where known: from the replication rule's
	// destination encryption, or from the destination bucket's own record.
	Custody Custody `json:"custody,omitempty"`
	Source  string  `json:"source"`
}

// Size is how much a bucket holds, as the provider's storage metrics or
// statistics API last reported it. Metrics lag: AsOf says when the figure
// was true.
type Size struct {
	Bytes int64 `json:"bytes"`
	// Objects is nil when the source gave bytes but no object count.
	Objects *int64    `json:"objects"`
	AsOf    time.Time `json:"as_of"`
	// Source names the metric or API the figure comes from, e.g.
	// "cloudwatch:AWS/S3/BucketSizeBytes".
	Source string `json:"source"`
}

// Failure classes of a reachability probe.
const (
	FailDNS       = "dns"
	FailConnect   = "connect"
	FailTLS       = "tls"
	FailTimeout   = "timeout"
	FailHTTP403   = "http-403"
	FailHTTP404   = "http-404"
	FailHTTP5xx   = "http-5xx"
	FailThrottled = "throttled"
	FailOther     = "other"
)

// Reachability is the result of a read-only probe of a bucket's data plane
// from where the agent runs.
type Reachability struct {
	Reachable bool    `json:"reachable"`
	Failure   string  `json:"failure,omitempty"`
	Error     string  `json:"error,omitempty"`
	LatencyMS float64 `json:"latency_ms"`
	// Probe names the calls made, e.g. "HeadBucket+ListObjectsV2".
	Probe string `json:"probe"`
}

// Unknown records a field that could not be read.
type Unknown struct {
	Field      string `json:"field"`
	API        string `json:"api"`
	Error      string `json:"error"`
	Permission string `json:"permission,omitempty"`
}

// Record fields that rules need and that may be unknown.
const (
	FieldRegion            = "region"
	FieldCustody           = "custody"
	FieldKey               = "key"
	FieldCopies            = "copies"
	FieldVersioning        = "versioning"
	FieldObjectLock        = "object_lock"
	FieldPublic            = "public"
	FieldPublicAccessBlock = "public_access_block"
	FieldTags              = "tags"
	FieldRedundancy        = "redundancy"
	// FieldReachability is unknown when the probe was answered with
	// something that neither proves nor disproves access (throttling, 5xx,
	// a malformed answer); see RecordProbe.
	FieldReachability = "reachability"
	// FieldSize is informational: an unknown size raises no finding.
	FieldSize = "size"
)

// NewBucket returns a record with every readable field set to unknown, so
// that a plugin that fails half-way still yields a truthful record.
func NewBucket(provider, account, name, uri string) Bucket {
	return Bucket{
		Provider:          provider,
		Account:           account,
		Name:              name,
		URI:               uri,
		Tags:              map[string]string{},
		Countries:         []string{},
		Custody:           CustodyUnknown,
		Encryption:        "unknown",
		Copies:            []Copy{},
		Versioning:        VersioningUnknown,
		ObjectLock:        TriUnknown,
		Public:            TriUnknown,
		PublicAccessBlock: TriUnknown,
		Unknowns:          []Unknown{},
	}
}

// SetUnknown records that field could not be read because api failed with
// err; permission names what to grant, where a permission would help.
func (b *Bucket) SetUnknown(field, api string, err error, permission string) {
	b.Unknowns = append(b.Unknowns, Unknown{Field: field, API: api, Error: ErrorText(err), Permission: permission})
}

// MaxErrorText bounds an error's text in a record: an SDK may quote a
// whole error body in its error, and an endpoint chooses that body.
const MaxErrorText = 2000

// ErrorText is err's text for a record, cut at MaxErrorText bytes (on a
// character boundary) with a note of how much was left out.
func ErrorText(err error) string {
	if err == nil {
		return "unknown error"
	}
	msg := err.Error()
	if len(msg) <= MaxErrorText {
		return msg
	}
	cut := MaxErrorText
	for cut > 0 && !utf8.RuneStart(msg[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes more)", msg[:cut], len(msg)-cut)
}

// IsUnknown reports whether field could not be read.
func (b *Bucket) IsUnknown(field string) bool {
	for _, u := range b.Unknowns {
		if u.Field == field {
			return true
		}
	}
	return false
}

// ApplyPlace fills the place and control fields from a place-table entry.
func (b *Bucket) ApplyPlace(p Place, controller Party) {
	b.Region = p.Region
	b.LocationType = p.LocationType
	b.Countries = append([]string(nil), p.Countries...)
	b.DataRegions = append([]string(nil), p.Regions...)
	b.CountriesAreCandidates = p.Candidates
	b.Controller = controller.Jurisdiction
	b.ControllerEntity = controller.Entity
	b.Operator = p.Operator.Jurisdiction
	b.OperatorEntity = p.Operator.Entity
	if b.Operator == "" {
		b.Operator, b.OperatorEntity = controller.Jurisdiction, controller.Entity
	}
}
