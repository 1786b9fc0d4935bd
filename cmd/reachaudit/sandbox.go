package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/config"
	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/sandbox"
)

var errNoConfig = errors.New("--config FILE is required")

// scanConfig builds the scan of a config: its providers, or those of an
// in-process sandbox when the config names an estate (whose declarations
// join the config's own). The returned func stops the sandbox.
func scanConfig(ctx context.Context, cfg *config.Config, log *slog.Logger) (agent.ScanConfig, func(), error) {
	sc := agent.ScanConfig{
		Providers:    cfg.Providers,
		Policy:       cfg.Policy,
		Copies:       cfg.Copies,
		CustomerKeys: cfg.CustomerKeys,
		Contracts:    cfg.Contracts,
		Limits:       cfg.Limits,
		Logger:       log,
		Now:          clock,
	}
	if cfg.Sandbox.Estate == "" {
		return sc, func() {}, nil
	}
	est, err := sandbox.LoadEstateFile(cfg.Sandbox.Estate)
	if err != nil {
		return sc, nil, err
	}
	sb, err := startSandbox(ctx, est, &sc, sandbox.Options{Logger: log, Latency: cfg.Sandbox.Latency, Now: clock()})
	if err != nil {
		return sc, nil, err
	}
	return sc, func() { sb.Close() }, nil
}

// loadEstate reads an estate file, or the built-in demo estate when path is
// empty.
func loadEstate(path string) (*sandbox.Estate, error) {
	if path == "" {
		return sandbox.Demo()
	}
	return sandbox.LoadEstateFile(path)
}

// startSandbox serves an estate and points the scan at it.
func startSandbox(ctx context.Context, est *sandbox.Estate, sc *agent.ScanConfig, opts sandbox.Options) (*sandbox.Sandbox, error) {
	d := est.Declarations()
	for _, c := range d.Copies {
		for _, u := range []string{c.From, c.To} {
			if _, _, err := providers.ParseBucketURI(u); err != nil {
				return nil, usageError{fmt.Errorf("estate copies: %w", err)}
			}
		}
		sc.Copies = append(sc.Copies, agent.DeclaredCopy{From: c.From, To: c.To})
	}
	sc.CustomerKeys = append(sc.CustomerKeys, d.CustomerKeys...)
	sc.Contracts = sc.Contracts.Merge(d.Contracts)
	sb, err := sandbox.Start(ctx, est, opts)
	if err != nil {
		return nil, err
	}
	sc.Providers = sb.Configs()
	return sb, nil
}
