// Package azureemu emulates the Azure endpoints the azure plugin calls,
// seeded from an estate's `azure:` section: Entra ID's token endpoint for
// the client-credential flow, Resource Manager (storage accounts, blob
// services, containers, encryption scopes, subscriptions), Key Vault and
// Managed HSM key reads, and the Blob service. One TLS listener serves every
// cloud's host names under a throw-away CA; the plugin reaches it with
// connect_to, so it talks to management.azure.com and
// ACCOUNT.blob.core.windows.net exactly as in the cloud. Tokens are checked
// on every call, for the service they were issued for.
//
// It is for the demo and the tests; it must never hold real credentials.
package azureemu
