package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/reachaudit/reachaudit/agent/config"
	"github.com/reachaudit/reachaudit/agent/history"
)

// historyFlags locate the history database: --db (SQLite), --dsn
// (PostgreSQL), or the config's history.
type historyFlags struct {
	db, dsn, config string
}

func (h *historyFlags) add(cmd *cobra.Command) {
	cmd.PersistentFlags().StringVar(&h.db, "db", "", "history database file (SQLite)")
	cmd.PersistentFlags().StringVar(&h.dsn, "dsn", "", "history database URL, postgres://user@host/db (password from PGPASSWORD or ~/.pgpass)")
	cmd.PersistentFlags().StringVarP(&h.config, "config", "c", "", "config file whose history (path or dsn) to read")
}

func (h *historyFlags) open(cmd *cobra.Command) (*history.Store, error) {
	var hc config.History
	switch {
	case h.db != "" && h.dsn != "":
		return nil, usageError{fmt.Errorf("give --db or --dsn, not both")}
	case h.db != "":
		hc.Path = h.db
	case h.dsn != "":
		hc.DSN = h.dsn
	case h.config != "":
		cfg, err := config.Load(h.config, nil)
		if err != nil {
			return nil, err
		}
		hc = cfg.History
	}
	if !hc.Configured() {
		return nil, usageError{fmt.Errorf("give --db FILE, --dsn URL or --config FILE with history.path or history.dsn")}
	}
	return openHistory(cmd.Context(), hc, true)
}

// openHistory opens the history a config names: SQLite at path, or
// PostgreSQL at dsn with the password from password_env or password_file.
// Readers open it read-only.
func openHistory(ctx context.Context, h config.History, readOnly bool) (*history.Store, error) {
	if h.Path != "" {
		if readOnly {
			return history.OpenReadOnly(ctx, h.Path)
		}
		return history.Open(ctx, h.Path)
	}
	pw, err := h.Password()
	if err != nil {
		return nil, usageError{err}
	}
	if readOnly {
		return history.OpenPostgresReadOnly(ctx, h.DSN, pw)
	}
	return history.OpenPostgres(ctx, h.DSN, pw)
}

func newHistoryCmd() *cobra.Command {
	var h historyFlags
	cmd := &cobra.Command{
		Use:   "history",
		Short: "Read the agent's run history: list runs, show one, diff two",
	}
	h.add(cmd)
	cmd.AddCommand(newHistoryListCmd(&h), newHistoryShowCmd(&h), newHistoryDiffCmd(&h))
	return cmd
}

func newHistoryListCmd(h *historyFlags) *cobra.Command {
	var limit int
	var format string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List runs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			store, err := h.open(cmd)
			if err != nil {
				return err
			}
			defer store.Close()
			runs, err := store.List(cmd.Context(), limit)
			if err != nil {
				return err
			}
			return writeAs(cmd.OutOrStdout(), format, runs, func(w io.Writer) error { return history.WriteRuns(w, runs) })
		},
	}
	cmd.Flags().IntVarP(&limit, "limit", "n", 20, "at most this many runs (0: all)")
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	return cmd
}

func newHistoryShowCmd(h *historyFlags) *cobra.Command {
	var o outputFlags
	cmd := &cobra.Command{
		Use:   "show RUN",
		Short: "Render a stored run in any report format (RUN may be a unique prefix)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.check(); err != nil {
				return err
			}
			store, err := h.open(cmd)
			if err != nil {
				return err
			}
			defer store.Close()
			run, err := store.Get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if run.Result == nil {
				return fmt.Errorf("run %s failed and has no result: %s", run.ID, run.Error)
			}
			// The run's coverage was judged when it ran; showing it again
			// fails only for a run that audited nothing.
			o.allowPartial = true
			return o.render(run.Result)
		},
	}
	o.add(cmd)
	return cmd
}

func newHistoryDiffCmd(h *historyFlags) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "diff [RUN_A] [RUN_B]",
		Short: "Show what changed between two runs (default: the newest run and its baseline)",
		Long: `diff compares two runs. With RUN_A and RUN_B, those two. With RUN_A alone, that
run and its baseline: the run it was compared with when it was recorded. With
none, the newest run that has a result and its baseline. A run's baseline is its
schedule's newest complete run before it (partial runs are not baselines, since
what they missed would come back as new), so the runs compared need not be
neighbours: the first lines say which runs are compared and why.`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			store, err := h.open(cmd)
			if err != nil {
				return err
			}
			defer store.Close()
			var a, b string
			if len(args) > 0 {
				a = args[0]
			}
			if len(args) > 1 {
				b = args[1]
			}
			from, to, err := store.Pair(cmd.Context(), a, b)
			if err != nil {
				return err
			}
			d := history.Diff(from.Result, to.Result)
			if format == "table" {
				fmt.Fprintf(cmd.OutOrStdout(), "comparing %s (%s, %s) with %s (%s, %s): %s\n",
					from.ID, from.Status, from.StartedAt.UTC().Format(time.RFC3339),
					to.ID, to.Status, to.StartedAt.UTC().Format(time.RFC3339), pairReason(a, b))
			}
			return writeAs(cmd.OutOrStdout(), format, d, func(w io.Writer) error { return history.WriteDrift(w, &d) })
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	return cmd
}

// writeAs writes v as indented JSON, or through table for "table".
func writeAs(w io.Writer, format string, v any, table func(io.Writer) error) error {
	switch format {
	case "table":
		return table(w)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	return usageError{fmt.Errorf("--format %q: want table or json", format)}
}

// pairReason says why `history diff` compares the runs it does.
func pairReason(a, b string) string {
	switch {
	case a != "" && b != "":
		return "the two runs named"
	case a != "":
		return "the run named and its baseline (its schedule's newest complete run before it)"
	}
	return "the newest run with a result and its baseline (its schedule's newest complete run before it; partial runs are skipped as baselines)"
}
