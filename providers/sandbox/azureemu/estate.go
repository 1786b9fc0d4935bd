package azureemu

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
	"github.com/reachaudit/reachaudit/providers/azure"
	"github.com/reachaudit/reachaudit/providers/sandbox"
)

// Section is the estate file's `azure:` section.
type Section struct {
	Subscriptions []Subscription `yaml:"subscriptions"`
}

// Subscription is one subscription with its keys and storage accounts.
type Subscription struct {
	ID string `yaml:"id"`
	// Cloud is AzureCloud (default), AzureChinaCloud or AzureUSGovernment.
	Cloud           string           `yaml:"cloud"`
	Keys            []Key            `yaml:"keys"`
	StorageAccounts []StorageAccount `yaml:"storage_accounts"`
	// Deny lists actions denied across the subscription
	// (Microsoft.Storage/storageAccounts/read denies its account list).
	Deny []string `yaml:"deny"`
}

// Key is a Key Vault or Managed HSM key.
type Key struct {
	Vault string `yaml:"vault"`
	Name  string `yaml:"name"`
	// HSM makes an RSA-HSM key (Key Vault Premium); ManagedHSM puts the key
	// in a Managed HSM pool instead of a vault.
	HSM        bool         `yaml:"hsm"`
	ManagedHSM bool         `yaml:"managed_hsm"`
	Enabled    *bool        `yaml:"enabled"`
	Expires    sandbox.When `yaml:"expires"`
}

// StorageAccount is one storage account.
type StorageAccount struct {
	Name          string `yaml:"name"`
	ResourceGroup string `yaml:"resource_group"`
	Location      string `yaml:"location"`
	// Redundancy is the SKU's: LRS (default), ZRS, GRS, RAGRS, GZRS, RAGZRS.
	Redundancy            string     `yaml:"redundancy"`
	Encryption            Encryption `yaml:"encryption"`
	AllowBlobPublicAccess bool       `yaml:"allow_blob_public_access"`
	// Versioning is Enabled, Suspended or Off (default), or true/false;
	// see sandbox.Versioning. Blob versioning knows only on and off.
	Versioning sandbox.Versioning `yaml:"versioning"`
	Tags       map[string]string  `yaml:"tags"`
	Containers []Container        `yaml:"containers"`
	// Deny lists actions denied on the account
	// (…/blobServices/read, …/blobServices/containers/read).
	Deny []string `yaml:"deny"`
}

// Encryption is an account's or an encryption scope's key.
type Encryption struct {
	// KeySource is Microsoft.Storage (default) or Microsoft.Keyvault.
	KeySource string `yaml:"key_source"`
	// Key is VAULT/NAME, a key of this estate.
	Key string `yaml:"key"`
}

// Container is one blob container.
type Container struct {
	Name string `yaml:"name"`
	// PublicAccess is none (default), blob or container.
	PublicAccess string `yaml:"public_access"`
	Immutable    bool   `yaml:"immutable"`
	// EncryptionScope, when set, is the container's default encryption
	// scope, with its own key.
	EncryptionScope *Scope `yaml:"encryption_scope"`
	Bytes           *int64 `yaml:"bytes"`
	Objects         *int64 `yaml:"objects"`
	// Blobs are names of blobs in the container, for the probe.
	Blobs     []string `yaml:"blobs"`
	Reachable *bool    `yaml:"reachable"`
	// Deny lists actions and data actions denied for this container: its
	// blobs (…/containers/blobs/read) and its key (Microsoft.KeyVault/…).
	Deny []string `yaml:"deny"`
}

// Scope is an encryption scope.
type Scope struct {
	Name      string `yaml:"name"`
	KeySource string `yaml:"key_source"`
	Key       string `yaml:"key"`
}

// Actions a deny list may name, as Azure RBAC names them.
var Actions = []string{
	"Microsoft.Resources/subscriptions/read",
	"Microsoft.Storage/storageAccounts/read",
	"Microsoft.Storage/storageAccounts/blobServices/read",
	"Microsoft.Storage/storageAccounts/blobServices/containers/read",
	"Microsoft.Storage/storageAccounts/encryptionScopes/read",
	"Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
	"Microsoft.KeyVault/vaults/keys/read",
	"Microsoft.KeyVault/managedHsm/keys/read/action",
}

var (
	subRe     = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	acctRe    = regexp.MustCompile(`^[a-z0-9]{3,24}$`)
	ctrRe     = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9]|-[a-z0-9]){2,62}$`)
	vaultRe   = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$`)
	keyNameRe = regexp.MustCompile(`^[a-zA-Z0-9-]{1,127}$`)
)

func (c *Container) reachable() bool { return c.Reachable == nil || *c.Reachable }

func (k *Key) enabled() bool { return k.Enabled == nil || *k.Enabled }

func (s *Subscription) cloud() string {
	if s.Cloud == "" {
		return azure.CloudPublic
	}
	return s.Cloud
}

