package azure

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/storage/armstorage"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azkeys"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	blobcontainer "github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"

	"github.com/reachaudit/reachaudit/providers"
)

// The read actions a denial names, as Azure RBAC spells them.
const (
	permAccounts   = "Microsoft.Storage/storageAccounts/read"
	permService    = "Microsoft.Storage/storageAccounts/blobServices/read"
	permContainers = "Microsoft.Storage/storageAccounts/blobServices/containers/read"
	permScopes     = "Microsoft.Storage/storageAccounts/encryptionScopes/read"
	permBlobs      = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
	permKeys       = "Microsoft.KeyVault/vaults/keys/read"
	permHSMKeys    = "Microsoft.KeyVault/managedHsm/keys/read/action"
)

// accountScope is the encryption scope name that means "the account's own
// encryption settings".
const accountScope = "$account-encryption-key"

// skuRedundancy maps a storage SKU's redundancy onto the neutral scope; the
// geo-redundant ones also keep a copy in the paired region.
var skuRedundancy = map[string]struct {
	scope string
	geo   bool
}{
	"LRS":    {providers.RedundancySingleZone, false},
	"ZRS":    {providers.RedundancyMultiZone, false},
	"GRS":    {providers.RedundancyMultiRegion, true},
	"RAGRS":  {providers.RedundancyMultiRegion, true},
	"GZRS":   {providers.RedundancyMultiRegion, true},
	"RAGZRS": {providers.RedundancyMultiRegion, true},
}

// keyRef names the key an account or an encryption scope encrypts with.
type keyRef struct {
	source               string // Microsoft.Storage or Microsoft.Keyvault
	vault, name, version string
}

type blobService struct{ versioning bool }

type keyFacts struct {
	id, kty         string
	enabled         bool
	expires, notBef *time.Time
	managedHSM      bool
}

// Describe records one container. It never fails; what it cannot read is
// an unknown.
func (p *provider) Describe(ctx context.Context, ref providers.BucketRef) (b providers.Bucket) {
	b = providers.NewBucket(name, ref.Account, ref.Name, "az://"+ref.Name)
	defer providers.RecoverDescribe(&b, p.log)
	p.mu.Lock()
	c, ok := p.listed[ref.Account+"/"+ref.Name]
	p.mu.Unlock()
	if !ok {
		err := errors.New("the container was not in the subscription's container list")
		for _, f := range []string{providers.FieldRegion, providers.FieldCustody, providers.FieldVersioning, providers.FieldObjectLock,
			providers.FieldPublic, providers.FieldCopies, providers.FieldRedundancy} {
			b.SetUnknown(f, "BlobContainers_List", err, "")
		}
		return b
	}
	a := c.acct
	if pl, ok := Place(a.location); ok {
		b.ApplyPlace(pl, Controller)
	} else {
		b.Region, b.Controller, b.ControllerEntity = a.location, Controller.Jurisdiction, Controller.Entity
		b.Operator, b.OperatorEntity = Controller.Jurisdiction, Controller.Entity
		b.SetUnknown(providers.FieldRegion, "StorageAccounts_List", fmt.Errorf("location %q is not in this plugin's region table", a.location), "")
	}
	b.Endpoints = map[string]string{"blob": a.blobURL}
	for k, v := range a.tags {
		b.Tags[k] = v
	}
	p.recordRedundancy(&b, a)
	p.recordVersioning(ctx, &b, a)
	b.ObjectLock = providers.TriOf(c.immutable)
	b.PublicAccessBlock = providers.TriOf(!a.allowPublic)
	b.Public = providers.TriOf(a.allowPublic && c.public != "" && !strings.EqualFold(c.public, "None"))
	if b.Public == providers.Yes {
		b.PublicVia = []string{"container-public-access:" + c.public}
	}
	p.recordKey(ctx, &b, c)
	b.Reachability = p.probe(ctx, a, c.name)
	return b
}

