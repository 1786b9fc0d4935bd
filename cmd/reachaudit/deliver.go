package main

import (
	"context"
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

// deliver sends one scan's findings to the config's outputs and records
// how each fared in the result. Findings an output could not take stay in
// its spool for the next run; only findings the spool had to drop fail the
// command.
func deliver(ctx context.Context, cfg *config.Config, r *agent.Result, log *slog.Logger) error {
	set, err := openOutputs(cfg, log)
	if err != nil || set == nil {
		return err
	}
	defer set.Close()
	r.Summary.Delivery = set.Deliver(ctx, r)
	dropped := 0
	for _, d := range r.Summary.Delivery {
		if d.Error != "" {
			log.Warn("output did not take every finding; the rest is spooled for the next run",
				"output", d.Output, "delivered", d.Delivered, "spooled", d.Spooled, "err", d.Error)
		}
		dropped += d.Dropped
	}
	if dropped > 0 {
		return fmt.Errorf("%d finding(s) dropped: an output's spool is full (see summary.delivery)", dropped)
	}
	return nil
}
