package schedule_test

import (
	"context"
	"log/slog"
	"time"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/history"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/agent/schedule"
	"github.com/reachaudit/reachaudit/providers"
)

// Wiring an agent: metrics first (the scan reports its API calls to them),
// then the history, then Run until SIGTERM.
func Example() {
	ctx := context.Background()
	var configured map[string]providers.Config // from the config file
	metrics := schedule.NewMetrics()
	store, err := history.Open(ctx, "/var/lib/reachaudit/history.db")
	if err != nil {
		slog.Error("history", "err", err)
		return
	}
	defer store.Close()

	err = schedule.Run(ctx, schedule.Options{
		Plan: schedule.Plan{
			Schedules: []schedule.Schedule{{Name: "nightly", Cron: "CRON_TZ=UTC 0 2 * * *", Timeout: 30 * time.Minute}},
			Scan: func(ctx context.Context, scope agent.Scope) (*agent.Result, error) {
				return agent.Scan(ctx, agent.ScanConfig{
					Providers: configured, Policy: risk.DefaultPolicy(), Scope: scope, Observe: metrics.Observe,
				})
			},
			Emit:     schedule.EmitChanges,
			KeepDays: 90,
		},
		History: store,
		Listen:  "127.0.0.1:9464",
		Metrics: metrics,
	})
	if err != nil {
		slog.Error("agent", "err", err)
	}
}