func (p *provider) recordRedundancy(b *providers.Bucket, a *account) {
	_, red, _ := strings.Cut(a.sku, "_") // Standard_GRS, Premium_LRS
	r, ok := skuRedundancy[red]
	if !ok {
		b.SetUnknown(providers.FieldRedundancy, "StorageAccounts_List", fmt.Errorf("SKU %q is not one this plugin knows", a.sku), "")
		return
	}
	b.Redundancy, b.RedundancyScope = red, r.scope
	if !r.geo {
		return
	}
	secondary := a.secondary
	if secondary == "" {
		secondary = Pair(a.location)
	}
	if secondary == "" {
		b.SetUnknown(providers.FieldCopies, "StorageAccounts_List",
			fmt.Errorf("%s account in %s names no secondary region and the region has no pair", red, a.location), "")
		return
	}
	b.Copies = append(b.Copies, providers.Copy{Provider: name, Account: a.sub, Bucket: b.Name, Region: secondary,
		Source: providers.CopyReplication})
}

func (p *provider) recordVersioning(ctx context.Context, b *providers.Bucket, a *account) {
	svc, err := p.services.Get(ctx, a.sub+"/"+a.name, func(ctx context.Context) (blobService, error) {
		f, err := p.storage(a.sub)
		if err != nil {
			return blobService{}, err
		}
		out, err := providers.CallTimeout(ctx, p.env.Calls, "BlobServices_GetServiceProperties", p.timeout,
			func(ctx context.Context) (armstorage.BlobServicesClientGetServicePropertiesResponse, error) {
				return f.NewBlobServicesClient().GetServiceProperties(ctx, a.group, a.name, nil)
			})
		if err != nil {
			return blobService{}, err
		}
		if out.BlobServiceProperties.BlobServiceProperties == nil {
			return blobService{}, errors.New("BlobServices_GetServiceProperties answered without properties")
		}
		return blobService{versioning: derefBool(out.BlobServiceProperties.BlobServiceProperties.IsVersioningEnabled)}, nil
	})
	if err != nil {
		b.SetUnknown(providers.FieldVersioning, "BlobServices_GetServiceProperties", shortError(err), grantFor(err, permService))
		return
	}
	b.Versioning = providers.VersioningOff
	if svc.versioning {
		b.Versioning = providers.VersioningEnabled
	}
}

// recordKey fills custody and key: the container's default encryption
// scope when it has one, else the account's encryption.
func (p *provider) recordKey(ctx context.Context, b *providers.Bucket, c ctrFacts) {
	k := c.acct.enc
	api := "StorageAccounts_List"
	if c.scope != "" && c.scope != accountScope {
		api = "EncryptionScopes_Get"
		var err error
		k, err = p.scopes.Get(ctx, c.acct.sub+"/"+c.acct.name+"/"+c.scope, func(ctx context.Context) (keyRef, error) {
			return p.encryptionScope(ctx, c.acct, c.scope)
		})
		if err != nil {
			b.SetUnknown(providers.FieldCustody, api, shortError(err), grantFor(err, permScopes))
			return
		}
	}
	b.Encryption = k.source
	if !strings.EqualFold(k.source, "Microsoft.Keyvault") {
		if strings.EqualFold(k.source, "Microsoft.Storage") {
			b.Custody = providers.CustodyProviderManaged
			return
		}
		b.SetUnknown(providers.FieldCustody, api, fmt.Errorf("key source %q is not one this plugin knows", k.source), "")
		return
	}
	key := &providers.Key{ID: strings.TrimSuffix(k.vault, "/") + "/keys/" + k.name, Region: "", State: providers.KeyStateUnknown, Instance: k.vault}
	if k.version != "" {
		key.ID += "/" + k.version
	}
	b.Key = key
	perm := permKeys
	if p.isManagedHSM(k.vault) {
		perm = permHSMKeys
	}
	kf, err := p.keys.Get(ctx, k.vault+"|"+k.name+"|"+k.version, func(ctx context.Context) (keyFacts, error) {
		return p.getKey(ctx, c.acct.cloud, k)
	})
	if err != nil {
		if status, _ := errorInfo(err); status == 404 {
			// A key that is gone can neither wrap new data keys nor
			// unwrap old ones: the account cannot serve its data.
			key.State, key.ProviderState = providers.KeyUnavailable, "KeyNotFound"
			b.SetUnknown(providers.FieldCustody, "GetKey", shortError(err), "")
			return
		}
		b.SetUnknown(providers.FieldKey, "GetKey", shortError(err), grantFor(err, perm))
		b.SetUnknown(providers.FieldCustody, "GetKey", shortError(err), grantFor(err, perm))
		return
	}
	key.ID, key.ProtectionLevel = kf.id, kf.kty
	key.Manager = "Key Vault"
	b.Custody = providers.CustodyProviderKMS
	if kf.managedHSM {
		key.Manager, b.Custody = "Managed HSM", providers.CustodyDedicatedHSM
	}
	key.MaterialExpires = kf.expires
	now := p.env.Clock()
	switch {
	case !kf.enabled:
		key.State, key.ProviderState = providers.KeyDisabled, "Disabled"
	case kf.expires != nil && kf.expires.Before(now):
		key.State, key.ProviderState = providers.KeyUnavailable, "Expired"
	case kf.notBef != nil && kf.notBef.After(now):
		key.State, key.ProviderState = providers.KeyUnavailable, "NotYetValid"
	default:
		key.State, key.ProviderState = providers.KeyEnabled, "Enabled"
	}
}

