package risk

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reachaudit/reachaudit/providers"
)

var testNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// A place is where a test bucket sits and who controls it, as the plugins'
// tables record it.
type testPlace struct {
	provider, region, controller, operator string
	countries                              []string
	candidates                             bool
}

var (
	awsUSEast1    = testPlace{"aws", "us-east-1", "US", "US", []string{"US"}, false}
	awsCNNorth1   = testPlace{"aws", "cn-north-1", "US", "CN", []string{"CN"}, false}
	awsAPEast1    = testPlace{"aws", "ap-east-1", "US", "US", []string{"HK"}, false}
	awsEUSC       = testPlace{"aws", "eusc-de-east-1", "US", "DE", []string{"DE"}, false}
	gcsAsiaEast2  = testPlace{"gcp", "asia-east2", "US", "US", []string{"HK"}, false}
	gcsEUWest1    = testPlace{"gcp", "europe-west1", "US", "US", []string{"BE"}, false}
	gcsASIA       = testPlace{"gcp", "ASIA", "US", "US", []string{"HK", "JP", "KR", "SG", "TW"}, true}
	s3nsFrance    = testPlace{"gcp", "u-france-east1", "US", "FR", []string{"FR"}, false}
	aliHangzhou   = testPlace{"alibaba", "cn-hangzhou", "CN", "CN", []string{"CN"}, false}
	aliUSWest1    = testPlace{"alibaba", "us-west-1", "CN", "CN", []string{"US"}, false}
	aliFrankfurt  = testPlace{"alibaba", "eu-central-1", "CN", "CN", []string{"DE"}, false}
	accountOf     = map[string]string{"aws": "111122223333", "gcp": "acme-prod", "alibaba": "1234567890123456"}
	usAdversary   = mustProfile(ProfileUSAdversary)
	euSovereignty = mustProfile(ProfileEUSovereignty)
)

func mustProfile(name string) Policy {
	p, ok := Profile(name)
	if !ok {
		panic("no profile " + name)
	}
	return p
}

// cleanBucket is a bucket at pl that no rule fires on when its place is
// home-controlled: encrypted under an external key, versioned, private,
// reachable, with a home-controlled independent copy.
func cleanBucket(name string, pl testPlace) providers.Bucket {
	b := providers.NewBucket(pl.provider, accountOf[pl.provider], name, pl.provider+"://"+name)
	b.Region, b.LocationType = pl.region, providers.LocationRegion
	b.Countries, b.CountriesAreCandidates = append([]string(nil), pl.countries...), pl.candidates
	if pl.candidates {
		b.LocationType = providers.LocationMultiRegion
	}
	b.Controller, b.ControllerEntity = pl.controller, "Parent of "+pl.provider
	b.Operator, b.OperatorEntity = pl.operator, "Operator of "+pl.region
	b.Custody, b.Encryption = providers.CustodyExternalKeyManager, "ekm"
	b.Key = &providers.Key{ID: "key-1", Account: accountOf[pl.provider], State: providers.KeyEnabled}
	b.Versioning, b.ObjectLock = providers.VersioningEnabled, providers.No
	b.Public, b.PublicAccessBlock = providers.No, providers.Yes
	b.Reachability = providers.Reachability{Reachable: true, LatencyMS: 12, Probe: "HeadBucket+ListObjectsV2"}
	return b
}

func withCustody(b providers.Bucket, c providers.Custody) providers.Bucket {
	b.Custody = c
	switch c {
	case providers.CustodyNone, providers.CustodyProviderManaged, providers.CustodyCustomerSupplied, providers.CustodyUnknown:
		b.Key = nil
	}
	if c == providers.CustodyUnknown {
		b.Encryption = "unknown"
		b.SetUnknown(providers.FieldCustody, "GetBucketEncryption", errors.New("AccessDenied: Access Denied"), "s3:GetEncryptionConfiguration")
	}
	return b
}

func copyAt(pl testPlace, bucket string) providers.Copy {
	return providers.Copy{
		Provider: pl.provider, Account: accountOf[pl.provider], Bucket: bucket, Region: pl.region,
		Countries: pl.countries, Controller: pl.controller, Operator: pl.operator, Source: providers.CopyReplication,
	}
}

func evaluate(p Policy, bs ...providers.Bucket) []Finding {
	return Evaluate(bs, p, Options{Now: testNow})
}

func ruleIDs(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Rule)
	}
	slices.Sort(out)
	return out
}

