package azure

import "github.com/reachaudit/reachaudit/providers"

// Clouds, as Azure names them (az cloud list) and as the estate and the
// config name them; each is its own partition.
const (
	CloudPublic = "AzureCloud"
	CloudChina  = "AzureChinaCloud"
	CloudUSGov  = "AzureUSGovernment"
)

// Controller is Microsoft, the ultimate parent of every Azure cloud.
var Controller = providers.Party{Jurisdiction: "US", Entity: "Microsoft Corporation"}

// vianet runs the Azure China regions under licence; Microsoft has no
// operating control there.
var vianet = providers.Party{Jurisdiction: "CN", Entity: "Shanghai Blue Cloud Technology Co., Ltd. (21Vianet)"}

type region struct {
	country string
	// pair is the region a geo-redundant account replicates to; empty for
	// regions without a pair (they offer no GRS).
	pair  string
	cloud string
}

// regions is every Azure region that hosts storage accounts, with the
// country its data sits in and its pair for geo-redundant storage.
var regions = map[string]region{
	// Americas.
	"eastus":          {"US", "westus", CloudPublic},
	"eastus2":         {"US", "centralus", CloudPublic},
	"centralus":       {"US", "eastus2", CloudPublic},
	"northcentralus":  {"US", "southcentralus", CloudPublic},
	"southcentralus":  {"US", "northcentralus", CloudPublic},
	"westus":          {"US", "eastus", CloudPublic},
	"westus2":         {"US", "westcentralus", CloudPublic},
	"westus3":         {"US", "eastus", CloudPublic},
	"westcentralus":   {"US", "westus2", CloudPublic},
	"canadacentral":   {"CA", "canadaeast", CloudPublic},
	"canadaeast":      {"CA", "canadacentral", CloudPublic},
	"brazilsouth":     {"BR", "southcentralus", CloudPublic},
	"brazilsoutheast": {"BR", "brazilsouth", CloudPublic},
	"mexicocentral":   {"MX", "", CloudPublic},
	"chilecentral":    {"CL", "", CloudPublic},
	// Europe.
	"northeurope":        {"IE", "westeurope", CloudPublic},
	"westeurope":         {"NL", "northeurope", CloudPublic},
	"uksouth":            {"GB", "ukwest", CloudPublic},
	"ukwest":             {"GB", "uksouth", CloudPublic},
	"francecentral":      {"FR", "francesouth", CloudPublic},
	"francesouth":        {"FR", "francecentral", CloudPublic},
	"germanywestcentral": {"DE", "germanynorth", CloudPublic},
	"germanynorth":       {"DE", "germanywestcentral", CloudPublic},
	"switzerlandnorth":   {"CH", "switzerlandwest", CloudPublic},
	"switzerlandwest":    {"CH", "switzerlandnorth", CloudPublic},
	"norwayeast":         {"NO", "norwaywest", CloudPublic},
	"norwaywest":         {"NO", "norwayeast", CloudPublic},
	"swedencentral":      {"SE", "swedensouth", CloudPublic},
	"swedensouth":        {"SE", "swedencentral", CloudPublic},
	"polandcentral":      {"PL", "", CloudPublic},
	"italynorth":         {"IT", "", CloudPublic},
	"spaincentral":       {"ES", "", CloudPublic},
	"austriaeast":        {"AT", "", CloudPublic},
	"belgiumcentral":     {"BE", "", CloudPublic},
	// Asia Pacific, Middle East, Africa.
	"eastasia":           {"HK", "southeastasia", CloudPublic},
	"southeastasia":      {"SG", "eastasia", CloudPublic},
	"japaneast":          {"JP", "japanwest", CloudPublic},
	"japanwest":          {"JP", "japaneast", CloudPublic},
	"koreacentral":       {"KR", "koreasouth", CloudPublic},
	"koreasouth":         {"KR", "koreacentral", CloudPublic},
	"australiaeast":      {"AU", "australiasoutheast", CloudPublic},
	"australiasoutheast": {"AU", "australiaeast", CloudPublic},
	"australiacentral":   {"AU", "australiacentral2", CloudPublic},
	"australiacentral2":  {"AU", "australiacentral", CloudPublic},
	"centralindia":       {"IN", "southindia", CloudPublic},
	"southindia":         {"IN", "centralindia", CloudPublic},
	"westindia":          {"IN", "southindia", CloudPublic},
	"jioindiawest":       {"IN", "jioindiacentral", CloudPublic},
	"jioindiacentral":    {"IN", "jioindiawest", CloudPublic},
	"uaenorth":           {"AE", "uaecentral", CloudPublic},
	"uaecentral":         {"AE", "uaenorth", CloudPublic},
	"qatarcentral":       {"QA", "", CloudPublic},
	"israelcentral":      {"IL", "", CloudPublic},
	"southafricanorth":   {"ZA", "southafricawest", CloudPublic},
	"southafricawest":    {"ZA", "southafricanorth", CloudPublic},
	"newzealandnorth":    {"NZ", "", CloudPublic},
	"indonesiacentral":   {"ID", "", CloudPublic},
	"malaysiawest":       {"MY", "", CloudPublic},
	// Azure operated by 21Vianet.
	"chinaeast":   {"CN", "chinanorth", CloudChina},
	"chinanorth":  {"CN", "chinaeast", CloudChina},
	"chinaeast2":  {"CN", "chinanorth2", CloudChina},
	"chinanorth2": {"CN", "chinaeast2", CloudChina},
	"chinaeast3":  {"CN", "chinanorth3", CloudChina},
	"chinanorth3": {"CN", "chinaeast3", CloudChina},
	// Azure Government.
	"usgovvirginia": {"US", "usgovtexas", CloudUSGov},
	"usgovtexas":    {"US", "usgovarizona", CloudUSGov},
	"usgovarizona":  {"US", "usgovtexas", CloudUSGov},
	"usdodeast":     {"US", "usdodcentral", CloudUSGov},
	"usdodcentral":  {"US", "usdodeast", CloudUSGov},
}

// operators are the clouds not run by the controller itself.
var operators = map[string]providers.Party{CloudChina: vianet}

// Place looks up an Azure region (its ARM name, as in "westeurope").
func Place(code string) (providers.Place, bool) {
	r, ok := regions[code]
	if !ok {
		return providers.Place{}, false
	}
	return providers.Place{
		Region: code, LocationType: providers.LocationRegion, Countries: []string{r.country},
		Operator: operators[r.cloud], Partition: r.cloud,
	}, true
}

// Pair is the region a geo-redundant account in region replicates to.
func Pair(region string) string { return regions[region].pair }

// CloudOf names the cloud a region belongs to.
func CloudOf(region string) string { return regions[region].cloud }