func (p *provider) encryptionScope(ctx context.Context, a *account, scope string) (keyRef, error) {
	f, err := p.storage(a.sub)
	if err != nil {
		return keyRef{}, err
	}
	out, err := providers.CallTimeout(ctx, p.env.Calls, "EncryptionScopes_Get", p.timeout,
		func(ctx context.Context) (armstorage.EncryptionScopesClientGetResponse, error) {
			return f.NewEncryptionScopesClient().Get(ctx, a.group, a.name, scope, nil)
		})
	if err != nil {
		return keyRef{}, err
	}
	pr := out.EncryptionScope.EncryptionScopeProperties
	if pr == nil || pr.Source == nil {
		return keyRef{}, errors.New("EncryptionScopes_Get answered without a source")
	}
	k := keyRef{source: string(*pr.Source)}
	if pr.KeyVaultProperties != nil {
		vault, kname, ver, err := splitKeyURI(deref(pr.KeyVaultProperties.KeyURI))
		if err != nil {
			return keyRef{}, err
		}
		k.vault, k.name, k.version = vault, kname, ver
	}
	return k, nil
}

// splitKeyURI reads https://VAULT/keys/NAME[/VERSION].
func splitKeyURI(s string) (vault, key, version string, err error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "", "", "", fmt.Errorf("key URI %q is not a Key Vault key URL", s)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 2 || parts[0] != "keys" {
		return "", "", "", fmt.Errorf("key URI %q is not a Key Vault key URL", s)
	}
	if len(parts) > 2 {
		version = parts[2]
	}
	return u.Scheme + "://" + u.Host + "/", parts[1], version, nil
}

func (p *provider) isManagedHSM(vault string) bool {
	u, err := url.Parse(vault)
	if err != nil {
		return false
	}
	for _, s := range dataSuffix {
		if strings.HasSuffix(u.Hostname(), "."+s.hsm) {
			return true
		}
	}
	return false
}

func (p *provider) getKey(ctx context.Context, cloudName string, k keyRef) (keyFacts, error) {
	cred, err := p.credential(cloudName)
	if err != nil {
		return keyFacts{}, err
	}
	c, err := azkeys.NewClient(k.vault, cred, &azkeys.ClientOptions{ClientOptions: p.options(cloudName)})
	if err != nil {
		return keyFacts{}, err
	}
	out, err := providers.CallTimeout(ctx, p.env.Calls, "GetKey", p.timeout, func(ctx context.Context) (azkeys.GetKeyResponse, error) {
		return c.GetKey(ctx, k.name, k.version, nil)
	})
	if err != nil {
		return keyFacts{}, err
	}
	if out.Key == nil || out.Key.KID == nil || out.Attributes == nil {
		return keyFacts{}, errors.New("GetKey answered without the key or its attributes")
	}
	kf := keyFacts{id: string(*out.Key.KID), enabled: derefBool(out.Attributes.Enabled), managedHSM: p.isManagedHSM(k.vault),
		expires: utc(out.Attributes.Expires), notBef: utc(out.Attributes.NotBefore)}
	if out.Key.Kty != nil {
		kf.kty = string(*out.Key.Kty)
	}
	return kf, nil
}

