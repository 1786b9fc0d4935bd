package agent

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/internal/redact"
	"github.com/reachaudit/reachaudit/internal/yamlfile"
	"github.com/reachaudit/reachaudit/providers"
)

// Defaults for ScanConfig's limits.
const (
	DefaultConcurrency = 32
	DefaultPerAccount  = 8
	// DefaultScanTimeout is generous: a large estate scans in minutes,
	// and a scan still running after an hour is held by an endpoint that
	// does not answer.
	DefaultScanTimeout = time.Hour
)

// ScanConfig is everything one scan needs.
type ScanConfig struct {
	// Providers maps a registered plugin name to its decoded configuration.
	Providers map[string]providers.Config
	Policy    risk.Policy
	// Copies are cross-provider copies the user declares.
	Copies []DeclaredCopy
	// CustomerKeys are bucket URIs (globs allowed) whose data the customer
	// encrypts with keys the provider never holds (SSE-C, CSEK or
	// client-side encryption): no provider API can tell.
	CustomerKeys []string
	// Contracts name the contracting entity and terms per provider and
	// account glob; each bucket records the one that covers it.
	Contracts providers.Contracts
	Scope     Scope
	Limits    Limits
	Logger    *slog.Logger
	// Observe sees every provider API call (metrics).
	Observe func(provider, op string, d time.Duration, err error)
	// Progress is told how many buckets are described out of how many listed.
	Progress func(done, total int)
	// Now is the clock for the run's times and the rules; nil means time.Now.
	Now func() time.Time
	// RunID names the run; empty means a new one is made. The shards of
	// one run share it, so that Merge can tell them from another run's.
	RunID string
}

// Limits bound how hard a scan presses the providers.
type Limits struct {
	// Concurrency is how many buckets are described at once overall.
	Concurrency int `yaml:"concurrency" json:"concurrency"`
	// PerAccount caps how many of those belong to one account, which keeps
	// a real account clear of its control-plane throttling.
	PerAccount int `yaml:"per_account" json:"per_account"`
	// Rate is the most API calls per second per provider; absent or 0: no cap.
	Rate map[string]float64 `yaml:"rate" json:"rate"`
	// ScanTimeout bounds a whole scan (default DefaultScanTimeout). At it
	// the scan stops calling, keeps what it has read (a bucket not yet
	// read is all unknown) and is partial.
	ScanTimeout time.Duration `yaml:"scan_timeout" json:"scan_timeout,omitempty"`
}

// Validate checks the limits' ranges: a rate for a provider no plugin
// registers would cap nothing, and a negative one would stall every call.
func (l *Limits) Validate(c *yamlfile.Check) {
	if l.Concurrency < 0 {
		c.Errorf("concurrency", "%d is negative (0 means the default)", l.Concurrency)
	}
	if l.PerAccount < 0 {
		c.Errorf("per_account", "%d is negative (0 means no cap)", l.PerAccount)
	}
	if l.ScanTimeout < 0 {
		c.Errorf("scan_timeout", "%v is negative (absent means %v)", l.ScanTimeout, DefaultScanTimeout)
	}
	for _, name := range slices.Sorted(maps.Keys(l.Rate)) {
		r := l.Rate[name]
		if _, ok := providers.Lookup(name); !ok {
			c.Errorf("rate."+name, "unknown provider %q (known: %s)", name, strings.Join(providers.Names(), ", "))
		} else if r < 0 || math.IsNaN(r) || math.IsInf(r, 0) {
			c.Errorf("rate."+name, "%v is not a rate (calls per second, 0 for no cap)", r)
		}
	}
}

// Scope narrows a scan.
type Scope struct {
	Providers []string `yaml:"providers" json:"providers,omitempty"`
	Accounts  []string `yaml:"accounts" json:"accounts,omitempty"`
	// Tags keeps buckets whose tags match every key=value (value may be a glob).
	Tags map[string]string `yaml:"tags" json:"tags,omitempty"`
	// Shard, when not the whole scan, keeps the accounts whose stable hash
	// falls in it (see ShardOf). A run is split by the command that starts
	// it, never by a schedule.
	Shard Shard `yaml:"-" json:"-"`
}

