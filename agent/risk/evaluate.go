package risk

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/reachaudit/reachaudit/providers"
)

// Options are what Evaluate needs besides the records and the policy.
type Options struct {
	// Now is the time the findings are judged at (key expiry, exception
	// expiry). Zero: the current time.
	Now time.Time
	// Scanned lists, per provider, the accounts or projects the scan
	// covered. For a provider the policy's organisation does not name, they
	// are the organisation (EXP-008); nil: the accounts of the buckets.
	Scanned map[string][]string
	// Gaps are what the scan was asked to cover and could not list; each
	// is an UNK-002 finding.
	Gaps []Gap
}

// Gap is an account, project or region the scan was asked to cover and
// could not list, with the call that failed. Account "*" stands for every
// account of the provider (its accounts could not be found at all).
type Gap struct {
	Provider   string
	Account    string
	Region     string
	API        string
	Error      string
	Permission string
}

// materialWarning is how far ahead BLK-004 looks at imported key material.
const materialWarning = 30 * 24 * time.Hour

// Evaluate runs the catalogue over the buckets and returns the findings in
// SortFindings' order.
// It reads only the records: no I/O, no provider-specific facts.
func Evaluate(buckets []providers.Bucket, p Policy, opts Options) []Finding {
	j := newJudge(buckets, p, opts)
	var out []Finding
	for i := range buckets {
		out = append(out, j.bucket(&buckets[i])...)
	}
	for _, g := range opts.Gaps {
		out = append(out, j.gap(g))
	}
	Sort(out)
	if out == nil {
		out = []Finding{}
	}
	return out
}

// Sort orders findings as Evaluate returns them: by severity (highest
// first), rule, provider, account, bucket, id.
func Sort(fs []Finding) {
	slices.SortFunc(fs, func(a, b Finding) int {
		return cmp.Or(
			cmp.Compare(b.Severity, a.Severity),
			cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Provider, b.Provider),
			cmp.Compare(a.Account, b.Account),
			cmp.Compare(a.Bucket, b.Bucket),
			cmp.Compare(a.ID, b.ID),
		)
	})
}

// Aggregate is a finding about many buckets at once (a provider-wide loss
// of reach), found by comparing runs rather than by reading one record.
// EvaluateAggregate judges it like every other finding.
type Aggregate struct {
	ID, Rule           string
	Provider, Account  string
	Bucket, Region     string
	Title, Remediation string
	Evidence           map[string]any
	Jurisdictions      []string
	// Buckets are the records it is about: a sensitive tag on any of them
	// raises its severity.
	Buckets []providers.Bucket
}

// EvaluateAggregate applies the policy to a: the rule's severity, raised
// one step when a bucket it covers carries a sensitive tag, the legal
// basis its jurisdictions bring in, and the exceptions (status).
func EvaluateAggregate(a Aggregate, p Policy, opts Options) Finding {
	j := newJudge(a.Buckets, p, opts)
	r := byID[a.Rule]
	jur := sortedUnique(a.Jurisdictions)
	f := Finding{
		ID: a.ID, Rule: a.Rule, Risk: r.Risk, Severity: r.Severity, Status: StatusOpen,
		Provider: a.Provider, Account: a.Account, Bucket: a.Bucket, Region: a.Region,
		Title: a.Title, Evidence: a.Evidence, Jurisdictions: jur,
		LegalBasis: j.legalBasis(r, jur), Remediation: a.Remediation,
	}
	if f.Evidence == nil {
		f.Evidence = map[string]any{}
	}
	for i := range a.Buckets {
		if tag, ok := j.sensitive(&a.Buckets[i]); ok {
			f.Evidence["sensitive_tag"] = a.Buckets[i].Provider + ":" + a.Buckets[i].Account + ":" + a.Buckets[i].Name + " " + tag
			f.Evidence["base_severity"] = f.Severity.String()
			f.Severity = f.Severity.Raise()
			break
		}
	}
	j.except(&f)
	return f
}

// set is a set of jurisdiction codes or account ids.
type set map[string]bool

