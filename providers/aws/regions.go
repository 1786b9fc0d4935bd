package aws

import "github.com/reachaudit/reachaudit/providers"

// Controller is Amazon's ultimate parent, the same for every region.
var Controller = providers.Party{Jurisdiction: "US", Entity: "Amazon.com, Inc."}

// The legal entities that run AWS regions.
var (
	operatorAWS    = providers.Party{Jurisdiction: "US", Entity: "Amazon Web Services, Inc."}
	operatorSinnet = providers.Party{Jurisdiction: "CN", Entity: "Beijing Sinnet Technology Co., Ltd."}
	operatorNWCD   = providers.Party{Jurisdiction: "CN", Entity: "Ningxia Western Cloud Data Technology Co., Ltd."}
	operatorESC    = providers.Party{Jurisdiction: "DE", Entity: "AWS European Sovereign Cloud GmbH"}
)

// Partitions, as AWS names them in ARNs.
const (
	partitionAWS  = "aws"
	partitionCN   = "aws-cn"
	partitionGov  = "aws-us-gov"
	partitionEUSC = "aws-eusc"
	defaultRegion = "us-east-1"
)

type region struct {
	country   string
	partition string
	operator  providers.Party
}

// regions is every current commercial, GovCloud, China and European
// Sovereign Cloud region. The isolated (ISO) partitions are left out: their
// buckets are out of reach of this tool's users.
var regions = map[string]region{
	"af-south-1":     {"ZA", partitionAWS, operatorAWS},
	"ap-east-1":      {"HK", partitionAWS, operatorAWS},
	"ap-east-2":      {"TW", partitionAWS, operatorAWS},
	"ap-northeast-1": {"JP", partitionAWS, operatorAWS},
	"ap-northeast-2": {"KR", partitionAWS, operatorAWS},
	"ap-northeast-3": {"JP", partitionAWS, operatorAWS},
	"ap-south-1":     {"IN", partitionAWS, operatorAWS},
	"ap-south-2":     {"IN", partitionAWS, operatorAWS},
	"ap-southeast-1": {"SG", partitionAWS, operatorAWS},
	"ap-southeast-2": {"AU", partitionAWS, operatorAWS},
	"ap-southeast-3": {"ID", partitionAWS, operatorAWS},
	"ap-southeast-4": {"AU", partitionAWS, operatorAWS},
	"ap-southeast-5": {"MY", partitionAWS, operatorAWS},
	"ap-southeast-6": {"NZ", partitionAWS, operatorAWS},
	"ap-southeast-7": {"TH", partitionAWS, operatorAWS},
	"ca-central-1":   {"CA", partitionAWS, operatorAWS},
	"ca-west-1":      {"CA", partitionAWS, operatorAWS},
	"eu-central-1":   {"DE", partitionAWS, operatorAWS},
	"eu-central-2":   {"CH", partitionAWS, operatorAWS},
	"eu-north-1":     {"SE", partitionAWS, operatorAWS},
	"eu-south-1":     {"IT", partitionAWS, operatorAWS},
	"eu-south-2":     {"ES", partitionAWS, operatorAWS},
	"eu-west-1":      {"IE", partitionAWS, operatorAWS},
	"eu-west-2":      {"GB", partitionAWS, operatorAWS},
	"eu-west-3":      {"FR", partitionAWS, operatorAWS},
	"il-central-1":   {"IL", partitionAWS, operatorAWS},
	"me-central-1":   {"AE", partitionAWS, operatorAWS},
	"me-south-1":     {"BH", partitionAWS, operatorAWS},
	"me-west-1":      {"SA", partitionAWS, operatorAWS},
	"mx-central-1":   {"MX", partitionAWS, operatorAWS},
	"sa-east-1":      {"BR", partitionAWS, operatorAWS},
	"sa-west-1":      {"CL", partitionAWS, operatorAWS},
	"us-east-1":      {"US", partitionAWS, operatorAWS},
	"us-east-2":      {"US", partitionAWS, operatorAWS},
	"us-west-1":      {"US", partitionAWS, operatorAWS},
	"us-west-2":      {"US", partitionAWS, operatorAWS},
	"us-gov-east-1":  {"US", partitionGov, operatorAWS},
	"us-gov-west-1":  {"US", partitionGov, operatorAWS},
	"cn-north-1":     {"CN", partitionCN, operatorSinnet},
	"cn-northwest-1": {"CN", partitionCN, operatorNWCD},
	"eusc-de-east-1": {"DE", partitionEUSC, operatorESC},
}

// locationAliases are the LocationConstraint values GetBucketLocation
// answers that are not region codes: nothing for us-east-1, and EU for
// buckets created in eu-west-1 long ago.
var locationAliases = map[string]string{
	"":   "us-east-1",
	"EU": "eu-west-1",
}

// Place returns the region-table entry for an AWS region code.
func Place(code string) (providers.Place, bool) {
	r, ok := regions[code]
	if !ok {
		return providers.Place{}, false
	}
	return providers.Place{
		Region:       code,
		LocationType: providers.LocationRegion,
		Countries:    []string{r.country},
		Operator:     r.operator,
		Partition:    r.partition,
	}, true
}

// normaliseLocation turns a GetBucketLocation constraint into a region code.
func normaliseLocation(constraint string) string {
	if r, ok := locationAliases[constraint]; ok {
		return r
	}
	return constraint
}

// partitionOf returns the partition of a region, the commercial one when
// the region is not in the table (a region newer than the table is far more
// likely commercial than anything else).
func partitionOf(code string) string {
	if r, ok := regions[code]; ok {
		return r.partition
	}
	return partitionAWS
}
