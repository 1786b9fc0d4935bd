package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/config"
	"github.com/reachaudit/reachaudit/internal/atomicfile"
	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/sandbox"
	"github.com/reachaudit/reachaudit/reports/renewal"
)

func newRenewalCmd() *cobra.Command {
	var provider, account, cfgPath, estate, policy, format, out string
	cmd := &cobra.Command{
		Use:   "renewal --provider P [--account GLOB] (--config FILE | [--estate FILE] [--policy FILE])",
		Short: "The pack for a contract renewal with one provider: summary, buckets, legal bases, questions, evidence",
		Long: `renewal scans one provider (the config's, or the demo sandbox's without --config)
and writes the pack a person takes to a contract renewal with it: a one-page
summary (data held, countries, custody, worst findings, contract and notice
period), every account and bucket, the legal bases the findings cite,
questions for the provider generated from what the scan found, and an evidence
appendix (when the scan ran, which APIs and accounts it read, what it could
not read). HTML prints on A4.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if provider == "" {
				return usageError{fmt.Errorf("--provider is required: one of %s", strings.Join(providers.Names(), ", "))}
			}
			if _, ok := providers.Lookup(provider); !ok {
				return usageError{fmt.Errorf("--provider %q: want one of %s", provider, strings.Join(providers.Names(), ", "))}
			}
			if !slices.Contains(renewal.Formats, format) {
				return usageError{fmt.Errorf("--format %q: want one of %s", format, strings.Join(renewal.Formats, ", "))}
			}
			if cfgPath != "" && (estate != "" || policy != "") {
				return usageError{fmt.Errorf("give --config, or the demo's --estate and --policy, not both")}
			}
			r, err := renewalScan(cmd, provider, cfgPath, estate, policy)
			if err != nil {
				return err
			}
			pack, err := renewal.Build(r, provider, renewal.Options{AccountGlob: account})
			if err != nil {
				return usageError{err}
			}
			write := func(w io.Writer) error { return renewal.Encode(w, format, pack, version) }
			if out == "" {
				return write(os.Stdout)
			}
			return atomicfile.Write(out, write)
		},
	}
	cmd.Flags().StringVar(&provider, "provider", "", "the provider whose contract is up: "+strings.Join(providers.Names(), ", "))
	cmd.Flags().StringVar(&account, "account", "", "only the accounts matching this glob")
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "config file (YAML); without it, the demo sandbox")
	cmd.Flags().StringVar(&estate, "estate", "", "demo: estate file to serve instead of the built-in demo estate")
	cmd.Flags().StringVar(&policy, "policy", "", "demo: policy file (default: the demo policy, or us-adversary with --estate)")
	cmd.Flags().StringVar(&format, "format", "md", "output format: "+strings.Join(renewal.Formats, ", "))
	cmd.Flags().StringVarP(&out, "out", "o", "", "write the pack to this file (written atomically) instead of stdout")
	return cmd
}

// renewalScan scans the one provider, from the config or the demo sandbox.
func renewalScan(cmd *cobra.Command, provider, cfgPath, estate, policy string) (*agent.Result, error) {
	scope := agent.Scope{Providers: []string{provider}}
	if cfgPath != "" {
		cfg, err := config.Load(cfgPath, nil)
		if err != nil {
			return nil, err
		}
		level := logLevelFlag(cmd)
		if level == "" {
			level = cfg.Log.Level
		}
		log, err := newLogger(level, cfg.Log.Format)
		if err != nil {
			return nil, err
		}
		sc, closeSandbox, err := scanConfig(cmd.Context(), cfg, log)
		if err != nil {
			return nil, err
		}
		defer closeSandbox()
		if _, ok := sc.Providers[provider]; !ok {
			return nil, usageError{fmt.Errorf("%s: provider %s is not configured", cfgPath, provider)}
		}
		sc.Scope, sc.Progress = scope, progress()
		return agent.Scan(cmd.Context(), sc)
	}
	log, err := newLogger(logLevelFlag(cmd), "")
	if err != nil {
		return nil, err
	}
	est, err := loadEstate(estate)
	if err != nil {
		return nil, err
	}
	pol, err := demoPolicy(estate, policy)
	if err != nil {
		return nil, err
	}
	sc := agent.ScanConfig{Policy: pol, Logger: log, Now: clock, Scope: scope}
	sb, err := startSandbox(cmd.Context(), est, &sc, sandbox.Options{Logger: log, Now: clock()})
	if err != nil {
		return nil, err
	}
	defer sb.Close()
	sc.Progress = progress()
	return agent.Scan(cmd.Context(), sc)
}
