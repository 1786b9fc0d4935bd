package risk

import (
	"slices"
	"testing"

	"github.com/reachaudit/reachaudit/providers"
)

// The contracting entity is a third control axis only when the policy says
// so, and its evidence shows on EXP/BLK findings wherever it answers to a
// jurisdiction other than controller and operator.
func TestContractCountsAsControlAxis(t *testing.T) {
	withContract := func(b providers.Bucket, entity, jur string) providers.Bucket {
		b.Contract = &providers.Contract{Entity: entity, Jurisdiction: jur, Source: providers.ContractFromTable}
		return b
	}
	counting := func(p Policy) Policy { p.ContractCounts = true; return p }
	tests := []struct {
		name         string
		bucket       providers.Bucket
		policy       Policy
		want         []string // rules that fire
		evidence     bool     // contract evidence on the EXP/BLK findings
		jurisdiction string   // a jurisdiction every EXP/BLK finding names
	}{
		{"US home, AWS Inc.: nothing", withContract(withCustody(cleanBucket("a", awsUSEast1), providers.CustodyProviderManaged), "Amazon Web Services, Inc.", "US"), usAdversary, nil, false, ""},
		{"US home, contract in CN, not counted", withContract(withCustody(cleanBucket("a", awsUSEast1), providers.CustodyProviderManaged), "Some CN reseller", "CN"), usAdversary, nil, false, ""},
		{"US home, contract in CN, counted", withContract(withCustody(cleanBucket("a", awsUSEast1), providers.CustodyProviderManaged), "Some CN reseller", "CN"), counting(usAdversary), []string{"BLK-001", "EXP-001"}, true, "CN"},
		{"EU home, Google EMEA in IE: foreign anyway", withContract(withCustody(cleanBucket("a", gcsEUWest1), providers.CustodyProviderManaged), "Google Cloud EMEA Limited", "IE"), euSovereignty, []string{"BLK-002", "EXP-003"}, true, "US"},
		{"EU home, S3NS bucket with a US contract, counted", withContract(withCustody(cleanBucket("a", s3nsFrance), providers.CustodyProviderManaged), "Google LLC", "US"), counting(euSovereignty), []string{"BLK-002", "EXP-003"}, false, "US"},
		{"Alibaba US LLC: evidence, still concern-controlled", withContract(withCustody(cleanBucket("a", aliUSWest1), providers.CustodyProviderKMS), "Alibaba Cloud US LLC", "US"), usAdversary, []string{"BLK-001", "EXP-001", "HYG-002"}, true, "CN"},
		{"Alibaba under EU policy, US contract counted", withContract(withCustody(cleanBucket("a", aliFrankfurt), providers.CustodyProviderKMS), "Alibaba Cloud US LLC", "US"), counting(euSovereignty), []string{"BLK-001", "EXP-001", "HYG-002"}, true, "US"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := tt.bucket
			if b.Provider == "alibaba" {
				b.Redundancy, b.RedundancyScope = "LRS", providers.RedundancySingleZone
			}
			b.Copies = []providers.Copy{}
			fs := Evaluate([]providers.Bucket{b}, tt.policy, Options{Now: testNow})
			var rules []string
			for _, f := range fs {
				rules = append(rules, f.Rule)
				if f.Risk != RiskExpose && f.Risk != RiskBlock {
					continue
				}
				_, has := f.Evidence["contract_entity"]
				if has != tt.evidence {
					t.Errorf("%s: contract evidence %v, want %v (%v)", f.Rule, has, tt.evidence, f.Evidence)
				}
				if has && f.Evidence["contract_jurisdiction"] != b.Contract.Jurisdiction {
					t.Errorf("%s: contract_jurisdiction %v", f.Rule, f.Evidence["contract_jurisdiction"])
				}
				if tt.jurisdiction != "" && !slices.Contains(f.Jurisdictions, tt.jurisdiction) {
					t.Errorf("%s: jurisdictions %v lack %s", f.Rule, f.Jurisdictions, tt.jurisdiction)
				}
			}
			slices.Sort(rules)
			if !slices.Equal(rules, tt.want) {
				t.Fatalf("rules %v, want %v", rules, tt.want)
			}
		})
	}
}
