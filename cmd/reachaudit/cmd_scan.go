package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/config"
)

func newScanCmd() *cobra.Command {
	var cfgPath string
	var o outputFlags
	cmd := &cobra.Command{
		Use:   "scan --config FILE",
		Short: "Audit the clouds the config names, with each SDK's own credential chain",
		Long: `scan audits every provider in the config once, renders the report, and delivers
the findings to the config's outputs. A provider's endpoint may point at a VPC
endpoint, at MinIO, or at 'reachaudit sandbox serve'; 'sandbox.estate' in the
config audits an in-process sandbox instead of the clouds.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfgPath == "" {
				return usageError{errNoConfig}
			}
			if err := o.check(); err != nil {
				return err
			}
			cfg, err := config.Load(cfgPath, nil)
			if err != nil {
				return err
			}
			level := logLevelFlag(cmd)
			if level == "" {
				level = cfg.Log.Level
			}
			log, err := newLogger(level, cfg.Log.Format)
			if err != nil {
				return err
			}
			outs, err := openOutputs(cfg, log)
			if err != nil {
				return err
			}
			if outs != nil {
				defer outs.Close()
			}
			sc, closeSandbox, err := scanConfig(cmd.Context(), cfg, log)
			if err != nil {
				return err
			}
			defer closeSandbox()
			o.applyScenarios(&sc.Policy)
			sc.Progress = progress()
			r, err := agent.Scan(cmd.Context(), sc)
			if err != nil {
				return err
			}
			// The report is written whatever delivery did, and carries its
			// account (summary.delivery); a loss fails the command after it.
			deliverErr := deliver(cmd.Context(), outs, r, log)
			if err := o.render(r); err != nil && (deliverErr == nil || !isFindings(err)) {
				return errors.Join(deliverErr, err)
			}
			return deliverErr
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "config file (YAML)")
	o.add(cmd)
	cmd.Flags().BoolVar(&o.allowPartial, "allow-partial", false,
		"exit by --fail-on when some asked-for accounts could not be listed (their UNK-002 findings count), instead of 1")
	return cmd
}
