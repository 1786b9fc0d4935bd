package risk

// Legal bases a finding may cite. A finding cites the ones its rule lists
// that the jurisdictions involved bring into play (see legalBasis).
const (
	LawCNIntelligence = "CN National Intelligence Law (2017) art. 7"
	LawCNDataSecurity = "CN Data Security Law (2021) art. 35"
	LawCLOUDAct       = "US CLOUD Act, 18 U.S.C. 2713"
	LawForeignAdv     = "15 CFR 791.4"
	LawCountriesOfCon = "28 CFR 202.601"
)

// Rule is one entry of the catalogue.
type Rule struct {
	ID          string   `json:"id"`
	Risk        string   `json:"risk"`
	Severity    Severity `json:"severity"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	// LegalBasis lists the laws the rule may cite; a finding cites those
	// the jurisdictions it involves bring into play.
	LegalBasis []string `json:"legal_basis"`
	// Remediation is a template: {bucket}, {provider}, {key}, {copy},
	// {countries}, {allowed}, {permission}, {api}, {field} are filled in
	// per finding.
	Remediation string `json:"remediation"`
	// KeyFacts are the evidence keys that decide the finding, most telling
	// first: the text formats show them before the rest of the evidence,
	// so that a narrow line loses detail, never the deciding fact.
	KeyFacts []string `json:"key_facts"`
	// SeverityText, when set, says how the severity is chosen for a rule
	// whose findings do not all share Severity (the highest it takes).
	SeverityText string `json:"severity_text,omitempty"`
	// Jurisdictional rules fire because of who controls or operates the
	// provider or where the data sits; a report counts their findings
	// against the jurisdictions involved (a public bucket or a disabled key
	// is no jurisdiction's doing).
	Jurisdictional bool `json:"jurisdictional"`
}

// SeverityLabel is the severity as a person reads it in the catalogue.
func (r Rule) SeverityLabel() string {
	if r.SeverityText != "" {
		return r.SeverityText
	}
	return r.Severity.String()
}

var (
	allLaws     = []string{LawCNIntelligence, LawCNDataSecurity, LawCLOUDAct, LawForeignAdv, LawCountriesOfCon}
	concernLaws = []string{LawForeignAdv, LawCountriesOfCon}
	none        = []string{}
)

// catalogue is the default rule catalogue of DESIGN, in its order.
var catalogue = []Rule{
	{
		ID: "EXP-001", Risk: RiskExpose, Severity: Critical,
		Title:          "A provider controlled from a jurisdiction of concern can decrypt the data",
		Description:    "The provider's controller or the region's operator is in a concern jurisdiction and the key custody lets the provider decrypt the data without the customer's cooperation.",
		LegalBasis:     allLaws,
		Remediation:    "Move the data of {bucket} to a provider outside the concern jurisdictions, or hold its key in an external key manager or supply it yourself so that {provider} cannot decrypt it.",
		KeyFacts:       []string{"controller", "operator", "custody"},
		Jurisdictional: true,
	},
	{
		ID: "EXP-002", Risk: RiskExpose, Severity: High,
		Title:          "Data sits in a country of concern where the provider can decrypt it",
		Description:    "A data location of the bucket is in a concern country (the provider itself is not concern-controlled) and the key custody lets the provider decrypt the data.",
		LegalBasis:     allLaws,
		Remediation:    "Move {bucket} to a location outside {countries}, or hold its key in an external key manager so that the data cannot be read where it sits.",
		KeyFacts:       []string{"concern_countries", "custody"},
		Jurisdictional: true,
	},
	{
		ID: "EXP-003", Risk: RiskExpose, Severity: High,
		Title:          "A foreign-controlled provider holds the data with its own key or none",
		Description:    "The provider's controller or the region's operator is outside the home and trusted jurisdictions, and the data is unencrypted or encrypted with a key the provider manages.",
		LegalBasis:     []string{LawCLOUDAct},
		Remediation:    "Encrypt {bucket} with a key held in an external key manager or supplied by you, or move it to a home-controlled provider.",
		KeyFacts:       []string{"controller", "operator", "custody"},
		Jurisdictional: true,
	},
	{
		ID: "EXP-004", Risk: RiskExpose, Severity: Medium,
		Title:          "A foreign-controlled provider holds the data and the key in its own KMS",
		Description:    "The provider's controller or the region's operator is outside the home and trusted jurisdictions, and the data's key lives in the provider's KMS (customer-managed, imported or in a dedicated HSM), which the provider can be compelled to use.",
		LegalBasis:     []string{LawCLOUDAct},
		Remediation:    "Move the key of {bucket} to an external key manager under your control, or move the data to a home-controlled provider.",
		KeyFacts:       []string{"controller", "operator", "custody", "key_id"},
		Jurisdictional: true,
	},
	{
		ID: "EXP-005", Risk: RiskExpose, Severity: High,
		Title:       "No encryption at rest",
		Description: "The bucket has no default encryption at rest.",
		LegalBasis:  none,
		Remediation: "Turn on default encryption for {bucket}, with a key held in an external key manager where the provider is not home-controlled.",
		KeyFacts:    []string{"encryption"},
	},
	{
		ID: "EXP-006", Risk: RiskExpose, Severity: Critical,
		Title:       "Publicly readable",
		Description: "Anyone, or any authenticated user of the provider, can read the bucket.",
		LegalBasis:  none,
		Remediation: "Remove the public grants of {bucket} and turn on the provider's public access block.",
		KeyFacts:    []string{"public_via"},
	},
	{
		ID: "EXP-007", Risk: RiskExpose, Severity: Critical,
		Title:          "A replica sits where the provider could read it",
		Description:    "A copy of the bucket sits at a place where EXP-001, EXP-002 or EXP-003 would fire for it; the finding takes that rule's severity.",
		LegalBasis:     allLaws,
		Remediation:    "Move the copy {copy} of {bucket} to a home-controlled provider, or encrypt it with a key held in an external key manager.",
		KeyFacts:       []string{"copy", "as_rule", "custody"},
		SeverityText:   "as that rule (EXP-001, EXP-002 or EXP-003)",
		Jurisdictional: true,
	},
	{
		ID: "EXP-008", Risk: RiskExpose, Severity: High,
		Title:       "The key belongs to an account outside the organisation",
		Description: "The bucket's encryption key is owned by an account or project that is not part of the audited organisation, whose owner can use or withhold it.",
		LegalBasis:  none,
		Remediation: "Re-encrypt {bucket} with a key owned by one of the organisation's accounts, or add the owner of {key} to policy.organisation if it belongs to you.",
		KeyFacts:    []string{"key_account", "key_id"},
	},
	{
		ID: "BLK-001", Risk: RiskBlock, Severity: Critical,
		Title:          "A provider controlled from a jurisdiction of concern holds the only copies",
		Description:    "The provider's controller or the region's operator is in a concern jurisdiction and no copy sits at a provider outside that jurisdiction class.",
		LegalBasis:     concernLaws,
		Remediation:    "Add a replica of {bucket} at a provider that is not controlled from a concern jurisdiction, and declare it under copies in the config if no provider API shows it.",
		KeyFacts:       []string{"controller", "operator", "independent_copies", "copies"},
		Jurisdictional: true,
	},
	{
		ID: "BLK-002", Risk: RiskBlock, Severity: Medium,
		Title:          "A foreign-controlled provider holds the data and no home-controlled copy exists",
		Description:    "The provider's controller or the region's operator is outside the home and trusted jurisdictions and no copy sits at a provider whose controller and operator are both home or trusted.",
		LegalBasis:     none,
		Remediation:    "Add a replica of {bucket} at a home-controlled provider, and declare it under copies in the config if no provider API shows it.",
		KeyFacts:       []string{"controller", "operator", "home_controlled_copies", "copies"},
		Jurisdictional: true,
	},
	{
		ID: "BLK-003", Risk: RiskBlock, Severity: Critical,
		Title:       "The encryption key is not usable",
		Description: "The bucket's key is disabled, pending deletion, pending import or unavailable: the data cannot be decrypted, or soon will not be.",
		LegalBasis:  none,
		Remediation: "Re-enable key {key} (cancel its scheduled deletion, finish its import or restore its key store), or re-encrypt {bucket} with a usable key.",
		KeyFacts:    []string{"state", "key_id", "deletion_date"},
	},
	{
		ID: "BLK-004", Risk: RiskBlock, Severity: High,
		Title:       "Imported key material expires within 30 days",
		Description: "The key's imported material expires soon (or has expired); when it does, the data cannot be decrypted until it is imported again.",
		LegalBasis:  none,
		Remediation: "Re-import the material of key {key} with a later expiry, or re-encrypt {bucket} with a key whose material does not expire.",
		KeyFacts:    []string{"days_left", "expired", "key_id"},
	},
	{
		ID: "BLK-005", Risk: RiskBlock, Severity: Critical,
		Title:       "The bucket could not be read",
		Description: "The read-only reachability probe from where the agent runs could not read the bucket.",
		LegalBasis:  none,
		Remediation: "Find out why {bucket} is unreachable from the agent (the probe's failure class and error are in the evidence): a block, a revoked grant, a network path or an outage.",
		KeyFacts:    []string{"failure", "probe", "error"},
	},
	{
		ID: "RES-001", Risk: RiskResidency, Severity: High,
		Title:       "Data sits outside the allowed countries",
		Description: "A data location of the bucket is in a country outside policy residency.allowed.",
		LegalBasis:  concernLaws,
		Remediation: "Move {bucket} to a location in {allowed}, or add the countries to residency.allowed if they are acceptable.",
		KeyFacts:    []string{"outside", "allowed"},
	},
	{
		ID: "HYG-001", Risk: RiskHygiene, Severity: Low,
		Title:       "No versioning and no object lock",
		Description: "Versioning is off or suspended and no object lock or retention protects the data, so a deletion or overwrite cannot be undone.",
		LegalBasis:  none,
		Remediation: "Turn on versioning for {bucket}, or an object lock or retention policy.",
		KeyFacts:    []string{"versioning", "object_lock"},
	},
	{
		ID: "HYG-002", Risk: RiskHygiene, Severity: Low,
		Title:       "Single-zone redundancy and no replica",
		Description: "The data is stored in a single zone (locally redundant) and no replica exists.",
		LegalBasis:  none,
		Remediation: "Switch {bucket} to zone-redundant storage or add a replica in another region.",
		KeyFacts:    []string{"redundancy", "copies"},
	},
	{
		ID: "UNK-001", Risk: RiskUnknown, Severity: Medium,
		Title:       "An attribute the rules need could not be read",
		Description: "A call the audit needs failed, so the rules could not judge this attribute; the finding names the API, the error and the permission to grant.",
		LegalBasis:  none,
		Remediation: "Grant {permission} to the identity the audit runs as, so that {api} can read {field}.",
		KeyFacts:    []string{"permission", "api", "fields", "error"},
	},
	{
		ID: "UNK-002", Risk: RiskUnknown, Severity: High,
		Title:       "An account the audit was asked to cover could not be listed",
		Description: "The buckets of an account, project or region the scan was asked to cover could not be listed (or the account could not be entered), so nothing in it was audited; its absence from the findings is not a clean result. The finding names the API, the error and the permission to grant.",
		LegalBasis:  none,
		Remediation: "Grant {permission} to the identity the audit runs as, so that {api} can list {bucket}; until then nothing in it is audited.",
		KeyFacts:    []string{"account", "permission", "api", "error"},
	},
}

// Rules returns the catalogue, in order. The slices are copies.
func Rules() []Rule {
	out := make([]Rule, len(catalogue))
	for i, r := range catalogue {
		r.LegalBasis = cloneList(r.LegalBasis)
		r.KeyFacts = cloneList(r.KeyFacts)
		out[i] = r
	}
	return out
}

// RuleByID looks a rule up in the catalogue.
func RuleByID(id string) (Rule, bool) {
	r, ok := byID[id]
	if !ok {
		return Rule{}, false
	}
	out := *r
	out.LegalBasis = cloneList(r.LegalBasis)
	out.KeyFacts = cloneList(r.KeyFacts)
	return out, true
}

// byID indexes the catalogue for the engine, which reads it without copying.
var byID = func() map[string]*Rule {
	m := make(map[string]*Rule, len(catalogue))
	for i := range catalogue {
		m[catalogue[i].ID] = &catalogue[i]
	}
	return m
}()
