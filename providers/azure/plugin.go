package azure

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/storage/armstorage"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/subscription/armsubscription"

	"github.com/reachaudit/reachaudit/internal/httpclient"
	"github.com/reachaudit/reachaudit/providers"
)

const name = "azure"

func init() {
	providers.Register(providers.Plugin{
		Name:       name,
		Scheme:     "az",
		ParseName:  ParseName,
		Controller: Controller,
		OCSF:       providers.OCSFCloud{Provider: "Azure", AccountType: "Azure Subscription", AccountTypeID: 13},
		NewConfig:  func() providers.Config { return &Config{} },
		Open: func(ctx context.Context, cfg providers.Config, env providers.Env) (providers.Provider, error) {
			c, ok := cfg.(*Config)
			if !ok {
				return nil, fmt.Errorf("azure: configuration of type %T", cfg)
			}
			return Open(ctx, c, env)
		},
		Place:       Place,
		Contracting: contracting,
	})
}

// ParseName reads ACCOUNT/CONTAINER, what follows az:// in a container's
// URI: container names are unique only inside their storage account.
func ParseName(rest string) (string, error) {
	rest = strings.TrimSuffix(rest, "/")
	acct, ctr, ok := strings.Cut(rest, "/")
	if !ok || !accountName.MatchString(acct) || ctr == "" || strings.ContainsAny(ctr, "/?#") {
		return "", errors.New("want az://ACCOUNT/CONTAINER")
	}
	return rest, nil
}

// provider is an opened Azure plugin.
type provider struct {
	cfg     *Config
	env     providers.Env
	log     *slog.Logger
	timeout time.Duration
	base    policy.ClientOptions
	subs    map[string]string // subscription → cloud

	mu       sync.Mutex
	creds    map[string]azcore.TokenCredential // by cloud
	factory  map[string]*armstorage.ClientFactory
	accounts map[string]*account // by subscription/account
	listed   map[string]ctrFacts // by subscription/account/container

	services providers.KeyCache[blobService]
	scopes   providers.KeyCache[keyRef]
	keys     providers.KeyCache[keyFacts]
}

// account is what the storage account list says of one account.
type account struct {
	sub, group, name, location, secondary, cloud string
	sku                                          string
	tags                                         map[string]string
	allowPublic                                  bool
	enc                                          keyRef
	blobURL                                      string
}

// container is what a container list says of one container.
type ctrFacts struct {
	acct      *account
	name      string
	public    string // None, Blob or Container
	scope     string
	immutable bool
	source    string // the list that gave it
}

// Open prepares the transport and the credentials; nothing remote is
// asked until Accounts or List.
func Open(ctx context.Context, cfg *Config, env providers.Env) (providers.Provider, error) {
	if env.Logger == nil {
		env.Logger = slog.New(slog.DiscardHandler)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	extra := cfg.caPEM
	if cfg.CAFile != "" {
		b, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("azure: ca_file: %w", err)
		}
		extra = append(append([]byte{}, extra...), b...)
	}
	if len(extra) > 0 && !pool.AppendCertsFromPEM(extra) {
		return nil, errors.New("azure: ca_file holds no PEM certificate")
	}
	hopts := httpclient.Options{
		TLS: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		// The call timeout rides on each request's context; this one only
		// catches a request that somehow has none.
		Timeout: 4 * cfg.timeout(),
		// A redirect is the SDK's to judge (its pipeline retries), never
		// followed under its signature.
		FollowRedirects:     false,
		MaxIdleConnsPerHost: 64,
	}
	if cfg.ConnectTo != "" {
		d := &net.Dialer{Timeout: 10 * time.Second}
		to := cfg.ConnectTo
		hopts.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, to)
		}
	}
	p := &provider{
		cfg: cfg, env: env, log: env.Logger, timeout: cfg.timeout(),
		base: policy.ClientOptions{
			Transport: httpclient.New(hopts),
			Retry:     policy.RetryOptions{MaxRetries: 3, RetryDelay: 200 * time.Millisecond, MaxRetryDelay: 3 * time.Second},
		},
		subs:     cfg.subscriptionClouds(),
		creds:    map[string]azcore.TokenCredential{},
		factory:  map[string]*armstorage.ClientFactory{},
		accounts: map[string]*account{},
		listed:   map[string]ctrFacts{},
	}
	return p, nil
}

// options returns the client options of one cloud.
func (p *provider) options(cloudName string) policy.ClientOptions {
	o := p.base
	o.Cloud = clouds[cloudName]
	return o
}

