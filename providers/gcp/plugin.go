package gcp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"time"

	"cloud.google.com/go/auth"
	"cloud.google.com/go/auth/credentials"
	"cloud.google.com/go/auth/credentials/impersonate"
	kms "cloud.google.com/go/kms/apiv1"
	"cloud.google.com/go/kms/apiv1/kmspb"
	monitoring "cloud.google.com/go/monitoring/apiv3/v2"
	"cloud.google.com/go/storage"
	"github.com/googleapis/gax-go/v2"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	htransport "google.golang.org/api/transport/http"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/reachaudit/reachaudit/internal/httpclient"
	"github.com/reachaudit/reachaudit/providers"
)

// Controller is Google's ultimate parent.
var Controller = providers.Party{Jurisdiction: "US", Entity: "Alphabet Inc. (Google LLC)"}

func init() {
	providers.Register(providers.Plugin{
		Name:        "gcp",
		Scheme:      "gs",
		ParseName:   providers.BareName,
		Controller:  Controller,
		OCSF:        providers.OCSFCloud{Provider: "GCP", AccountType: "GCP Project", AccountTypeID: 11},
		NewConfig:   func() providers.Config { return &Config{} },
		Open:        open,
		Place:       Place,
		Contracting: contracting,
	})
}

// readOnlyScopes are the narrowest scopes that cover every call made here.
var readOnlyScopes = []string{
	"https://www.googleapis.com/auth/devstorage.read_only",
	"https://www.googleapis.com/auth/cloudkms.readonly",
	"https://www.googleapis.com/auth/monitoring.read",
}

// pageSize is the largest page the bucket list answers.
const pageSize = 1000

type provider struct {
	cfg     *Config
	env     providers.Env
	storage *storage.Client
	kms     *kms.KeyManagementClient
	metrics *monitoring.MetricClient
	// rm is set when the projects are discovered in the hierarchy.
	rm *hierarchy

	// listed holds the metadata the bucket list returned, so that Describe
	// does not fetch it again; an entry is removed when it is used.
	mu     sync.Mutex
	listed map[string]*storage.BucketAttrs

	keys providers.KeyCache[*kmspb.CryptoKey]

	// discovery is how Accounts last found the projects.
	discovery providers.Discovery
}