func find(fs []Finding, rule string) []Finding {
	var out []Finding
	for _, f := range fs {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}

func one(t *testing.T, fs []Finding, rule string) Finding {
	t.Helper()
	got := find(fs, rule)
	if len(got) != 1 {
		t.Fatalf("want one %s finding, got %d in %v", rule, len(got), ruleIDs(fs))
	}
	return got[0]
}

// controlClass is what a place is under a profile; the matrix below says by
// hand which rules each class and custody must fire.
type controlClass int

const (
	classHome controlClass = iota
	classForeign
	classConcern
)

// custodyRules lists, by hand, the custody-driven rules (EXP-001, EXP-003,
// EXP-004, EXP-005) for each control class and custody.
var custodyRules = map[controlClass]map[providers.Custody][]string{
	classHome: {
		providers.CustodyNone:               {"EXP-005"},
		providers.CustodyProviderManaged:    nil,
		providers.CustodyProviderKMS:        nil,
		providers.CustodyImportedKey:        nil,
		providers.CustodyDedicatedHSM:       nil,
		providers.CustodyExternalKeyManager: nil,
		providers.CustodyCustomerSupplied:   nil,
		providers.CustodyUnknown:            {"UNK-001"},
	},
	classForeign: {
		providers.CustodyNone:               {"EXP-003", "EXP-005"},
		providers.CustodyProviderManaged:    {"EXP-003"},
		providers.CustodyProviderKMS:        {"EXP-004"},
		providers.CustodyImportedKey:        {"EXP-004"},
		providers.CustodyDedicatedHSM:       {"EXP-004"},
		providers.CustodyExternalKeyManager: nil,
		providers.CustodyCustomerSupplied:   nil,
		providers.CustodyUnknown:            {"UNK-001"},
	},
	classConcern: {
		providers.CustodyNone:               {"EXP-001", "EXP-005"},
		providers.CustodyProviderManaged:    {"EXP-001"},
		providers.CustodyProviderKMS:        {"EXP-001"},
		providers.CustodyImportedKey:        {"EXP-001"},
		providers.CustodyDedicatedHSM:       {"EXP-001"},
		providers.CustodyExternalKeyManager: nil,
		providers.CustodyCustomerSupplied:   nil,
		providers.CustodyUnknown:            {"UNK-001"},
	},
}

// blockRule is the rule that fires for a bucket with no copies, by class.
var blockRule = map[controlClass][]string{classHome: nil, classForeign: {"BLK-002"}, classConcern: {"BLK-001"}}

func TestCustodyAndControlMatrix(t *testing.T) {
	places := []struct {
		name string
		pl   testPlace
		// class under us-adversary and eu-sovereignty
		us, eu controlClass
		// concernCountry: a data location is in concern (EXP-002 when the
		// provider is not concern-controlled and can decrypt)
		concernCountry bool
	}{
		{"aws us-east-1", awsUSEast1, classHome, classForeign, false},
		{"aws cn-north-1 run by a CN operator", awsCNNorth1, classConcern, classConcern, true},
		{"aws ap-east-1 Hong Kong", awsAPEast1, classHome, classForeign, true},
		{"aws european sovereign cloud", awsEUSC, classForeign, classForeign, false},
		{"gcs asia-east2 Hong Kong", gcsAsiaEast2, classHome, classForeign, true},
		{"gcs europe-west1", gcsEUWest1, classHome, classForeign, false},
		{"gcs multi-region ASIA", gcsASIA, classHome, classForeign, true},
		{"s3ns u-france-east1", s3nsFrance, classForeign, classForeign, false},
		{"alibaba cn-hangzhou", aliHangzhou, classConcern, classConcern, true},
		{"alibaba us-west-1", aliUSWest1, classConcern, classConcern, false},
		{"alibaba eu-central-1", aliFrankfurt, classConcern, classConcern, false},
	}
	profiles := []struct {
		p     Policy
		class func(int) controlClass
	}{
		{usAdversary, func(i int) controlClass { return places[i].us }},
		{euSovereignty, func(i int) controlClass { return places[i].eu }},
	}
	for i, pc := range places {
		for _, pr := range profiles {
			for _, c := range providers.Custodies {
				name := fmt.Sprintf("%s/%s/%s", pr.p.Profile, pc.name, c)
				t.Run(name, func(t *testing.T) {
					class := pr.class(i)
					want := append([]string{}, custodyRules[class][c]...)
					if pc.concernCountry && class != classConcern && c.ProviderCanDecrypt() {
						want = append(want, "EXP-002")
					}
					want = append(want, blockRule[class]...)
					slices.Sort(want)

					b := withCustody(cleanBucket("b", pc.pl), c)
					fs := evaluate(pr.p, b)
					if diff := cmp.Diff(want, ruleIDs(fs), cmpopts.EquateEmpty()); diff != "" {
						t.Errorf("rules (-want +got):\n%s", diff)
					}
					for _, f := range fs {
						checkWellFormed(t, f)
					}
				})
			}
		}
	}
}

// checkWellFormed holds for every finding.
func checkWellFormed(t *testing.T, f Finding) {
	t.Helper()
	r, ok := RuleByID(f.Rule)
	if !ok {
		t.Fatalf("finding of unknown rule %q", f.Rule)
	}
	if len(f.ID) != 16 || f.Risk != r.Risk || f.Title != r.Title || f.Status != StatusOpen && f.Status != StatusSuppressed {
		t.Errorf("malformed finding %+v", f)
	}
	if len(f.Evidence) == 0 || f.Remediation == "" || strings.Contains(f.Remediation, "{") {
		t.Errorf("%s: evidence %v, remediation %q", f.Rule, f.Evidence, f.Remediation)
	}
	if f.Jurisdictions == nil || f.LegalBasis == nil || !slices.IsSorted(f.Jurisdictions) {
		t.Errorf("%s: jurisdictions %v legal basis %v", f.Rule, f.Jurisdictions, f.LegalBasis)
	}
	for _, l := range f.LegalBasis {
		if !slices.Contains(r.LegalBasis, l) {
			t.Errorf("%s cites %q, which its rule does not list", f.Rule, l)
		}
	}
}

func TestUnknownCustodyIsNotNone(t *testing.T) {
	for _, pl := range []testPlace{awsUSEast1, aliHangzhou, gcsAsiaEast2} {
		b := withCustody(cleanBucket("b", pl), providers.CustodyUnknown)
		fs := evaluate(euSovereignty, b)
		for _, rule := range []string{"EXP-001", "EXP-002", "EXP-003", "EXP-004", "EXP-005"} {
			if len(find(fs, rule)) != 0 {
				t.Errorf("%s: unknown custody fired %s", pl.region, rule)
			}
		}
		u := one(t, fs, "UNK-001")
		if !slices.Equal(u.Evidence["fields"].([]string), []string{providers.FieldCustody}) || u.Evidence["api"] != "GetBucketEncryption" {
			t.Errorf("UNK-001 evidence %v", u.Evidence)
		}
		if !strings.HasPrefix(u.Remediation, "Grant s3:GetEncryptionConfiguration ") {
			t.Errorf("UNK-001 remediation %q", u.Remediation)
		}
	}
}

func TestEUSovereigntyMakesUSProvidersForeign(t *testing.T) {
	tests := []struct {
		name    string
		pl      testPlace
		custody providers.Custody
		p       Policy
		want    []string
	}{
		{"aws provider-managed under eu-sovereignty", awsUSEast1, providers.CustodyProviderManaged, euSovereignty, []string{"BLK-002", "EXP-003"}},
		{"aws provider-kms under eu-sovereignty", awsUSEast1, providers.CustodyProviderKMS, euSovereignty, []string{"BLK-002", "EXP-004"}},
		{"gcs europe-west1 provider-managed under eu-sovereignty", gcsEUWest1, providers.CustodyProviderManaged, euSovereignty, []string{"BLK-002", "EXP-003"}},
		{"gcs europe-west1 dedicated-hsm under eu-sovereignty", gcsEUWest1, providers.CustodyDedicatedHSM, euSovereignty, []string{"BLK-002", "EXP-004"}},
		{"aws provider-managed under us-adversary", awsUSEast1, providers.CustodyProviderManaged, usAdversary, nil},
		{"aws provider-kms under us-adversary", awsUSEast1, providers.CustodyProviderKMS, usAdversary, nil},
		{"gcs europe-west1 provider-kms under us-adversary", gcsEUWest1, providers.CustodyProviderKMS, usAdversary, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := evaluate(tt.p, withCustody(cleanBucket("b", tt.pl), tt.custody))
			if diff := cmp.Diff(tt.want, ruleIDs(fs), cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("rules (-want +got):\n%s", diff)
			}
			for _, f := range fs {
				if tt.p.Profile == ProfileEUSovereignty && f.Rule != "BLK-002" {
					if diff := cmp.Diff([]string{LawCLOUDAct}, f.LegalBasis); diff != "" {
						t.Errorf("%s legal basis (-want +got):\n%s", f.Rule, diff)
					}
					if diff := cmp.Diff([]string{"US"}, f.Jurisdictions); diff != "" {
						t.Errorf("%s jurisdictions (-want +got):\n%s", f.Rule, diff)
					}
				}
			}
		})
	}
}

