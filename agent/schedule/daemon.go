package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/oklog/run"
	"github.com/robfig/cron/v3"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/history"
	"github.com/reachaudit/reachaudit/internal/redact"
)

// ScanFunc runs one audit of scope. On a cancelled context it should return
// what it has, marked partial, rather than nothing.
type ScanFunc func(ctx context.Context, scope agent.Scope) (*agent.Result, error)

// Deliverer hands results to the configured outputs; a sink that is down
// gets them later from its spool.
type Deliverer interface {
	Deliver(ctx context.Context, r *agent.Result) []agent.Delivery
	// Flush tries once more to send what is spooled.
	Flush(ctx context.Context) error
	// Backlog is the number of findings waiting in the spool.
	Backlog() int
	Close() error
}

// Emit modes: what goes to the outputs after each run.
const (
	EmitAll     = "all"     // the whole result
	EmitChanges = "changes" // only the drift: new, changed and resolved findings
)

// Plan is what a configuration reload may change.
type Plan struct {
	Schedules []Schedule
	Scan      ScanFunc
	// Emit is EmitAll or EmitChanges; empty means EmitChanges.
	Emit string
	// KeepRuns and KeepDays bound the history (see history.Store.Prune);
	// 0 means no bound.
	KeepRuns, KeepDays int
}

func (p *Plan) validate() error {
	if len(p.Schedules) == 0 {
		return errors.New("no schedules to run")
	}
	if p.Scan == nil {
		return errors.New("no scan function")
	}
	switch p.Emit {
	case "", EmitAll, EmitChanges:
	default:
		return fmt.Errorf("emit %q is not %s or %s", p.Emit, EmitAll, EmitChanges)
	}
	seen := map[string]bool{}
	for i, s := range p.Schedules {
		if s.Name == "" {
			return fmt.Errorf("schedules[%d]: no name", i)
		}
		if seen[s.Name] {
			return fmt.Errorf("schedules[%d]: name %q used twice", i, s.Name)
		}
		seen[s.Name] = true
		if _, err := Parse(s.Cron); err != nil {
			return fmt.Errorf("schedules[%d] (%s): bad cron spec: %w", i, s.Name, err)
		}
	}
	return nil
}

// Options configure the agent. Only Plan changes on reload.
type Options struct {
	Plan
	// History records every run; required. The caller opens and closes it.
	History *history.Store
	// Deliver hands each run (or its drift) to the outputs; nil: none. It is
	// the process's for its whole life and closed at shutdown: a reload does
	// not replace it, because two deliverers would share the outputs' spool
	// files. Changing outputs takes a restart.
	Deliver Deliverer
	// FlushEvery is how often a spool backlog is retried between runs;
	// default one minute.
	FlushEvery time.Duration
	// Listen is the address of /healthz, /readyz and /metrics; empty: no
	// HTTP server.
	Listen string
	// Grace is how long a shutdown waits for running scans before it
	// cancels them (they are then recorded as partial); default 30s.
	Grace time.Duration
	// Metrics default to NewMetrics(); pass the ones whose Observe the
	// providers were given.
	Metrics *Metrics
	Logger  *slog.Logger
	// Reload reads the configuration again, on SIGHUP. An error, or a Plan
	// that does not validate, is logged and the running Plan stays.
	Reload func() (*Plan, error)
	// Signals, when not nil, replaces the process's SIGTERM, SIGINT and
	// SIGHUP (for tests and embedding).
	Signals <-chan os.Signal
}

const (
	defaultGrace      = 30 * time.Second
	defaultFlushEvery = time.Minute
)

// Daemon is the running agent.
type Daemon struct {
	opts    Options
	log     *slog.Logger
	metrics *Metrics
	ln      net.Listener

	cron *cron.Cron
	// stopping is closed when shutdown begins: runs waiting out their
	// jitter give up, no new run starts.
	stopping chan struct{}
	stopOnce sync.Once
	// scans is the parent of every scan's context; cancelled when the
	// grace period is over.
	scans       context.Context
	cancelScans context.CancelFunc

	mu      sync.Mutex
	current *plan
	entries map[string]entry
	jobs    map[string]cron.Job

	lastStatus atomic.Value // history.Status of the last finished run
	lastError  atomic.Value // string

	// reloadMu guards reloading and reloadAgain; see reloadAsync.
	reloadMu    sync.Mutex
	reloading   bool
	reloadAgain bool
}

