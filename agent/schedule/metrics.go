package schedule

import (
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/history"
	"github.com/reachaudit/reachaudit/agent/risk"
)

// Metrics are the agent's Prometheus metrics, in a registry of their own
// (no global state, so tests and several agents in one process do not
// collide). Create them before the providers, so that their calls can be
// observed: pass Observe to providers.NewCalls.
type Metrics struct {
	reg         *prometheus.Registry
	runs        *prometheus.CounterVec
	duration    prometheus.Histogram
	buckets     *prometheus.GaugeVec
	findings    *prometheus.GaugeVec
	apiCalls    *prometheus.CounterVec
	apiErrors   *prometheus.CounterVec
	apiDuration *prometheus.HistogramVec
	lastSuccess prometheus.Gauge
	reloads     *prometheus.CounterVec
	backlog     atomic.Pointer[func() int]
}

// NewMetrics registers the agent's metrics and the Go and process
// collectors in a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reachaudit_runs_total", Help: "Scheduled runs by result (ok, partial, failed).",
		}, []string{"result"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "reachaudit_run_duration_seconds", Help: "Duration of scheduled runs.",
			Buckets: []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600},
		}),
		buckets: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "reachaudit_buckets", Help: "Buckets in the latest run by provider and data country (a bucket in several countries counts in each).",
		}, []string{"provider", "country"}),
		findings: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "reachaudit_findings", Help: "Open findings in the latest run by risk, severity and provider.",
		}, []string{"risk", "severity", "provider"}),
		apiCalls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reachaudit_api_calls_total", Help: "Provider API calls by provider and operation.",
		}, []string{"provider", "op"}),
		apiErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reachaudit_api_errors_total", Help: "Provider API calls that failed, by provider and operation.",
		}, []string{"provider", "op"}),
		apiDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "reachaudit_api_call_duration_seconds", Help: "Provider API call latency by provider.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"provider"}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "reachaudit_last_success_timestamp_seconds", Help: "Unix time the last complete (ok) run finished.",
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "reachaudit_reloads_total", Help: "Configuration reloads by result (ok, refused).",
		}, []string{"result"}),
	}
	backlog := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "reachaudit_spool_backlog", Help: "Findings waiting in the output spool for a sink that is down.",
	}, func() float64 {
		if f := m.backlog.Load(); f != nil {
			return float64((*f)())
		}
		return 0
	})
	for _, r := range []history.Status{history.StatusOK, history.StatusPartial, history.StatusFailed} {
		m.runs.WithLabelValues(string(r))
	}
	m.reloads.WithLabelValues("ok")
	m.reloads.WithLabelValues("refused")
	m.reg.MustRegister(m.runs, m.duration, m.buckets, m.findings, m.apiCalls, m.apiErrors, m.apiDuration,
		m.lastSuccess, m.reloads, backlog,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Observe records one provider API call; its signature is the one
// providers.NewCalls takes.
func (m *Metrics) Observe(provider, op string, d time.Duration, err error) {
	m.apiCalls.WithLabelValues(provider, op).Inc()
	if err != nil {
		m.apiErrors.WithLabelValues(provider, op).Inc()
	}
	m.apiDuration.WithLabelValues(provider).Observe(d.Seconds())
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry is the registry the metrics live in.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

func (m *Metrics) setBacklog(f func() int) { m.backlog.Store(&f) }

// observeRun records a finished run. The bucket and finding gauges show
// the latest run that has a result.
func (m *Metrics) observeRun(status history.Status, took time.Duration, res *agent.Result) {
	m.runs.WithLabelValues(string(status)).Inc()
	m.duration.Observe(took.Seconds())
	if status == history.StatusOK {
		m.lastSuccess.SetToCurrentTime()
	}
	if res == nil {
		return
	}
	m.buckets.Reset()
	for _, b := range res.Buckets {
		if len(b.Countries) == 0 {
			m.buckets.WithLabelValues(b.Provider, "unknown").Inc()
		}
		for _, c := range b.Countries {
			m.buckets.WithLabelValues(b.Provider, c).Inc()
		}
	}
	m.findings.Reset()
	for _, f := range res.Findings {
		if f.Status == risk.StatusOpen {
			m.findings.WithLabelValues(f.Risk, f.Severity.String(), f.Provider).Inc()
		}
	}
}