// DeclaredCopy is a copy of a bucket that no single provider's API can see.
type DeclaredCopy struct {
	From string `yaml:"from" json:"from"` // a bucket URI: s3://, gs://, oss://
	To   string `yaml:"to" json:"to"`
}

// Scan audits every bucket the configured providers can list. It returns an
// error only when nothing could be scanned at all (no provider would open);
// everything else — an account that cannot be listed, a bucket that fails
// half-way — is in the Result.
func Scan(ctx context.Context, cfg ScanConfig) (*Result, error) {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	lim := cfg.Limits
	if lim.Concurrency <= 0 {
		lim.Concurrency = DefaultConcurrency
	}
	if lim.PerAccount <= 0 {
		lim.PerAccount = DefaultPerAccount
	}
	if lim.ScanTimeout <= 0 {
		lim.ScanTimeout = DefaultScanTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, lim.ScanTimeout,
		fmt.Errorf("the scan reached limits.scan_timeout (%v): what was not read by then is unknown", lim.ScanTimeout))
	defer cancel()
	res := &Result{
		Schema:    Schema,
		RunID:     cfg.RunID,
		StartedAt: now().UTC(),
		Policy:    cfg.Policy,
		Buckets:   []providers.Bucket{},
		Findings:  []risk.Finding{},
		Errors:    []RunError{},
	}
	if res.RunID == "" {
		res.RunID = NewRunID(res.StartedAt)
	}
	if sh := cfg.Scope.Shard; !sh.Whole() {
		if err := sh.Check(); err != nil {
			return nil, err
		}
		res.Shard = &sh
	}

	book := newCoverageBook()
	opened, errs := openProviders(ctx, cfg, lim, log, book)
	res.Errors = append(res.Errors, errs...)
	if len(opened) == 0 && len(cfg.Providers) > 0 {
		return nil, fmt.Errorf("no provider could be opened: %s", joinErrors(errs))
	}

	jobs, errs := listAll(ctx, opened, cfg.Scope, lim.Concurrency, book, log)
	res.Errors = append(res.Errors, errs...)

	var pace map[string]Pace
	res.Buckets, pace = describeAll(ctx, jobs, lim, cfg.Progress, log)
	sizeAll(ctx, opened, res.Buckets, lim.Concurrency, log)
	for _, o := range opened {
		// Each bucket records the fields the breaker left unknown; the run
		// says once which endpoint stopped answering.
		for _, be := range o.calls.Broken() {
			log.Warn("stopped calling an account whose endpoint does not answer", "provider", o.name, "account", be.Account, "last", be.Last)
			res.Errors = append(res.Errors, RunError{Provider: o.name, Account: be.Account, Op: "calls", Error: providers.ErrorText(be)})
		}
	}
	for _, o := range opened {
		if c, ok := o.p.(io.Closer); ok {
			if err := c.Close(); err != nil {
				log.Warn("close provider", "provider", o.name, "err", err)
			}
		}
	}
	res.Buckets = filterTags(res.Buckets, cfg.Scope.Tags)
	sortBuckets(res.Buckets)
	applyCustomerKeys(res.Buckets, cfg.CustomerKeys)
	for i := range res.Buckets {
		res.Buckets[i].Contract = cfg.Contracts.For(&res.Buckets[i])
	}
	resolveCopies(res.Buckets, cfg.Copies)

	coverage := book.done()
	res.Findings = risk.Evaluate(res.Buckets, cfg.Policy, risk.Options{Now: now().UTC(), Scanned: scannedAccounts(res.Buckets), Gaps: book.gaps})
	if err := res.EvaluateScenarios(); err != nil {
		res.Errors = append(res.Errors, RunError{Op: "scenarios", Error: err.Error()})
	}
	if ctx.Err() != nil {
		res.Partial = true
		res.Errors = append(res.Errors, RunError{Op: "scan", Error: context.Cause(ctx).Error()})
	}
	res.FinishedAt = now().UTC()
	res.Summary.Coverage = coverage
	res.Summary = Summarise(res)
	res.Summary.APICalls = map[string][]providers.OpCount{}
	for _, o := range opened {
		res.Summary.APICalls[o.name] = o.calls.Snapshot()
		if n := o.calls.Throttles(); n > 0 {
			if res.Summary.Throttled == nil {
				res.Summary.Throttled = map[string]int{}
			}
			res.Summary.Throttled[o.name] = n
		}
	}
	res.Summary.Pace = pace
	// Error texts from SDKs and servers may quote a secret or a signed
	// URL; nothing leaves the scan before the redactor has seen it.
	redact.Default.Value(res)
	log.Info("scan finished", "run", res.RunID, "buckets", len(res.Buckets), "findings", len(res.Findings),
		"errors", len(res.Errors), "coverage", res.Summary.CoverageState, "seconds", res.FinishedAt.Sub(res.StartedAt).Seconds())
	return res, nil
}