type entry struct {
	id   cron.EntryID
	spec string
}

// plan is a validated Plan with its schedules by name.
type plan struct {
	Plan
	byName map[string]Schedule
}

// New checks opts and binds the HTTP listener, so that a bad plan or a
// busy address is refused before anything runs.
func New(opts Options) (*Daemon, error) {
	if opts.History == nil {
		return nil, errors.New("agent: no history store")
	}
	if err := opts.Plan.validate(); err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	if opts.Grace <= 0 {
		opts.Grace = defaultGrace
	}
	if opts.FlushEvery <= 0 {
		opts.FlushEvery = defaultFlushEvery
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics()
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	d := &Daemon{
		opts:     opts,
		log:      opts.Logger,
		metrics:  opts.Metrics,
		stopping: make(chan struct{}),
		entries:  map[string]entry{},
		jobs:     map[string]cron.Job{},
		// UTC unless a spec names its zone with CRON_TZ=.
		cron: cron.New(cron.WithParser(parser), cron.WithLocation(time.UTC),
			cron.WithLogger(cronLogger{opts.Logger, slog.LevelDebug})),
	}
	d.scans, d.cancelScans = context.WithCancel(context.Background())
	d.lastStatus.Store(history.Status(""))
	d.lastError.Store("")
	if opts.Listen != "" {
		ln, err := net.Listen("tcp", opts.Listen)
		if err != nil {
			return nil, fmt.Errorf("agent: listen: %w", err)
		}
		d.ln = ln
	}
	d.install(opts.Plan)
	d.metrics.setBacklog(d.backlog)
	return d, nil
}

// Run starts an agent with opts and runs it until ctx is cancelled or a
// SIGTERM or SIGINT arrives; it returns nil after a clean shutdown.
func Run(ctx context.Context, opts Options) error {
	d, err := New(opts)
	if err != nil {
		return err
	}
	return d.Run(ctx)
}

// Addr is the address the HTTP server listens on, nil without one.
func (d *Daemon) Addr() net.Addr {
	if d.ln == nil {
		return nil
	}
	return d.ln.Addr()
}

// Run runs the scheduler, the HTTP server and the signal handler as one
// group: the first to stop stops the others. A shutdown stops scheduling,
// lets running scans finish within the grace period, cancels them after it
// (they are recorded as partial), flushes and closes the outputs, and
// returns nil.
func (d *Daemon) Run(ctx context.Context) error {
	var g run.Group

	stop := make(chan struct{})
	var stopOnce sync.Once
	g.Add(func() error {
		d.scheduleOnStart()
		d.cron.Start()
		attrs := []any{"schedules", d.scheduleNames()}
		if d.ln != nil {
			attrs = append(attrs, "listen", d.ln.Addr().String())
		}
		d.log.Info("agent started", attrs...)
		<-stop
		d.drain()
		return nil
	}, func(error) { stopOnce.Do(func() { close(stop) }) })

	if d.ln != nil {
		srv := &http.Server{Handler: d.Handler(), ReadHeaderTimeout: 10 * time.Second}
		g.Add(func() error {
			if err := srv.Serve(d.ln); !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("agent: http: %w", err)
			}
			return nil
		}, func(error) {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			srv.Shutdown(sctx)
		})
	}

	if d.opts.Deliver != nil {
		fstop := make(chan struct{})
		var fonce sync.Once
		g.Add(func() error {
			d.flush(fstop)
			return nil
		}, func(error) { fonce.Do(func() { close(fstop) }) })
	}

	sigs := d.opts.Signals
	if sigs == nil {
		ch := make(chan os.Signal, 4)
		signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
		defer signal.Stop(ch)
		sigs = ch
	}
	sctx, cancel := context.WithCancel(ctx)
	g.Add(func() error {
		for {
			select {
			case <-sctx.Done():
				if ctx.Err() != nil {
					d.log.Info("shutting down", "reason", context.Cause(ctx))
				}
				return nil
			case sig := <-sigs:
				if sig == syscall.SIGHUP {
					d.reloadAsync()
					continue
				}
				d.log.Info("shutting down", "signal", sig.String())
				return nil
			}
		}
	}, func(error) { cancel() })

	return g.Run()
}

