package azure

import "github.com/reachaudit/reachaudit/providers"

// contracting is who a customer contracts with for Azure: 21Vianet for
// Azure China (a licensed operator outside Microsoft's group), Microsoft
// Ireland Operations Limited for customers billed in Europe, the Middle
// East and Africa, and Microsoft Corporation elsewhere.
var contracting = providers.ContractingTable{
	{Partition: CloudChina, Entity: vianet, Independent: true},
	{Countries: providers.EMEA, Entity: providers.Party{Jurisdiction: "IE", Entity: "Microsoft Ireland Operations Limited"}},
	{Entity: Controller},
}
