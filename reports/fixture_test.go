package reports

import (
	"fmt"
	"time"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
)

var (
	fixtureStart = time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC)
	fixtureEnd   = fixtureStart.Add(42 * time.Second)
	fixtureOpts  = Options{Now: fixtureEnd.Add(time.Minute), Version: "1.0.0-test"}
)

func fixtureBucket(provider, account, name, uri, region string, countries []string, controller, operator string, custody providers.Custody) providers.Bucket {
	b := providers.NewBucket(provider, account, name, uri)
	b.Region, b.LocationType, b.Countries = region, providers.LocationRegion, countries
	b.Controller, b.Operator = controller, operator
	b.Custody = custody
	b.Versioning, b.ObjectLock, b.Public, b.PublicAccessBlock = providers.VersioningEnabled, providers.No, providers.No, providers.Yes
	b.Reachability = providers.Reachability{Reachable: true, LatencyMS: 12.5, Probe: "HeadBucket+ListObjectsV2"}
	return b
}

// testResult is a realistic run over three providers: every risk kind, a
// suppressed finding, and values that exercise every format's escaping.
func testResult() *agent.Result {
	orders := fixtureBucket("alibaba", "1234567890123456", "acme-cn-orders", "oss://acme-cn-orders", "cn-hangzhou",
		[]string{"CN"}, "CN", "CN", providers.CustodyProviderKMS)
	orders.Encryption = "KMS"
	orders.Redundancy = "LRS"
	orders.Key = &providers.Key{ID: "key-hzz62a1b2c3d4e5f6g7h8", Account: "1234567890123456", Region: "cn-hangzhou",
		State: providers.KeyEnabled, ProviderState: "Enabled", Origin: "Aliyun_KMS", ProtectionLevel: "SOFTWARE"}
	orders.Tags = map[string]string{"data-class": "restricted", "owner": "=cmd|' /C calc'!A0"}

	hk := fixtureBucket("aws", "111122223333", "acme-hk-media", "s3://acme-hk-media", "ap-east-1",
		[]string{"HK"}, "US", "US", providers.CustodyProviderManaged)
	hk.Encryption = "AES256"
	hk.Public, hk.PublicVia = providers.Yes, []string{"policy"}

	payroll := fixtureBucket("aws", "111122223333", "payroll-exports", "s3://payroll-exports", "us-east-1",
		[]string{"US"}, "US", "US", providers.CustodyProviderKMS)
	payroll.Encryption = "aws:kms"
	payroll.Key = &providers.Key{ID: "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		Account: "111122223333", Region: "us-east-1", State: providers.KeyDisabled, ProviderState: "Disabled",
		Manager: "CUSTOMER", Origin: "AWS_KMS"}
	payroll.Copies = []providers.Copy{{Provider: "aws", Account: "111122223333", Bucket: "payroll-dr", Region: "us-west-2",
		Countries: []string{"US"}, Controller: "US", Operator: "US", Source: providers.CopyReplication}}
	payroll.Tags = map[string]string{"data-class": "confidential"}

	logs := fixtureBucket("aws", "444455556666", "logs-archive", "s3://logs-archive", "cn-north-1",
		[]string{"CN"}, "US", "CN", providers.CustodyProviderManaged)
	logs.Encryption = "AES256"
	logs.Versioning, logs.ObjectLock = providers.VersioningOff, providers.No
	logs.Reachability = providers.Reachability{Reachable: false, Failure: providers.FailHTTP403,
		Error: "AccessDenied: Access Denied", LatencyMS: 30, Probe: "HeadBucket"}

	analytics := fixtureBucket("gcp", "acme-prod", "acme-analytics", "gs://acme-analytics", "ASIA",
		[]string{"HK", "JP", "KR", "SG", "TW"}, "US", "US", providers.CustodyUnknown)
	analytics.LocationType, analytics.CountriesAreCandidates = providers.LocationMultiRegion, true
	analytics.SetUnknown(providers.FieldCustody, "storage.buckets.get", fmt.Errorf("googleapi: Error 403: forbidden"), "storage.buckets.get")

	clean := fixtureBucket("gcp", "acme-prod", "acme-eu-clean", "gs://acme-eu-clean", "us-central1",
		[]string{"US"}, "US", "US", providers.CustodyExternalKeyManager)

	lbCN := []string{"CN National Intelligence Law 2017 art. 7", "CN Data Security Law 2021 art. 35"}
	findings := []risk.Finding{
		{ID: "EXP-001:alibaba:1234567890123456:acme-cn-orders", Rule: "EXP-001", Risk: risk.RiskExpose, Severity: risk.Critical,
			Status: risk.StatusOpen, Provider: "alibaba", Account: "1234567890123456", Bucket: "acme-cn-orders", Region: "cn-hangzhou",
			Title:         "Concern-controlled provider can decrypt the data",
			Evidence:      map[string]any{"controller": "CN", "operator": "CN", "custody": "provider-kms", "sensitive_tag": "data-class=restricted"},
			Jurisdictions: []string{"CN"}, LegalBasis: lbCN,
			Remediation: "Move the data to a provider outside the concern jurisdictions, or hold the key in an external key manager."},
		{ID: "BLK-001:alibaba:1234567890123456:acme-cn-orders", Rule: "BLK-001", Risk: risk.RiskBlock, Severity: risk.Critical,
			Status: risk.StatusOpen, Provider: "alibaba", Account: "1234567890123456", Bucket: "acme-cn-orders", Region: "cn-hangzhou",
			Title:         "Concern-controlled provider and no independent copy",
			Evidence:      map[string]any{"controller": "CN", "copies": []string{}},
			Jurisdictions: []string{"CN"}, LegalBasis: lbCN,
			Remediation: "Keep a replica at a provider controlled from a home or trusted jurisdiction."},
		{ID: "HYG-002:alibaba:1234567890123456:acme-cn-orders", Rule: "HYG-002", Risk: risk.RiskHygiene, Severity: risk.Low,
			Status: risk.StatusOpen, Provider: "alibaba", Account: "1234567890123456", Bucket: "acme-cn-orders", Region: "cn-hangzhou",
			Title:    "Single-zone redundancy and no replica",
			Evidence: map[string]any{"redundancy": "LRS"}, Jurisdictions: []string{"CN"},
			Remediation: "Switch to ZRS or add a cross-region replica."},
		{ID: "EXP-002:aws:111122223333:acme-hk-media", Rule: "EXP-002", Risk: risk.RiskExpose, Severity: risk.High,
			Status: risk.StatusOpen, Provider: "aws", Account: "111122223333", Bucket: "acme-hk-media", Region: "ap-east-1",
			Title:         "Data sits in a concern country | Hong Kong",
			Evidence:      map[string]any{"countries": []string{"HK"}, "custody": "provider-managed", "note": "a=b \\ c\nnext line"},
			Jurisdictions: []string{"HK", "US"}, LegalBasis: []string{"28 CFR 202.601"},
			Remediation: "Move the bucket to a region outside the concern countries."},
		{ID: "EXP-006:aws:111122223333:acme-hk-media", Rule: "EXP-006", Risk: risk.RiskExpose, Severity: risk.Critical,
			Status: risk.StatusOpen, Provider: "aws", Account: "111122223333", Bucket: "acme-hk-media", Region: "ap-east-1",
			Title:    "Publicly readable",
			Evidence: map[string]any{"public": "yes", "public_via": []string{"policy"}}, Jurisdictions: []string{"US"},
			Remediation: "=HYPERLINK(\"http://example.invalid\") turn on Block Public Access and remove the anonymous grant."},
		{ID: "BLK-003:aws:111122223333:payroll-exports", Rule: "BLK-003", Risk: risk.RiskBlock, Severity: risk.Critical,
			Status: risk.StatusOpen, Provider: "aws", Account: "111122223333", Bucket: "payroll-exports", Region: "us-east-1",
			Title:    "The bucket's key is disabled",
			Evidence: map[string]any{"key_id": payroll.Key.ID, "key_state": "disabled"}, Jurisdictions: []string{"US"},
			Remediation: "Re-enable the key (kms:EnableKey) or re-encrypt with a working key."},
		{ID: "HYG-001:aws:444455556666:logs-archive", Rule: "HYG-001", Risk: risk.RiskHygiene, Severity: risk.Low,
			Status: risk.StatusSuppressed, SuppressedReason: "archive copy kept by contract",
			Provider: "aws", Account: "444455556666", Bucket: "logs-archive", Region: "cn-north-1",
			Title:    "Versioning off and no object lock",
			Evidence: map[string]any{"versioning": "off", "object_lock": "no"}, Jurisdictions: []string{"CN"},
			Remediation: "Turn on versioning or object lock."},
		{ID: "BLK-005:aws:444455556666:logs-archive", Rule: "BLK-005", Risk: risk.RiskBlock, Severity: risk.Critical,
			Status: risk.StatusOpen, Provider: "aws", Account: "444455556666", Bucket: "logs-archive", Region: "cn-north-1",
			Title:    "The probe could not read the bucket",
			Evidence: map[string]any{"failure": "http-403", "error": "AccessDenied: Access Denied"}, Jurisdictions: []string{"CN"},
			Remediation: "Find out why the data plane refuses the agent; check for a block in progress."},
		{ID: "RES-001:aws:444455556666:logs-archive", Rule: "RES-001", Risk: risk.RiskResidency, Severity: risk.High,
			Status: risk.StatusOpen, Provider: "aws", Account: "444455556666", Bucket: "logs-archive", Region: "cn-north-1",
			Title:    "Data sits outside the allowed countries",
			Evidence: map[string]any{"countries": []string{"CN"}, "allowed": []string{"US"}}, Jurisdictions: []string{"CN"},
			Remediation: "Move the data to an allowed country."},
		{ID: "UNK-001:gcp:acme-prod:acme-analytics:custody", Rule: "UNK-001", Risk: risk.RiskUnknown, Severity: risk.Medium,
			Status: risk.StatusOpen, Provider: "gcp", Account: "acme-prod", Bucket: "acme-analytics", Region: "ASIA",
			Title:         "Custody could not be read: <grant storage.buckets.get> & retry",
			Evidence:      map[string]any{"field": "custody", "api": "storage.buckets.get", "error": "googleapi: Error 403: forbidden", "permission": "storage.buckets.get"},
			Jurisdictions: []string{"HK", "JP", "KR", "SG", "TW", "US"},
			Remediation:   "Grant storage.buckets.get to the audit identity."},
	}
	r := &agent.Result{
		Schema: agent.Schema, RunID: "run-20261130T020000Z-0001",
		StartedAt: fixtureStart, FinishedAt: fixtureEnd,
		Policy: risk.Policy{Profile: "us-adversary", Home: []string{"US"},
			Concern:       []string{"CN", "HK", "MO", "CU", "IR", "KP", "RU", "VE"},
			Residency:     risk.Residency{Allowed: []string{"US"}},
			SensitiveTags: map[string][]string{"data-class": {"restricted", "confidential"}},
			Exceptions: []risk.Exception{{Rule: "HYG-001", Resource: "aws:444455556666:logs-*", Reason: "archive copy kept by contract",
				Expires: risk.Date{Time: time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)}}}},
		Buckets:  []providers.Bucket{orders, hk, payroll, logs, analytics, clean},
		Findings: findings,
		Errors:   []agent.RunError{},
	}
	r.Summary = summarize(r)
	return r
}

