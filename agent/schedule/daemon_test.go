package schedule

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/history"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
)

// sampleResult is a small run: two buckets, two open findings.
func sampleResult() *agent.Result {
	mk := func(name string, countries ...string) providers.Bucket {
		b := providers.NewBucket("aws", "111122223333", name, "s3://"+name)
		b.Region, b.Countries = "us-east-1", countries
		b.Reachability = providers.Reachability{Reachable: true, Probe: "HeadBucket"}
		return b
	}
	r := &agent.Result{
		Schema: agent.Schema, RunID: agent.NewRunID(time.Now()), StartedAt: time.Now().UTC(), FinishedAt: time.Now().UTC(),
		Buckets: []providers.Bucket{mk("payroll", "US"), mk("logs", "US")},
		Findings: []risk.Finding{
			{ID: "HYG-001:aws:111122223333:logs", Rule: "HYG-001", Risk: risk.RiskHygiene, Severity: risk.Low, Status: risk.StatusOpen, Provider: "aws", Account: "111122223333", Bucket: "logs"},
			{ID: "EXP-006:aws:111122223333:payroll", Rule: "EXP-006", Risk: risk.RiskExpose, Severity: risk.Critical, Status: risk.StatusOpen, Provider: "aws", Account: "111122223333", Bucket: "payroll"},
		},
		Errors: []agent.RunError{},
	}
	r.Summary = agent.Summarise(r)
	return r
}

// recorder is a Deliverer that keeps what it is given, as an output sink
// would write it.
type recorder struct {
	mu        sync.Mutex
	delivered []*agent.Result
	flushed   int
	closed    int
	backlog   int
}

func (r *recorder) Deliver(ctx context.Context, res *agent.Result) []agent.Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.delivered = append(r.delivered, res)
	return []agent.Delivery{{Output: "recorder", Delivered: len(res.Findings)}}
}

func (r *recorder) Flush(ctx context.Context) error {
	r.mu.Lock()
	r.flushed++
	r.mu.Unlock()
	return nil
}
func (r *recorder) Backlog() int { r.mu.Lock(); defer r.mu.Unlock(); return r.backlog }
func (r *recorder) Close() error { r.mu.Lock(); r.closed++; r.mu.Unlock(); return nil }

func (r *recorder) snapshot() (delivered []*agent.Result, flushed, closed int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*agent.Result(nil), r.delivered...), r.flushed, r.closed
}

type harness struct {
	t       *testing.T
	store   *history.Store
	sigs    chan os.Signal
	cancel  context.CancelFunc
	done    chan error
	daemon  *Daemon
	log     *syncBuffer
	metrics *Metrics
}

func every1s(name string) []Schedule { return []Schedule{{Name: name, Cron: "@every 1s"}} }

// start runs an agent with opts (History, Signals, Logger and Listen
// filled in) until the test ends.
func start(t *testing.T, opts Options) *harness {
	t.Helper()
	store, err := history.Open(context.Background(), filepath.Join(t.TempDir(), "history.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	log, buf := testLogger(t)
	h := &harness{t: t, store: store, sigs: make(chan os.Signal, 1), done: make(chan error, 1), log: buf}
	opts.History, opts.Signals, opts.Logger = store, h.sigs, log
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics()
	}
	h.metrics = opts.Metrics
	d, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.daemon = d
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(10 * time.Second):
			t.Error("agent did not stop")
		}
	})
	return h
}

// stop ends the agent the way the process does and returns Run's error.
func (h *harness) stop(how os.Signal) error {
	h.t.Helper()
	if how == nil {
		h.cancel()
	} else {
		h.sigs <- how
	}
	select {
	case err := <-h.done:
		h.done <- err // for the cleanup
		return err
	case <-time.After(10 * time.Second):
		h.t.Fatal("agent did not stop")
		return nil
	}
}

func (h *harness) runs() []history.Run {
	h.t.Helper()
	runs, err := h.store.List(context.Background(), 0)
	if err != nil {
		h.t.Fatal(err)
	}
	return runs
}