func TestAWSChinaRegionIsConcernControlled(t *testing.T) {
	for _, p := range []Policy{usAdversary, euSovereignty} {
		t.Run(p.Profile, func(t *testing.T) {
			fs := evaluate(p, withCustody(cleanBucket("b", awsCNNorth1), providers.CustodyProviderKMS))
			if diff := cmp.Diff([]string{"BLK-001", "EXP-001"}, ruleIDs(fs)); diff != "" {
				t.Fatalf("rules (-want +got):\n%s", diff)
			}
			exp := one(t, fs, "EXP-001")
			if diff := cmp.Diff([]string{"CN", "US"}, exp.Jurisdictions); diff != "" {
				t.Errorf("jurisdictions (-want +got):\n%s", diff)
			}
			want := []string{LawCNIntelligence, LawCNDataSecurity, LawForeignAdv, LawCountriesOfCon}
			if p.Profile == ProfileEUSovereignty {
				// The US parent is foreign too under eu-sovereignty.
				want = []string{LawCNIntelligence, LawCNDataSecurity, LawCLOUDAct, LawForeignAdv, LawCountriesOfCon}
			}
			if diff := cmp.Diff(want, exp.LegalBasis); diff != "" {
				t.Errorf("legal basis (-want +got):\n%s", diff)
			}
			if exp.Severity != Critical || exp.Evidence["operator"] != "CN" {
				t.Errorf("EXP-001 %v %v", exp.Severity, exp.Evidence)
			}
		})
	}
}