// drain stops scheduling and waits for running scans: within the grace
// period they finish; after it they are cancelled and recorded as partial.
func (d *Daemon) drain() {
	d.stopOnce.Do(func() { close(d.stopping) })
	done := d.cron.Stop()
	select {
	case <-done.Done():
	case <-time.After(d.opts.Grace):
		d.log.Warn("grace period over, cancelling running scans", "grace", d.opts.Grace)
		d.cancelScans()
		select {
		case <-done.Done():
		case <-time.After(d.opts.Grace):
			d.log.Error("running scans did not stop after cancellation; exiting without them")
		}
	}
	d.cancelScans()

	if dl := d.opts.Deliver; dl != nil {
		ctx, cancel := context.WithTimeout(context.Background(), d.opts.Grace)
		defer cancel()
		if err := dl.Flush(ctx); err != nil {
			// What is not sent stays in the spool for the next start.
			d.log.Warn("outputs not flushed; left in the spool", "err", err, "backlog", dl.Backlog())
		}
		if err := dl.Close(); err != nil {
			d.log.Warn("closing outputs", "err", err)
		}
	}
	d.log.Info("agent stopped")
}

func (d *Daemon) backlog() int {
	if d.opts.Deliver == nil {
		return 0
	}
	return d.opts.Deliver.Backlog()
}

// flush retries the spool between runs, so that a sink that comes back
// gets its backlog without waiting for the next run.
func (d *Daemon) flush(stop <-chan struct{}) {
	t := time.NewTicker(d.opts.FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if n := d.backlog(); n > 0 {
				ctx, cancel := context.WithTimeout(d.scans, d.opts.FlushEvery)
				if err := d.opts.Deliver.Flush(ctx); err != nil {
					d.log.Warn("spool not flushed", "err", err, "backlog", n)
				}
				cancel()
			}
		}
	}
}

func (d *Daemon) scheduleNames() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	names := make([]string, 0, len(d.current.Schedules))
	for _, s := range d.current.Schedules {
		names = append(names, s.Name)
	}
	return names
}

// install makes p the running plan: schedules that are new or whose spec
// changed are (re)scheduled, removed ones unscheduled. p must be valid.
func (d *Daemon) install(p Plan) {
	d.mu.Lock()
	defer d.mu.Unlock()
	next := &plan{Plan: p, byName: map[string]Schedule{}}
	for _, s := range p.Schedules {
		next.byName[s.Name] = s
	}
	for name, e := range d.entries {
		if s, ok := next.byName[name]; !ok || s.Cron != e.spec {
			d.cron.Remove(e.id)
			delete(d.entries, name)
		}
	}
	for _, s := range p.Schedules {
		if _, ok := d.entries[s.Name]; ok {
			continue
		}
		sched, _ := Parse(s.Cron) // validated
		d.entries[s.Name] = entry{id: d.cron.Schedule(sched, d.job(s.Name)), spec: s.Cron}
	}
	d.current = next
}

// scheduleOnStart adds, for each schedule with run_on_start, one run at the
// cron's start. It goes through the cron (and the schedule's wrapped job),
// so the overlap guard holds and a shutdown waits for it like any run.
func (d *Daemon) scheduleOnStart() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.current.Schedules {
		if s.RunOnStart {
			d.cron.Schedule(&once{}, d.job(s.Name))
		}
	}
}

// once is a cron schedule that fires at the first time it is asked about
// and never again (the zero time: cron never runs such an entry).
type once struct{ done bool }

func (o *once) Next(t time.Time) time.Time {
	if o.done {
		return time.Time{}
	}
	o.done = true
	return t
}

