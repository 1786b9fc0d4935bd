package main

import (
	"context"
	"log/slog"
	"reflect"
	"sync"

	"github.com/spf13/cobra"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/config"
	"github.com/reachaudit/reachaudit/agent/schedule"
	"github.com/reachaudit/reachaudit/internal/yamlfile"
)

func newAgentCmd() *cobra.Command {
	var cfgPath string
	cmd := &cobra.Command{
		Use:   "agent --config FILE",
		Short: "Run the config's schedules until SIGTERM, keeping history and feeding the outputs",
		Long: `agent runs every schedule of the config, records each run in the history
database, sends the findings (or only what changed, with emit: changes) to the
outputs, and serves /healthz, /readyz and /metrics on the listen address.
SIGHUP reloads the config (a config that does not load is refused and the
running one kept); SIGTERM lets a running scan finish within a grace period,
flushes the outputs and exits 0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfgPath == "" {
				return usageError{errNoConfig}
			}
			cfg, err := config.Load(cfgPath, nil)
			if err != nil {
				return err
			}
			if err := cfg.ForAgent(); err != nil {
				return err
			}
			level := logLevelFlag(cmd)
			if level == "" {
				level = cfg.Log.Level
			}
			if level == "" {
				level = "info"
			}
			log, err := newLogger(level, cfg.Log.Format)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			store, err := openHistory(ctx, cfg.History, false)
			if err != nil {
				field := "history.path"
				if cfg.History.DSN != "" {
					field = "history.dsn"
				}
				return &yamlfile.Error{File: cfg.File, Field: field, Msg: err.Error()}
			}
			defer store.Close()
			outs, err := openOutputs(cfg, log)
			if err != nil {
				return err
			}
			warnReplacedFiles(cfg, log)
			metrics := schedule.NewMetrics()
			plans := &planner{log: log, metrics: metrics}
			defer plans.close()
			// Sandboxes live until the process ends, not until the signal
			// that starts the shutdown: a scan in its grace period still
			// needs them.
			sbCtx := context.WithoutCancel(ctx)
			plan, err := plans.build(sbCtx, cfg)
			if err != nil {
				return err
			}
			opts := schedule.Options{
				Plan:    *plan,
				History: store,
				Listen:  cfg.Listen,
				Metrics: metrics,
				Logger:  log,
				Reload: func() (*schedule.Plan, error) {
					next, err := config.Load(cfgPath, nil)
					if err != nil {
						return nil, err
					}
					if err := next.ForAgent(); err != nil {
						return nil, err
					}
					if next.History.Path != cfg.History.Path || next.History.DSN != cfg.History.DSN || next.Listen != cfg.Listen || !reflect.DeepEqual(next.Outputs, cfg.Outputs) {
						log.Warn("history.path, history.dsn, listen and outputs change only on restart; the running ones stay")
					}
					return plans.build(sbCtx, next)
				},
			}
			if outs != nil {
				opts.Deliver = outs
			}
			return schedule.Run(ctx, opts)
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "config file (YAML)")
	return cmd
}

// planner turns configs into the scheduler's plans; it owns the sandboxes
// that configs with `sandbox.estate` start, until the process ends (a scan
// of the previous plan may still be using one after a reload).
type planner struct {
	log     *slog.Logger
	metrics *schedule.Metrics

	mu    sync.Mutex
	stops []func()
}

func (p *planner) build(ctx context.Context, cfg *config.Config) (*schedule.Plan, error) {
	sc, stop, err := scanConfig(ctx, cfg, p.log)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.stops = append(p.stops, stop)
	p.mu.Unlock()
	sc.Observe = p.metrics.Observe
	return &schedule.Plan{
		Schedules: cfg.Schedules,
		Scan: func(ctx context.Context, scope agent.Scope) (*agent.Result, error) {
			run := sc
			run.Scope = scope
			return agent.Scan(ctx, run)
		},
		Emit:     cfg.Emit,
		KeepRuns: cfg.History.KeepRuns,
		KeepDays: cfg.History.KeepDays,
	}, nil
}

func (p *planner) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, stop := range p.stops {
		stop()
	}
}

// warnReplacedFiles says at start what emit: changes does to a file output:
// each delivery rewrites it, so it holds the latest changes only.
func warnReplacedFiles(cfg *config.Config, log *slog.Logger) {
	if cfg.Emit != config.EmitChanges {
		return
	}
	for _, o := range cfg.Outputs {
		if o.Type == "file" {
			log.Warn("emit: changes rewrites this file output with each run's changes only; earlier runs' findings stay in the history (history show), or use emit: all", "path", o.Path)
		}
	}
}