func TestConcernCountryAtANonConcernProvider(t *testing.T) {
	t.Run("gcs asia-east2 fires EXP-002 not EXP-001", func(t *testing.T) {
		fs := evaluate(usAdversary, withCustody(cleanBucket("b", gcsAsiaEast2), providers.CustodyProviderManaged))
		if diff := cmp.Diff([]string{"EXP-002"}, ruleIDs(fs)); diff != "" {
			t.Fatalf("rules (-want +got):\n%s", diff)
		}
		f := fs[0]
		if f.Severity != High || f.Evidence["location"] != "data sits in HK" {
			t.Errorf("EXP-002 %v %v", f.Severity, f.Evidence)
		}
		if diff := cmp.Diff([]string{"HK", "US"}, f.Jurisdictions); diff != "" {
			t.Errorf("jurisdictions (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{LawCNIntelligence, LawCNDataSecurity, LawForeignAdv, LawCountriesOfCon}, f.LegalBasis); diff != "" {
			t.Errorf("legal basis (-want +got):\n%s", diff)
		}
		if !strings.Contains(f.Remediation, "outside HK") {
			t.Errorf("remediation %q", f.Remediation)
		}
	})
	t.Run("multi-region candidates with HK say may sit in", func(t *testing.T) {
		fs := evaluate(usAdversary, withCustody(cleanBucket("b", gcsASIA), providers.CustodyProviderKMS))
		f := one(t, fs, "EXP-002")
		if f.Evidence["location"] != "data may sit in HK" {
			t.Errorf("location %q", f.Evidence["location"])
		}
		if diff := cmp.Diff([]string{"HK"}, f.Evidence["concern_countries"]); diff != "" {
			t.Errorf("concern countries (-want +got):\n%s", diff)
		}
	})
	t.Run("external key manager keeps EXP-002 quiet", func(t *testing.T) {
		fs := evaluate(usAdversary, withCustody(cleanBucket("b", gcsAsiaEast2), providers.CustodyExternalKeyManager))
		if len(fs) != 0 {
			t.Errorf("want no findings, got %v", ruleIDs(fs))
		}
	})
}

func TestIndependentCopies(t *testing.T) {
	aliBucket := withCustody(cleanBucket("acme-cn-orders", aliHangzhou), providers.CustodyExternalKeyManager)
	euAWS := withCustody(cleanBucket("acme-eu", awsUSEast1), providers.CustodyExternalKeyManager)
	unknownCopy := copyAt(awsUSEast1, "somewhere")
	unknownCopy.Controller, unknownCopy.Operator = "", ""
	tests := []struct {
		name   string
		bucket providers.Bucket
		p      Policy
		copies []providers.Copy
		want   []string
	}{
		{"concern bucket with no copy", aliBucket, usAdversary, nil, []string{"BLK-001"}},
		{"replica at the same provider is not independent", aliBucket, usAdversary, []providers.Copy{copyAt(aliUSWest1, "acme-orders-dr")}, []string{"BLK-001"}},
		{"replica at the same provider in a region of the other class is not independent", withCustody(cleanBucket("acme-cn", awsCNNorth1), providers.CustodyExternalKeyManager), usAdversary, []providers.Copy{copyAt(awsUSEast1, "acme-us")}, []string{"BLK-001"}},
		{"copy at another provider run from the same class is not independent", aliBucket, usAdversary, []providers.Copy{copyAt(awsCNNorth1, "acme-orders-cn")}, []string{"BLK-001"}},
		{"copy at another provider outside concern is independent", aliBucket, usAdversary, []providers.Copy{copyAt(awsUSEast1, "acme-orders-archive")}, nil},
		{"copy whose control is unknown is not independent", aliBucket, usAdversary, []providers.Copy{unknownCopy}, []string{"BLK-001"}},
		{"foreign bucket with a copy at a home-controlled provider", euAWS, euSovereignty, []providers.Copy{copyAt(aliFrankfurt, "x"), {Provider: "ovh", Bucket: "eu-copy", Controller: "FR", Operator: "FR", Source: providers.CopyDeclared}}, nil},
		{"foreign bucket with a copy whose operator is home but controller foreign", euAWS, euSovereignty, []providers.Copy{copyAt(s3nsFrance, "x")}, []string{"BLK-002"}},
		{"foreign bucket with a same-provider replica in the EU", euAWS, euSovereignty, []providers.Copy{copyAt(awsEUSC, "x")}, []string{"BLK-002"}},
		{"foreign bucket with a copy whose control is unknown", euAWS, euSovereignty, []providers.Copy{{Provider: "ovh", Bucket: "eu-copy", Source: providers.CopyDeclared}}, []string{"BLK-002"}},
		{"foreign bucket with a home replica at the same provider", withCustody(cleanBucket("sov", awsEUSC), providers.CustodyExternalKeyManager), usAdversary, []providers.Copy{copyAt(awsUSEast1, "x")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.bucket
			b.Copies = tt.copies
			fs := evaluate(tt.p, b)
			var got []string
			for _, r := range ruleIDs(fs) {
				if strings.HasPrefix(r, "BLK-") {
					got = append(got, r)
				}
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("block rules (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("copies that could not be read do not prove their absence", func(t *testing.T) {
		b := aliBucket
		b.SetUnknown(providers.FieldCopies, "GetBucketReplication", errors.New("AccessDenied"), "oss:GetBucketReplication")
		fs := evaluate(usAdversary, b)
		if diff := cmp.Diff([]string{"UNK-001"}, ruleIDs(fs)); diff != "" {
			t.Errorf("rules (-want +got):\n%s", diff)
		}
	})
}

func TestReplicaExposure(t *testing.T) {
	src := withCustody(cleanBucket("acme-orders", awsUSEast1), providers.CustodyProviderKMS)
	ekm := copyAt(aliHangzhou, "ekm-copy")
	ekm.Custody = providers.CustodyExternalKeyManager
	tests := []struct {
		name    string
		p       Policy
		copies  []providers.Copy
		want    []string // as_rule per EXP-007, in copy order
		wantSev []Severity
	}{
		{"replica at Alibaba is EXP-001 critical", usAdversary, []providers.Copy{copyAt(aliHangzhou, "acme-orders-cn")}, []string{"EXP-001"}, []Severity{Critical}},
		{"replica in Hong Kong at a US provider is EXP-002 high", usAdversary, []providers.Copy{copyAt(gcsAsiaEast2, "acme-orders-hk")}, []string{"EXP-002"}, []Severity{High}},
		{"replica in a home region is clean", usAdversary, []providers.Copy{copyAt(awsUSEast1, "acme-orders-dr")}, nil, nil},
		{"replica under its own external key is clean", usAdversary, []providers.Copy{ekm}, nil, nil},
		{"one finding per copy", usAdversary, []providers.Copy{copyAt(aliHangzhou, "a"), copyAt(aliUSWest1, "b")}, []string{"EXP-001", "EXP-001"}, []Severity{Critical, Critical}},
		{"replica in a foreign place under the source provider-kms custody is not EXP-007", euSovereignty, []providers.Copy{copyAt(awsEUSC, "x")}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := src
			b.Copies = tt.copies
			fs := find(evaluate(tt.p, b), "EXP-007")
			var got []string
			var sev []Severity
			ids := map[string]bool{}
			for _, f := range fs {
				got = append(got, f.Evidence["as_rule"].(string))
				sev = append(sev, f.Severity)
				ids[f.ID] = true
				checkWellFormed(t, f)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("as_rule (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSev, sev, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("severities (-want +got):\n%s", diff)
			}
			if len(ids) != len(fs) {
				t.Errorf("EXP-007 IDs are not distinct: %v", ids)
			}
		})
	}
	t.Run("replica under provider-managed custody of its own in a foreign place is EXP-003", func(t *testing.T) {
		b := withCustody(cleanBucket("acme-orders", awsUSEast1), providers.CustodyExternalKeyManager)
		c := copyAt(gcsEUWest1, "eu-copy")
		c.Custody = providers.CustodyProviderManaged
		b.Copies = []providers.Copy{c}
		f := one(t, evaluate(euSovereignty, b), "EXP-007")
		if f.Evidence["as_rule"] != "EXP-003" || f.Severity != High || f.Evidence["custody_from"] != "copy" {
			t.Errorf("EXP-007 %v %v", f.Severity, f.Evidence)
		}
		if !strings.Contains(f.Remediation, "gcp:acme-prod:eu-copy@europe-west1") {
			t.Errorf("remediation %q", f.Remediation)
		}
	})
}

func TestKeyOwnerOutsideOrganisation(t *testing.T) {
	b := cleanBucket("b", awsUSEast1)
	b.Custody = providers.CustodyProviderKMS
	b.Key.Account = "999988887777"
	tests := []struct {
		name     string
		org      map[string][]string
		accounts map[string][]string
		key      string
		fire     bool
	}{
		{"key in a scanned account", nil, nil, "111122223333", false},
		{"key in another account, organisation from the buckets", nil, nil, "999988887777", true},
		{"key in an account the scan covered without buckets", nil, map[string][]string{"aws": {"111122223333", "999988887777"}}, "999988887777", false},
		{"policy organisation names the key's account", map[string][]string{"aws": {"999988887777"}}, nil, "999988887777", false},
		{"policy organisation for aws excludes a scanned account", map[string][]string{"aws": {"555555555555"}}, nil, "111122223333", true},
		{"policy organisation for another provider falls back to the scan", map[string][]string{"gcp": {"acme-prod"}}, nil, "111122223333", false},
		{"key with no owner recorded", nil, nil, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := usAdversary.clone()
			p.Organisation = tt.org
			b := b
			k := *b.Key
			k.Account = tt.key
			b.Key = &k
			fs := Evaluate([]providers.Bucket{b}, p, Options{Now: testNow, Scanned: tt.accounts})
			got := find(fs, "EXP-008")
			if (len(got) == 1) != tt.fire || len(got) > 1 {
				t.Fatalf("EXP-008 fired %d times, want fire=%v", len(got), tt.fire)
			}
			if tt.fire && (got[0].Severity != High || got[0].Evidence["key_account"] != tt.key) {
				t.Errorf("EXP-008 %v %v", got[0].Severity, got[0].Evidence)
			}
		})
	}
}

func TestKeyState(t *testing.T) {
	del := testNow.Add(7 * 24 * time.Hour)
	tests := []struct {
		state providers.KeyState
		fire  bool
	}{
		{providers.KeyEnabled, false},
		{providers.KeyDisabled, true},
		{providers.KeyPendingDeletion, true},
		{providers.KeyPendingImport, true},
		{providers.KeyUnavailable, true},
		{providers.KeyStateUnknown, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.state), func(t *testing.T) {
			b := withCustody(cleanBucket("b", awsUSEast1), providers.CustodyProviderKMS)
			b.Key.State, b.Key.ProviderState = tt.state, "Provider"+string(tt.state)
			if tt.state == providers.KeyPendingDeletion {
				b.Key.DeletionDate = &del
			}
			got := find(evaluate(usAdversary, b), "BLK-003")
			if (len(got) == 1) != tt.fire {
				t.Fatalf("BLK-003 fired %d times, want %v", len(got), tt.fire)
			}
			if !tt.fire {
				return
			}
			f := got[0]
			if f.Severity != Critical || f.Evidence["state"] != string(tt.state) || f.Evidence["key_id"] != "key-1" {
				t.Errorf("BLK-003 %v %v", f.Severity, f.Evidence)
			}
			if tt.state == providers.KeyPendingDeletion && f.Evidence["deletion_date"] != "2026-12-07T12:00:00Z" {
				t.Errorf("deletion date %v", f.Evidence["deletion_date"])
			}
		})
	}
}

func TestImportedMaterialExpiry(t *testing.T) {
	tests := []struct {
		name    string
		in      time.Duration
		fire    bool
		expired bool
	}{
		{"expires in 10 days", 10 * 24 * time.Hour, true, false},
		{"expires in exactly 30 days", 30 * 24 * time.Hour, true, false},
		{"expires in 31 days", 31 * 24 * time.Hour, false, false},
		{"expired yesterday", -24 * time.Hour, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := withCustody(cleanBucket("b", awsUSEast1), providers.CustodyImportedKey)
			exp := testNow.Add(tt.in)
			b.Key.MaterialExpires = &exp
			got := find(evaluate(usAdversary, b), "BLK-004")
			if (len(got) == 1) != tt.fire {
				t.Fatalf("BLK-004 fired %d times, want %v", len(got), tt.fire)
			}
			if tt.fire && (got[0].Evidence["expired"] != tt.expired || got[0].Severity != High) {
				t.Errorf("BLK-004 %v %v", got[0].Severity, got[0].Evidence)
			}
		})
	}
}

func TestReachability(t *testing.T) {
	tests := []struct {
		name string
		r    providers.Reachability
		fire bool
	}{
		{"reachable", providers.Reachability{Reachable: true, Probe: "HeadBucket"}, false},
		{"denied", providers.Reachability{Probe: "HeadBucket", Failure: providers.FailHTTP403, Error: "AccessDenied"}, true},
		{"dns failure", providers.Reachability{Probe: "HeadBucket", Failure: providers.FailDNS, Error: "no such host"}, true},
		{"probe not run", providers.Reachability{}, false},
		// The provider answered, so nothing shows the data cannot be read.
		{"throttled", providers.Reachability{Probe: "HeadBucket", Failure: providers.FailThrottled, Error: "SlowDown"}, false},
		{"5xx", providers.Reachability{Probe: "HeadBucket", Failure: providers.FailHTTP5xx, Error: "InternalError"}, false},
		{"malformed answer", providers.Reachability{Probe: "HeadBucket", Failure: providers.FailOther, Error: "decode answer: EOF"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := cleanBucket("b", aliHangzhou)
			b.Copies = []providers.Copy{copyAt(awsUSEast1, "dr")}
			b.Reachability = tt.r
			got := find(evaluate(usAdversary, b), "BLK-005")
			if (len(got) == 1) != tt.fire {
				t.Fatalf("BLK-005 fired %d times, want %v", len(got), tt.fire)
			}
			if tt.fire && (got[0].Evidence["failure"] != tt.r.Failure || got[0].Evidence["error"] != tt.r.Error) {
				t.Errorf("BLK-005 evidence %v", got[0].Evidence)
			}
		})
	}
}

func TestResidency(t *testing.T) {
	tests := []struct {
		name     string
		allowed  []string
		pl       testPlace
		fire     bool
		location string
	}{
		{"no residency set", nil, gcsEUWest1, false, ""},
		{"inside the allowed countries", []string{"US"}, awsUSEast1, false, ""},
		{"outside the allowed countries", []string{"US"}, gcsEUWest1, true, "data sits in BE"},
		{"multi-region candidates outside", []string{"US", "JP"}, gcsASIA, true, "data may sit in HK, KR, SG, TW"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := usAdversary.clone()
			p.Residency.Allowed = tt.allowed
			got := find(evaluate(p, cleanBucket("b", tt.pl)), "RES-001")
			if (len(got) == 1) != tt.fire {
				t.Fatalf("RES-001 fired %d times, want %v", len(got), tt.fire)
			}
			if tt.fire && (got[0].Evidence["location"] != tt.location || got[0].Severity != High) {
				t.Errorf("RES-001 %v %v", got[0].Severity, got[0].Evidence)
			}
		})
	}
	t.Run("data in a concern country cites the concern lists", func(t *testing.T) {
		p := usAdversary.clone()
		p.Residency.Allowed = []string{"US"}
		f := one(t, evaluate(p, withCustody(cleanBucket("b", gcsAsiaEast2), providers.CustodyExternalKeyManager)), "RES-001")
		if diff := cmp.Diff([]string{LawForeignAdv, LawCountriesOfCon}, f.LegalBasis); diff != "" {
			t.Errorf("legal basis (-want +got):\n%s", diff)
		}
	})
}

