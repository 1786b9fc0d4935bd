package azureemu

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/reachaudit/reachaudit/providers/azure"
)

// serveARM answers the Resource Manager calls the plugin makes, with the
// paths, api-version check, JSON shapes and error codes of Azure.
func (s *Server) serveARM(w http.ResponseWriter, r *http.Request, cloudName string) {
	if _, ok := s.bearer(r, "management"); !ok {
		if r.Header.Get("Authorization") == "" {
			armError(w, http.StatusUnauthorized, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
		} else {
			armError(w, http.StatusUnauthorized, "InvalidAuthenticationToken", "The access token is invalid.")
		}
		return
	}
	if r.URL.Query().Get("api-version") == "" {
		armError(w, http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
		return
	}
	if r.Method != http.MethodGet {
		armError(w, http.StatusForbidden, "AuthorizationFailed", "The sandbox client may only read.")
		return
	}
	p := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	eq := func(i int, v string) bool { return len(p) > i && strings.EqualFold(p[i], v) }
	switch {
	case len(p) == 1 && eq(0, "subscriptions"):
		s.listSubscriptions(w, r, cloudName)
		return
	case len(p) >= 2 && eq(0, "subscriptions"):
	default:
		armError(w, http.StatusNotFound, "InvalidResourceType", "The resource type could not be found.")
		return
	}
	sub := s.subs[strings.ToLower(p[1])]
	if sub == nil || sub.cloud() != cloudName {
		armError(w, http.StatusNotFound, "SubscriptionNotFound", fmt.Sprintf("The subscription '%s' could not be found.", p[1]))
		return
	}
	// /subscriptions/S/providers/Microsoft.Storage/storageAccounts
	if len(p) == 5 && eq(2, "providers") && eq(3, "Microsoft.Storage") && eq(4, "storageAccounts") {
		const action = "Microsoft.Storage/storageAccounts/read"
		if s.denied(w, r, action, sub.Deny, "/subscriptions/"+sub.ID, "") {
			return
		}
		var out []any
		for _, a := range sub.StorageAccounts {
			out = append(out, s.accountJSON(sub, a))
		}
		writeJSON(w, http.StatusOK, map[string]any{"value": orEmpty(out)})
		return
	}
	// /subscriptions/S/resourceGroups/G/providers/Microsoft.Storage/storageAccounts/A/...
	if len(p) < 8 || !eq(2, "resourceGroups") || !eq(4, "providers") || !eq(5, "Microsoft.Storage") || !eq(6, "storageAccounts") {
		armError(w, http.StatusNotFound, "InvalidResourceType", "The resource type could not be found.")
		return
	}
	a := s.accounts[p[7]]
	if a == nil || a.sub != sub || !strings.EqualFold(a.group(), p[3]) {
		armError(w, http.StatusNotFound, "ResourceNotFound",
			fmt.Sprintf("The Resource 'Microsoft.Storage/storageAccounts/%s' under resource group '%s' was not found.", p[7], p[3]))
		return
	}
	id := a.id()
	deny := append(slices.Clone(sub.Deny), a.Deny...)
	switch {
	case len(p) == 10 && eq(8, "blobServices") && eq(9, "default"):
		if s.denied(w, r, "Microsoft.Storage/storageAccounts/blobServices/read", deny, id, a.Name) {
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"id": id + "/blobServices/default", "name": "default", "type": "Microsoft.Storage/storageAccounts/blobServices",
			"sku":        map[string]any{"name": a.skuName(), "tier": "Standard"},
			"properties": map[string]any{"isVersioningEnabled": a.Versioning.Enabled(), "deleteRetentionPolicy": map[string]any{"enabled": false}},
		})
	case len(p) == 11 && eq(8, "blobServices") && eq(9, "default") && eq(10, "containers"):
		if s.denied(w, r, "Microsoft.Storage/storageAccounts/blobServices/containers/read", deny, id, a.Name) {
			return
		}
		var out []any
		for _, c := range a.Containers {
			props := map[string]any{
				"publicAccess": armPublic[c.PublicAccess], "defaultEncryptionScope": "$account-encryption-key",
				"denyEncryptionScopeOverride": false, "hasImmutabilityPolicy": c.Immutable, "hasLegalHold": false,
				"leaseState": "Available", "leaseStatus": "Unlocked", "lastModifiedTime": s.opts.Now.Format("2006-01-02T15:04:05.0000000Z"),
			}
			if c.EncryptionScope != nil {
				props["defaultEncryptionScope"] = c.EncryptionScope.Name
			}
			if c.Immutable {
				props["immutabilityPolicy"] = map[string]any{"properties": map[string]any{"immutabilityPeriodSinceCreationInDays": 365, "state": "Locked"}}
			}
			out = append(out, map[string]any{
				"id": id + "/blobServices/default/containers/" + c.Name, "name": c.Name, "etag": `"0x8DC0000000000000"`,
				"type": "Microsoft.Storage/storageAccounts/blobServices/containers", "properties": props,
			})
		}
		writeJSON(w, http.StatusOK, map[string]any{"value": orEmpty(out)})
	case len(p) == 10 && eq(8, "encryptionScopes"):
		if s.denied(w, r, "Microsoft.Storage/storageAccounts/encryptionScopes/read", deny, id, a.Name) {
			return
		}
		for _, c := range a.Containers {
			sc := c.EncryptionScope
			if sc == nil || sc.Name != p[9] {
				continue
			}
			props := map[string]any{"source": orDefault(sc.KeySource, "Microsoft.Storage"), "state": "Enabled"}
			if ks := s.keys[sc.Key]; ks != nil {
				// Encryption scopes spell the Key Vault source with a capital V.
				props["source"] = "Microsoft.KeyVault"
				props["keyVaultProperties"] = map[string]any{"keyUri": "https://" + ks.host + "/keys/" + ks.Name}
			}
			writeJSON(w, http.StatusOK, map[string]any{"id": id + "/encryptionScopes/" + sc.Name, "name": sc.Name,
				"type": "Microsoft.Storage/storageAccounts/encryptionScopes", "properties": props})
			return
		}
		armError(w, http.StatusNotFound, "EncryptionScopeNotFound", "The specified encryption scope was not found.")
	default:
		armError(w, http.StatusNotFound, "InvalidResourceType", "The resource type could not be found.")
	}
}

var armPublic = map[string]string{"": "None", "none": "None", "blob": "Blob", "container": "Container"}

func (s *Server) listSubscriptions(w http.ResponseWriter, r *http.Request, cloudName string) {
	var out []any
	for _, sub := range s.sec.Subscriptions {
		if sub.cloud() != cloudName {
			continue
		}
		if s.denied(w, r, "Microsoft.Resources/subscriptions/read", sub.Deny, "/subscriptions/"+sub.ID, "") {
			return
		}
		out = append(out, map[string]any{"id": "/subscriptions/" + sub.ID, "subscriptionId": sub.ID, "tenantId": TenantID,
			"displayName": "sandbox " + sub.ID[:8], "state": "Enabled",
			"subscriptionPolicies": map[string]any{"locationPlacementId": "Public_2014-09-01", "quotaId": "EnterpriseAgreement_2014-09-01", "spendingLimit": "Off"}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"value": orEmpty(out)})
}

// denied answers AuthorizationFailed when action is in deny, or the fault
// the options inject; it reports whether it answered.
func (s *Server) denied(w http.ResponseWriter, r *http.Request, action string, deny []string, scope, bucket string) bool {
	if slices.Contains(deny, action) {
		armError(w, http.StatusForbidden, "AuthorizationFailed", fmt.Sprintf(
			"The client '%s' with object id '%s' does not have authorization to perform action '%s' over scope '%s' or the scope is invalid. If access was recently granted, please refresh your credentials.",
			ClientID, ClientID, action, scope))
		return true
	}
	return s.fault(w, r, action, bucket, func(status int, code, msg string) { armError(w, status, code, msg) })
}

func (a *acctState) group() string {
	if a.ResourceGroup != "" {
		return a.ResourceGroup
	}
	return "rg-" + a.Name
}

func (a *acctState) id() string {
	return "/subscriptions/" + a.sub.ID + "/resourceGroups/" + a.group() + "/providers/Microsoft.Storage/storageAccounts/" + a.Name
}

func (a *acctState) skuName() string { return "Standard_" + orDefault(a.Redundancy, "LRS") }

func (s *Server) accountJSON(sub *Subscription, sa StorageAccount) map[string]any {
	a := s.accounts[sa.Name]
	h := cloudHosts[sub.cloud()]
	enc := map[string]any{"keySource": orDefault(sa.Encryption.KeySource, "Microsoft.Storage"),
		"services": map[string]any{"blob": map[string]any{"enabled": true, "keyType": "Account"}}, "requireInfrastructureEncryption": false}
	if ks := s.keys[sa.Encryption.Key]; ks != nil {
		enc["keyvaultproperties"] = map[string]any{"keyname": ks.Name, "keyvaulturi": "https://" + ks.host + "/", "keyversion": ""}
	}
	props := map[string]any{
		"provisioningState": "Succeeded", "allowBlobPublicAccess": sa.AllowBlobPublicAccess, "encryption": enc,
		"primaryLocation": sa.Location, "statusOfPrimary": "available", "supportsHttpsTrafficOnly": true, "minimumTlsVersion": "TLS1_2",
		"primaryEndpoints": map[string]any{"blob": "https://" + sa.Name + "." + h.blob + "/"},
		"creationTime":     s.opts.Now.Add(-400 * 24 * 3600e9).Format("2006-01-02T15:04:05.0000000Z"),
	}
	switch orDefault(sa.Redundancy, "LRS") {
	case "GRS", "RAGRS", "GZRS", "RAGZRS":
		props["secondaryLocation"] = azurePair(sa.Location)
		props["statusOfSecondary"] = "available"
	}
	tags := map[string]string{}
	for k, v := range sa.Tags {
		tags[k] = v
	}
	return map[string]any{"id": a.id(), "name": sa.Name, "type": "Microsoft.Storage/storageAccounts", "location": sa.Location,
		"kind": "StorageV2", "sku": map[string]any{"name": a.skuName(), "tier": "Standard"}, "tags": tags, "properties": props}
}

func orEmpty(v []any) []any {
	if v == nil {
		return []any{}
	}
	return v
}

func azurePair(region string) string { return azure.Pair(region) }