// job returns the wrapped job of the schedule called name. The wrapped job
// is made once per name and kept across reloads, so that the overlap guard
// of SkipIfStillRunning still sees a run started under the previous plan.
//
// Wrapper order matters: the chain is applied outside-in, so this is
// SkipIfStillRunning(Recover(run)). Recover must be the inner one: in
// cron v3.0.1 a panic that unwinds through SkipIfStillRunning never puts
// back its token, and every later tick of the schedule is skipped forever.
func (d *Daemon) job(name string) cron.Job {
	if j, ok := d.jobs[name]; ok {
		return j
	}
	j := wrap(d.log.With("schedule", name), cron.FuncJob(func() { d.runSchedule(name) }))
	d.jobs[name] = j
	return j
}

func wrap(log *slog.Logger, j cron.Job) cron.Job {
	l := cronLogger{log, slog.LevelInfo}
	return cron.NewChain(cron.SkipIfStillRunning(l), cron.Recover(l)).Then(j)
}

func (d *Daemon) plan() *plan {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.current
}

// runSchedule is one run of a schedule: scan, compare with the baseline,
// deliver, record.
func (d *Daemon) runSchedule(name string) {
	// The plan as it is now; a reload during the run does not change it.
	p := d.plan()
	s, ok := p.byName[name]
	if !ok {
		return // removed by a reload while this tick was due
	}
	log := d.log.With("schedule", name)
	if s.Jitter > 0 {
		wait := time.NewTimer(rand.N(s.Jitter))
		select {
		case <-wait.C:
		case <-d.stopping:
			wait.Stop()
			return
		}
	}
	select {
	case <-d.stopping:
		return
	default:
	}

	started := time.Now()
	ctx, cancel := d.scans, context.CancelFunc(func() {})
	if s.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, s.Timeout)
	}
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			d.finish(log, p, s, started, nil, fmt.Errorf("panic: %v", r), nil)
			panic(r) // for cron's Recover, which logs the stack
		}
	}()
	log.Info("run started")
	res, err := p.Scan(ctx, s.Scope())
	if res != nil && ctx.Err() != nil {
		res.Partial = true
	}
	d.finish(log, p, s, started, res, err, ctx.Err())
}

// finish compares a run with its schedule's baseline, delivers it (or its
// drift), records it and updates the metrics. Delivery comes before the
// record: if the process dies between them, the next run delivers again
// (twice, never lost).
func (d *Daemon) finish(log *slog.Logger, p *plan, s Schedule, started time.Time, res *agent.Result, scanErr, ctxErr error) {
	// Recording must survive the shutdown that may have cut the scan.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	status := history.StatusOf(res, scanErr)
	run := &history.Run{Schedule: s.Name, StartedAt: started.UTC(), FinishedAt: time.Now().UTC(), Status: status, Result: res}
	switch {
	case scanErr != nil:
		run.Error = scanErr.Error()
	case ctxErr != nil:
		run.Error = "cut short: " + ctxErr.Error()
	case res == nil:
		run.Error = "the scan returned no result"
	case res.Summary.CoverageState == agent.CoverageNone:
		run.Error = "nothing was audited: no account it was asked to cover could be listed (see its UNK-002 findings)"
	case status != history.StatusOK:
		run.Error = history.Cause(res)
	}
	if res != nil {
		var prev *agent.Result
		base, err := d.opts.History.Baseline(ctx, s.Name)
		switch {
		case err == nil:
			prev = base.Result
		case !errors.Is(err, history.ErrNotFound):
			log.Warn("no baseline: drift is reported against an empty history", "err", err)
		}
		history.AddReachLoss(prev, res)
		if n := history.KeepUnverified(prev, res); n > 0 {
			log.Warn("findings kept open, unverified: what decides them could not be read this run", "findings", n)
		}
		drift := history.Diff(prev, res)
		// The baseline is the last complete run; a finding the partial runs
		// since then already reported is not new again.
		if last, err := d.opts.History.Latest(ctx, s.Name, 1); err == nil && len(last) == 1 && base != nil && last[0].ID != base.ID {
			drift.New = history.NotIn(drift.New, last[0].Result)
		}
		run.New, run.Changed, run.Resolved = len(drift.New), len(drift.Changed), len(drift.Resolved)
		for _, rl := range drift.ReachLoss {
			log.Error("provider-wide loss of reach", "provider", rl.Provider, "region", rl.Region, "buckets", len(rl.Buckets))
		}
		if dl := d.opts.Deliver; dl != nil {
			out := res
			if p.Emit != EmitAll {
				out = history.Changes(res, &drift)
			}
			if p.Emit == EmitAll || !drift.Empty() {
				res.Summary.Delivery = dl.Deliver(ctx, out)
			}
		}
	}
	if err := d.opts.History.Record(ctx, run); err != nil {
		log.Error("run not recorded", "err", err)
	} else if n, err := d.opts.History.Prune(ctx, p.KeepRuns, p.KeepDays, time.Now()); err != nil {
		log.Warn("history not pruned", "err", err)
	} else if n > 0 {
		log.Debug("history pruned", "runs", n)
	}
	took := time.Since(started)
	d.metrics.observeRun(status, took, res)
	d.lastStatus.Store(status)
	d.lastError.Store(run.Error)
	attrs := []any{"run_id", run.ID, "status", status, "took", took.Round(time.Millisecond),
		"buckets", run.Buckets, "open", run.Open, "new", run.New, "changed", run.Changed, "resolved", run.Resolved}
	switch status {
	case history.StatusFailed:
		log.Error("run failed", append(attrs, "err", run.Error)...)
	case history.StatusPartial:
		log.Warn("run partial", append(attrs, "err", run.Error)...)
	default:
		log.Info("run finished", attrs...)
	}
}