func (h *harness) get(path string) (int, string) {
	h.t.Helper()
	resp, err := http.Get("http://" + h.daemon.Addr().String() + path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func (h *harness) metricFamilies() map[string]*dto.MetricFamily {
	h.t.Helper()
	resp, err := http.Get("http://" + h.daemon.Addr().String() + "/metrics")
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mf, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		h.t.Fatalf("metrics do not parse: %v", err)
	}
	return mf
}

// value is the value of the series of family name whose labels include
// want; -1 when there is none.
func value(mf map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f := mf[name]
	if f == nil {
		return -1
	}
next:
	for _, m := range f.Metric {
		got := map[string]string{}
		for _, l := range m.Label {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Histogram != nil:
			return float64(m.Histogram.GetSampleCount())
		}
	}
	return -1
}

func TestAgentRunsRecordsAndServes(t *testing.T) {
	t.Parallel()
	out := &recorder{backlog: 7}
	var scopes []agent.Scope
	var mu sync.Mutex
	h := start(t, Options{Deliver: out, Plan: Plan{
		Schedules: []Schedule{{Name: "nightly", Cron: "@every 1s", Providers: []string{"aws"}, Tags: map[string]string{"env": "prod"}}},
		Scan: func(ctx context.Context, s agent.Scope) (*agent.Result, error) {
			mu.Lock()
			scopes = append(scopes, s)
			mu.Unlock()
			return sampleResult(), nil
		},
	}})
	h.metrics.Observe("aws", "GetBucketEncryption", 20*time.Millisecond, nil)
	h.metrics.Observe("aws", "GetBucketEncryption", 30*time.Millisecond, errors.New("AccessDenied"))

	if code, body := h.get("/healthz"); code != 200 || strings.TrimSpace(body) != "ok" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	eventually(t, 5*time.Second, "two runs recorded", func() bool { return len(h.runs()) >= 2 })
	if code, _ := h.get("/readyz"); code != 200 {
		t.Errorf("/readyz = %d; want 200", code)
	}

	mf := h.metricFamilies()
	for _, c := range []struct {
		name   string
		labels map[string]string
		min    float64
	}{
		{"reachaudit_runs_total", map[string]string{"result": "ok"}, 2},
		{"reachaudit_run_duration_seconds", nil, 2},
		{"reachaudit_buckets", map[string]string{"provider": "aws", "country": "US"}, 2},
		{"reachaudit_findings", map[string]string{"risk": "expose", "severity": "critical", "provider": "aws"}, 1},
		{"reachaudit_api_calls_total", map[string]string{"provider": "aws", "op": "GetBucketEncryption"}, 2},
		{"reachaudit_api_errors_total", map[string]string{"provider": "aws", "op": "GetBucketEncryption"}, 1},
		{"reachaudit_last_success_timestamp_seconds", nil, float64(time.Now().Add(-time.Minute).Unix())},
		{"reachaudit_spool_backlog", nil, 7},
		{"go_goroutines", nil, 1},
		{"process_resident_memory_bytes", nil, 1},
	} {
		if got := value(mf, c.name, c.labels); got < c.min {
			t.Errorf("%s%v = %v; want >= %v", c.name, c.labels, got, c.min)
		}
	}
	if got := value(mf, "reachaudit_runs_total", map[string]string{"result": "failed"}); got != 0 {
		t.Errorf("failed runs = %v; want 0", got)
	}

	if err := h.stop(syscall.SIGTERM); err != nil {
		t.Fatalf("Run after SIGTERM = %v; want nil", err)
	}
	delivered, flushed, closed := out.snapshot()
	// emit: changes (the default): the first run is all new, the same
	// result again is no drift and nothing is delivered.
	if len(delivered) != 1 || len(delivered[0].Findings) != 2 {
		t.Errorf("delivered %d results; want the first run only", len(delivered))
	}
	if flushed != 1 || closed != 1 {
		t.Errorf("outputs flushed %d, closed %d times; want 1 and 1", flushed, closed)
	}
	mu.Lock()
	defer mu.Unlock()
	if s := scopes[0]; len(s.Providers) != 1 || s.Tags["env"] != "prod" {
		t.Errorf("scope = %+v", s)
	}
	runs := h.runs()
	if runs[0].Status != history.StatusOK || runs[len(runs)-1].New != 2 || runs[0].New != 0 {
		t.Errorf("runs = %+v", runs)
	}
	stored, err := h.store.Get(context.Background(), runs[len(runs)-1].ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := stored.Result.Summary.Delivery; len(d) != 1 || d[0].Delivered != 2 {
		t.Errorf("stored delivery = %+v", d)
	}
}

func TestEmit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		emit        string
		wantResults int
	}{
		{EmitAll, 2},
		{EmitChanges, 1},
	}
	for _, tt := range tests {
		t.Run(tt.emit, func(t *testing.T) {
			t.Parallel()
			out := &recorder{}
			h := start(t, Options{Deliver: out, Plan: Plan{Schedules: every1s("s"), Emit: tt.emit,
				Scan: func(context.Context, agent.Scope) (*agent.Result, error) { return sampleResult(), nil }}})
			eventually(t, 5*time.Second, "two runs", func() bool { return len(h.runs()) >= 2 })
			h.stop(nil)
			delivered, _, _ := out.snapshot()
			if len(h.runs()) == 2 && len(delivered) != tt.wantResults {
				t.Errorf("emit %s: delivered %d results over 2 identical runs; want %d", tt.emit, len(delivered), tt.wantResults)
			}
		})
	}
}

