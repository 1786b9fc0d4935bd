package reports

import (
	"bytes"
	"encoding/json"
	"io"
	"sort"
	"strings"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
)

// OCSF Compliance Finding identifiers from the 1.8.0 schema.
const (
	OCSFVersion        = "1.8.0"
	ocsfCategoryUID    = 2 // Findings
	ocsfClassUID       = 2003
	ocsfActivityCreate = 1
	ocsfTypeUID        = ocsfClassUID*100 + ocsfActivityCreate
)

// ocsfSeverity maps our severities onto severity_id and its caption.
var ocsfSeverity = map[risk.Severity]struct {
	id      int
	caption string
}{
	risk.Info: {1, "Informational"}, risk.Low: {2, "Low"}, risk.Medium: {3, "Medium"},
	risk.High: {4, "High"}, risk.Critical: {5, "Critical"},
}

// ocsfStatus maps a finding status onto the Finding class's status_id enum.
var ocsfStatus = map[string]struct {
	id      int
	caption string
}{
	risk.StatusOpen: {1, "New"}, risk.StatusSuppressed: {3, "Suppressed"},
}

type ocsfEvent struct {
	ActivityID     int              `json:"activity_id"`
	ActivityName   string           `json:"activity_name"`
	CategoryUID    int              `json:"category_uid"`
	CategoryName   string           `json:"category_name"`
	ClassUID       int              `json:"class_uid"`
	ClassName      string           `json:"class_name"`
	TypeUID        int              `json:"type_uid"`
	TypeName       string           `json:"type_name"`
	Time           int64            `json:"time"`
	TimezoneOffset int              `json:"timezone_offset"`
	SeverityID     int              `json:"severity_id"`
	Severity       string           `json:"severity"`
	StatusID       int              `json:"status_id"`
	Status         string           `json:"status"`
	StatusDetail   string           `json:"status_detail,omitempty"`
	Message        string           `json:"message"`
	Metadata       ocsfMetadata     `json:"metadata"`
	FindingInfo    ocsfFindingInfo  `json:"finding_info"`
	Compliance     ocsfCompliance   `json:"compliance"`
	Resources      []ocsfResource   `json:"resources"`
	Cloud          ocsfCloudObj     `json:"cloud"`
	Remediation    *ocsfRemediation `json:"remediation,omitempty"`
	Unmapped       map[string]any   `json:"unmapped,omitempty"`
}

type ocsfMetadata struct {
	Version        string      `json:"version"`
	Product        ocsfProduct `json:"product"`
	Profiles       []string    `json:"profiles"`
	CorrelationUID string      `json:"correlation_uid,omitempty"`
	LogName        string      `json:"log_name"`
}

type ocsfProduct struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version"`
}

type ocsfFindingInfo struct {
	UID         string   `json:"uid"`
	Title       string   `json:"title"`
	Desc        string   `json:"desc,omitempty"`
	Types       []string `json:"types"`
	CreatedTime int64    `json:"created_time"`
}

type ocsfCompliance struct {
	Control      string   `json:"control"`
	Standards    []string `json:"standards,omitempty"`
	Requirements []string `json:"requirements,omitempty"`
	StatusID     int      `json:"status_id"`
	Status       string   `json:"status"`
}

type ocsfResource struct {
	UID            string         `json:"uid"`
	Name           string         `json:"name"`
	Type           string         `json:"type"`
	RoleID         int            `json:"role_id"`
	Region         string         `json:"region,omitempty"`
	CloudPartition string         `json:"cloud_partition,omitempty"`
	Labels         []string       `json:"labels,omitempty"`
	Data           map[string]any `json:"data,omitempty"`
}

type ocsfCloudObj struct {
	Provider       string      `json:"provider"`
	Region         string      `json:"region,omitempty"`
	CloudPartition string      `json:"cloud_partition,omitempty"`
	Account        ocsfAccount `json:"account"`
}

type ocsfAccount struct {
	UID    string `json:"uid"`
	Type   string `json:"type"`
	TypeID int    `json:"type_id"`
}

type ocsfRemediation struct {
	Desc string `json:"desc"`
}

type ocsfEncoder struct {
	r       *agent.Result
	idx     bucketIndex
	version string
	buf     bytes.Buffer
	enc     *json.Encoder
}

func newOCSFEncoder(r *agent.Result, opts Options) *ocsfEncoder {
	e := &ocsfEncoder{r: r, idx: indexBuckets(r), version: opts.version()}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}

func (e *ocsfEncoder) AppendFinding(dst []byte, f *risk.Finding) ([]byte, error) {
	e.buf.Reset()
	if err := e.enc.Encode(e.event(f)); err != nil {
		return dst, err
	}
	return append(dst, bytes.TrimSuffix(e.buf.Bytes(), []byte("\n"))...), nil
}