// reloadAsync reloads off the signal loop, so a config that is slow to
// read (a large or hostile file) cannot delay SIGTERM. One reload runs at a
// time; SIGHUPs that arrive meanwhile fold into one more, which reads the
// file as it is by then.
func (d *Daemon) reloadAsync() {
	d.reloadMu.Lock()
	if d.reloading {
		d.reloadAgain = true
		d.reloadMu.Unlock()
		return
	}
	d.reloading = true
	d.reloadMu.Unlock()
	go func() {
		for {
			d.reload()
			d.reloadMu.Lock()
			if !d.reloadAgain {
				d.reloading = false
				d.reloadMu.Unlock()
				return
			}
			d.reloadAgain = false
			d.reloadMu.Unlock()
		}
	}()
}

// reload reads the configuration again and installs it, or keeps the
// running one when the new one is bad.
func (d *Daemon) reload() {
	if d.opts.Reload == nil {
		d.log.Warn("SIGHUP: this agent has no configuration to reload")
		return
	}
	p, err := d.opts.Reload()
	if err == nil && p == nil {
		err = errors.New("no plan")
	}
	if err == nil {
		err = p.validate()
	}
	if err != nil {
		d.metrics.reloads.WithLabelValues("refused").Inc()
		d.log.Error("reload refused; the running configuration stays", "err", err)
		return
	}
	select {
	case <-d.stopping:
		return // shutting down: a plan read meanwhile is not installed
	default:
	}
	d.install(*p)
	d.metrics.reloads.WithLabelValues("ok").Inc()
	d.log.Info("configuration reloaded", "schedules", d.scheduleNames())
}

// healthReporter is a Deliverer that can tell its spools cannot be read.
type healthReporter interface{ Health() error }

// Handler serves /healthz (the process is alive), /readyz (configuration
// loaded, the last run did not fail and every spool can be read) and
// /metrics.
func (d *Daemon) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if st := d.lastStatus.Load().(history.Status); st == history.StatusFailed {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "last run failed: %s\n", d.lastError.Load().(string))
			return
		}
		if h, ok := d.opts.Deliver.(healthReporter); ok {
			if err := h.Health(); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprintf(w, "outputs: %s\n", redact.Default.String(err.Error()))
				return
			}
		}
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", d.metrics.Handler())
	return mux
}

// cronLogger lets cron log through slog; level is the level of its Info.
type cronLogger struct {
	log   *slog.Logger
	level slog.Level
}

func (l cronLogger) Info(msg string, kv ...any) {
	if msg == "skip" {
		msg = "run skipped: the previous run of this schedule is still going"
	}
	l.log.Log(context.Background(), l.level, msg, slices.Clip(kv)...)
}

func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error(msg, append(slices.Clip(kv), "err", err)...)
}