// A scan that panics is recorded as failed, makes the agent not ready, and
// the schedule runs again on the next tick.
func TestAgentPanickingScanRunsAgain(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	h := start(t, Options{Plan: Plan{Schedules: every1s("nightly"),
		Scan: func(context.Context, agent.Scope) (*agent.Result, error) {
			if calls.Add(1) == 1 {
				panic("provider plugin bug")
			}
			return sampleResult(), nil
		}}})
	eventually(t, 5*time.Second, "the failed run recorded", func() bool { return len(h.runs()) >= 1 })
	if runs := h.runs(); runs[0].Status != history.StatusFailed || !strings.Contains(runs[0].Error, "provider plugin bug") {
		t.Fatalf("first run = %+v", runs[0])
	}
	eventually(t, 5*time.Second, "a run after the panic", func() bool { return len(h.runs()) >= 2 })
	if runs := h.runs(); runs[0].Status != history.StatusOK {
		t.Errorf("run after the panic = %+v", runs[0])
	}
	if code, _ := h.get("/readyz"); code != 200 {
		t.Errorf("/readyz after a good run = %d", code)
	}
	mf := h.metricFamilies()
	if got := value(mf, "reachaudit_runs_total", map[string]string{"result": "failed"}); got != 1 {
		t.Errorf("failed runs = %v; want 1", got)
	}
}

func TestReadyzAfterFailedRun(t *testing.T) {
	t.Parallel()
	h := start(t, Options{Plan: Plan{Schedules: every1s("nightly"),
		Scan: func(context.Context, agent.Scope) (*agent.Result, error) { return nil, errors.New("no credentials") }}})
	if code, _ := h.get("/readyz"); code != 200 {
		t.Errorf("/readyz before any run = %d; want 200", code)
	}
	eventually(t, 5*time.Second, "a failed run", func() bool { return len(h.runs()) >= 1 })
	code, body := h.get("/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "no credentials") {
		t.Errorf("/readyz = %d %q; want 503 naming the error", code, body)
	}
	if code, _ := h.get("/healthz"); code != 200 {
		t.Errorf("/healthz = %d; the process is alive", code)
	}
}

// blockingScan starts, reports it, and returns what it has when its context
// ends (or after finishIn, when it is positive).
func blockingScan(started chan<- struct{}, finishIn time.Duration) ScanFunc {
	var once sync.Once
	return func(ctx context.Context, s agent.Scope) (*agent.Result, error) {
		once.Do(func() { close(started) })
		var wait <-chan time.Time
		if finishIn > 0 {
			wait = time.After(finishIn)
		}
		select {
		case <-wait:
			return sampleResult(), nil
		case <-ctx.Done():
			r := sampleResult()
			r.Partial = true
			return r, nil
		}
	}
}