func setOf(lists ...[]string) set {
	s := set{}
	for _, l := range lists {
		for _, v := range l {
			s[v] = true
		}
	}
	return s
}

type judge struct {
	p       Policy
	friends set // home ∪ trusted
	concern set
	allowed set
	org     map[string]set
	now     time.Time
	today   time.Time
}

func newJudge(buckets []providers.Bucket, p Policy, opts Options) *judge {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC()
	j := &judge{
		p:       p,
		friends: setOf(p.Home, p.Trusted),
		concern: setOf(p.Concern),
		allowed: setOf(p.Residency.Allowed),
		org:     map[string]set{},
		now:     now,
		today:   time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC),
	}
	scanned := opts.Scanned
	if scanned == nil {
		scanned = map[string][]string{}
		for _, b := range buckets {
			scanned[b.Provider] = append(scanned[b.Provider], b.Account)
		}
	}
	for prov, accts := range scanned {
		j.org[prov] = setOf(accts)
	}
	for prov, accts := range p.Organisation {
		if len(accts) > 0 {
			j.org[prov] = setOf(accts)
		}
	}
	return j
}

// place is where a bucket or a copy sits and who controls it; the rules
// about control judge places, so that a replica is judged like a bucket.
type place struct {
	provider   string
	controller string
	operator   string
	// contract is the contracting entity's jurisdiction, set only when the
	// policy counts it as a control axis.
	contract   string
	countries  []string
	candidates bool
}

func (j *judge) bucketPlace(b *providers.Bucket) place {
	pl := place{provider: b.Provider, controller: b.Controller, operator: b.Operator, countries: b.Countries, candidates: b.CountriesAreCandidates}
	if j.p.ContractCounts && b.Contract != nil {
		pl.contract = b.Contract.Jurisdiction
	}
	return pl
}

func copyPlace(c providers.Copy) place {
	return place{provider: c.Provider, controller: c.Controller, operator: c.Operator, countries: c.Countries}
}

// concernControlled: the controller, the operator or (when the policy
// counts it) the contracting entity is in concern.
func (j *judge) concernControlled(pl place) bool {
	return j.concern[pl.controller] || j.concern[pl.operator] || j.concern[pl.contract]
}

// foreignControlled: not concern-controlled, and the controller or the
// operator is known and outside home ∪ trusted. An unknown party is no
// evidence of foreign control.
func (j *judge) foreignControlled(pl place) bool {
	if j.concernControlled(pl) {
		return false
	}
	return j.foreign(pl.controller) || j.foreign(pl.operator) || j.foreign(pl.contract)
}

func (j *judge) foreign(jur string) bool { return jur != "" && !j.friends[jur] }

// homeControlled: controller and operator both known and home or trusted,
// and so is the contracting entity where it counts.
func (j *judge) homeControlled(pl place) bool {
	return pl.controller != "" && pl.operator != "" && j.friends[pl.controller] && j.friends[pl.operator] &&
		(pl.contract == "" || j.friends[pl.contract])
}

// independent reports whether a copy at c would survive the provider of
// src: another provider, in the other jurisdiction class. Unknown control
// is not independence.
func (j *judge) independent(src, c place) bool {
	if c.provider == "" || c.provider == src.provider || (c.controller == "" && c.operator == "") {
		return false
	}
	return j.concernControlled(c) != j.concernControlled(src)
}

func (j *judge) concernCountries(pl place) []string {
	var out []string
	for _, c := range pl.countries {
		if j.concern[c] {
			out = append(out, c)
		}
	}
	return sortedUnique(out)
}

// exposures lists the rules among EXP-001..003 that fire for data under
// custody at pl, with the evidence and jurisdictions of each.
func (j *judge) exposures(pl place, custody providers.Custody) []exposure {
	if !custody.ProviderCanDecrypt() {
		return nil
	}
	var out []exposure
	if j.concernControlled(pl) {
		out = append(out, exposure{rule: "EXP-001", jur: parties(pl)})
	} else if cc := j.concernCountries(pl); len(cc) > 0 {
		out = append(out, exposure{rule: "EXP-002", jur: sortedUnique(append(cc, parties(pl)...)), concernCountries: cc})
	}
	if j.foreignControlled(pl) && (custody == providers.CustodyNone || custody == providers.CustodyProviderManaged) {
		out = append(out, exposure{rule: "EXP-003", jur: parties(pl)})
	}
	return out
}

