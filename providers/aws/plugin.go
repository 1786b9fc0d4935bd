package aws

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/reachaudit/reachaudit/internal/httpclient"
	"github.com/reachaudit/reachaudit/providers"
)

const (
	name   = "aws"
	scheme = "s3"
)

func init() {
	providers.Register(providers.Plugin{
		Name:       name,
		Scheme:     scheme,
		ParseName:  providers.BareName,
		Controller: Controller,
		OCSF:       providers.OCSFCloud{Provider: "AWS", AccountType: "AWS Account", AccountTypeID: 10},
		NewConfig:  func() providers.Config { return &Config{} },
		Open: func(ctx context.Context, cfg providers.Config, env providers.Env) (providers.Provider, error) {
			c, ok := cfg.(*Config)
			if !ok {
				return nil, fmt.Errorf("aws: configuration of type %T, want *aws.Config", cfg)
			}
			if len(c.Partitions) > 0 {
				return openPartitions(ctx, c, env)
			}
			return Open(ctx, c, env)
		},
		Place:       Place,
		Contracting: contracting,
	})
}

const (
	// maxAttempts covers throttling (503 SlowDown, Throttling) and 5xx.
	maxAttempts = 5
	// callTimeout bounds one call, its retries included, so that an
	// endpoint that never answers costs a bounded time per bucket; the
	// config's timeout overrides it.
	callTimeout = 30 * time.Second
)

// maxBackoff caps the pause between attempts; tests shorten it.
var maxBackoff = 20 * time.Second

// Provider scans S3 buckets through the SDK. It is safe for concurrent use.
type Provider struct {
	cfg      Config
	base     aws.Config
	region   string // for the account-wide calls
	endpoint endpoints
	log      *slog.Logger
	calls    *providers.Calls
	timeout  time.Duration

	mu    sync.Mutex
	creds map[string]aws.CredentialsProvider // by account
	s3c   map[clientKey]*s3.Client
	kmsc  map[clientKey]*kms.Client
	cwc   map[clientKey]*cloudwatch.Client
	// clock is the scan's: the size metrics' window is counted from it.
	clock func() time.Time
	// cwProtocol, when set, replaces the CloudWatch client's wire
	// protocol (tests only: an emulator that speaks AWS Query but not
	// the SDK's RPC v2 CBOR).
	cwProtocol smithyhttp.ClientProtocol
	// bucketRegions are the regions List learned, to place replication
	// destinations without a call; bucket names are unique per partition.
	bucketRegions sync.Map
	// discovery is how Accounts last found the accounts, and accounts
	// what it found.
	discovery providers.Discovery
	accounts  []string

	keys providers.KeyCache[keyResult]
}

// Discovery tells the run's coverage how the accounts were found and
// which members the organisation listing skipped.
func (p *Provider) Discovery() providers.Discovery {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.discovery
	if d.Source == "" {
		d.Source = sourceConfig
	}
	d.PartitionOf = map[string]string{}
	for _, a := range p.accounts {
		d.PartitionOf[a] = partitionOf(p.region)
	}
	return d
}

type clientKey struct{ account, region string }

