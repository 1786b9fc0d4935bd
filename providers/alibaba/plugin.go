package alibaba

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	openapi "github.com/alibabacloud-go/darabonba-openapi/v2/client"
	kms "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/aliyun/aliyun-oss-go-sdk/oss"
	credproviders "github.com/aliyun/credentials-go/credentials/providers"

	"github.com/reachaudit/reachaudit/internal/httpclient"
	"github.com/reachaudit/reachaudit/providers"
)

const name = "alibaba"

func init() {
	providers.Register(providers.Plugin{
		Name:       name,
		Scheme:     "oss",
		ParseName:  providers.BareName,
		Controller: Controller,
		OCSF:       providers.OCSFCloud{Provider: "Alibaba Cloud", AccountType: "Alibaba Cloud Account", AccountTypeID: 99},
		NewConfig:  func() providers.Config { return &Config{} },
		Open: func(ctx context.Context, cfg providers.Config, env providers.Env) (providers.Provider, error) {
			c, ok := cfg.(*Config)
			if !ok {
				return nil, fmt.Errorf("alibaba: configuration of type %T", cfg)
			}
			return Open(ctx, c, env)
		},
		Place:       Place,
		Contracting: contracting,
	})
}

// provider is an opened Alibaba plugin. It keeps one OSS client per
// account and region (V4 signs with the bucket's region) and KMS clients
// per account, region and lane, made on first use.
type provider struct {
	cfg     *Config
	env     providers.Env
	timeout time.Duration
	http    *http.Client
	// kmsHTTP carries the KMS SDK's requests, which take no context: its
	// Timeout is the call's.
	kmsHTTP *http.Client
	creds   map[string]credproviders.CredentialsProvider

	mu   sync.Mutex
	oss  map[string]*oss.Client
	kms  map[string]*kms.Client
	keys providers.KeyCache[keyMeta]

	// kmsLanes bounds concurrent DescribeKey requests; see describeKeyOnce.
	kmsLanes chan int

	// With resource_directory: the directory credentials, the members
	// found (whose credentials are made on first use), and how Accounts
	// last found the accounts.
	directory credproviders.CredentialsProvider
	members   map[string]bool
	discovery providers.Discovery
}

// kmsConcurrency is how many DescribeKey requests run at once.
const kmsConcurrency = 8

// Open checks the configuration's credentials and returns the provider.
func Open(ctx context.Context, cfg *Config, env providers.Env) (providers.Provider, error) {
	if env.Logger == nil {
		env.Logger = slog.New(slog.DiscardHandler)
	}
	p := &provider{
		cfg:     cfg,
		env:     env,
		timeout: cfg.timeout(),
		creds:   map[string]credproviders.CredentialsProvider{},
		oss:     map[string]*oss.Client{},
		kms:     map[string]*kms.Client{},
		members: map[string]bool{},

		kmsLanes: make(chan int, kmsConcurrency),
	}
	for i := 0; i < kmsConcurrency; i++ {
		p.kmsLanes <- i
	}
	tlsc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.InsecureSkipVerify {
		tlsc.InsecureSkipVerify = true //nolint:gosec // turned off by name in the config
	}
	p.http = httpclient.New(httpclient.Options{
		TLS: tlsc,
		// The call timeout rides on each request's context; this one only
		// catches a request that somehow has none.
		Timeout: 4 * p.timeout,
		// OSS answers a wrong endpoint with a redirect naming the right
		// one, which the plugin reads; a V4 signature is for one host.
		FollowRedirects:     false,
		MaxIdleConnsPerHost: 64,
	})
	p.kmsHTTP = httpclient.New(httpclient.Options{TLS: tlsc, Timeout: p.timeout, MaxIdleConnsPerHost: kmsConcurrency})
	for _, a := range cfg.Accounts {
		cp, err := credentialsFor(cfg, a)
		if err != nil {
			return nil, err
		}
		p.creds[a] = cp
	}
	return p, nil
}

// Accounts are the configured accounts, with the members of the resource
// directory when it is discovered.
func (p *provider) Accounts(ctx context.Context) ([]string, error) {
	if !p.cfg.ResourceDirectory {
		return append([]string(nil), p.cfg.Accounts...), nil
	}
	ids, d, err := p.directoryAccounts(ctx)
	p.mu.Lock()
	p.discovery = d
	p.mu.Unlock()
	return ids, err
}

// ossClient returns the account's OSS client for region.
func (p *provider) ossClient(account, region string) (*oss.Client, error) {
	k := account + "/" + region
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.oss[k]; ok {
		return c, nil
	}
	cp, err := p.memberCredentials(account)
	if err != nil {
		return nil, err
	}
	endpoint := p.cfg.Endpoint
	if endpoint == "" {
		endpoint = "https://oss-" + region + ".aliyuncs.com"
	}
	opts := []oss.ClientOption{
		oss.SetCredentialsProvider(ossCredentials{cp}),
		oss.HTTPClient(p.http),
		oss.UserAgent("reachaudit"),
	}
	if p.cfg.v1() {
		opts = append(opts, oss.AuthVersion(oss.AuthV1))
	} else {
		opts = append(opts, oss.AuthVersion(oss.AuthV4), oss.Region(region))
	}
	if p.cfg.PathStyle {
		opts = append(opts, oss.ForcePathStyle(true))
	}
	c, err := oss.New(endpoint, "", "", opts...)
	if err != nil {
		return nil, fmt.Errorf("OSS client for %s: %w", region, err)
	}
	p.oss[k] = c
	return c, nil
}

