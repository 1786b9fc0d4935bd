package providers

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
)

// Provider is one opened plugin: it lists the buckets of the accounts it was
// configured with and describes each. The agent drives it and decides how
// much runs at once; a Provider must be safe for concurrent use.
type Provider interface {
	// Accounts are the accounts (AWS accounts, GCP projects, Alibaba
	// accounts) this provider will scan, as configured or discovered.
	Accounts(ctx context.Context) ([]string, error)
	// List returns the buckets of one account.
	List(ctx context.Context, account string) ([]BucketRef, error)
	// Describe reads everything about one bucket, probe included. It does
	// not fail: what it could not read is recorded as Unknowns.
	Describe(ctx context.Context, ref BucketRef) Bucket
}

// Sizer is implemented by a Provider whose API reads the sizes of many
// buckets in one call (CloudWatch GetMetricData, Cloud Monitoring
// ListTimeSeries). The agent calls it once per account after every bucket
// of that account is described, so the regions are known; it sets each
// bucket's Size or records an Unknown for FieldSize. A Provider whose API
// reads one bucket at a time sets Size in Describe instead.
type Sizer interface {
	Sizes(ctx context.Context, account string, buckets []*Bucket)
}

// BucketRef names a listed bucket. Region is set when the list call gives
// it, which saves a call per bucket.
type BucketRef struct {
	Account string
	Name    string
	Region  string
}

// Config is a plugin's configuration section (`providers.<name>` in the
// config file). Validate reports bad values by field path; it is called
// after strict decoding.
type Config interface {
	Validate(c *yamlfile.Check)
}

// AccountLister is implemented by a configuration that can name the
// accounts (projects, subscriptions) it scans, so that a schedule naming
// another one is refused at load rather than scanning nothing. An empty
// list means the provider finds its accounts itself.
type AccountLister interface {
	ListedAccounts() []string
}

// Env is what the agent hands a plugin when it opens it.
type Env struct {
	Logger *slog.Logger
	// Calls records every API call; see Call.
	Calls *Calls
	// Now is the scan's clock, for what a plugin asks relative to now
	// (the window of a size metric); nil: time.Now.
	Now func() time.Time
}

// Clock returns the scan's clock: Now, or time.Now without one.
func (e Env) Clock() time.Time {
	if e.Now != nil {
		return e.Now()
	}
	return time.Now()
}

// Plugin describes a cloud provider to the registry.
type Plugin struct {
	Name   string // provider id in records and config: "aws"
	Scheme string // URI scheme of its buckets: "s3"
	// ParseName checks what follows "scheme://" in a bucket URI and returns
	// the bucket's name as records carry it; BareName for a name alone.
	ParseName func(rest string) (string, error)
	// Controller is the provider's ultimate parent.
	Controller Party
	// NewConfig returns a pointer to an empty configuration, for decoding.
	NewConfig func() Config
	// Open opens the provider with a decoded configuration.
	Open func(ctx context.Context, cfg Config, env Env) (Provider, error)
	// Place looks up a region or location code in the plugin's table.
	Place func(region string) (Place, bool)
	// Contracting is the provider's table of contracting entities by
	// billing country (and, where the provider has them, partition or
	// region). Empty: a `contracts:` entry must name its entity.
	Contracting ContractingTable
	// OCSF names the provider and its kind of account as OCSF's cloud
	// profile does.
	OCSF OCSFCloud
}

// OCSFCloud is how OCSF names a provider (cloud.provider) and the kind of
// account its records carry (the account object's type and type_id, from
// the schema's enum: 10 AWS Account, 11 GCP Project, 13 Azure
// Subscription, 99 Other).
type OCSFCloud struct {
	Provider      string
	AccountType   string
	AccountTypeID int
}

var (
	mu      sync.RWMutex
	plugins = map[string]Plugin{}
)

// Register makes a plugin available by name. It is called from the plugin
// package's init and panics on a duplicate or incomplete registration, which
// is a programming error.
func Register(p Plugin) {
	if p.Name == "" || p.Scheme == "" || p.NewConfig == nil || p.Open == nil || p.Place == nil || p.ParseName == nil ||
		p.OCSF.Provider == "" || p.OCSF.AccountType == "" {
		panic(fmt.Sprintf("providers: incomplete registration of %q", p.Name))
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := plugins[p.Name]; dup {
		panic("providers: Register called twice for " + p.Name)
	}
	plugins[p.Name] = p
}

// Lookup returns the plugin registered under name.
func Lookup(name string) (Plugin, bool) {
	mu.RLock()
	defer mu.RUnlock()
	p, ok := plugins[name]
	return p, ok
}

// ByScheme returns the plugin whose buckets use the URI scheme.
func ByScheme(scheme string) (Plugin, bool) {
	mu.RLock()
	defer mu.RUnlock()
	for _, p := range plugins {
		if p.Scheme == scheme {
			return p, true
		}
	}
	return Plugin{}, false
}

// Names lists the registered plugins, sorted.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(plugins))
	for n := range plugins {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