// NewRunID makes a sortable, unique run id.
func NewRunID(t time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

type openProvider struct {
	name  string
	p     providers.Provider
	calls *providers.Calls
}

func openProviders(ctx context.Context, cfg ScanConfig, lim Limits, log *slog.Logger, book *coverageBook) ([]openProvider, []RunError) {
	names := make([]string, 0, len(cfg.Providers))
	for n := range cfg.Providers {
		if inScope(cfg.Scope.Providers, n) {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	var out []openProvider
	var errs []RunError
	for _, n := range names {
		pl, ok := providers.Lookup(n)
		if !ok {
			errs = append(errs, RunError{Provider: n, Op: "open", Error: "no such provider plugin"})
			continue
		}
		calls := providers.NewCalls(n, lim.Rate[n], lim.Concurrency, cfg.Observe)
		p, err := pl.Open(ctx, cfg.Providers[n], providers.Env{Logger: log.With("provider", n), Calls: calls, Now: cfg.Now})
		if err != nil {
			errs = append(errs, RunError{Provider: n, Op: "open", Error: providers.ErrorText(err)})
			book.asked(n, "*")
			book.failed(n, "*", "open", err)
			continue
		}
		out = append(out, openProvider{name: n, p: p, calls: calls})
	}
	return out, errs
}

type job struct {
	prov *openProvider
	ref  providers.BucketRef
}

// listAll lists every account of every provider, a few at a time, and
// returns the buckets interleaved across accounts so that the per-account
// caps do not leave workers idle behind one large account.
func listAll(ctx context.Context, opened []openProvider, scope Scope, concurrency int, book *coverageBook, log *slog.Logger) ([]job, []RunError) {
	type acct struct {
		prov *openProvider
		id   string
		refs []providers.BucketRef
		err  error
	}
	var accts []*acct
	var errs []RunError
	for i := range opened {
		o := &opened[i]
		ids, err := o.p.Accounts(ctx)
		if d, ok := o.p.(providers.Discoverer); ok {
			book.discovered(o.name, d.Discovery())
		}
		if err != nil {
			errs = append(errs, RunError{Provider: o.name, Op: "accounts", Error: providers.ErrorText(err)})
			book.asked(o.name, "*")
			book.failed(o.name, "*", "accounts", err)
			continue
		}
		book.of(o.name)
		for _, id := range ids {
			if inScope(scope.Accounts, id) && scope.Shard.Holds(o.name, id) {
				accts = append(accts, &acct{prov: o, id: id})
				book.asked(o.name, id)
			}
		}
	}
	sem := make(chan struct{}, max(1, min(concurrency, 8)))
	var wg sync.WaitGroup
	for _, a := range accts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			defer func() {
				// A plugin bug while listing one account is that
				// account's error, not the end of the scan.
				if r := recover(); r != nil {
					a.refs, a.err = nil, fmt.Errorf("internal error: %v", r)
				}
			}()
			a.refs, a.err = a.prov.p.List(providers.WithAccount(ctx, a.id), a.id)
		}()
	}
	wg.Wait()
	for _, a := range accts {
		a.refs = dedupe(a.refs, a.prov.name, a.id, log)
	}
	var jobs []job
	for more := true; more; {
		more = false
		for _, a := range accts {
			if len(a.refs) == 0 {
				continue
			}
			jobs = append(jobs, job{prov: a.prov, ref: a.refs[0]})
			a.refs = a.refs[1:]
			more = true
		}
	}
	for _, a := range accts {
		if a.err != nil {
			errs = append(errs, RunError{Provider: a.prov.name, Account: a.id, Op: "list", Error: providers.ErrorText(a.err)})
			book.failed(a.prov.name, a.id, "list", a.err)
		} else {
			book.listed(a.prov.name, a.id)
		}
	}
	return jobs, errs
}

// dedupe keeps the first of the refs an account's listing names more than
// once: a bucket name is unique in its account, so a second entry is the
// endpoint's fault, and two records of one bucket would give its findings
// the same stable id twice.
func dedupe(refs []providers.BucketRef, provider, account string, log *slog.Logger) []providers.BucketRef {
	seen := make(map[string]int, len(refs))
	out := refs[:0]
	for _, r := range refs {
		seen[r.Name]++
		if seen[r.Name] == 1 {
			out = append(out, r)
		}
	}
	if dropped := len(refs) - len(out); dropped > 0 {
		var names []string
		for _, name := range slices.Sorted(maps.Keys(seen)) {
			if seen[name] > 1 && len(names) < 10 {
				names = append(names, name)
			}
		}
		log.Debug("the listing named buckets more than once; one record kept of each", "provider", provider, "account", account,
			"entries_dropped", dropped, "buckets", names)
	}
	return out
}

// describeAll describes every listed bucket with at most lim.Concurrency in
// flight and, per account, an adaptive cap that starts at lim.PerAccount,
// grows while the account answers and halves when it throttles (see
// accountLimit); it returns how each account's cap went. Every listed bucket yields a
// record, even when the context ends: Describe records what it could not read.
func describeAll(ctx context.Context, jobs []job, lim Limits, progress func(done, total int), log *slog.Logger) ([]providers.Bucket, map[string]Pace) {
	out := make([]providers.Bucket, len(jobs))
	perAcct := map[string]*accountLimit{}
	for _, j := range jobs {
		k := j.prov.name + "/" + j.ref.Account
		if perAcct[k] == nil {
			perAcct[k] = newAccountLimit(lim.PerAccount, lim.Concurrency)
		}
	}
	// The map is complete before any call runs, and only read after.
	for _, j := range jobs {
		name := j.prov.name
		j.prov.calls.OnThrottle(func(account string) {
			if l := perAcct[name+"/"+account]; l != nil {
				l.throttle(time.Now())
			}
		})
	}
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	workers := min(lim.Concurrency, max(1, len(jobs)))
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				j := jobs[i]
				l := perAcct[j.prov.name+"/"+j.ref.Account]
				l.acquire()
				out[i] = describe(providers.WithAccount(ctx, j.ref.Account), j, log)
				l.release()
				if progress != nil {
					mu.Lock()
					done++
					progress(done, len(jobs))
					mu.Unlock()
				}
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	pace := make(map[string]Pace, len(perAcct))
	for k, l := range perAcct {
		limit, peak, cuts := l.state()
		pace[k] = Pace{Start: min(lim.PerAccount, lim.Concurrency), Peak: peak, End: limit, Cuts: cuts}
	}
	return out, pace
}

// describe reads one bucket. A run cut short still yields a record for
// every listed bucket, but what its end interrupted is not evidence: a
// bucket not yet read is all unknown, and a probe the cancellation cut off
// says nothing about reach (it would otherwise read as BLK-005). A plugin
// that panics past its own guard costs the bucket's fields, never the scan:
// the bucket stays in the result with the panic as its unknown.
func describe(ctx context.Context, j job, log *slog.Logger) (b providers.Bucket) {
	defer func() {
		if r := recover(); r != nil {
			b = listedBucket(j)
			providers.MarkPanic(&b, r, log)
		}
	}()
	if err := ctx.Err(); err != nil {
		b := listedBucket(j)
		b.SetUnknown(providers.FieldRecord, "scan", fmt.Errorf("the run was cut short before this bucket was read: %w", context.Cause(ctx)), "")
		return b
	}
	b = j.prov.p.Describe(ctx, j.ref)
	if err := ctx.Err(); err != nil && !b.Reachability.Reachable {
		b.Reachability = providers.Reachability{}
		b.SetUnknown("reachability", "probe", fmt.Errorf("the run was cut short while this bucket was read: %w", context.Cause(ctx)), "")
	}
	return b
}

// listedBucket is the record of a bucket known only from its listing.
func listedBucket(j job) providers.Bucket {
	pl, _ := providers.Lookup(j.prov.name)
	b := providers.NewBucket(j.prov.name, j.ref.Account, j.ref.Name, pl.URI(j.ref.Name))
	b.Region = j.ref.Region
	return b
}

// sizeAll asks each provider that reads sizes in bulk for the sizes of
// its described buckets, one account at a time per call, a few accounts at
// once.
func sizeAll(ctx context.Context, opened []openProvider, bs []providers.Bucket, concurrency int, log *slog.Logger) {
	type group struct {
		sizer   providers.Sizer
		account string
		buckets []*providers.Bucket
	}
	byKey := map[string]*group{}
	var groups []*group
	for i := range opened {
		sz, ok := opened[i].p.(providers.Sizer)
		if !ok {
			continue
		}
		for k := range bs {
			b := &bs[k]
			if b.Provider != opened[i].name {
				continue
			}
			key := b.Provider + "/" + b.Account
			g := byKey[key]
			if g == nil {
				g = &group{sizer: sz, account: b.Account}
				byKey[key] = g
				groups = append(groups, g)
			}
			g.buckets = append(g.buckets, b)
		}
	}
	sem := make(chan struct{}, max(1, min(concurrency, 8)))
	var wg sync.WaitGroup
	for _, g := range groups {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			// A plugin that panics here costs the sizes it had not set.
			defer func() {
				if r := recover(); r != nil {
					log.Error("plugin panicked reading sizes", "account", g.account, "panic", r)
					for _, b := range g.buckets {
						if b.Size == nil && !b.IsUnknown(providers.FieldSize) {
							b.SetUnknown(providers.FieldSize, "sizes", fmt.Errorf("the plugin failed: %v", r), "")
						}
					}
				}
			}()
			g.sizer.Sizes(providers.WithAccount(ctx, g.account), g.account, g.buckets)
		}()
	}
	wg.Wait()
}