// kmsClient returns the account's KMS client for region and lane.
func (p *provider) kmsClient(account, region string, lane int) (*kms.Client, error) {
	k := account + "/" + region + "/" + strconv.Itoa(lane)
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.kms[k]; ok {
		return c, nil
	}
	cp, err := p.memberCredentials(account)
	if err != nil {
		return nil, err
	}
	host, protocol := "kms."+region+".aliyuncs.com", "https"
	if p.cfg.KMSEndpoint != "" {
		u, err := url.Parse(p.cfg.KMSEndpoint)
		if err != nil {
			return nil, fmt.Errorf("kms_endpoint: %w", err)
		}
		host, protocol = u.Host, u.Scheme
	}
	ms := int(p.timeout / time.Millisecond)
	c, err := kms.NewClient(&openapi.Config{
		Credential:     kmsCredential(cp),
		RegionId:       tea.String(region),
		Endpoint:       tea.String(host),
		Protocol:       tea.String(protocol),
		ReadTimeout:    tea.Int(ms),
		ConnectTimeout: tea.Int(ms),
		UserAgent:      tea.String("reachaudit"),
		HttpClient:     teaClient{p.kmsHTTP},
	})
	if err != nil {
		return nil, fmt.Errorf("KMS client for %s: %w", region, err)
	}
	p.kms[k] = c
	return c, nil
}

// get sends a signed GET through the SDK's own request path and returns
// the body. The v1 SDK's client-level methods (GetBucketInfo,
// GetBucketReplication, …) take no context, so a hung answer could not be
// cut off by the call timeout; Conn.DoWithContext signs the request exactly
// as they do (V4 signs every query parameter) and honours the context. It
// is also the path for calls the SDK has no method for.
func get(ctx context.Context, c *oss.Client, bucket string, params map[string]interface{}) ([]byte, error) {
	resp, err := c.Conn.DoWithContext(ctx, http.MethodGet, bucket, "", params, nil, nil, 0, nil)
	if resp != nil && resp.Body != nil {
		defer resp.Body.Close()
	}
	if err != nil {
		return nil, err
	}
	// The client's transport caps the body (httpclient): an endless
	// answer fails at the cap rather than growing the scan.
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	return body, nil
}

// List returns the buckets of one account in the configured regions,
// paging through ListBuckets (GetService). Its answer carries each
// bucket's region, which saves a call per bucket.
func (p *provider) List(ctx context.Context, account string) ([]providers.BucketRef, error) {
	c, err := p.ossClient(account, p.cfg.listRegion())
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, r := range p.cfg.Regions {
		want[r] = true
	}
	var refs []providers.BucketRef
	err = providers.Paginate(ctx, "oss:ListBuckets", func(ctx context.Context, marker string) (string, error) {
		params := map[string]interface{}{"max-keys": "1000"}
		if marker != "" {
			params["marker"] = marker
		}
		res, err := call(ctx, p, "ListBuckets", func(ctx context.Context) (oss.ListBucketsResult, error) {
			body, err := get(ctx, c, "", params)
			if err != nil {
				return oss.ListBucketsResult{}, err
			}
			return parseListBuckets(body)
		})
		if err != nil {
			return "", err
		}
		if res.Owner.ID != "" && res.Owner.ID != account {
			return "", &wrongAccount{res.Owner.ID}
		}
		for _, bp := range res.Buckets {
			region := bp.Region
			if region == "" {
				region = RegionID(bp.Location)
			}
			if len(want) > 0 && !want[region] {
				continue
			}
			refs = append(refs, providers.BucketRef{Account: account, Name: bp.Name, Region: region})
		}
		if !res.IsTruncated {
			return "", nil
		}
		if res.NextMarker == "" {
			return "", errors.New("the answer is truncated but names no next marker")
		}
		return res.NextMarker, nil
	})
	var wrong *wrongAccount
	if errors.As(err, &wrong) {
		// No grant cures it: the configuration pairs the account with
		// another account's keys.
		return nil, fmt.Errorf("alibaba account %s: %w", account, err)
	}
	if err != nil {
		// The buckets of the pages read are kept: they are audited, and the
		// account's coverage names what stopped the rest.
		return refs, &providers.APIError{API: "oss:ListBuckets", Permission: permission(err, "oss:ListBuckets"),
			Err: fmt.Errorf("alibaba account %s: ListBuckets: %w", account, err)}
	}
	return refs, nil
}

// teaClient hands the KMS SDK's requests to the shared capped client; the
// SDK's own runtime would read any answer whole.
type teaClient struct{ c *http.Client }

func (t teaClient) Call(req *http.Request, _ *http.Transport) (*http.Response, error) {
	return t.c.Do(req)
}

// wrongAccount is a listing answered for another account than the one
// the keys were configured for.
type wrongAccount struct{ owner string }

func (e *wrongAccount) Error() string { return "the credentials belong to account " + e.owner }

// Close drops the provider's idle OSS connections: an agent opens the
// providers afresh for every run.
func (p *provider) Close() error {
	p.http.CloseIdleConnections()
	p.kmsHTTP.CloseIdleConnections()
	return nil
}
