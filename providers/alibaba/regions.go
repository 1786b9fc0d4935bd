package alibaba

import (
	"strings"

	"github.com/reachaudit/reachaudit/providers"
)

// Controller is Alibaba Cloud's ultimate parent.
var Controller = providers.Party{Jurisdiction: "CN", Entity: "Alibaba Group Holding Ltd."}

// Every region is run by an Alibaba Cloud subsidiary that answers to the
// CN-controlled parent, so the operator is recorded as CN everywhere: no
// region of Alibaba's is independent of it, whatever country it sits in.
var (
	operatorMainland = providers.Party{Jurisdiction: "CN", Entity: "Alibaba Cloud Computing Co., Ltd."}
	operatorIntl     = providers.Party{Jurisdiction: "CN", Entity: "Alibaba Cloud (Singapore) Private Limited, an Alibaba Group subsidiary"}
)

// region is one row of the OSS region table.
type region struct {
	id      string
	country string
}

// regions lists every OSS public-cloud region (and the finance and
// government clouds whose buckets an audit may meet) with its country.
var regions = []region{
	// Chinese mainland.
	{"cn-hangzhou", "CN"},
	{"cn-shanghai", "CN"},
	{"cn-nanjing", "CN"}, // local region, closing down
	{"cn-fuzhou", "CN"},  // local region, being decommissioned
	{"cn-wuhan-lr", "CN"},
	{"cn-qingdao", "CN"},
	{"cn-beijing", "CN"},
	{"cn-zhangjiakou", "CN"},
	{"cn-huhehaote", "CN"},
	{"cn-wulanchabu", "CN"},
	{"cn-shenzhen", "CN"},
	{"cn-heyuan", "CN"},
	{"cn-guangzhou", "CN"},
	{"cn-chengdu", "CN"},
	{"cn-hangzhou-finance", "CN"},
	{"cn-shanghai-finance-1", "CN"},
	{"cn-shenzhen-finance-1", "CN"},
	{"cn-beijing-finance-1", "CN"},
	{"cn-north-2-gov-1", "CN"},
	// Hong Kong.
	{"cn-hongkong", "HK"},
	// Asia Pacific.
	{"ap-southeast-1", "SG"},
	{"ap-southeast-2", "AU"}, // closed to new resources; kept so old buckets resolve
	{"ap-southeast-3", "MY"},
	{"ap-southeast-5", "ID"},
	{"ap-southeast-6", "PH"},
	{"ap-southeast-7", "TH"},
	{"ap-northeast-1", "JP"},
	{"ap-northeast-2", "KR"},
	{"ap-south-1", "IN"}, // closed to new resources; kept so old buckets resolve
	// Americas.
	{"us-west-1", "US"},
	{"us-east-1", "US"},
	{"na-south-1", "MX"},
	// Europe.
	{"eu-central-1", "DE"},
	{"eu-west-1", "GB"},
	// Middle East.
	{"me-east-1", "AE"},
	{"me-central-1", "SA"},
}

var regionIndex = func() map[string]region {
	m := make(map[string]region, len(regions))
	for _, r := range regions {
		m[r.id] = r
	}
	return m
}()

// RegionID turns an OSS location ("oss-cn-hangzhou") into the region id
// ("cn-hangzhou"); a region id is returned as it is.
func RegionID(location string) string {
	return strings.TrimPrefix(strings.TrimSpace(location), "oss-")
}

// Place looks up a region id or an OSS location in the region table.
func Place(code string) (providers.Place, bool) {
	r, ok := regionIndex[RegionID(code)]
	if !ok {
		return providers.Place{}, false
	}
	op := operatorIntl
	if r.country == "CN" {
		op = operatorMainland
	}
	return providers.Place{
		Region:       r.id,
		LocationType: providers.LocationRegion,
		Countries:    []string{r.country},
		Operator:     op,
	}, true
}