func (e *ocsfEncoder) event(f *risk.Finding) *ocsfEvent {
	ms := e.r.FinishedAt.UnixMilli()
	sev := ocsfSeverity[f.Severity]
	st, ok := ocsfStatus[f.Status]
	if !ok {
		st = ocsfStatus[risk.StatusOpen]
	}
	cl, partition := ocsfCloudOf(f.Provider, f.Region)
	ev := &ocsfEvent{
		ActivityID: ocsfActivityCreate, ActivityName: "Create",
		CategoryUID: ocsfCategoryUID, CategoryName: "Findings",
		ClassUID: ocsfClassUID, ClassName: "Compliance Finding",
		TypeUID: ocsfTypeUID, TypeName: "Compliance Finding: Create",
		Time:       ms,
		SeverityID: sev.id, Severity: sev.caption,
		StatusID: st.id, Status: st.caption, StatusDetail: ocsfStatusDetail(f),
		Message: f.Title,
		Metadata: ocsfMetadata{
			Version:        OCSFVersion,
			Product:        ocsfProduct{Name: Product, VendorName: Product, Version: e.version},
			Profiles:       []string{"cloud"},
			CorrelationUID: e.r.RunID,
			LogName:        "findings",
		},
		FindingInfo: ocsfFindingInfo{
			UID: f.ID, Title: f.Title, Desc: f.Rule + ": " + f.Title,
			Types: []string{f.Risk}, CreatedTime: ms,
		},
		Compliance: ocsfCompliance{
			Control:      f.Rule,
			Standards:    f.LegalBasis,
			Requirements: policyRequirements(&e.r.Policy),
			StatusID:     3, Status: "Fail",
		},
		Cloud: ocsfCloudObj{
			Provider: cl.Provider, Region: f.Region, CloudPartition: partition,
			Account: ocsfAccount{UID: f.Account, Type: cl.AccountType, TypeID: cl.AccountTypeID},
		},
		Unmapped: map[string]any{"evidence": f.Evidence, "jurisdictions": f.Jurisdictions, "risk": f.Risk},
	}
	res := ocsfResource{
		UID: resourceName(f.Provider, f.Account, f.Bucket), Name: f.Bucket, Type: "Object Storage Bucket",
		RoleID: 1, Region: f.Region, CloudPartition: partition,
	}
	if b := e.idx.of(f); b != nil {
		res.UID = b.URI
		res.Labels = labels(b.Tags)
		res.Data = bucketData(b)
	}
	ev.Resources = []ocsfResource{res}
	if f.Remediation != "" {
		ev.Remediation = &ocsfRemediation{Desc: f.Remediation}
	}
	return ev
}

func encodeOCSF(w io.Writer, r *agent.Result, opts Options) error {
	return encodeLines(w, newOCSFEncoder(r, opts), r)
}

// policyRequirements states what the policy required, as a compliance
// requirement: the jurisdictions it treats as home, trusted and of concern.
func policyRequirements(p *risk.Policy) []string {
	var out []string
	if p.Profile != "" {
		out = append(out, "profile "+p.Profile)
	}
	if len(p.Home) > 0 {
		out = append(out, "home "+strings.Join(p.Home, ","))
	}
	if len(p.Trusted) > 0 {
		out = append(out, "trusted "+strings.Join(p.Trusted, ","))
	}
	if len(p.Concern) > 0 {
		out = append(out, "concern "+strings.Join(p.Concern, ","))
	}
	if len(p.Residency.Allowed) > 0 {
		out = append(out, "residency "+strings.Join(p.Residency.Allowed, ","))
	}
	return out
}

// labels renders tags as sorted "key:value" strings.
func labels(tags map[string]string) []string {
	if len(tags) == 0 {
		return nil
	}
	out := make([]string, 0, len(tags))
	for k, v := range tags {
		out = append(out, k+":"+v)
	}
	sort.Strings(out)
	return out
}

// bucketData is the record's key facts, for resources[].data.
func bucketData(b *providers.Bucket) map[string]any {
	d := map[string]any{
		"countries":  b.Countries,
		"controller": b.Controller,
		"operator":   b.Operator,
		"custody":    b.Custody,
		"encryption": b.Encryption,
		"public":     b.Public,
		"versioning": b.Versioning,
		"reachable":  b.Reachability.Reachable,
	}
	if b.Key != nil {
		d["key_id"] = b.Key.ID
		d["key_state"] = b.Key.State
	}
	if len(b.Copies) > 0 {
		copies := make([]string, 0, len(b.Copies))
		for _, c := range b.Copies {
			copies = append(copies, c.Provider+":"+c.Account+":"+c.Bucket)
		}
		d["copies"] = copies
	}
	return d
}

// ocsfCloudOf asks the provider's plugin how OCSF names it and which
// partition the region belongs to. A provider no plugin in this build
// knows (a result read back from history) is named as it is, type Other.
func ocsfCloudOf(provider, region string) (providers.OCSFCloud, string) {
	pl, ok := providers.Lookup(provider)
	if !ok {
		return providers.OCSFCloud{Provider: provider, AccountType: provider + " account", AccountTypeID: 99}, ""
	}
	partition := ""
	if p, ok := pl.Place(region); ok {
		partition = p.Partition
	}
	return pl.OCSF, partition
}

// ocsfStatusDetail is the exception's reason for a suppressed finding and
// the unverified note for one kept from an earlier run.
func ocsfStatusDetail(f *risk.Finding) string {
	d := f.SuppressedReason
	if f.Unverified {
		if d != "" {
			d += "; "
		}
		d += UnverifiedNote
	}
	return d
}