// Open builds the SDK configuration (the default credential chain, or the
// static credentials a sandbox gives) and checks nothing remote: the first
// call that needs the network is Accounts or List.
func Open(ctx context.Context, cfg *Config, env providers.Env) (*Provider, error) {
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ep, err := resolveEndpoints(cfg)
	if err != nil {
		return nil, err
	}
	base, err := loadBase(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &Provider{
		cfg:      *cfg,
		base:     base,
		region:   base.Region,
		endpoint: ep,
		log:      log.With("provider", name),
		calls:    env.Calls,
		clock:    env.Clock,
		timeout:  cfg.timeout(),
		creds:    map[string]aws.CredentialsProvider{},
		s3c:      map[clientKey]*s3.Client{},
		kmsc:     map[clientKey]*kms.Client{},
		cwc:      map[clientKey]*cloudwatch.Client{},
	}, nil
}

// Accounts returns the configured accounts, or the account of the base
// credentials. It marks the start of a scan: the key cache is emptied so
// that a provider kept across scans never reports a stale key state.
func (p *Provider) Accounts(ctx context.Context) ([]string, error) {
	p.keys.Reset()
	ids, err := p.findAccounts(ctx)
	p.mu.Lock()
	p.accounts = ids
	p.mu.Unlock()
	return ids, err
}

func (p *Provider) findAccounts(ctx context.Context) ([]string, error) {
	if p.cfg.Organization {
		ids, d, err := p.organizationAccounts(ctx)
		p.mu.Lock()
		p.discovery = d
		p.mu.Unlock()
		return ids, err
	}
	if len(p.cfg.Accounts) > 0 {
		return slices.Clone(p.cfg.Accounts), nil
	}
	client := sts.NewFromConfig(p.base, p.stsOptions)
	out, err := call(ctx, p, "GetCallerIdentity", func(ctx context.Context) (*sts.GetCallerIdentityOutput, error) {
		return client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	})
	if err != nil {
		return nil, &providers.APIError{API: "sts:GetCallerIdentity", Err: fmt.Errorf("aws: find the account of the default credentials: %w", shortError(err))}
	}
	if out.Account == nil || *out.Account == "" {
		return nil, errors.New("aws: GetCallerIdentity answered no account")
	}
	return []string{*out.Account}, nil
}

// List returns the buckets of one account, with their regions where
// ListBuckets gives them, limited to the configured regions.
func (p *Provider) List(ctx context.Context, account string) ([]providers.BucketRef, error) {
	client := p.s3Client(account, p.region)
	var refs []providers.BucketRef
	var cause error // the SDK's own error, which may name an AssumeRole refusal
	err := providers.Paginate(ctx, "s3:ListBuckets", func(ctx context.Context, token string) (string, error) {
		in := &s3.ListBucketsInput{MaxBuckets: aws.Int32(1000)}
		if token != "" {
			in.ContinuationToken = aws.String(token)
		}
		// A page of 1,000 buckets is about 150 KB of XML: the default
		// answer cap is a hundred times that, and the SDK's XML decoder,
		// slow on a 64 MiB answer, reaches it in a quarter of the time.
		ctx = httpclient.WithBodyLimit(ctx, httpclient.AnswerBody)
		out, err := call(ctx, p, "ListBuckets", func(ctx context.Context) (*s3.ListBucketsOutput, error) {
			return client.ListBuckets(ctx, in)
		})
		if err != nil {
			cause = err
			return "", shortError(err)
		}
		for _, bk := range out.Buckets {
			ref := providers.BucketRef{Account: account, Name: aws.ToString(bk.Name), Region: aws.ToString(bk.BucketRegion)}
			if ref.Name == "" {
				continue
			}
			if ref.Region == "" && len(p.cfg.Regions) > 0 {
				// The filter needs the region; Describe then reuses it.
				ref.Region = p.locate(ctx, client, account, ref.Name, nil)
			}
			if ref.Region != "" {
				p.bucketRegions.Store(ref.Name, ref.Region)
			}
			// A bucket whose region could not be read is kept: dropping it
			// would hide it from the audit.
			if len(p.cfg.Regions) > 0 && ref.Region != "" && !slices.Contains(p.cfg.Regions, ref.Region) {
				continue
			}
			refs = append(refs, ref)
		}
		return aws.ToString(out.ContinuationToken), nil
	})
	if err != nil {
		// The pages read so far are kept: their buckets are audited, and
		// the account's coverage names what stopped the rest.
		if cause == nil {
			cause = err
		}
		return refs, listError(fmt.Errorf("aws: list buckets of account %s: %w", account, err), cause)
	}
	return refs, nil
}

// call runs one SDK call through the shared counter and rate limit, under
// the per-call timeout.
func call[T any](ctx context.Context, p *Provider, op string, fn func(context.Context) (T, error)) (T, error) {
	return providers.CallTimeout(ctx, p.calls, op, p.timeout, fn)
}

// listError names the call that kept an account from being listed: the
// role that could not be assumed in it (which fails inside the SDK's
// credential refresh, before ListBuckets is sent), or ListBuckets itself.
func listError(err, cause error) error {
	var ae *providers.APIError
	if errors.As(cause, &ae) {
		return &providers.APIError{API: ae.API, Permission: ae.Permission, Err: err}
	}
	return &providers.APIError{API: "ListBuckets", Permission: "s3:ListAllMyBuckets", Err: err}
}