func TestHygiene(t *testing.T) {
	tests := []struct {
		name       string
		versioning string
		lock       providers.Tri
		redundancy string
		copies     []providers.Copy
		unknown    string
		want       []string
	}{
		{"versioning on", providers.VersioningEnabled, providers.No, "", nil, "", nil},
		{"versioning off and no lock", providers.VersioningOff, providers.No, "", nil, "", []string{"HYG-001"}},
		{"versioning suspended and no lock", providers.VersioningSuspended, providers.No, "", nil, "", []string{"HYG-001"}},
		{"versioning off with object lock", providers.VersioningOff, providers.Yes, "", nil, "", nil},
		{"versioning off and lock unknown", providers.VersioningOff, providers.TriUnknown, "", nil, providers.FieldObjectLock, []string{"UNK-001"}},
		{"versioning unknown and no lock", providers.VersioningUnknown, providers.No, "", nil, providers.FieldVersioning, []string{"UNK-001"}},
		{"single zone without replica", providers.VersioningEnabled, providers.No, providers.RedundancySingleZone, nil, "", []string{"HYG-002"}},
		{"single zone with a replica", providers.VersioningEnabled, providers.No, providers.RedundancySingleZone, []providers.Copy{copyAt(awsUSEast1, "dr")}, "", nil},
		{"multi-zone without replica", providers.VersioningEnabled, providers.No, providers.RedundancyMultiZone, nil, "", nil},
		{"multi-region without replica", providers.VersioningEnabled, providers.No, providers.RedundancyMultiRegion, nil, "", nil},
		{"scope not given by the provider", providers.VersioningEnabled, providers.No, "", nil, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := cleanBucket("b", awsUSEast1)
			b.Versioning, b.ObjectLock, b.RedundancyScope, b.Copies = tt.versioning, tt.lock, tt.redundancy, tt.copies
			if tt.unknown != "" {
				b.SetUnknown(tt.unknown, "GetSomething", errors.New("AccessDenied"), "s3:GetSomething")
			}
			fs := evaluate(usAdversary, b)
			if diff := cmp.Diff(tt.want, ruleIDs(fs), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("rules (-want +got):\n%s", diff)
			}
			for _, f := range fs {
				if f.Rule != "UNK-001" && f.Severity != Low {
					t.Errorf("%s severity %v", f.Rule, f.Severity)
				}
			}
		})
	}
}