func TestShutdown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		finishIn   time.Duration // 0: only when cancelled
		grace      time.Duration
		signal     os.Signal
		wantStatus history.Status
	}{
		{"SIGTERM lets a scan finish within the grace period", 500 * time.Millisecond, 10 * time.Second, syscall.SIGTERM, history.StatusOK},
		{"SIGINT cancels a scan after the grace period, recorded partial", 0, 300 * time.Millisecond, syscall.SIGINT, history.StatusPartial},
		{"a cancelled context is a shutdown too", 0, 300 * time.Millisecond, nil, history.StatusPartial},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := &recorder{}
			started := make(chan struct{})
			h := start(t, Options{Grace: tt.grace, Deliver: out, Plan: Plan{Schedules: every1s("nightly"), Emit: EmitAll,
				Scan: blockingScan(started, tt.finishIn)}})
			select {
			case <-started:
			case <-time.After(5 * time.Second):
				t.Fatal("scan did not start")
			}
			t0 := time.Now()
			if err := h.stop(tt.signal); err != nil {
				t.Fatalf("Run = %v; want nil", err)
			}
			if took := time.Since(t0); took > tt.grace+3*time.Second {
				t.Errorf("shutdown took %s", took)
			}
			runs := h.runs()
			if len(runs) != 1 || runs[0].Status != tt.wantStatus {
				t.Fatalf("runs = %+v; want one %s run", runs, tt.wantStatus)
			}
			delivered, flushed, closed := out.snapshot()
			if len(delivered) != 1 || flushed != 1 || closed != 1 {
				t.Errorf("delivered %d, flushed %d, closed %d; want the run delivered, then one flush and close", len(delivered), flushed, closed)
			}
			if tt.wantStatus == history.StatusPartial && !delivered[0].Partial {
				t.Error("delivered result not marked partial")
			}
		})
	}
}

func TestTimeoutRecordsPartial(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	h := start(t, Options{Plan: Plan{Schedules: []Schedule{{Name: "s", Cron: "@every 1s", Timeout: 200 * time.Millisecond}},
		Scan: blockingScan(started, 0)}})
	eventually(t, 5*time.Second, "a run recorded", func() bool { return len(h.runs()) >= 1 })
	r := h.runs()[0]
	if r.Status != history.StatusPartial || !strings.Contains(r.Error, "deadline exceeded") {
		t.Errorf("run = %+v; want partial, cut short by the deadline", r)
	}
}

