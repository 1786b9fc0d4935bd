package azure

import (
	"regexp"
	"testing"
)

// Every pair is a region of the same cloud; every country is a code; the
// China cloud is run by 21Vianet and no other cloud has an operator of its
// own.
func TestRegionTable(t *testing.T) {
	iso := regexp.MustCompile(`^[A-Z]{2}$`)
	for code, r := range regions {
		p, ok := Place(code)
		if !ok || p.Region != code || len(p.Countries) != 1 || !iso.MatchString(p.Countries[0]) || p.Partition != r.cloud {
			t.Errorf("%s: place %+v", code, p)
		}
		if r.pair != "" {
			pr, ok := regions[r.pair]
			if !ok || pr.cloud != r.cloud || r.pair == code {
				t.Errorf("%s: pair %q is not a region of %s", code, r.pair, r.cloud)
			}
		}
		switch r.cloud {
		case CloudChina:
			if p.Operator.Jurisdiction != "CN" || p.Countries[0] != "CN" {
				t.Errorf("%s: operator %+v", code, p.Operator)
			}
		case CloudPublic, CloudUSGov:
			if p.Operator.Jurisdiction != "" {
				t.Errorf("%s: operator %+v, want Microsoft itself", code, p.Operator)
			}
		default:
			t.Errorf("%s: cloud %q", code, r.cloud)
		}
	}
	for _, tc := range []struct{ region, country, pair string }{
		{"brazilsouth", "BR", "southcentralus"}, {"westeurope", "NL", "northeurope"}, {"eastasia", "HK", "southeastasia"},
		{"chinaeast2", "CN", "chinanorth2"}, {"usgovvirginia", "US", "usgovtexas"},
	} {
		p, ok := Place(tc.region)
		if !ok || p.Countries[0] != tc.country || Pair(tc.region) != tc.pair {
			t.Errorf("%s: %+v pair %s", tc.region, p, Pair(tc.region))
		}
	}
}
