package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/config"
	"github.com/reachaudit/reachaudit/reports"
	"github.com/reachaudit/reachaudit/reports/outputs"
)

// openOutputs opens the config's outputs with their spools beside the
// history database (or in the user cache directory when there is none).
// It runs before the scan: a missing token or an unwritable spool is bad
// config (exit 2) found in a second, not after an hour of scanning.
func openOutputs(cfg *config.Config, log *slog.Logger) (*outputs.Set, error) {
	if len(cfg.Outputs) == 0 {
		return nil, nil
	}
	opts := outputs.Options{Encode: reports.Options{Version: version}, Logger: log}
	if cfg.History.Path != "" {
		opts.SpoolDir = filepath.Join(filepath.Dir(cfg.History.Path), "spool")
	}
	set, err := outputs.Open(cfg.Outputs, opts)
	if err != nil {
		return nil, usageError{fmt.Errorf("%s: %w", cfg.File, err)}
	}
	return set, nil
}

// errDropped marks findings an output could neither deliver nor spool:
// the command fails (exit 1), after the report is written.
var errDropped = errors.New("findings dropped")

// deliver sends one scan's findings to the opened outputs (set may be nil)
// and records how each fared in the result's summary.delivery. Findings an
// output could not take stay in its spool for the next run; only findings
// lost (a full or failing spool, a corrupt spool record) fail the command,
// and never before the caller has written the report.
func deliver(ctx context.Context, set *outputs.Set, r *agent.Result, log *slog.Logger) error {
	if set == nil {
		return nil
	}
	r.Summary.Delivery = set.Deliver(ctx, r)
	dropped := 0
	for _, d := range r.Summary.Delivery {
		if d.Error != "" {
			log.Warn("output did not take every finding; the rest is spooled for the next run",
				"output", d.Output, "delivered", d.Delivered, "spooled", d.Spooled, "dropped", d.Dropped, "err", d.Error)
		}
		dropped += d.Dropped
	}
	if dropped > 0 {
		return fmt.Errorf("%w: %d finding(s) could neither be delivered nor kept in a spool (see summary.delivery)", errDropped, dropped)
	}
	return nil
}