// Validate checks the section's values, naming fields by path.
func (s *Section) Validate(c *yamlfile.Check) {
	subs := map[string]bool{}
	accts := map[string]bool{}
	keys := map[string]bool{}
	for _, sub := range s.Subscriptions {
		for _, k := range sub.Keys {
			keys[k.Vault+"/"+k.Name] = true
		}
	}
	checkDeny := func(path string, deny []string) {
		for i, d := range deny {
			if !slices.Contains(Actions, d) {
				c.Errorf(fmt.Sprintf("%s.deny[%d]", path, i), "%q is not one of %s", d, strings.Join(Actions, ", "))
			}
		}
	}
	checkEnc := func(path, source, key string) {
		c.OneOf(path+".key_source", source, "Microsoft.Storage", "Microsoft.Keyvault")
		switch {
		case source == "Microsoft.Keyvault" && key == "":
			c.Errorf(path+".key", "is required with key_source Microsoft.Keyvault: VAULT/NAME of a key of the estate")
		case key != "" && source != "Microsoft.Keyvault":
			c.Errorf(path+".key", "is only for key_source Microsoft.Keyvault")
		case key != "" && !keys[key]:
			c.Errorf(path+".key", "%q is not a key of this estate (VAULT/NAME)", key)
		}
	}
	for i, sub := range s.Subscriptions {
		sp := fmt.Sprintf("subscriptions[%d]", i)
		c.Required(sp+".id", sub.ID)
		if sub.ID != "" && !subRe.MatchString(sub.ID) {
			c.Errorf(sp+".id", "%q is not a subscription id (a GUID)", sub.ID)
		}
		if subs[strings.ToLower(sub.ID)] {
			c.Errorf(sp+".id", "subscription %q is given twice", sub.ID)
		}
		subs[strings.ToLower(sub.ID)] = true
		c.OneOf(sp+".cloud", sub.Cloud, azure.CloudPublic, azure.CloudChina, azure.CloudUSGov)
		checkDeny(sp, sub.Deny)
		for j, k := range sub.Keys {
			kp := fmt.Sprintf("%s.keys[%d]", sp, j)
			c.Required(kp+".vault", k.Vault)
			c.Required(kp+".name", k.Name)
			if k.Vault != "" && !vaultRe.MatchString(k.Vault) {
				c.Errorf(kp+".vault", "%q is not a vault name (3-24 letters, digits and hyphens)", k.Vault)
			}
			if k.Name != "" && !keyNameRe.MatchString(k.Name) {
				c.Errorf(kp+".name", "%q is not a key name (letters, digits and hyphens)", k.Name)
			}
		}
		for j, a := range sub.StorageAccounts {
			ap := fmt.Sprintf("%s.storage_accounts[%d]", sp, j)
			c.Required(ap+".name", a.Name)
			c.Required(ap+".location", a.Location)
			if a.Name != "" && !acctRe.MatchString(a.Name) {
				c.Errorf(ap+".name", "%q is not a storage account name (3-24 lower-case letters and digits)", a.Name)
			}
			if accts[a.Name] {
				c.Errorf(ap+".name", "storage account %q is given twice (names are global)", a.Name)
			}
			accts[a.Name] = true
			if a.Location != "" {
				if _, ok := azure.Place(a.Location); !ok {
					c.Errorf(ap+".location", "%q is not an Azure region", a.Location)
				} else if cl := azure.CloudOf(a.Location); cl != sub.cloud() {
					c.Errorf(ap+".location", "%q is a region of %s, not of the subscription's %s", a.Location, cl, sub.cloud())
				}
			}
			a.Versioning.Check(c, ap+".versioning")
			c.OneOf(ap+".redundancy", a.Redundancy, "LRS", "ZRS", "GRS", "RAGRS", "GZRS", "RAGZRS")
			checkEnc(ap+".encryption", orDefault(a.Encryption.KeySource, "Microsoft.Storage"), a.Encryption.Key)
			checkDeny(ap, a.Deny)
			ctrs := map[string]bool{}
			for k, ct := range a.Containers {
				cp := fmt.Sprintf("%s.containers[%d]", ap, k)
				c.Required(cp+".name", ct.Name)
				if ct.Name != "" && !ctrRe.MatchString(ct.Name) && ct.Name != "$root" {
					c.Errorf(cp+".name", "%q is not a container name (3-63 lower-case letters, digits and single hyphens)", ct.Name)
				}
				if ctrs[ct.Name] {
					c.Errorf(cp+".name", "container %q is given twice", ct.Name)
				}
				ctrs[ct.Name] = true
				c.OneOf(cp+".public_access", ct.PublicAccess, "none", "blob", "container")
				if sc := ct.EncryptionScope; sc != nil {
					c.Required(cp+".encryption_scope.name", sc.Name)
					checkEnc(cp+".encryption_scope", orDefault(sc.KeySource, "Microsoft.Storage"), sc.Key)
				}
				for _, n := range []struct {
					f string
					v *int64
				}{{"bytes", ct.Bytes}, {"objects", ct.Objects}} {
					if n.v != nil && *n.v < 0 {
						c.Errorf(cp+"."+n.f, "must not be negative")
					}
				}
				checkDeny(cp, ct.Deny)
			}
		}
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