type exposure struct {
	rule             string
	jur              []string
	concernCountries []string
}

func parties(pl place) []string {
	var out []string
	for _, p := range []string{pl.controller, pl.operator, pl.contract} {
		if p != "" {
			out = append(out, p)
		}
	}
	return sortedUnique(out)
}

// where phrases a place's countries for evidence, saying "may" for the
// candidate list of a multi-region.
func where(countries []string, candidates bool) string {
	list := strings.Join(countries, ", ")
	if candidates {
		return "data may sit in " + list
	}
	return "data sits in " + list
}

// draft is a finding before the modifiers and the ID.
type draft struct {
	rule     string
	subject  string // tells apart findings of one rule on one bucket
	severity Severity
	evidence map[string]any
	jur      []string
	vars     map[string]string // remediation template values
}

func (j *judge) bucket(b *providers.Bucket) []Finding {
	var ds []draft
	add := func(rule string, evidence map[string]any, jur []string) *draft {
		ds = append(ds, draft{rule: rule, severity: byID[rule].Severity, evidence: evidence, jur: jur, vars: map[string]string{}})
		return &ds[len(ds)-1]
	}
	pl := j.bucketPlace(b)
	control := map[string]any{
		"controller": b.Controller, "controller_entity": b.ControllerEntity,
		"operator": b.Operator, "operator_entity": b.OperatorEntity,
	}
	withControl := func(m map[string]any) map[string]any {
		for k, v := range control {
			m[k] = v
		}
		return m
	}

	// EXP-001..003 for the bucket's own place.
	for _, e := range j.exposures(pl, b.Custody) {
		ev := withControl(map[string]any{"custody": string(b.Custody), "encryption": b.Encryption})
		d := add(e.rule, ev, e.jur)
		if e.rule == "EXP-002" {
			ev["countries"] = b.Countries
			ev["concern_countries"] = e.concernCountries
			ev["location"] = where(e.concernCountries, b.CountriesAreCandidates)
			d.vars["countries"] = strings.Join(e.concernCountries, ", ")
		}
	}
	// EXP-004: the provider's KMS at a foreign-controlled provider.
	switch b.Custody {
	case providers.CustodyProviderKMS, providers.CustodyImportedKey, providers.CustodyDedicatedHSM:
		if j.foreignControlled(pl) {
			ev := withControl(map[string]any{"custody": string(b.Custody), "encryption": b.Encryption})
			if b.Key != nil {
				ev["key_id"] = b.Key.ID
			}
			add("EXP-004", ev, parties(pl))
		}
	}
	// EXP-005: unencrypted anywhere. Unknown custody is not "none".
	if b.Custody == providers.CustodyNone {
		add("EXP-005", map[string]any{"custody": string(b.Custody), "encryption": b.Encryption}, parties(pl))
	}
	// EXP-006.
	if b.Public == providers.Yes {
		add("EXP-006", map[string]any{"public": string(b.Public), "public_via": nonNil(b.PublicVia)}, parties(pl))
	}
	// EXP-007: each copy judged at its own place, under its own custody
	// where known.
	for _, c := range b.Copies {
		custody, from := c.Custody, "copy"
		if custody == "" {
			custody, from = b.Custody, "source"
		}
		cpl := copyPlace(c)
		es := j.exposures(cpl, custody)
		if len(es) == 0 {
			continue
		}
		worst, rules, jur := es[0], []string{}, []string{}
		var worstSev Severity
		for _, e := range es {
			if sev := byID[e.rule].Severity; sev > worstSev {
				worst, worstSev = e, sev
			}
			rules = append(rules, e.rule)
			jur = append(jur, e.jur...)
		}
		ev := map[string]any{
			"copy": copyName(c), "copy_provider": c.Provider, "copy_account": c.Account,
			"copy_bucket": c.Bucket, "copy_region": c.Region, "copy_source": c.Source,
			"copy_controller": c.Controller, "copy_operator": c.Operator,
			"copy_countries": nonNil(c.Countries), "custody": string(custody), "custody_from": from,
			"as_rule": worst.rule, "rules": rules,
		}
		if cc := j.concernCountries(cpl); len(cc) > 0 {
			ev["location"] = where(cc, false)
		}
		d := add("EXP-007", ev, sortedUnique(jur))
		d.subject, d.severity = copyName(c), worstSev
		d.vars["copy"] = copyName(c)
	}
	// EXP-008: the key's owner is outside the organisation.
	if b.Key != nil && b.Key.Account != "" && !j.org[b.Provider][b.Key.Account] {
		add("EXP-008", map[string]any{
			"key_id": b.Key.ID, "key_account": b.Key.Account, "organisation": sortedKeys(j.org[b.Provider]),
		}, parties(pl))
	}

	// BLK-001 / BLK-002: who else holds the data. When the copies could not
	// be read, absence is not known, and UNK-001 says so instead.
	copiesKnown := !b.IsUnknown(providers.FieldCopies)
	if j.concernControlled(pl) {
		var indep []string
		for _, c := range b.Copies {
			if j.independent(pl, copyPlace(c)) {
				indep = append(indep, copyName(c))
			}
		}
		if len(indep) == 0 && copiesKnown {
			add("BLK-001", withControl(map[string]any{"copies": copyNames(b.Copies), "independent_copies": 0}), parties(pl))
		}
	} else if j.foreignControlled(pl) {
		var home []string
		for _, c := range b.Copies {
			if j.homeControlled(copyPlace(c)) {
				home = append(home, copyName(c))
			}
		}
		if len(home) == 0 && copiesKnown {
			add("BLK-002", withControl(map[string]any{"copies": copyNames(b.Copies), "home_controlled_copies": 0}), parties(pl))
		}
	}
	if k := b.Key; k != nil {
		// BLK-003.
		switch k.State {
		case providers.KeyDisabled, providers.KeyPendingDeletion, providers.KeyPendingImport, providers.KeyUnavailable:
			ev := map[string]any{"key_id": k.ID, "state": string(k.State), "provider_state": k.ProviderState}
			if k.DeletionDate != nil {
				ev["deletion_date"] = k.DeletionDate.UTC().Format(time.RFC3339)
			}
			add("BLK-003", ev, parties(pl)).vars["key"] = k.ID
		}
		// BLK-004.
		if k.MaterialExpires != nil && k.MaterialExpires.Sub(j.now) <= materialWarning {
			left := k.MaterialExpires.Sub(j.now)
			ev := map[string]any{
				"key_id": k.ID, "material_expires": k.MaterialExpires.UTC().Format(time.RFC3339),
				"expired": left <= 0,
			}
			if left > 0 {
				ev["days_left"] = int(math.Ceil(left.Hours() / 24))
			}
			add("BLK-004", ev, parties(pl)).vars["key"] = k.ID
		}
	}
	// BLK-005: only a probe that ran and failed with a clear denial or a
	// network failure is evidence; any other failure is an UNK-001.
	r := b.Reachability
	if !r.Reachable && providers.BlocksData(r.Failure) {
		add("BLK-005", map[string]any{
			"failure": r.Failure, "error": r.Error, "probe": r.Probe, "latency_ms": r.LatencyMS,
		}, parties(pl))
	}

	// RES-001.
	if len(j.allowed) > 0 {
		var outside []string
		for _, c := range b.Countries {
			if !j.allowed[c] {
				outside = append(outside, c)
			}
		}
		if outside = sortedUnique(outside); len(outside) > 0 {
			add("RES-001", map[string]any{
				"countries": b.Countries, "outside": outside, "allowed": sortedKeys(j.allowed),
				"location": where(outside, b.CountriesAreCandidates),
			}, outside)
		}
	}

	// HYG-001: only known facts fire it.
	if (b.Versioning == providers.VersioningOff || b.Versioning == providers.VersioningSuspended) && b.ObjectLock == providers.No {
		add("HYG-001", map[string]any{"versioning": b.Versioning, "object_lock": string(b.ObjectLock)}, nil)
	}
	// HYG-002.
	if b.RedundancyScope == providers.RedundancySingleZone && len(b.Copies) == 0 && copiesKnown {
		add("HYG-002", map[string]any{"redundancy": b.Redundancy, "copies": 0}, nil)
	}

	// UNK-001: one per call and permission that failed, naming every field
	// it left unknown: one missing grant is one finding, not one a field.
	byCall := map[string]int{} // subject → index in ds, which add may move
	for _, u := range b.Unknowns {
		// A size is data at stake, not a fact any rule needs: its absence
		// is reported with the bucket, never as a finding.
		if u.Field == providers.FieldSize {
			continue
		}
		subject := u.API + "|" + u.Permission
		if i, ok := byCall[subject]; ok {
			d := &ds[i]
			fields := d.evidence["fields"].([]string)
			if !slices.Contains(fields, u.Field) {
				d.evidence["fields"] = append(fields, u.Field)
				d.vars["field"] += " and " + u.Field
			}
			continue
		}
		d := add("UNK-001", map[string]any{"fields": []string{u.Field}, "api": u.API, "error": u.Error, "permission": u.Permission}, nil)
		d.subject = subject
		perm := u.Permission
		if perm == "" {
			perm = "the permission " + u.API + " needs"
		}
		d.vars["permission"], d.vars["api"], d.vars["field"] = perm, u.API, u.Field
		byCall[subject] = len(ds) - 1
	}

	out := make([]Finding, 0, len(ds))
	for _, d := range ds {
		out = append(out, j.finish(b, d))
	}
	return out
}