func TestPublicAndUnknowns(t *testing.T) {
	b := cleanBucket("b", awsUSEast1)
	b.Public, b.PublicVia = providers.Yes, []string{"bucket-policy"}
	b.SetUnknown(providers.FieldVersioning, "GetBucketVersioning", errors.New("AccessDenied"), "s3:GetBucketVersioning")
	b.SetUnknown(providers.FieldTags, "GetBucketTagging", errors.New("InternalError"), "")
	b.SetUnknown(providers.FieldTags, "GetBucketTagging", errors.New("InternalError"), "")
	fs := evaluate(usAdversary, b)
	if diff := cmp.Diff([]string{"EXP-006", "UNK-001", "UNK-001"}, ruleIDs(fs)); diff != "" {
		t.Fatalf("rules (-want +got):\n%s", diff)
	}
	pub := one(t, fs, "EXP-006")
	if pub.Severity != Critical || !slices.Equal(pub.Evidence["public_via"].([]string), []string{"bucket-policy"}) {
		t.Errorf("EXP-006 %v %v", pub.Severity, pub.Evidence)
	}
	unk := find(fs, "UNK-001")
	if unk[0].ID == unk[1].ID {
		t.Errorf("UNK-001 IDs collide")
	}
	for _, u := range unk {
		checkWellFormed(t, u)
		switch u.Evidence["fields"].([]string)[0] {
		case providers.FieldVersioning:
			if !strings.HasPrefix(u.Remediation, "Grant s3:GetBucketVersioning to") {
				t.Errorf("remediation %q", u.Remediation)
			}
		case providers.FieldTags:
			if !strings.Contains(u.Remediation, "the permission GetBucketTagging needs") {
				t.Errorf("remediation %q", u.Remediation)
			}
		}
	}
}

func TestOneUnknownPerMissingGrant(t *testing.T) {
	b := withCustody(cleanBucket("b", awsUSEast1), providers.CustodyProviderKMS)
	denied := errors.New("AccessDeniedException")
	b.SetUnknown(providers.FieldCustody, "kms:DescribeKey", denied, "kms:DescribeKey")
	b.SetUnknown(providers.FieldKey, "kms:DescribeKey", denied, "kms:DescribeKey")
	b.SetUnknown(providers.FieldVersioning, "s3:GetBucketVersioning", denied, "s3:GetBucketVersioning")
	unk := find(evaluate(usAdversary, b), "UNK-001")
	if len(unk) != 2 {
		t.Fatalf("%d UNK-001 findings, want one per call and permission: %v", len(unk), unk)
	}
	var kms Finding
	for _, u := range unk {
		if u.Evidence["api"] == "kms:DescribeKey" {
			kms = u
		}
	}
	if got := kms.Evidence["fields"]; !slices.Equal(got.([]string), []string{providers.FieldCustody, providers.FieldKey}) {
		t.Errorf("fields %v, want custody and key", got)
	}
	if !strings.Contains(kms.Remediation, "can read custody and key") {
		t.Errorf("remediation %q does not name both fields", kms.Remediation)
	}
}

