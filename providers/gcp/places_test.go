package gcp

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachaudit/reachaudit/providers"
)

func TestEveryRegionHasACountry(t *testing.T) {
	for r, c := range regions {
		pl, ok := Place(strings.ToUpper(r)) // the API answers in upper case
		if !ok || pl.Region != r || pl.LocationType != providers.LocationRegion || len(c) != 2 ||
			cmp.Diff([]string{c}, pl.Countries) != "" || pl.Candidates {
			t.Errorf("Place(%q) = %+v, %v", r, pl, ok)
		}
	}
}

func TestRegionCountries(t *testing.T) {
	tests := map[string]string{
		"asia-east2": "HK", "asia-east1": "TW", "me-central2": "SA", "africa-south1": "ZA",
		"europe-west2": "GB", "europe-west3": "DE", "europe-west6": "CH", "europe-west9": "FR",
		"us-central1": "US", "us-east4": "US", "northamerica-northeast1": "CA", "australia-southeast1": "AU",
	}
	for r, want := range tests {
		if pl, _ := Place(r); len(pl.Countries) != 1 || pl.Countries[0] != want {
			t.Errorf("%s → %v, want %s", r, pl.Countries, want)
		}
	}
}

func TestDualRegionsMapToTheirRegionsCountries(t *testing.T) {
	want := map[string][]string{
		"NAM4": {"US"}, "EUR4": {"FI", "NL"}, "EUR5": {"BE", "GB"}, "EUR7": {"DE", "GB"},
		"EUR8": {"CH", "DE"}, "ASIA1": {"JP"},
	}
	if len(want) != len(dualRegions) {
		t.Errorf("table has %d dual-regions, test knows %d", len(dualRegions), len(want))
	}
	for code, pair := range dualRegions {
		for _, r := range pair {
			if _, ok := regions[r]; !ok {
				t.Errorf("%s names unknown region %s", code, r)
			}
		}
		for _, spelled := range []string{code, strings.ToLower(code)} {
			pl, ok := Place(spelled)
			if !ok || pl.Region != code || pl.LocationType != providers.LocationDualRegion || pl.Candidates {
				t.Errorf("Place(%q) = %+v, %v", spelled, pl, ok)
			}
			if diff := cmp.Diff(want[code], pl.Countries); diff != "" {
				t.Errorf("%s countries (-want +got):\n%s", code, diff)
			}
		}
	}
}

func TestMultiRegionsGiveCandidates(t *testing.T) {
	tests := []struct {
		code       string
		must       []string
		mustNot    []string
		candidates bool
	}{
		{code: "US", must: []string{"US"}, mustNot: []string{"CA"}},
		{code: "EU", must: []string{"BE", "NL", "DE", "FI"}, mustNot: []string{"GB", "CH"}, candidates: true},
		{code: "ASIA", must: []string{"TW", "JP", "KR", "HK", "SG", "IN"}, mustNot: []string{"AU", "CN"}, candidates: true},
	}
	for _, tt := range tests {
		pl, ok := Place(strings.ToLower(tt.code))
		if !ok || pl.LocationType != providers.LocationMultiRegion || pl.Candidates != tt.candidates {
			t.Errorf("Place(%q) = %+v, %v", tt.code, pl, ok)
		}
		for _, c := range tt.must {
			if !slices.Contains(pl.Countries, c) {
				t.Errorf("%s lacks candidate %s", tt.code, c)
			}
		}
		for _, c := range tt.mustNot {
			if slices.Contains(pl.Countries, c) {
				t.Errorf("%s wrongly names %s", tt.code, c)
			}
		}
	}
}

func TestCustomDualRegion(t *testing.T) {
	pl, ok := customDualRegion("EU", []string{"EUROPE-WEST1", "europe-west9"})
	if !ok || pl.LocationType != providers.LocationDualRegion || cmp.Diff([]string{"BE", "FR"}, pl.Countries) != "" {
		t.Errorf("EU[europe-west1,europe-west9] = %+v, %v", pl, ok)
	}
	if _, ok := customDualRegion("US", []string{"us-east1", "us-nowhere9"}); ok {
		t.Error("unknown data location accepted")
	}
}

func TestSovereignOperator(t *testing.T) {
	pl, ok := Place("u-france-east1")
	if !ok || pl.Operator.Jurisdiction != "FR" || !strings.Contains(pl.Operator.Entity, "S3NS") || pl.Countries[0] != "FR" {
		t.Errorf("u-france-east1 = %+v", pl)
	}
	var b providers.Bucket
	b.ApplyPlace(pl, Controller)
	if b.Controller != "US" || b.Operator != "FR" {
		t.Errorf("applied: controller %s operator %s", b.Controller, b.Operator)
	}
	if pl, _ := Place("us-east1"); pl.Operator.Jurisdiction != "" {
		t.Errorf("us-east1 operator %+v, want Google itself", pl.Operator)
	}
}

func TestUnknownLocation(t *testing.T) {
	for _, l := range []string{"", "mars-central1", "NAM9", "us"[:1]} {
		if _, ok := Place(l); ok {
			t.Errorf("Place(%q) found", l)
		}
	}
}