// gap is the UNK-002 finding of an account that could not be listed. It
// stands on the account's place in the report as a bucket named "*", so
// that exceptions (aws:123456789012:*) and every format treat it like any
// other finding.
func (j *judge) gap(g Gap) Finding {
	b := &providers.Bucket{Provider: g.Provider, Account: g.Account, Name: "*", Region: g.Region}
	api, perm := g.API, g.Permission
	if perm == "" {
		perm = "the permission " + api + " needs"
	}
	d := draft{
		rule: "UNK-002", severity: byID["UNK-002"].Severity, subject: g.Region + "|" + api,
		evidence: map[string]any{"account": g.Account, "api": api, "error": g.Error, "permission": g.Permission},
		vars:     map[string]string{"permission": perm, "api": api},
	}
	if g.Region != "" {
		d.evidence["region"] = g.Region
	}
	return j.finish(b, d)
}

// finish applies the modifiers and fills in what every finding carries.
func (j *judge) finish(b *providers.Bucket, d draft) Finding {
	r := byID[d.rule]
	sev := d.severity
	if c := b.Contract; c != nil && (r.Risk == RiskExpose || r.Risk == RiskBlock) &&
		c.Jurisdiction != b.Controller && c.Jurisdiction != b.Operator {
		// Who receives an order is the contracting entity; show it where
		// it answers to another jurisdiction than the provider's parties.
		d.evidence["contract_entity"] = c.Entity
		d.evidence["contract_jurisdiction"] = c.Jurisdiction
	}
	if tag, ok := j.sensitive(b); ok {
		d.evidence["sensitive_tag"] = tag
		// base_severity says what the tag changed; at critical it changes
		// nothing, and saying so would be noise.
		if raised := sev.Raise(); raised != sev {
			d.evidence["base_severity"] = sev.String()
			sev = raised
		}
	}
	jur := sortedUnique(d.jur)
	f := Finding{
		ID:            FindingID(d.rule, b.Provider, b.Account, b.Name, d.subject),
		Rule:          d.rule,
		Risk:          r.Risk,
		Severity:      sev,
		Status:        StatusOpen,
		Provider:      b.Provider,
		Account:       b.Account,
		Bucket:        b.Name,
		Region:        b.Region,
		Title:         r.Title,
		Evidence:      d.evidence,
		Jurisdictions: jur,
		LegalBasis:    j.legalBasis(r, jur),
		Remediation:   j.remediation(r, b, d.vars),
	}
	j.except(&f)
	return f
}

