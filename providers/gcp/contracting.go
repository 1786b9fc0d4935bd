package gcp

import (
	"maps"
	"slices"

	"github.com/reachaudit/reachaudit/providers"
)

// Google Cloud contracts through its Irish company for billing accounts in
// Europe, the Middle East and Africa, and through Google LLC elsewhere. A
// region run by another company (S3NS) is sold by that company, so its
// buckets contract with the region's operator, which is outside Google's
// group.
var contracting = append(operatorContracts(),
	providers.ContractingRule{Countries: providers.EMEA, Entity: providers.Party{Jurisdiction: "IE", Entity: "Google Cloud EMEA Limited"}},
	providers.ContractingRule{Entity: providers.Party{Jurisdiction: "US", Entity: "Google LLC"}},
)

func operatorContracts() providers.ContractingTable {
	var out providers.ContractingTable
	for _, region := range slices.Sorted(maps.Keys(regionOperators)) {
		out = append(out, providers.ContractingRule{Regions: []string{region}, Entity: regionOperators[region], Independent: true})
	}
	return out
}
