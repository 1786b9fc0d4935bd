package main

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"regexp"

	"github.com/spf13/cobra"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/config"
)

// runIDEnv names the run of a sharded scan when --run-id is not given: in
// a Kubernetes Indexed Job every pod reads it from the Job's name.
const runIDEnv = "REACHAUDIT_RUN_ID"

func newScanCmd() *cobra.Command {
	var cfgPath, shardFlag, runID string
	var o outputFlags
	cmd := &cobra.Command{
		Use:   "scan --config FILE",
		Short: "Audit the clouds the config names, with each SDK's own credential chain",
		Long: `scan audits every provider in the config once, renders the report, and delivers
the findings to the config's outputs. A provider's endpoint may point at a VPC
endpoint, at MinIO, or at 'reachaudit sandbox serve'; 'sandbox.estate' in the
config audits an in-process sandbox instead of the clouds.

With --shard K/N (or shard:, or shards: N and JOB_COMPLETION_INDEX as a
Kubernetes Indexed Job sets it) the scan covers only the accounts whose
stable hash falls in shard K of N, and names the run with --run-id (or
REACHAUDIT_RUN_ID), which every shard of the run shares; 'reachaudit merge'
joins the shards' JSON results into the run's document. A shard delivers
nothing to the outputs: the merge does, once the whole estate is judged.`,
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
			if sc.Scope.Shard, err = cfg.ScanShard(shardFlag, nil); err != nil {
				return usageError{err}
			}
			sc.RunID = cmp.Or(runID, os.Getenv(runIDEnv))
			if err := checkRunID(sc.RunID, sc.Scope.Shard); err != nil {
				return err
			}
			r, err := agent.Scan(cmd.Context(), sc)
			if err != nil {
				return err
			}
			// The report is written whatever delivery did, and carries its
			// account (summary.delivery); a loss fails the command after it.
			// A shard delivers nothing: the outputs get the findings from
			// 'reachaudit merge', judged over the whole estate.
			var deliverErr error
			if r.Shard == nil {
				deliverErr = deliver(cmd.Context(), outs, r, log)
			} else if outs != nil {
				log.Info("shard scanned; the outputs get the findings from 'reachaudit merge'", "shard", r.Shard.String(), "run", r.RunID)
			}
			if err := o.render(r); err != nil && (deliverErr == nil || !isFindings(err)) {
				return errors.Join(deliverErr, err)
			}
			return deliverErr
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "config file (YAML)")
	cmd.Flags().StringVar(&shardFlag, "shard", "", "scan only shard K of N (K from 0 to N-1) of the accounts, e.g. 0/4")
	cmd.Flags().StringVar(&runID, "run-id", "", "the run's id, shared by its shards (default: $"+runIDEnv+", or a new one)")
	o.add(cmd)
	cmd.Flags().BoolVar(&o.allowPartial, "allow-partial", false,
		"exit by --fail-on when some asked-for accounts could not be listed (their UNK-002 findings count), instead of 1")
	return cmd
}

// runIDPattern keeps a given run id to what file names, labels and logs
// carry safely (a Kubernetes Job name fits).
var runIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)

// checkRunID refuses a malformed run id, and a shard without one: shards
// that each made up their own run id could never be merged.
func checkRunID(id string, sh agent.Shard) error {
	switch {
	case id != "" && !runIDPattern.MatchString(id):
		return usageError{fmt.Errorf("run id %q: want up to 128 letters, digits, '.', '_', ':' or '-'", id)}
	case id == "" && !sh.Whole():
		return usageError{fmt.Errorf("shard %s needs the run's id, shared by every shard: give --run-id or %s", sh, runIDEnv)}
	}
	return nil
}