func TestSensitiveTags(t *testing.T) {
	p := usAdversary.clone()
	p.SensitiveTags = map[string][]string{"data-class": {"restricted", "confidential"}, "pii": {"*"}}
	tests := []struct {
		name   string
		tags   map[string]string
		rule   string
		want   Severity
		marked bool
	}{
		{"low hygiene raised to medium", map[string]string{"data-class": "restricted"}, "HYG-001", Medium, true},
		{"high raised to critical", map[string]string{"data-class": "confidential"}, "EXP-005", Critical, true},
		{"critical stays critical", map[string]string{"data-class": "restricted"}, "EXP-006", Critical, true},
		{"medium unknown raised to high", map[string]string{"pii": "yes"}, "UNK-001", High, true},
		{"other value not raised", map[string]string{"data-class": "public"}, "EXP-005", High, false},
		{"no tags not raised", nil, "HYG-001", Low, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := withCustody(cleanBucket("b", awsUSEast1), providers.CustodyNone)
			b.Versioning, b.ObjectLock, b.Public = providers.VersioningOff, providers.No, providers.Yes
			b.SetUnknown(providers.FieldTags, "GetBucketTagging", errors.New("boom"), "s3:GetBucketTagging")
			b.Tags = tt.tags
			f := one(t, evaluate(p, b), tt.rule)
			if f.Severity != tt.want {
				t.Errorf("severity %v, want %v", f.Severity, tt.want)
			}
			if _, marked := f.Evidence["sensitive_tag"]; marked != tt.marked {
				t.Errorf("sensitive_tag evidence %v, want marked=%v", f.Evidence, tt.marked)
			}
			// base_severity only when the tag changed the severity.
			base, hasBase := f.Evidence["base_severity"]
			if raised := tt.marked && tt.want != byID[tt.rule].Severity; hasBase != raised || raised && base != byID[tt.rule].Severity.String() {
				t.Errorf("base_severity %v (present %v), want present=%v", base, hasBase, raised)
			}
		})
	}
	t.Run("EXP-007 raised from the rule it stands for", func(t *testing.T) {
		b := withCustody(cleanBucket("b", awsUSEast1), providers.CustodyProviderKMS)
		b.Tags = map[string]string{"data-class": "restricted"}
		b.Copies = []providers.Copy{copyAt(gcsAsiaEast2, "hk")}
		if f := one(t, evaluate(p, b), "EXP-007"); f.Severity != Critical || f.Evidence["base_severity"] != "high" {
			t.Errorf("EXP-007 %v %v", f.Severity, f.Evidence)
		}
	})
}

func TestExceptions(t *testing.T) {
	day := func(s string) Date {
		d, err := ParseDate(s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		name       string
		exc        []Exception
		wantStatus string
		wantReason string
		expiredEv  bool
	}{
		{"no exception", nil, StatusOpen, "", false},
		{"unexpired exact", []Exception{{"HYG-001", "aws:111122223333:scratch-data", "accepted", day("2027-01-31")}}, StatusSuppressed, "accepted", false},
		{"expires today still applies", []Exception{{"HYG-001", "aws:*:scratch-*", "until today", day("2026-11-30")}}, StatusSuppressed, "until today", false},
		{"expired yesterday no longer suppresses", []Exception{{"HYG-001", "aws:*:scratch-*", "old", day("2026-11-29")}}, StatusOpen, "", true},
		{"expired then unexpired", []Exception{{"HYG-001", "*:*:*", "old", day("2025-01-01")}, {"HYG-001", "aws:*:*", "new", day("2030-01-01")}}, StatusSuppressed, "new", false},
		{"other rule", []Exception{{"HYG-002", "aws:*:*", "no", day("2030-01-01")}}, StatusOpen, "", false},
		{"other provider", []Exception{{"HYG-001", "gcp:*:*", "no", day("2030-01-01")}}, StatusOpen, "", false},
		{"other account", []Exception{{"HYG-001", "aws:999988887777:*", "no", day("2030-01-01")}}, StatusOpen, "", false},
		{"bucket glob does not match", []Exception{{"HYG-001", "aws:*:logs-*", "no", day("2030-01-01")}}, StatusOpen, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := usAdversary.clone()
			p.Exceptions = tt.exc
			b := cleanBucket("scratch-data", awsUSEast1)
			b.Versioning = providers.VersioningOff
			f := one(t, evaluate(p, b), "HYG-001")
			if f.Status != tt.wantStatus || f.SuppressedReason != tt.wantReason {
				t.Errorf("status %q reason %q, want %q %q", f.Status, f.SuppressedReason, tt.wantStatus, tt.wantReason)
			}
			if _, ok := f.Evidence["exception_expired"]; ok != tt.expiredEv {
				t.Errorf("exception_expired in evidence: %v, want %v", f.Evidence, tt.expiredEv)
			}
		})
	}
}

func TestIDsAndOrderAreStable(t *testing.T) {
	var buckets []providers.Bucket
	for i, pl := range []testPlace{awsUSEast1, awsCNNorth1, gcsAsiaEast2, aliHangzhou, aliUSWest1, gcsASIA} {
		b := withCustody(cleanBucket(fmt.Sprintf("bucket-%d", i), pl), providers.Custodies[i%len(providers.Custodies)])
		b.Versioning, b.Public = providers.VersioningOff, providers.TriOf(i%2 == 0)
		b.Copies = []providers.Copy{copyAt(aliHangzhou, "copy-a"), copyAt(gcsAsiaEast2, "copy-b")}
		buckets = append(buckets, b)
	}
	p, err := DemoPolicy()
	if err != nil {
		t.Fatal(err)
	}
	first := Evaluate(buckets, p, Options{Now: testNow})
	reversed := slices.Clone(buckets)
	slices.Reverse(reversed)
	second := Evaluate(reversed, p, Options{Now: testNow.Add(time.Hour)})
	if diff := cmp.Diff(first, second); diff != "" {
		t.Fatalf("findings differ between runs (-first +second):\n%s", diff)
	}
	ids := map[string]bool{}
	for i, f := range first {
		if ids[f.ID] {
			t.Errorf("duplicate id %s (%s on %s)", f.ID, f.Rule, f.Bucket)
		}
		ids[f.ID] = true
		if i > 0 && first[i-1].Severity < f.Severity {
			t.Errorf("not sorted by severity at %d", i)
		}
		checkWellFormed(t, f)
	}
	// The ID is a function of rule, bucket and subject only: pinned so a
	// change that breaks history and SIEM deduplication fails here.
	if got := FindingID("EXP-001", "alibaba", "1234567890123456", "acme-cn-orders", ""); got != "6b41d45808b0f9e5" {
		t.Errorf("FindingID = %s, changed", got)
	}
	if len(first) < 20 {
		t.Errorf("only %d findings", len(first))
	}
}

