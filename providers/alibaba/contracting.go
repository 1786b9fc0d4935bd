package alibaba

import "github.com/reachaudit/reachaudit/providers"

// Alibaba Cloud's contracting entities by billing country: its US company
// for US customers, its Dutch company for the EEA, the mainland company for
// the China site, and the Singapore company for everyone else outside
// Europe. European countries outside the EEA have no row: their contracts
// vary, so the config must name the entity.
var contracting = providers.ContractingTable{
	{Countries: []string{"US"}, Entity: providers.Party{Jurisdiction: "US", Entity: "Alibaba Cloud US LLC"}},
	{Countries: providers.EEA, Entity: providers.Party{Jurisdiction: "NL", Entity: "Alibaba (Netherlands) B.V."}},
	{Countries: []string{"CN"}, Entity: providers.Party{Jurisdiction: "CN", Entity: operatorMainland.Entity}},
	{Except: providers.Europe, Entity: providers.Party{Jurisdiction: "SG", Entity: "Alibaba Cloud (Singapore) Private Limited"}},
}
