// Package azure is the Azure Blob Storage plugin. Its record unit is a
// container (az://ACCOUNT/CONTAINER, account = the subscription id): place,
// redundancy, encryption and public access come from the storage account
// (Resource Manager), overridden by the container's default encryption
// scope and public access level; the key from Key Vault or Managed HSM;
// the probe from the Blob service. It owns the region table of every Azure
// cloud (public, AzureChinaCloud run by 21Vianet, AzureUSGovernment) with
// each region's country and pair.
//
// It only reads: no call it makes changes a setting, and it never asks for
// account keys (listKeys is an action, not a read).
package azure