// credential returns the cloud's credential: the client-credential flow
// when the config names a client, else the SDK's default chain.
func (p *provider) credential(cloudName string) (azcore.TokenCredential, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.creds[cloudName]; ok {
		return c, nil
	}
	var c azcore.TokenCredential
	var err error
	opts := azcore.ClientOptions(p.options(cloudName))
	if p.cfg.ClientID != "" {
		secret, serr := p.cfg.secret()
		if serr != nil {
			return nil, serr
		}
		c, err = azidentity.NewClientSecretCredential(p.cfg.TenantID, p.cfg.ClientID, secret,
			&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: p.cfg.ConnectTo != ""})
	} else {
		c, err = azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{ClientOptions: opts})
	}
	if err != nil {
		return nil, fmt.Errorf("azure: credential for %s: %w", cloudName, err)
	}
	p.creds[cloudName] = c
	return c, nil
}

func (p *provider) storage(sub string) (*armstorage.ClientFactory, error) {
	cloudName := p.cloudOf(sub)
	cred, err := p.credential(cloudName)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if f, ok := p.factory[sub]; ok {
		return f, nil
	}
	f, err := armstorage.NewClientFactory(sub, cred, &arm.ClientOptions{ClientOptions: p.options(cloudName)})
	if err != nil {
		return nil, err
	}
	p.factory[sub] = f
	return f, nil
}

func (p *provider) cloudOf(sub string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.subs[sub]; ok {
		return c
	}
	if p.cfg.Cloud != "" {
		return p.cfg.Cloud
	}
	return CloudPublic
}

// Accounts returns the configured subscriptions, or those the credential
// can list in the default cloud.
func (p *provider) Accounts(ctx context.Context) ([]string, error) {
	p.services.Reset()
	p.scopes.Reset()
	p.keys.Reset()
	if len(p.subs) > 0 {
		out := make([]string, 0, len(p.subs))
		for s := range p.subs {
			out = append(out, s)
		}
		sort.Strings(out)
		return out, nil
	}
	cloudName := p.cloudOf("")
	cred, err := p.credential(cloudName)
	if err != nil {
		return nil, err
	}
	c, err := armsubscription.NewSubscriptionsClient(cred, &arm.ClientOptions{ClientOptions: p.options(cloudName)})
	if err != nil {
		return nil, err
	}
	var out []string
	pager := c.NewListPager(nil)
	err = providers.Paginate(ctx, "Subscriptions_List", func(ctx context.Context, _ string) (string, error) {
		page, err := providers.CallTimeout(ctx, p.env.Calls, "Subscriptions_List", p.timeout,
			func(ctx context.Context) (armsubscription.SubscriptionsClientListResponse, error) {
				return pager.NextPage(ctx)
			})
		if err != nil {
			return "", explain(err, "Microsoft.Resources/subscriptions/read")
		}
		for _, s := range page.Value {
			if s.SubscriptionID != nil && (s.State == nil || *s.State == armsubscription.SubscriptionStateEnabled) {
				out = append(out, *s.SubscriptionID)
			}
		}
		return more(pager.More(), page.NextLink), nil
	})
	if err != nil {
		return nil, fmt.Errorf("azure: list subscriptions: %w", err)
	}
	p.mu.Lock()
	for _, s := range out {
		p.subs[s] = cloudName
	}
	p.mu.Unlock()
	sort.Strings(out)
	return out, nil
}

// List returns the containers of every storage account of a subscription
// (one storage-account list, one container list per account). The
// containers of an account whose list fails are listed from the data plane
// instead; an account neither answers is the error, beside the rest.
func (p *provider) List(ctx context.Context, sub string) ([]providers.BucketRef, error) {
	f, err := p.storage(sub)
	if err != nil {
		return nil, err
	}
	var accts []*account
	pager := f.NewAccountsClient().NewListPager(nil)
	err = providers.Paginate(ctx, "StorageAccounts_List", func(ctx context.Context, _ string) (string, error) {
		page, err := providers.CallTimeout(ctx, p.env.Calls, "StorageAccounts_List", p.timeout,
			func(ctx context.Context) (armstorage.AccountsClientListResponse, error) { return pager.NextPage(ctx) })
		if err != nil {
			return "", explain(err, permAccounts)
		}
		for _, a := range page.Value {
			if acct := accountOf(sub, p.cloudOf(sub), a); acct != nil {
				accts = append(accts, acct)
			}
		}
		return more(pager.More(), page.NextLink), nil
	})
	var errs []error
	if err != nil {
		// The accounts of the pages read are still listed.
		errs = append(errs, fmt.Errorf("azure: list storage accounts of subscription %s: %w", sub, err))
	}
	var refs []providers.BucketRef
	for _, a := range accts {
		p.mu.Lock()
		p.accounts[sub+"/"+a.name] = a
		p.mu.Unlock()
		cs, err := p.listContainers(ctx, f, a)
		if err != nil {
			errs = append(errs, err)
		}
		for _, c := range cs {
			n := a.name + "/" + c.name
			p.mu.Lock()
			p.listed[sub+"/"+n] = c
			p.mu.Unlock()
			refs = append(refs, providers.BucketRef{Account: sub, Name: n, Region: a.location})
		}
	}
	return refs, errors.Join(errs...)
}