// except applies the first unexpired exception that matches f.
func (j *judge) except(f *Finding) {
	for _, e := range j.p.Exceptions {
		if !e.matches(*f) {
			continue
		}
		if e.Expires.IsZero() || !e.Expires.Time.Before(j.today) {
			f.Status, f.SuppressedReason = StatusSuppressed, e.Reason
			delete(f.Evidence, "exception_expired")
			break
		}
		f.Evidence["exception_expired"] = e.Expires.String() + ": " + e.Reason
	}
}

// FindingID is stable across runs for the same rule, bucket and subject.
func FindingID(rule, provider, account, bucket, subject string) string {
	h := sha256.Sum256([]byte(strings.Join([]string{rule, provider, account, bucket, subject}, "|")))
	return hex.EncodeToString(h[:8])
}

// sensitive reports the first tag (by key) that policy.sensitive_tags marks.
func (j *judge) sensitive(b *providers.Bucket) (string, bool) { return j.p.SensitiveTag(b.Tags) }

// SensitiveTag reports the first tag (by key) among tags that the policy's
// sensitive_tags marks, as key=value.
func (p Policy) SensitiveTag(tags map[string]string) (string, bool) {
	for _, k := range sortedKeys(p.SensitiveTags) {
		v, ok := tags[k]
		if !ok {
			continue
		}
		for _, pat := range p.SensitiveTags[k] {
			if m, _ := path.Match(pat, v); m {
				return k + "=" + v, true
			}
		}
	}
	return "", false
}

