package aws

import "github.com/reachaudit/reachaudit/providers"

// AWS contracting parties, by the account's country (the country of its tax
// registration, else of its billing address). Accounts in the China
// partition contract with the region's operator; the European Sovereign
// Cloud with its own German company; GovCloud with AWS, Inc.
var (
	contractAWSInc   = providers.Party{Jurisdiction: "US", Entity: "Amazon Web Services, Inc."}
	contractEMEASARL = providers.Party{Jurisdiction: "LU", Entity: "Amazon Web Services EMEA SARL"}
)

var contracting = providers.ContractingTable{
	{Partition: partitionCN, Regions: []string{"cn-north-1"}, Entity: operatorSinnet, Independent: true},
	{Partition: partitionCN, Regions: []string{"cn-northwest-1"}, Entity: operatorNWCD, Independent: true},
	{Partition: partitionEUSC, Entity: operatorESC},
	{Partition: partitionGov, Entity: contractAWSInc},
	{Countries: []string{"AU"}, Entity: providers.Party{Jurisdiction: "AU", Entity: "Amazon Web Services Australia Pty Ltd"}},
	{Countries: []string{"BR"}, Entity: providers.Party{Jurisdiction: "BR", Entity: "Amazon AWS Serviços Brasil Ltda."}},
	{Countries: []string{"CA"}, Entity: providers.Party{Jurisdiction: "CA", Entity: "Amazon Web Services Canada, Inc."}},
	{Countries: []string{"IN"}, Entity: providers.Party{Jurisdiction: "IN", Entity: "Amazon Web Services India Private Limited"}},
	{Countries: []string{"JP"}, Entity: providers.Party{Jurisdiction: "JP", Entity: "Amazon Web Services Japan G.K."}},
	{Countries: []string{"MY"}, Entity: providers.Party{Jurisdiction: "MY", Entity: "Amazon Web Services Malaysia Sdn. Bhd."}},
	{Countries: []string{"NZ"}, Entity: providers.Party{Jurisdiction: "NZ", Entity: "Amazon Web Services New Zealand Limited"}},
	{Countries: []string{"SG"}, Entity: providers.Party{Jurisdiction: "SG", Entity: "Amazon Web Services Singapore Private Limited"}},
	{Countries: []string{"ZA"}, Entity: providers.Party{Jurisdiction: "ZA", Entity: "Amazon Web Services South Africa (Pty) Ltd"}},
	{Countries: providers.EMEA, Entity: contractEMEASARL},
	{Entity: contractAWSInc},
}
