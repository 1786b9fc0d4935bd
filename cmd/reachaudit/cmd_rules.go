package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/reachaudit/reachaudit/agent/risk"
)

func newRulesCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "Print the rule catalogue",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rules := risk.Rules()
			switch format {
			case "json":
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rules)
			case "table":
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "RULE\tRISK\tSEVERITY\tFIRES WHEN")
				for _, r := range rules {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.ID, r.Risk, r.SeverityLabel(), r.Title)
				}
				return tw.Flush()
			}
			return usageError{fmt.Errorf("--format %q: want table or json", format)}
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "table or json")
	return cmd
}