func inScope(allowed []string, v string) bool {
	if len(allowed) == 0 {
		return true
	}
	for _, a := range allowed {
		if a == v {
			return true
		}
	}
	return false
}

func filterTags(bs []providers.Bucket, tags map[string]string) []providers.Bucket {
	if len(tags) == 0 {
		return bs
	}
	out := bs[:0]
	for _, b := range bs {
		ok := true
		for k, pat := range tags {
			v, has := b.Tags[k]
			if m, _ := path.Match(pat, v); !has || !m {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, b)
		}
	}
	return out
}

// applyCustomerKeys marks the buckets the user declares as encrypted with
// keys of their own.
func applyCustomerKeys(bs []providers.Bucket, patterns []string) {
	for i := range bs {
		for _, pat := range patterns {
			if ok, _ := path.Match(pat, bs[i].URI); ok {
				bs[i].Custody = providers.CustodyCustomerSupplied
				break
			}
		}
	}
}

func sortBuckets(bs []providers.Bucket) {
	sort.Slice(bs, func(i, j int) bool {
		a, b := bs[i], bs[j]
		if a.Provider != b.Provider {
			return a.Provider < b.Provider
		}
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		return a.Name < b.Name
	})
}

func scannedAccounts(bs []providers.Bucket) map[string][]string {
	seen := map[string]map[string]bool{}
	for _, b := range bs {
		if seen[b.Provider] == nil {
			seen[b.Provider] = map[string]bool{}
		}
		seen[b.Provider][b.Account] = true
	}
	out := map[string][]string{}
	for p, accts := range seen {
		for a := range accts {
			out[p] = append(out[p], a)
		}
		sort.Strings(out[p])
	}
	return out
}

func joinErrors(errs []RunError) string {
	var parts []string
	for _, e := range errs {
		parts = append(parts, e.Provider+": "+e.Error)
	}
	return strings.Join(parts, "; ")
}