// summarize counts like the agent does, so the fixture stays consistent.
func summarize(r *agent.Result) agent.Summary {
	s := agent.Summary{Buckets: len(r.Buckets), BucketsByProvider: map[string]int{},
		BySeverity: map[string]int{}, ByRisk: map[string]int{}, ByRule: map[string]int{}}
	for _, b := range r.Buckets {
		s.BucketsByProvider[b.Provider]++
	}
	for _, f := range r.Findings {
		s.Findings++
		s.ByRule[f.Rule]++
		if f.Status == risk.StatusSuppressed {
			s.Suppressed++
			continue
		}
		s.Open++
		s.BySeverity[f.Severity.String()]++
		s.ByRisk[f.Risk]++
	}
	return s
}

// bigResult repeats the fixture's buckets and findings until it holds n
// findings, each with its own bucket name and ID.
func bigResult(n int) *agent.Result {
	base := testResult()
	r := *base
	r.Buckets = make([]providers.Bucket, 0, n/len(base.Findings)*len(base.Buckets)+len(base.Buckets))
	r.Findings = make([]risk.Finding, 0, n)
	for copyNo := 0; len(r.Findings) < n; copyNo++ {
		suffix := fmt.Sprintf("-%06d", copyNo)
		for _, b := range base.Buckets {
			b.Name += suffix
			b.URI += suffix
			r.Buckets = append(r.Buckets, b)
		}
		for _, f := range base.Findings {
			if len(r.Findings) == n {
				break
			}
			f.Bucket += suffix
			f.ID += suffix
			r.Findings = append(r.Findings, f)
		}
	}
	r.Summary = summarize(&r)
	return &r
}
