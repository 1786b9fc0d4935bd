package aws

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/reachaudit/reachaudit/providers"
)

var (
	countryRe = regexp.MustCompile(`^[A-Z]{2}$`)
	regionRe  = regexp.MustCompile(`^[a-z]{2,4}(-[a-z]+)+-[0-9]$`)
)

// partitionPrefixes says which region names belong to which partition.
var partitionPrefixes = []struct{ prefix, partition string }{
	{"us-gov-", partitionGov},
	{"cn-", partitionCN},
	{"eusc-", partitionEUSC},
	{"", partitionAWS},
}

func TestRegionTableEntries(t *testing.T) {
	for code := range regions {
		t.Run(code, func(t *testing.T) {
			p, ok := Place(code)
			if !ok {
				t.Fatal("Place does not find a table entry")
			}
			if !regionRe.MatchString(code) {
				t.Errorf("%q is not shaped like a region code", code)
			}
			if p.Region != code || p.LocationType != providers.LocationRegion || p.Candidates {
				t.Errorf("place %+v", p)
			}
			if len(p.Countries) != 1 || !countryRe.MatchString(p.Countries[0]) {
				t.Errorf("countries %v, want one ISO 3166-1 alpha-2 code", p.Countries)
			}
			for _, pp := range partitionPrefixes {
				if strings.HasPrefix(code, pp.prefix) {
					if p.Partition != pp.partition {
						t.Errorf("partition %q, want %q", p.Partition, pp.partition)
					}
					break
				}
			}
			if !countryRe.MatchString(p.Operator.Jurisdiction) || p.Operator.Entity == "" {
				t.Errorf("operator %+v", p.Operator)
			}
			// Only the China and sovereign partitions have their own operator.
			foreignOperator := p.Partition == partitionCN || p.Partition == partitionEUSC
			if foreignOperator == (p.Operator == operatorAWS) {
				t.Errorf("partition %s run by %+v", p.Partition, p.Operator)
			}
		})
	}
}

func TestRegionFacts(t *testing.T) {
	cases := []struct {
		region, country, partition, operator, entity string
	}{
		{"us-east-1", "US", "aws", "US", "Amazon Web Services, Inc."},
		{"ap-east-1", "HK", "aws", "US", "Amazon Web Services, Inc."},
		{"ap-east-2", "TW", "aws", "US", "Amazon Web Services, Inc."},
		{"ap-southeast-5", "MY", "aws", "US", "Amazon Web Services, Inc."},
		{"ap-southeast-6", "NZ", "aws", "US", "Amazon Web Services, Inc."},
		{"ap-southeast-7", "TH", "aws", "US", "Amazon Web Services, Inc."},
		{"eu-west-2", "GB", "aws", "US", "Amazon Web Services, Inc."},
		{"il-central-1", "IL", "aws", "US", "Amazon Web Services, Inc."},
		{"me-central-1", "AE", "aws", "US", "Amazon Web Services, Inc."},
		{"mx-central-1", "MX", "aws", "US", "Amazon Web Services, Inc."},
		{"us-gov-west-1", "US", "aws-us-gov", "US", "Amazon Web Services, Inc."},
		{"cn-north-1", "CN", "aws-cn", "CN", "Beijing Sinnet Technology Co., Ltd."},
		{"cn-northwest-1", "CN", "aws-cn", "CN", "Ningxia Western Cloud Data Technology Co., Ltd."},
		{"eusc-de-east-1", "DE", "aws-eusc", "DE", "AWS European Sovereign Cloud GmbH"},
	}
	for _, tc := range cases {
		p, ok := Place(tc.region)
		if !ok || !slices.Equal(p.Countries, []string{tc.country}) || p.Partition != tc.partition ||
			p.Operator.Jurisdiction != tc.operator || p.Operator.Entity != tc.entity {
			t.Errorf("%s: %+v %v", tc.region, p, ok)
		}
	}
	if _, ok := Place("EU"); ok {
		t.Error("EU is a location constraint, not a region")
	}
}

// TestRegionTableCoversEveryRegion pins the table to the regions named in
// this project's requirements, so that removing one is a visible change.
func TestRegionTableCoversEveryRegion(t *testing.T) {
	want := []string{
		"af-south-1", "ap-east-1", "ap-east-2", "ap-south-1", "ap-south-2",
		"ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
		"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
		"ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2", "eu-west-1", "eu-west-2", "eu-west-3",
		"eu-south-1", "eu-south-2", "eu-north-1", "il-central-1", "me-south-1", "me-central-1", "me-west-1",
		"mx-central-1", "sa-east-1", "sa-west-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
		"us-gov-east-1", "us-gov-west-1", "cn-north-1", "cn-northwest-1", "eusc-de-east-1",
	}
	for _, r := range want {
		if _, ok := Place(r); !ok {
			t.Errorf("%s missing", r)
		}
	}
	if len(regions) != len(want) {
		t.Errorf("table has %d regions, the list %d: update both", len(regions), len(want))
	}
}

func TestNormaliseLocation(t *testing.T) {
	for in, want := range map[string]string{"": "us-east-1", "EU": "eu-west-1", "eu-west-1": "eu-west-1", "ap-east-2": "ap-east-2"} {
		if got := normaliseLocation(in); got != want {
			t.Errorf("normaliseLocation(%q) = %q, want %q", in, got, want)
		}
	}
}