func (e Exception) matches(f Finding) bool {
	if e.Rule != f.Rule {
		return false
	}
	parts := strings.Split(e.Resource, ":")
	if len(parts) != 3 {
		return false
	}
	for i, v := range []string{f.Provider, f.Account, f.Bucket} {
		if m, _ := path.Match(parts[i], v); !m {
			return false
		}
	}
	return true
}

// cnLaw: the jurisdictions whose companies and people the CN laws bind.
var cnLaw = set{"CN": true, "HK": true, "MO": true}

// legalBasis picks, from the laws a rule may cite, those the finding's
// jurisdictions bring into play: the CN laws for CN, HK and MO; the CLOUD
// Act for a US party when the US is not home or trusted; the US lists of
// foreign adversaries and countries of concern for a concern jurisdiction.
func (j *judge) legalBasis(r *Rule, jur []string) []string {
	apply := set{}
	for _, c := range jur {
		if cnLaw[c] {
			apply[LawCNIntelligence], apply[LawCNDataSecurity] = true, true
		}
		if c == "US" && !j.friends[c] {
			apply[LawCLOUDAct] = true
		}
		if j.concern[c] {
			apply[LawForeignAdv], apply[LawCountriesOfCon] = true, true
		}
	}
	out := []string{}
	for _, l := range r.LegalBasis {
		if apply[l] {
			out = append(out, l)
		}
	}
	return out
}

func (j *judge) remediation(r *Rule, b *providers.Bucket, vars map[string]string) string {
	name := b.URI
	if name == "" {
		name = b.Provider + ":" + b.Account + ":" + b.Name
	}
	key := ""
	if b.Key != nil {
		key = b.Key.ID
	}
	// A rule's own values come first: the replacer takes the first pair
	// that matches.
	var pairs []string
	for _, k := range sortedKeys(vars) {
		pairs = append(pairs, "{"+k+"}", vars[k])
	}
	pairs = append(pairs,
		"{bucket}", name, "{provider}", b.Provider, "{key}", key,
		"{allowed}", strings.Join(sortedKeys(j.allowed), ", "),
	)
	return strings.NewReplacer(pairs...).Replace(r.Remediation)
}

func copyName(c providers.Copy) string {
	s := fmt.Sprintf("%s:%s:%s", c.Provider, c.Account, c.Bucket)
	if c.Region != "" {
		s += "@" + c.Region
	}
	return s
}

func copyNames(cs []providers.Copy) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		out = append(out, copyName(c))
	}
	return out
}

func sortedUnique(s []string) []string {
	out := append([]string{}, s...)
	slices.Sort(out)
	return slices.Compact(out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
