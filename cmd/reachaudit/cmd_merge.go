package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/config"
)

func newMergeCmd() *cobra.Command {
	var cfgPath string
	var o outputFlags
	cmd := &cobra.Command{
		Use:   "merge FILE|DIR...",
		Short: "Join the JSON results of a sharded scan's shards into one run and render it",
		Long: `merge reads the JSON results of every shard of one run ('scan --shard K/N
--format json'; a directory stands for the *.json files in it), refuses shards
of different runs and a shard missing or given twice (exit 2), and writes the
run's document as one full scan would have: copies whose destination another
shard scanned are completed, the findings and the summary are judged over the
whole estate. With --config, the merged findings go to the config's outputs,
which the shards left alone.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.check(); err != nil {
				return err
			}
			var cfg *config.Config
			if cfgPath != "" {
				var err error
				if cfg, err = config.Load(cfgPath, nil); err != nil {
					return err
				}
			}
			files, err := shardFiles(args)
			if err != nil {
				return usageError{err}
			}
			shards := make([]*agent.Result, 0, len(files))
			for _, f := range files {
				r, err := readResult(f)
				if err != nil {
					return usageError{err}
				}
				shards = append(shards, r)
			}
			r, err := agent.Merge(shards)
			var me *agent.MergeError
			if errors.As(err, &me) {
				return usageError{fmt.Errorf("%w\n%s", err, describeShards(files, shards))}
			} else if err != nil {
				return err
			}
			// Scenarios are judged over the whole estate, as findings are:
			// a copy in another shard may save a bucket.
			if err := r.EvaluateScenarios(); err != nil {
				return usageError{fmt.Errorf("merged run's scenarios: %w", err)}
			}
			if cfg != nil {
				log, err := newLogger(logLevelFlag(cmd), cfg.Log.Format)
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
				// The merged report is written whatever delivery did; a
				// loss fails the command after it.
				deliverErr := deliver(cmd.Context(), outs, r, log)
				if err := o.render(r); err != nil && (deliverErr == nil || !isFindings(err)) {
					return errors.Join(deliverErr, err)
				}
				return deliverErr
			}
			return o.render(r)
		},
	}
	cmd.Flags().StringVarP(&cfgPath, "config", "c", "", "config file whose outputs get the merged findings")
	o.add(cmd)
	cmd.Flags().BoolVar(&o.allowPartial, "allow-partial", false,
		"exit by --fail-on when some asked-for accounts could not be listed in the run (their UNK-002 findings count), instead of 1")
	return cmd
}

// shardFiles expands the arguments: a file stands for itself, a directory
// for the *.json files in it.
func shardFiles(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		m, err := filepath.Glob(filepath.Join(a, "*.json"))
		if err != nil {
			return nil, err
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("%s: no *.json shard results in the directory", a)
		}
		sort.Strings(m)
		files = append(files, m...)
	}
	return files, nil
}

// readResult decodes one JSON result document, streaming from the file.
func readResult(path string) (*agent.Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var r agent.Result
	if err := json.NewDecoder(f).Decode(&r); err != nil {
		return nil, fmt.Errorf("%s: not a reachaudit JSON result: %w", path, err)
	}
	if r.Schema != agent.Schema {
		return nil, fmt.Errorf("%s: schema %q, want %q (write shards with --format json)", path, r.Schema, agent.Schema)
	}
	return &r, nil
}

// describeShards says which file holds which run and shard, for a merge
// that refuses them.
func describeShards(files []string, shards []*agent.Result) string {
	var b strings.Builder
	for i, r := range shards {
		sh := "not a shard"
		if r.Shard != nil {
			sh = "shard " + r.Shard.String()
		}
		fmt.Fprintf(&b, "  %s: run %s, %s\n", files[i], r.RunID, sh)
	}
	return strings.TrimRight(b.String(), "\n")
}