func utc(t *time.Time) *time.Time {
	if t == nil || t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// blobClient returns the data-plane client of an account: shared key when
// the config gives one, else the cloud's token credential.
func (p *provider) blobClient(a *account) (*service.Client, error) {
	opts := &service.ClientOptions{ClientOptions: p.options(a.cloud)}
	if env, ok := p.cfg.AccountKeys[a.name]; ok {
		cred, err := azblob.NewSharedKeyCredential(a.name, lookupEnv(env))
		if err != nil {
			return nil, fmt.Errorf("azure: account_keys.%s: %w", a.name, err)
		}
		return service.NewClientWithSharedKeyCredential(a.blobURL, cred, opts)
	}
	cred, err := p.credential(a.cloud)
	if err != nil {
		return nil, err
	}
	return service.NewClient(a.blobURL, cred, opts)
}

// probe lists one blob of the container (or HEADs the canary) from where
// the agent runs.
func (p *provider) probe(ctx context.Context, a *account, ctr string) providers.Reachability {
	op := "ListBlobs"
	if p.cfg.Canary != "" {
		op = "GetBlobProperties"
	}
	r := providers.Reachability{Probe: op}
	sc, err := p.blobClient(a)
	if err != nil {
		r.Failure, r.Error = providers.FailOther, err.Error()
		return r
	}
	cc := sc.NewContainerClient(ctr)
	start := time.Now()
	_, err = providers.CallTimeout(ctx, p.env.Calls, op, p.timeout, func(ctx context.Context) (struct{}, error) {
		if p.cfg.Canary != "" {
			_, err := cc.NewBlobClient(p.cfg.Canary).GetProperties(ctx, nil)
			return struct{}{}, err
		}
		_, err := cc.NewListBlobsFlatPager(&blobcontainer.ListBlobsFlatOptions{MaxResults: to.Ptr[int32](1)}).NextPage(ctx)
		return struct{}{}, err
	})
	r.LatencyMS = float64(time.Since(start).Microseconds()) / 1000
	if err == nil {
		r.Reachable = true
		return r
	}
	status, code := errorInfo(err)
	r.Failure, r.Error = apiCodes.Classify(err, status, code), explain(err, permBlobs).Error()
	return r
}

// dataPlaneContainers lists an account's containers from the Blob service
// itself, which answers the public access level, the default encryption
// scope and the immutability flags as ARM does.
func (p *provider) dataPlaneContainers(ctx context.Context, a *account) ([]ctrFacts, error) {
	sc, err := p.blobClient(a)
	if err != nil {
		return nil, err
	}
	var out []ctrFacts
	pager := sc.NewListContainersPager(&service.ListContainersOptions{})
	err = providers.Paginate(ctx, "ListContainers", func(ctx context.Context, _ string) (string, error) {
		page, err := providers.CallTimeout(ctx, p.env.Calls, "ListContainers", p.timeout,
			func(ctx context.Context) (service.ListContainersResponse, error) { return pager.NextPage(ctx) })
		if err != nil {
			return "", shortError(err)
		}
		for _, it := range page.ContainerItems {
			if it == nil || it.Name == nil {
				continue
			}
			c := ctrFacts{acct: a, name: *it.Name, public: "None", source: "ListContainers"}
			if pr := it.Properties; pr != nil {
				if pr.PublicAccess != nil {
					c.public = publicLevel[string(*pr.PublicAccess)]
				}
				c.scope = deref(pr.DefaultEncryptionScope)
				c.immutable = derefBool(pr.HasImmutabilityPolicy) || derefBool(pr.IsImmutableStorageWithVersioningEnabled)
			}
			out = append(out, c)
		}
		return more(pager.More(), page.NextMarker), nil
	})
	return out, err
}

// publicLevel maps the data plane's public access names onto ARM's.
var publicLevel = map[string]string{"blob": "Blob", "container": "Container", "": "None"}