func TestEveryRuleFiresSomewhere(t *testing.T) {
	// One estate under the demo policy in which every catalogue rule fires,
	// so a rule that can never fire is caught.
	p, err := DemoPolicy()
	if err != nil {
		t.Fatal(err)
	}
	exp := testNow.Add(5 * 24 * time.Hour)
	ali := withCustody(cleanBucket("acme-cn-orders", aliHangzhou), providers.CustodyNone)
	ali.Public, ali.Versioning, ali.Redundancy, ali.RedundancyScope = providers.Yes, providers.VersioningOff, "LRS", providers.RedundancySingleZone
	ali.SetUnknown(providers.FieldPublicAccessBlock, "GetBucketPublicAccessBlock", errors.New("AccessDenied"), "oss:GetBucketPublicAccessBlock")
	hk := withCustody(cleanBucket("acme-hk", gcsAsiaEast2), providers.CustodyImportedKey)
	hk.Key.Account, hk.Key.MaterialExpires, hk.Key.State = "other-project", &exp, providers.KeyDisabled
	hk.Copies = []providers.Copy{copyAt(aliUSWest1, "acme-hk-copy")}
	hk.Reachability = providers.Reachability{Probe: "buckets.get", Failure: providers.FailTimeout, Error: "deadline exceeded"}
	sovKMS := withCustody(cleanBucket("acme-sov-kms", awsEUSC), providers.CustodyProviderKMS)
	sovSSE := withCustody(cleanBucket("acme-sov-sse", awsEUSC), providers.CustodyProviderManaged)
	unlisted := Gap{Provider: "aws", Account: "444455556666", API: "ListBuckets", Error: "HTTP 403 AccessDenied", Permission: "s3:ListAllMyBuckets"}
	fs := Evaluate([]providers.Bucket{ali, hk, sovKMS, sovSSE}, p, Options{Now: testNow, Gaps: []Gap{unlisted}})
	fired := map[string]bool{}
	for _, f := range fs {
		fired[f.Rule] = true
		// The catalogue's key facts are evidence the rule really records:
		// the text formats put them first, so a misspelt one would vanish.
		r, _ := RuleByID(f.Rule)
		if len(r.KeyFacts) == 0 {
			t.Errorf("%s names no key facts", f.Rule)
		}
		for _, k := range r.KeyFacts {
			if _, ok := f.Evidence[k]; !ok && !optionalFact[f.Rule+"."+k] {
				t.Errorf("%s: key fact %q is not in its evidence %v", f.Rule, k, f.Evidence)
			}
		}
	}
	for _, r := range Rules() {
		if !fired[r.ID] {
			t.Errorf("%s never fired", r.ID)
		}
	}
}

// optionalFact lists key facts a rule records only in some cases.
var optionalFact = map[string]bool{
	"BLK-003.deletion_date": true, // only for a key pending deletion
	"BLK-004.days_left":     true, // not once the material has expired
}

// BenchmarkEvaluate judges 5,000 buckets spread over every place and custody
// under the demo policy.
func BenchmarkEvaluate(b *testing.B) {
	places := []testPlace{awsUSEast1, awsCNNorth1, awsAPEast1, awsEUSC, gcsAsiaEast2, gcsEUWest1, gcsASIA, s3nsFrance, aliHangzhou, aliUSWest1, aliFrankfurt}
	var buckets []providers.Bucket
	for i := range 5000 {
		bk := withCustody(cleanBucket(fmt.Sprintf("bucket-%05d", i), places[i%len(places)]), providers.Custodies[i%len(providers.Custodies)])
		if i%3 == 0 {
			bk.Copies = []providers.Copy{copyAt(places[(i+1)%len(places)], "copy")}
			bk.Tags = map[string]string{"data-class": "restricted"}
		}
		buckets = append(buckets, bk)
	}
	p, err := DemoPolicy()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(buckets, p, Options{Now: testNow})
	}
}

// An account that could not be listed is an UNK-002 finding on bucket "*"
// naming the account, the API, the error and the permission; exceptions
// apply to it like to any finding.
func TestUnlistedAccountIsUNK002(t *testing.T) {
	p, err := DemoPolicy()
	if err != nil {
		t.Fatal(err)
	}
	gaps := []Gap{
		{Provider: "aws", Account: "444455556666", API: "ListBuckets", Error: "HTTP 403 AccessDenied: denied", Permission: "s3:ListAllMyBuckets"},
		{Provider: "gcp", Account: "*", API: "SearchProjects", Error: "PermissionDenied"},
	}
	fs := Evaluate(nil, p, Options{Now: testNow, Gaps: gaps})
	if len(fs) != 2 {
		t.Fatalf("findings %+v", fs)
	}
	aws := fs[0]
	if aws.Rule != "UNK-002" || aws.Risk != RiskUnknown || aws.Severity != High || aws.Bucket != "*" || aws.Account != "444455556666" || aws.Provider != "aws" {
		t.Errorf("finding %+v", aws)
	}
	want := map[string]any{"account": "444455556666", "api": "ListBuckets", "error": "HTTP 403 AccessDenied: denied", "permission": "s3:ListAllMyBuckets"}
	if diff := cmp.Diff(want, aws.Evidence); diff != "" {
		t.Errorf("evidence (-want +got):\n%s", diff)
	}
	if !strings.Contains(aws.Remediation, "s3:ListAllMyBuckets") || !strings.Contains(aws.Remediation, "ListBuckets") || !strings.Contains(aws.Remediation, "aws:444455556666:*") {
		t.Errorf("remediation %q", aws.Remediation)
	}
	if !strings.Contains(fs[1].Remediation, "the permission SearchProjects needs") {
		t.Errorf("remediation without a permission %q", fs[1].Remediation)
	}
	if aws.ID != Evaluate(nil, p, Options{Now: testNow, Gaps: gaps[:1]})[0].ID {
		t.Error("UNK-002 id is not stable")
	}
	p.Exceptions = []Exception{{Rule: "UNK-002", Resource: "aws:444455556666:*", Reason: "account being closed"}}
	fs = Evaluate(nil, p, Options{Now: testNow, Gaps: gaps})
	if fs[0].Status != StatusSuppressed || fs[1].Status != StatusOpen {
		t.Errorf("exception: %s %s", fs[0].Status, fs[1].Status)
	}
}