func TestReload(t *testing.T) {
	t.Parallel()
	out := &recorder{}
	var oldCalls, newCalls atomic.Int32
	count := func(c *atomic.Int32) ScanFunc {
		return func(context.Context, agent.Scope) (*agent.Result, error) { c.Add(1); return sampleResult(), nil }
	}
	var next struct {
		sync.Mutex
		plan *Plan
		err  error
	}
	setNext := func(p *Plan, err error) { next.Lock(); next.plan, next.err = p, err; next.Unlock() }
	h := start(t, Options{
		Plan:    Plan{Schedules: every1s("old"), Scan: count(&oldCalls), Emit: EmitAll},
		Deliver: out,
		Reload: func() (*Plan, error) {
			next.Lock()
			defer next.Unlock()
			return next.plan, next.err
		},
	})
	eventually(t, 5*time.Second, "the old schedule runs", func() bool { return oldCalls.Load() >= 1 })

	bad := []struct {
		name string
		plan *Plan
		err  error
	}{
		{"config that does not load", nil, errors.New("cfg.yaml:3: schedules[0].cron: bad cron spec")},
		{"plan with a bad spec", &Plan{Schedules: []Schedule{{Name: "x", Cron: "61 * * * *"}}, Scan: count(&newCalls)}, nil},
		{"plan without schedules", &Plan{Scan: count(&newCalls)}, nil},
	}
	for i, b := range bad {
		setNext(b.plan, b.err)
		h.sigs <- syscall.SIGHUP
		eventually(t, 3*time.Second, b.name+": refused", func() bool { return h.log.Count("reload refused") == i+1 })
	}
	before := oldCalls.Load()
	eventually(t, 3*time.Second, "the old schedule still runs after refused reloads", func() bool { return oldCalls.Load() > before })
	if value(h.metricFamilies(), "reachaudit_reloads_total", map[string]string{"result": "refused"}) != 3 {
		t.Error("refused reloads not counted")
	}

	setNext(&Plan{Schedules: every1s("new"), Scan: count(&newCalls), Emit: EmitAll}, nil)
	h.sigs <- syscall.SIGHUP
	eventually(t, 5*time.Second, "the new schedule runs", func() bool { return newCalls.Load() >= 2 })
	stopped := oldCalls.Load()
	time.Sleep(1200 * time.Millisecond)
	if got := oldCalls.Load(); got != stopped {
		t.Errorf("the removed schedule ran %d more times", got-stopped)
	}
	if err := h.stop(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The outputs outlive reloads and are closed once, at shutdown, after
	// runs of both plans went to them.
	delivered, flushed, closed := out.snapshot()
	if flushed != 1 || closed != 1 {
		t.Errorf("outputs flushed %d and closed %d times; want once each, at shutdown", flushed, closed)
	}
	if len(delivered) < 3 {
		t.Errorf("%d deliveries; want the runs of both plans", len(delivered))
	}
	schedules := map[string]int{}
	for _, r := range h.runs() {
		schedules[r.Schedule]++
	}
	if schedules["old"] == 0 || schedules["new"] == 0 {
		t.Errorf("runs by schedule = %v", schedules)
	}
}

func TestNewRefuses(t *testing.T) {
	store, err := history.Open(context.Background(), filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	scan := func(context.Context, agent.Scope) (*agent.Result, error) { return nil, nil }
	busy, err := New(Options{History: store, Listen: "127.0.0.1:0", Plan: Plan{Schedules: every1s("s"), Scan: scan}})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.ln.Close()
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"no history", Options{Plan: Plan{Schedules: every1s("s"), Scan: scan}}, "no history"},
		{"no schedules", Options{History: store, Plan: Plan{Scan: scan}}, "no schedules"},
		{"bad spec", Options{History: store, Plan: Plan{Schedules: []Schedule{{Name: "s", Cron: "@sometimes"}}, Scan: scan}}, "bad cron spec"},
		{"no scan", Options{History: store, Plan: Plan{Schedules: every1s("s")}}, "no scan"},
		{"bad emit", Options{History: store, Plan: Plan{Schedules: every1s("s"), Scan: scan, Emit: "some"}}, "emit"},
		{"duplicate names", Options{History: store, Plan: Plan{Schedules: append(every1s("s"), every1s("s")...), Scan: scan}}, "used twice"},
		{"address in use", Options{History: store, Listen: busy.Addr().String(), Plan: Plan{Schedules: every1s("s"), Scan: scan}}, "listen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("New() error = %v; want %q", err, tt.wantErr)
			}
		})
	}
}

func TestReachLossReachesTheOutputs(t *testing.T) {
	t.Parallel()
	out := &recorder{}
	var calls atomic.Int32
	h := start(t, Options{Deliver: out, Plan: Plan{Schedules: every1s("s"), Scan: func(context.Context, agent.Scope) (*agent.Result, error) {
		r := sampleResult()
		if calls.Add(1) > 1 {
			for i := range r.Buckets {
				r.Buckets[i].Reachability = providers.Reachability{Failure: providers.FailHTTP403, Probe: "HeadBucket"}
			}
		}
		return r, nil
	}}})
	eventually(t, 5*time.Second, "two deliveries", func() bool { d, _, _ := out.snapshot(); return len(d) >= 2 })
	delivered, _, _ := out.snapshot()
	var found []string
	for _, f := range delivered[1].Findings {
		found = append(found, fmt.Sprintf("%s %s %s", f.Rule, f.Bucket, f.Severity))
	}
	if len(found) != 1 || found[0] != "BLK-005 * critical" {
		t.Errorf("second delivery = %v; want the provider-wide loss of reach", found)
	}
	if !strings.Contains(h.log.String(), "provider-wide loss of reach") {
		t.Error("loss of reach not logged")
	}
}

// A backlog in the spool is retried between runs.
func TestSpoolRetriedBetweenRuns(t *testing.T) {
	t.Parallel()
	out := &recorder{backlog: 3}
	h := start(t, Options{Deliver: out, FlushEvery: 100 * time.Millisecond, Plan: Plan{Schedules: []Schedule{{Name: "s", Cron: "@yearly"}},
		Scan: func(context.Context, agent.Scope) (*agent.Result, error) { return sampleResult(), nil }}})
	eventually(t, 3*time.Second, "flushes without a run", func() bool { _, f, _ := out.snapshot(); return f >= 3 })
	if len(h.runs()) != 0 {
		t.Error("a run happened")
	}
}