func open(ctx context.Context, c providers.Config, env providers.Env) (providers.Provider, error) {
	cfg, ok := c.(*Config)
	if !ok {
		return nil, fmt.Errorf("gcp: configuration of type %T", c)
	}
	authOpts, err := authOptions(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.UniverseDomain != "" {
		authOpts = append(authOpts, option.WithUniverseDomain(cfg.UniverseDomain))
	}
	hc, err := httpClient(ctx, cfg, authOpts, env.Calls)
	if err != nil {
		return nil, err
	}
	sopts := []option.ClientOption{option.WithHTTPClient(hc)}
	if cfg.UniverseDomain != "" {
		sopts = append(sopts, option.WithUniverseDomain(cfg.UniverseDomain))
	}
	if cfg.Endpoint != "" {
		sopts = append(sopts, option.WithEndpoint(cfg.Endpoint))
	}
	sc, err := storage.NewClient(ctx, sopts...)
	if err != nil {
		return nil, fmt.Errorf("gcp: storage client: %w", err)
	}
	// Retries are bounded so that a failing call becomes an unknown in
	// seconds rather than holding the scan; throttling and 5xx are still
	// retried with backoff.
	sc.SetRetry(
		storage.WithBackoff(gax.Backoff{Initial: 200 * time.Millisecond, Max: 5 * time.Second, Multiplier: 2}),
		storage.WithMaxAttempts(6),
	)
	kopts := append([]option.ClientOption{}, authOpts...)
	if cfg.KMSEndpoint != "" {
		kopts = append(kopts, option.WithEndpoint(cfg.KMSEndpoint))
	}
	if cfg.Insecure && cfg.KMSEndpoint != "" {
		kopts = append(kopts, option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	}
	kc, err := kms.NewKeyManagementClient(ctx, kopts...)
	if err != nil {
		sc.Close()
		return nil, fmt.Errorf("gcp: KMS client: %w", err)
	}
	mopts := append([]option.ClientOption{}, authOpts...)
	if cfg.MonitoringEndpoint != "" {
		mopts = append(mopts, option.WithEndpoint(cfg.MonitoringEndpoint))
	}
	if cfg.Insecure && cfg.MonitoringEndpoint != "" {
		mopts = append(mopts, option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	}
	mc, err := monitoring.NewMetricClient(ctx, mopts...)
	if err != nil {
		sc.Close()
		kc.Close()
		return nil, fmt.Errorf("gcp: Cloud Monitoring client: %w", err)
	}
	var rm *hierarchy
	if cfg.discovers() {
		if rm, err = openHierarchy(ctx, cfg, authOpts); err != nil {
			sc.Close()
			kc.Close()
			mc.Close()
			return nil, err
		}
	}
	if env.Logger == nil {
		env.Logger = slog.New(slog.DiscardHandler)
	}
	p := &provider{cfg: cfg, env: env, storage: sc, kms: kc, metrics: mc, rm: rm, listed: map[string]*storage.BucketAttrs{}}
	// The agent opens a provider per scan and may not close it; the gRPC
	// connections must not outlive the provider in a long-running agent.
	runtime.AddCleanup(p, func(kc *kms.KeyManagementClient) { kc.Close() }, kc)
	runtime.AddCleanup(p, func(mc *monitoring.MetricClient) { mc.Close() }, mc)
	if rm != nil {
		runtime.AddCleanup(p, func(rm *hierarchy) { rm.Close() }, rm)
	}
	return p, nil
}

// httpClient is the Cloud Storage client's HTTP client: the shared capped
// transport, with the credentials of auth on top (given an HTTP client,
// the storage library adds none itself).
func httpClient(ctx context.Context, cfg *Config, auth []option.ClientOption, calls *providers.Calls) (*http.Client, error) {
	tr, err := htransport.NewTransport(ctx, httpclient.NewTransport(httpclient.Options{MaxIdleConnsPerHost: 64}), auth...)
	if err != nil {
		return nil, fmt.Errorf("gcp: storage transport: %w", err)
	}
	tr = throttleWatch{next: tr, calls: calls}
	// The per-call timeout rides on each request's context; this one only
	// catches a request that somehow has none.
	return &http.Client{Transport: tr, Timeout: 4 * cfg.timeout(), CheckRedirect: httpclient.Redirects(true)}, nil
}

// scopes are the read-only scopes the configured calls need: the hierarchy
// is read under cloud-platform.read-only, which Resource Manager requires.
func scopes(cfg *Config) []string {
	if cfg.discovers() {
		return append(slices.Clone(readOnlyScopes), "https://www.googleapis.com/auth/cloud-platform.read-only")
	}
	return readOnlyScopes
}

// cloudPlatformScope is what base credentials need to impersonate.
const cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

// authOptions picks the credentials: none (emulators), a credentials file
// of the configured type, or Application Default Credentials, and
// optionally an impersonated service account on top. The three clients
// share one set of credentials, so one token serves them all.
func authOptions(cfg *Config) ([]option.ClientOption, error) {
	if cfg.WithoutAuthentication {
		return []option.ClientOption{option.WithoutAuthentication()}, nil
	}
	opts := &credentials.DetectOptions{Scopes: scopes(cfg), UniverseDomain: cfg.UniverseDomain}
	if cfg.ImpersonateServiceAccount != "" {
		// The base credentials only call the IAM Credentials API.
		opts.Scopes = []string{cloudPlatformScope}
	}
	var creds *auth.Credentials
	var err error
	if cfg.CredentialsFile != "" {
		creds, err = credentials.NewCredentialsFromFile(credentials.CredType(cfg.credentialsType()), cfg.CredentialsFile, opts)
		if err != nil {
			return nil, fmt.Errorf("gcp: credentials_file %s (credentials_type %s): %w", cfg.CredentialsFile, cfg.credentialsType(), err)
		}
	} else if creds, err = credentials.DetectDefault(opts); err != nil {
		return nil, fmt.Errorf("gcp: Application Default Credentials: %w", err)
	}
	if cfg.ImpersonateServiceAccount != "" {
		creds, err = impersonate.NewCredentials(&impersonate.CredentialsOptions{
			TargetPrincipal: cfg.ImpersonateServiceAccount,
			Scopes:          scopes(cfg),
			Credentials:     creds,
			UniverseDomain:  cfg.UniverseDomain,
		})
		if err != nil {
			return nil, fmt.Errorf("gcp: impersonate %s: %w", cfg.ImpersonateServiceAccount, err)
		}
	}
	return []option.ClientOption{option.WithAuthCredentials(creds)}, nil
}

// Accounts are the configured projects, with those discovered under the
// configured organisation and folders.
func (p *provider) Accounts(ctx context.Context) ([]string, error) {
	if p.rm == nil {
		return append([]string(nil), p.cfg.Projects...), nil
	}
	ids, d, err := p.discoverProjects(ctx)
	p.mu.Lock()
	p.discovery = d
	p.mu.Unlock()
	return ids, err
}

// Discovery tells the run's coverage how the projects were found and
// which the hierarchy's listing skipped.
func (p *provider) Discovery() providers.Discovery {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.discovery
	if d.Source == "" {
		d.Source = sourceConfig
	}
	return d
}

// List pages through the project's buckets. The list answers each bucket's
// full metadata, which is kept for Describe.
func (p *provider) List(ctx context.Context, project string) ([]providers.BucketRef, error) {
	var refs []providers.BucketRef
	err := providers.Paginate(ctx, "storage.buckets.list", func(ctx context.Context, token string) (string, error) {
		var next string
		page, err := providers.CallTimeout(ctx, p.env.Calls, "storage.buckets.list", p.cfg.timeout(),
			func(ctx context.Context) ([]*storage.BucketAttrs, error) {
				// One answer per call: the iterator's Pager would fetch page
				// after page to fill a thousand, past Paginate's watch.
				it := p.storage.Buckets(ctx, project)
				it.PageInfo().MaxSize = pageSize
				it.PageInfo().Token = token
				var page []*storage.BucketAttrs
				for {
					a, err := it.Next()
					if errors.Is(err, iterator.Done) {
						return page, nil
					}
					if err != nil {
						return nil, err
					}
					page = append(page, a)
					if it.PageInfo().Remaining() == 0 {
						next = it.PageInfo().Token
						return page, nil
					}
				}
			})
		if err != nil {
			return "", explain(err, "storage.buckets.list")
		}
		p.mu.Lock()
		for _, a := range page {
			p.listed[project+"/"+a.Name] = a
			refs = append(refs, providers.BucketRef{Account: project, Name: a.Name, Region: regionOf(a)})
		}
		p.mu.Unlock()
		return next, nil
	})
	if err != nil {
		// The buckets of the pages read are kept: they are audited, and the
		// project's coverage names what stopped the rest.
		return refs, &providers.APIError{API: "storage.buckets.list", Permission: "storage.buckets.list",
			Err: fmt.Errorf("gcp: list buckets of project %s: %w", project, err)}
	}
	return refs, nil
}

// Close releases the clients.
func (p *provider) Close() error {
	return errors.Join(p.storage.Close(), p.kms.Close(), p.metrics.Close(), p.rm.Close())
}

// throttleWatch tells the call counter of every 429 (rateLimitExceeded)
// Cloud Storage answers, attempt by attempt: the storage library retries
// them with its own backoff, and the agent halves the account's
// concurrency. The request's context names the project (WithAccount).
type throttleWatch struct {
	next  http.RoundTripper
	calls *providers.Calls
}

func (t throttleWatch) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		t.calls.Throttled(req.Context())
	}
	return resp, err
}
