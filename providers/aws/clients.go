package aws

import (
	"time"

	"sync"

	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/reachaudit/reachaudit/internal/httpclient"
	"github.com/reachaudit/reachaudit/internal/redact"
	"github.com/reachaudit/reachaudit/providers"
)

// endpoints are the resolved endpoint overrides; empty strings leave the
// SDK's own resolution (which knows partitions and their DNS suffixes).
type endpoints struct {
	s3, kms, sts, orgs, cloudwatch string
	pathStyle                      bool
}

func resolveEndpoints(cfg *Config) (endpoints, error) {
	ep := endpoints{s3: cfg.Endpoint, kms: cfg.KMSEndpoint, sts: cfg.STSEndpoint, orgs: cfg.OrganizationsEndpoint, cloudwatch: cfg.CloudWatchEndpoint, pathStyle: cfg.PathStyle}
	if ep.orgs == "" {
		ep.orgs = cfg.Endpoint
	}
	if ep.cloudwatch == "" {
		ep.cloudwatch = cfg.Endpoint
	}
	if ep.kms == "" {
		ep.kms = cfg.Endpoint
	}
	if ep.sts == "" {
		ep.sts = cfg.Endpoint
	}
	for _, e := range []string{ep.s3, ep.kms, ep.sts, ep.orgs, ep.cloudwatch} {
		if err := checkEndpoint(e); err != nil {
			return ep, fmt.Errorf("aws: %w", err)
		}
	}
	if ep.s3 != "" && !ep.pathStyle {
		u, _ := url.Parse(ep.s3)
		// Virtual-hosted names (bucket.127.0.0.1) cannot resolve.
		host := u.Hostname()
		ep.pathStyle = host == "localhost" || net.ParseIP(host) != nil
	}
	return ep, nil
}

// checkEndpoint accepts "" (the SDK resolves the endpoint) or an absolute
// http(s) URL.
func checkEndpoint(e string) error {
	if e == "" {
		return nil
	}
	u, err := url.Parse(e)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("endpoint %q is not an absolute http(s) URL such as https://s3.example.com", e)
	}
	return nil
}

// loadBase builds the SDK configuration every client derives from: the
// default credential chain (env, shared config and profile, SSO, web
// identity, IMDS), a retryer that backs off on throttling, and the HTTP
// client's TLS settings. Static credentials (the sandbox's) bypass the
// chain and the user's shared config altogether, so that a demo does not
// depend on, or touch, the user's AWS profile.
func loadBase(ctx context.Context, cfg *Config) (aws.Config, error) {
	httpClient, err := newHTTPClient(cfg)
	if err != nil {
		return aws.Config{}, err
	}
	if c := cfg.Credentials; c != nil {
		redact.Default.Add(c.SecretAccessKey, c.SessionToken)
		base := aws.NewConfig()
		base.Region = cfg.Region
		base.Credentials = aws.NewCredentialsCache(
			credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, c.SessionToken))
		base.HTTPClient = cappedClient(httpClient, cfg)
		base.Retryer = newRetryer
		if base.Region == "" {
			base.Region = defaultRegion
		}
		return *base, nil
	}
	// The default chain reads these itself.
	redact.Default.AddEnv("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
	opts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient),
		config.WithRetryer(newRetryer),
	}
	if cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(cfg.Profile))
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	base, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws: load SDK configuration: %w", err)
	}
	if base.Region == "" {
		base.Region = defaultRegion
	}
	// The credential providers the chain made keep the client they were
	// made with; every service client takes this one.
	base.HTTPClient = cappedClient(base.HTTPClient, cfg)
	return base, nil
}

func newRetryer() aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = maxAttempts
		o.MaxBackoff = maxBackoff
		// The retry quota protects a single client from retry storms; a
		// scan of thousands of buckets under throttling would exhaust it
		// and fail calls that a backoff would have saved. Pacing is
		// providers.Calls' job.
		o.RateLimiter = ratelimit.None
		// A certificate that does not verify will not verify on the next
		// attempt either.
		o.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(notRetryableTLS)}, o.Retryables...)
	})
}

func notRetryableTLS(err error) aws.Ternary {
	var certErr *tls.CertificateVerificationError
	var unknownAuth x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	if errors.As(err, &certErr) || errors.As(err, &unknownAuth) || errors.As(err, &hostErr) {
		return aws.FalseTernary
	}
	return aws.UnknownTernary
}

// newHTTPClient is the SDK's own buildable client with the TLS settings,
// for LoadDefaultConfig, which adds the CA bundle a shared config or
// AWS_CA_BUNDLE names to it and accepts no other kind.
func newHTTPClient(cfg *Config) (*awshttp.BuildableClient, error) {
	var roots *x509.CertPool
	if cfg.CACert != "" {
		pem, err := os.ReadFile(cfg.CACert)
		if err != nil {
			return nil, fmt.Errorf("aws: read ca_cert: %w", err)
		}
		roots, err = x509.SystemCertPool()
		if err != nil {
			roots = x509.NewCertPool()
		}
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("aws: ca_cert %s holds no PEM certificate", cfg.CACert)
		}
	}
	return awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) {
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		if roots != nil {
			tr.TLSClientConfig.RootCAs = roots
		}
		if cfg.InsecureSkipVerify {
			tr.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // the user asked for it by name
		}
	}), nil
}