// A config that takes long to load does not hold up SIGTERM: the reload
// runs off the signal loop.
func TestSlowReloadDoesNotDelayShutdown(t *testing.T) {
	release := make(chan struct{})
	scan := func(context.Context, agent.Scope) (*agent.Result, error) { return sampleResult(), nil }
	h := start(t, Options{
		Plan:    Plan{Schedules: every1s("s"), Scan: scan, Emit: EmitAll},
		Deliver: &recorder{},
		Reload: func() (*Plan, error) {
			<-release
			return nil, errors.New("too slow to matter")
		},
	})
	defer close(release)
	h.sigs <- syscall.SIGHUP
	h.sigs <- syscall.SIGHUP // folded into the one running
	time.Sleep(100 * time.Millisecond)
	begin := time.Now()
	if err := h.stop(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(begin); took > 3*time.Second {
		t.Fatalf("SIGTERM took %v behind a slow reload", took)
	}
}

// TestPartialRunSaysWhy: a run that is partial because a provider did not
// answer gives the cause in the log and in the history (history list), and
// a finding the partial runs keep reporting is new only once.
func TestPartialRunSaysWhy(t *testing.T) {
	t.Parallel()
	out := &recorder{}
	var n atomic.Int32
	h := start(t, Options{Deliver: out, Plan: Plan{Schedules: every1s("s"),
		Scan: func(ctx context.Context, s agent.Scope) (*agent.Result, error) {
			r := sampleResult()
			if n.Add(1) == 1 {
				return r, nil // one complete run: the baseline
			}
			// Then the provider stops answering: a provider-wide finding
			// appears and stays.
			r.Errors = []agent.RunError{{Provider: "aws", Account: "111122223333", Op: "ListBuckets", Error: "dial tcp 127.0.0.1:1: connect: connection refused"}}
			r.Findings = append(r.Findings, risk.Finding{ID: "BLK-005:aws:111122223333:*", Rule: "BLK-005", Risk: risk.RiskBlock,
				Severity: risk.Critical, Status: risk.StatusOpen, Provider: "aws", Account: "111122223333", Bucket: "*"})
			r.Summary = agent.Summarise(r)
			return r, nil
		}}})
	eventually(t, 10*time.Second, "four runs recorded", func() bool { return len(h.runs()) >= 4 })
	h.stop(syscall.SIGTERM)
	runs := h.runs() // newest first
	for _, r := range runs[:len(runs)-1] {
		if r.Status != history.StatusPartial || !strings.Contains(r.Error, "connection refused") {
			t.Errorf("partial run %s records error %q; want the cause", r.ID, r.Error)
		}
	}
	if !strings.Contains(h.log.String(), "connection refused") {
		t.Errorf("the log does not give the partial run's cause:\n%s", h.log.String())
	}
	var list bytes.Buffer
	if err := history.WriteRuns(&list, runs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(list.String(), "connection refused") {
		t.Errorf("history list shows no cause:\n%s", list.String())
	}
	newCounts := []int{}
	for i := len(runs) - 1; i >= 0; i-- {
		newCounts = append(newCounts, runs[i].New)
	}
	if newCounts[1] != 1 || slices.Max(newCounts[2:]) != 0 {
		t.Errorf("new findings per run %v: the provider-wide finding is new once, then not again", newCounts)
	}
}

func TestRunOnStart(t *testing.T) {
	t.Parallel()
	var n atomic.Int32
	h := start(t, Options{Plan: Plan{Schedules: []Schedule{{Name: "nightly", Cron: "0 2 * * *", RunOnStart: true}, {Name: "weekly", Cron: "0 3 * * 0"}},
		Scan: func(ctx context.Context, s agent.Scope) (*agent.Result, error) { n.Add(1); return sampleResult(), nil }}})
	eventually(t, 5*time.Second, "the run on start recorded", func() bool { return len(h.runs()) >= 1 })
	time.Sleep(300 * time.Millisecond)
	runs := h.runs()
	if len(runs) != 1 || runs[0].Schedule != "nightly" || n.Load() != 1 {
		t.Errorf("runs %+v (%d scans); want one run of nightly only", runs, n.Load())
	}
}
