package gcp

import (
	"slices"
	"sort"
	"strings"

	"github.com/reachaudit/reachaudit/providers"
)

// s3ns runs the sovereign region u-france-east1 under French law, with
// Google as technology supplier.
var s3ns = providers.Party{Jurisdiction: "FR", Entity: "S3NS (Thales)"}

// regions maps every GCS region to the country its data sits in.
var regions = map[string]string{
	// North America
	"northamerica-northeast1": "CA", // Montréal
	"northamerica-northeast2": "CA", // Toronto
	"northamerica-south1":     "MX", // Querétaro
	"us-central1":             "US", // Iowa
	"us-east1":                "US", // South Carolina
	"us-east4":                "US", // Northern Virginia
	"us-east5":                "US", // Columbus
	"us-south1":               "US", // Dallas
	"us-west1":                "US", // Oregon
	"us-west2":                "US", // Los Angeles
	"us-west3":                "US", // Salt Lake City
	"us-west4":                "US", // Las Vegas
	// South America
	"southamerica-east1": "BR", // São Paulo
	"southamerica-west1": "CL", // Santiago
	// Europe
	"europe-central2":   "PL", // Warsaw
	"europe-north1":     "FI", // Hamina
	"europe-north2":     "SE", // Stockholm
	"europe-southwest1": "ES", // Madrid
	"europe-west1":      "BE", // St. Ghislain
	"europe-west2":      "GB", // London
	"europe-west3":      "DE", // Frankfurt
	"europe-west4":      "NL", // Eemshaven
	"europe-west6":      "CH", // Zürich
	"europe-west8":      "IT", // Milan
	"europe-west9":      "FR", // Paris
	"europe-west10":     "DE", // Berlin
	"europe-west12":     "IT", // Turin
	// Middle East
	"me-central1": "QA", // Doha
	"me-central2": "SA", // Dammam
	"me-west1":    "IL", // Tel Aviv
	// Asia Pacific
	"asia-east1":           "TW", // Changhua County
	"asia-east2":           "HK", // Hong Kong
	"asia-northeast1":      "JP", // Tokyo
	"asia-northeast2":      "JP", // Osaka
	"asia-northeast3":      "KR", // Seoul
	"asia-south1":          "IN", // Mumbai
	"asia-south2":          "IN", // Delhi
	"asia-southeast1":      "SG", // Jurong West
	"asia-southeast2":      "ID", // Jakarta
	"australia-southeast1": "AU", // Sydney
	"australia-southeast2": "AU", // Melbourne
	// Africa
	"africa-south1": "ZA", // Johannesburg
	// Sovereign cloud run by S3NS
	"u-france-east1": "FR",
}

// regionOperators names regions not run by Google itself.
var regionOperators = map[string]providers.Party{
	"u-france-east1": s3ns,
}

// dualRegions are the predefined dual-regions and the two regions each
// stores data in.
var dualRegions = map[string][2]string{
	"ASIA1": {"asia-northeast1", "asia-northeast2"},
	"EUR4":  {"europe-north1", "europe-west4"},
	"EUR5":  {"europe-west1", "europe-west2"},
	"EUR7":  {"europe-west2", "europe-west3"},
	"EUR8":  {"europe-west3", "europe-west6"},
	"NAM4":  {"us-central1", "us-east1"},
}

// multiRegions are the multi-regions and every country whose regions may
// hold their data: Google names an area, not a list of data centres, so
// each of these is a candidate.
var multiRegions = map[string][]string{
	"US":   {"US"},
	"EU":   {"BE", "DE", "ES", "FI", "FR", "IT", "NL", "PL", "SE"},
	"ASIA": {"HK", "ID", "IN", "JP", "KR", "SG", "TW"},
}

// Place looks up a GCS location code (a region, predefined dual-region or
// multi-region) in any letter case, as the storage API answers them in
// upper case.
func Place(location string) (providers.Place, bool) {
	up := strings.ToUpper(location)
	if pair, ok := dualRegions[up]; ok {
		return providers.Place{Region: up, LocationType: providers.LocationDualRegion,
			Countries: countriesOf(pair[:]), Regions: pair[:]}, true
	}
	if cs, ok := multiRegions[up]; ok {
		return providers.Place{Region: up, LocationType: providers.LocationMultiRegion,
			Countries: slices.Clone(cs), Candidates: len(cs) > 1}, true
	}
	low := strings.ToLower(location)
	if c, ok := regions[low]; ok {
		return providers.Place{Region: low, LocationType: providers.LocationRegion,
			Countries: []string{c}, Operator: regionOperators[low]}, true
	}
	return providers.Place{}, false
}

// customDualRegion is the place of a configurable dual-region: a
// multi-region location whose data is pinned to two of its regions.
func customDualRegion(location string, dataLocations []string) (providers.Place, bool) {
	var rs []string
	for _, dl := range dataLocations {
		r := strings.ToLower(dl)
		if _, ok := regions[r]; !ok {
			return providers.Place{}, false
		}
		rs = append(rs, r)
	}
	if len(rs) == 0 {
		return providers.Place{}, false
	}
	return providers.Place{Region: strings.ToUpper(location), LocationType: providers.LocationDualRegion,
		Countries: countriesOf(rs), Regions: rs}, true
}

func countriesOf(rs []string) []string {
	var out []string
	for _, r := range rs {
		if c := regions[r]; c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

// redundancyScope maps a location type onto the neutral redundancy scope:
// a GCS region keeps its data in several zones, dual- and multi-regions in
// several regions.
var redundancyScope = map[string]string{
	providers.LocationRegion:      providers.RedundancyMultiZone,
	providers.LocationDualRegion:  providers.RedundancyMultiRegion,
	providers.LocationMultiRegion: providers.RedundancyMultiRegion,
}
