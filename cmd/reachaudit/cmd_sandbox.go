package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/spf13/cobra"

	"github.com/reachaudit/reachaudit/internal/atomicfile"
	"github.com/reachaudit/reachaudit/providers/sandbox"
)

func newSandboxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Serve cloud API emulators seeded from an estate file",
	}
	cmd.AddCommand(newSandboxServeCmd(), newSandboxEstateCmd())
	return cmd
}

func newSandboxServeCmd() *cobra.Command {
	var estate, configOut, envOut string
	var latency time.Duration
	cmd := &cobra.Command{
		Use:   "serve [--estate FILE]",
		Short: "Serve the emulators on 127.0.0.1 until interrupted, printing a config that scans them",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := newLogger(logLevelFlag(cmd), "")
			if err != nil {
				return err
			}
			est, err := loadEstate(estate)
			if err != nil {
				return err
			}
			sb, err := sandbox.Start(cmd.Context(), est, sandbox.Options{Logger: log, Latency: latency, Now: clock()})
			if err != nil {
				return err
			}
			defer sb.Close()
			out := cmd.OutOrStdout()
			servers := sb.Servers()
			names := make([]string, 0, len(servers))
			for n := range servers {
				names = append(names, n)
			}
			sort.Strings(names)
			fmt.Fprintln(out, "# Endpoints:")
			for _, n := range names {
				eps := servers[n].Endpoints()
				keys := make([]string, 0, len(eps))
				for k := range eps {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					fmt.Fprintf(out, "#   %s %s: %s\n", n, k, eps[k])
				}
			}
			cfg := map[string]any{"providers": sb.Configs()}
			if d := est.Declarations(); len(d.Copies) > 0 || len(d.CustomerKeys) > 0 || len(d.Contracts) > 0 {
				cfg["copies"], cfg["customer_keys"], cfg["contracts"] = d.Copies, d.CustomerKeys, d.Contracts
			}
			y, err := yaml.MarshalWithOptions(cfg, yaml.OmitEmpty())
			if err != nil {
				return err
			}
			var env []string
			for _, n := range names {
				if ce, ok := servers[n].(interface{ Env() []string }); ok {
					env = append(env, ce.Env()...)
				}
			}
			fmt.Fprintln(out, "# A config for `reachaudit scan --config`, with the credentials below in its environment:")
			fmt.Fprint(out, string(y))
			for _, kv := range env {
				fmt.Fprintf(out, "# export %s\n", kv)
			}
			// The files are written last: a script that waits for them knows
			// the sandbox is serving.
			if envOut != "" {
				var b strings.Builder
				for _, kv := range env {
					b.WriteString(kv + "\n")
				}
				if err := os.WriteFile(envOut, []byte(b.String()), 0o600); err != nil {
					return err
				}
			}
			if configOut != "" {
				if err := atomicfile.Write(configOut, func(w io.Writer) error { _, err := w.Write(y); return err }); err != nil {
					return err
				}
			}
			fmt.Fprintln(os.Stderr, "serving; interrupt to stop")
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().StringVar(&estate, "estate", "", "estate file (default: the built-in demo estate)")
	cmd.Flags().DurationVar(&latency, "latency", 0, "add this latency to every request, e.g. 25ms")
	cmd.Flags().StringVar(&configOut, "config-out", "", "also write the scan config to this file")
	cmd.Flags().StringVar(&envOut, "env-out", "", "also write the credentials' environment (NAME=value lines) to this file, mode 0600")
	return cmd
}

func newSandboxEstateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "estate",
		Short: "Print the built-in demo estate, to start an estate of your own from",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			files, err := sandbox.DemoFiles()
			if err != nil {
				return err
			}
			names := make([]string, 0, len(files))
			for n := range files {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				fmt.Fprintf(cmd.OutOrStdout(), "# --- %s\n%s\n", n, files[n])
			}
			return nil
		},
	}
}