func (p *provider) listContainers(ctx context.Context, f *armstorage.ClientFactory, a *account) ([]ctrFacts, error) {
	var out []ctrFacts
	pager := f.NewBlobContainersClient().NewListPager(a.group, a.name, nil)
	err := providers.Paginate(ctx, "BlobContainers_List", func(ctx context.Context, _ string) (string, error) {
		page, err := providers.CallTimeout(ctx, p.env.Calls, "BlobContainers_List", p.timeout,
			func(ctx context.Context) (armstorage.BlobContainersClientListResponse, error) {
				return pager.NextPage(ctx)
			})
		if err != nil {
			return "", err
		}
		for _, it := range page.Value {
			if it == nil || it.Name == nil {
				continue
			}
			c := ctrFacts{acct: a, name: *it.Name, public: "None", source: "BlobContainers_List"}
			if pr := it.Properties; pr != nil {
				if pr.PublicAccess != nil {
					c.public = string(*pr.PublicAccess)
				}
				c.scope = deref(pr.DefaultEncryptionScope)
				c.immutable = derefBool(pr.HasImmutabilityPolicy) ||
					(pr.ImmutableStorageWithVersioning != nil && derefBool(pr.ImmutableStorageWithVersioning.Enabled))
			}
			out = append(out, c)
		}
		return more(pager.More(), page.NextLink), nil
	})
	if err != nil {
		dp, dperr := p.dataPlaneContainers(ctx, a)
		if dperr != nil {
			// The containers of the pages read are kept.
			return out, fmt.Errorf("azure: list containers of %s: %w; from the data plane: %w", a.name,
				explain(err, permContainers), explain(dperr, permBlobs))
		}
		p.log.Warn("container list from the data plane", "account", a.name, "err", err)
		return dp, nil
	}
	return out, nil
}

// more is the token Paginate watches for an SDK pager that follows its
// own next links: the link, or "" at the end.
func more(more bool, next *string) string {
	if !more {
		return ""
	}
	if next == nil || *next == "" {
		return "(next page)"
	}
	return *next
}

// accountOf reads one entry of the storage account list.
func accountOf(sub, cloudName string, a *armstorage.Account) *account {
	if a == nil || a.Name == nil {
		return nil
	}
	acct := &account{sub: sub, cloud: cloudName, name: *a.Name, location: deref(a.Location), group: resourceGroup(deref(a.ID)),
		tags: map[string]string{}}
	for k, v := range a.Tags {
		acct.tags[k] = deref(v)
	}
	if a.SKU != nil && a.SKU.Name != nil {
		acct.sku = string(*a.SKU.Name)
	}
	if pr := a.Properties; pr != nil {
		acct.allowPublic = derefBool(pr.AllowBlobPublicAccess)
		acct.secondary = deref(pr.SecondaryLocation)
		if pr.PrimaryEndpoints != nil {
			acct.blobURL = deref(pr.PrimaryEndpoints.Blob)
		}
		acct.enc = keyRef{source: "Microsoft.Storage"}
		if e := pr.Encryption; e != nil {
			if e.KeySource != nil {
				acct.enc.source = string(*e.KeySource)
			}
			if kv := e.KeyVaultProperties; kv != nil {
				acct.enc.vault, acct.enc.name, acct.enc.version = deref(kv.KeyVaultURI), deref(kv.KeyName), deref(kv.KeyVersion)
			}
		}
	}
	if acct.blobURL == "" {
		acct.blobURL = "https://" + acct.name + "." + dataSuffix[cloudName].blob + "/"
	}
	return acct
}

// resourceGroup reads the resource group out of an ARM resource id.
func resourceGroup(id string) string {
	parts := strings.Split(id, "/")
	for i := 0; i+1 < len(parts); i++ {
		if strings.EqualFold(parts[i], "resourceGroups") {
			return parts[i+1]
		}
	}
	return ""
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func derefBool(b *bool) bool { return b != nil && *b }