// cappedClient is the client every service call goes through: the
// transport the SDK resolved (TLS, CA bundle), with the shared factory's
// caps on answers and redirects.
func cappedClient(c aws.HTTPClient, cfg *Config) aws.HTTPClient {
	bc, ok := c.(*awshttp.BuildableClient)
	if !ok {
		return c
	}
	return httpclient.New(httpclient.Options{
		Base: bc.GetTransport(),
		// The per-call timeout rides on each request's context; this one
		// only catches a request that somehow has none.
		Timeout: 4 * cfg.timeout(),
		// S3 answers 307 while a new bucket's DNS settles.
		FollowRedirects: true,
		// The agent runs many buckets at once against few hosts.
		MaxIdleConnsPerHost: 128,
		// An agent opens its providers afresh for every run, and the SDK
		// offers no way to close a client's connections: let idle ones go
		// soon, so that frequent runs do not pile them up.
		IdleConnTimeout: 20 * time.Second,
	})
}

// credentialsFor returns the credentials for an account: the base ones, or
// the configured role assumed in that account. Each is built once.
func (p *Provider) credentialsFor(account string) aws.CredentialsProvider {
	if p.cfg.RoleName == "" {
		return p.base.Credentials
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.creds[account]; ok {
		return c
	}
	arn := p.roleARN(account)
	client := sts.NewFromConfig(p.base, p.stsOptions)
	assume := stscreds.NewAssumeRoleProvider(client, arn, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "reachaudit"
		if p.cfg.ExternalID != "" {
			o.ExternalID = aws.String(p.cfg.ExternalID)
		}
	})
	c := aws.NewCredentialsCache(countedCredentials{p: p, inner: assume, arn: arn})
	p.creds[account] = c
	return c
}

// countedCredentials puts AssumeRole through the call counter like every
// other call.
type countedCredentials struct {
	p     *Provider
	inner aws.CredentialsProvider
	arn   string
}

// Retrieve assumes the role. A refusal names the role and the grant, which
// the account's UNK-002 carries when its buckets cannot be listed.
func (c countedCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	creds, err := call(ctx, c.p, "AssumeRole", c.inner.Retrieve)
	if err != nil {
		return creds, &providers.APIError{API: "sts:AssumeRole", Err: fmt.Errorf("assume role %s: %w", c.arn, shortError(err)),
			Permission: "sts:AssumeRole on " + c.arn + " (and a trust policy on the role that lets the audit's identity assume it)"}
	}
	return creds, nil
}

// roleARN is the role assumed in account.
func (p *Provider) roleARN(account string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", partitionOf(p.region), account, p.cfg.RoleName)
}

func (p *Provider) stsOptions(o *sts.Options) {
	o.APIOptions = append(o.APIOptions, p.watchThrottling)
	if p.endpoint.sts != "" {
		o.BaseEndpoint = aws.String(p.endpoint.sts)
	}
}

// s3Client returns the client for an account and region, built once.
// SDK clients are safe for concurrent use.
func (p *Provider) s3Client(account, region string) *s3.Client {
	return cachedClient(&p.mu, p.s3c, clientKey{account, region}, func() *s3.Client {
		creds := p.credentialsFor(account)
		return s3.NewFromConfig(p.base, func(o *s3.Options) {
			o.Region = region
			o.Credentials = creds
			o.APIOptions = append(o.APIOptions, p.watchThrottling)
			o.UsePathStyle = p.endpoint.pathStyle
			if p.endpoint.s3 != "" {
				o.BaseEndpoint = aws.String(p.endpoint.s3)
			}
		})
	})
}

// kmsClient returns the KMS client for an account and region, built once.
func (p *Provider) kmsClient(account, region string) *kms.Client {
	return cachedClient(&p.mu, p.kmsc, clientKey{account, region}, func() *kms.Client {
		creds := p.credentialsFor(account)
		return kms.NewFromConfig(p.base, func(o *kms.Options) {
			o.Region = region
			o.Credentials = creds
			o.APIOptions = append(o.APIOptions, p.watchThrottling)
			if p.endpoint.kms != "" {
				o.BaseEndpoint = aws.String(p.endpoint.kms)
			}
		})
	})
}

// cloudWatchClient returns the CloudWatch client for an account and
// region, built once: S3's storage metrics live in the bucket's region.
func (p *Provider) cloudWatchClient(account, region string) *cloudwatch.Client {
	return cachedClient(&p.mu, p.cwc, clientKey{account, region}, func() *cloudwatch.Client {
		creds := p.credentialsFor(account)
		return cloudwatch.NewFromConfig(p.base, func(o *cloudwatch.Options) {
			o.Region = region
			o.Credentials = creds
			if p.endpoint.cloudwatch != "" {
				o.BaseEndpoint = aws.String(p.endpoint.cloudwatch)
			}
			if p.cwProtocol != nil {
				o.Protocol = p.cwProtocol
			}
		})
	})
}

// cachedClient returns m[k], building it with mk outside the lock the
// first time; a client built twice by a race is dropped for the first one.
func cachedClient[C any](mu *sync.Mutex, m map[clientKey]C, k clientKey, mk func() C) C {
	mu.Lock()
	c, ok := m[k]
	mu.Unlock()
	if ok {
		return c
	}
	c = mk()
	mu.Lock()
	defer mu.Unlock()
	if prev, ok := m[k]; ok {
		return prev
	}
	m[k] = c
	return c
}

var _ providers.Provider = (*Provider)(nil)
