package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/agent/scenario"
	"github.com/reachaudit/reachaudit/internal/atomicfile"
	"github.com/reachaudit/reachaudit/internal/redact"
	"github.com/reachaudit/reachaudit/reports"
)

// outputFlags are the flags every one-shot audit shares.
type outputFlags struct {
	format string
	out    string
	failOn string
	// allowPartial accepts a run that could list some of the accounts it
	// was asked to cover and not others; a run that listed none fails
	// whatever it says.
	allowPartial bool
	wide         bool
	scenarios    []string
	failOnLoss   string
	lossLimit    uint64
}

func (o *outputFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.format, "format", "table", "output format: "+strings.Join(reports.Formats(), ", "))
	cmd.Flags().StringVarP(&o.out, "out", "o", "", "write the report to this file (written atomically) instead of stdout")
	cmd.Flags().BoolVar(&o.wide, "wide", false, "table: show every line whole, all evidence and every bucket, whatever the terminal width")
	cmd.Flags().StringVar(&o.failOn, "fail-on", "", "exit 3 when an open finding is at or above this severity: info, low, medium, high, critical (any case)")
	cmd.Flags().StringArrayVar(&o.scenarios, "scenario", nil,
		"evaluate this scenario instead of the policy's (repeatable): ban:PROVIDER, cutoff:JURISDICTION, compel:JURISDICTION, region:PROVIDER:REGION, key:KEY")
	cmd.Flags().StringVar(&o.failOnLoss, "fail-on-loss", "", "exit 3 when a scenario loses more than this much data with no surviving copy, e.g. 1TB or 500GiB")
}

func (o *outputFlags) check() error {
	if !slices.Contains(reports.Formats(), o.format) {
		return usageError{fmt.Errorf("--format %q: want one of %s", o.format, strings.Join(reports.Formats(), ", "))}
	}
	if o.failOn != "" {
		o.failOn = strings.ToLower(o.failOn)
		if _, err := risk.ParseSeverity(o.failOn); err != nil {
			return usageError{fmt.Errorf("--fail-on: %w", err)}
		}
	}
	if _, err := scenario.ParseAll(o.scenarios); err != nil {
		return usageError{fmt.Errorf("--scenario: %w", err)}
	}
	if o.failOnLoss != "" {
		n, err := humanize.ParseBytes(o.failOnLoss)
		if err != nil {
			return usageError{fmt.Errorf("--fail-on-loss %q: want an amount of data such as 1TB, 250GB or 500GiB", o.failOnLoss)}
		}
		o.lossLimit = n
	}
	return nil
}

// applyScenarios makes --scenario replace the policy's list.
func (o *outputFlags) applyScenarios(p *risk.Policy) {
	if len(o.scenarios) > 0 {
		p.Scenarios = slices.Clone(o.scenarios)
	}
}

// render writes the result in the chosen format and applies --fail-on.
func (o *outputFlags) render(r *agent.Result) error {
	if len(o.scenarios) > 0 && !slices.Equal(r.Policy.Scenarios, o.scenarios) {
		// A stored run answers new questions without a new scan.
		o.applyScenarios(&r.Policy)
		if err := r.EvaluateScenarios(); err != nil {
			return usageError{fmt.Errorf("--scenario: %w", err)}
		}
	}
	opts := reports.Options{Version: version, Wide: o.wide, Width: tableWidth(os.Stdout)}
	write := func(w io.Writer) error { return reports.Encode(w, o.format, r, opts) }
	if o.format == formatDORA {
		if err := writeDORA(o.out, r); err != nil {
			return err
		}
		return o.gate(r)
	}
	if o.out == "" {
		opts.Color = isTerminal(os.Stdout) && os.Getenv("NO_COLOR") == ""
		if err := write(os.Stdout); err != nil {
			return err
		}
	} else if err := os.MkdirAll(filepath.Dir(o.out), 0o755); err != nil {
		// A shard writes into its run's directory, which may not exist yet.
		return err
	} else if err := atomicfile.Write(o.out, write); err != nil {
		return err
	}
	if err := o.coverageGate(r); err != nil {
		return err
	}
	return o.gate(r)
}

// coverageGate fails a run that audited nothing, and one that missed some
// of what it was asked to cover unless --allow-partial accepts it (its
// UNK-002 findings then meet --fail-on like any other). It comes after the
// report, which says the same.
func (o *outputFlags) coverageGate(r *agent.Result) error {
	state := r.Summary.CoverageState
	if r.Shard != nil && askedNothing(r) {
		// A shard that the hash gave no account: the merged run says
		// whether the estate was covered.
		return nil
	}
	if state == agent.CoverageNone {
		return coverageError{fmt.Errorf("nothing was audited: no account it was asked to cover could be listed (%s)", failedAccounts(r))}
	}
	if state == agent.CoveragePartial && !o.allowPartial {
		return coverageError{fmt.Errorf("partial audit: %s could not be listed (their UNK-002 findings say why); --allow-partial accepts such a run", failedAccounts(r))}
	}
	return nil
}

// failedAccounts names the accounts that could not be listed, and why.
func failedAccounts(r *agent.Result) string {
	var parts []string
	for _, f := range r.Findings {
		if f.Rule == "UNK-002" {
			parts = append(parts, fmt.Sprintf("%s %s: %v", f.Provider, f.Account, f.Evidence["error"]))
		}
	}
	if len(parts) == 0 {
		return "no provider account was configured"
	}
	const most = 5
	if len(parts) > most {
		parts = append(parts[:most], fmt.Sprintf("and %d more", len(parts)-most))
	}
	return strings.Join(parts, "; ")
}

func isFindings(err error) bool {
	var fe findingsError
	return errors.As(err, &fe)
}

func (o *outputFlags) gate(r *agent.Result) error {
	if o.failOnLoss != "" {
		for _, sc := range r.Scenarios {
			if sc.Totals.LostBytes > 0 && uint64(sc.Totals.LostBytes) > o.lossLimit {
				return lossError{spec: sc.Spec, lost: sc.Totals.LostBytes, limit: o.failOnLoss}
			}
		}
	}
	if o.failOn == "" {
		return nil
	}
	min, _ := risk.ParseSeverity(o.failOn)
	n := 0
	for _, f := range r.Findings {
		if f.Status == risk.StatusOpen && f.Severity >= min {
			n++
		}
	}
	if n > 0 {
		return findingsError{n: n, threshold: o.failOn}
	}
	return nil
}

const formatDORA = "dora-roi"

// writeDORA writes the register's CSV files into a directory (out ends in
// a slash or names one), or as a zip to out or to stdout when it is not a
// terminal.
func writeDORA(out string, r *agent.Result) error {
	if out == "" {
		if isTerminal(os.Stdout) {
			return usageError{fmt.Errorf("--format %s writes a zip: give --out DIR/ or --out FILE.zip, or redirect stdout", formatDORA)}
		}
		return reports.Encode(os.Stdout, formatDORA, r, reports.Options{})
	}
	st, err := os.Stat(out)
	isDir := err == nil && st.IsDir()
	if !isDir && !strings.HasSuffix(out, string(os.PathSeparator)) && !strings.HasSuffix(out, "/") {
		return atomicfile.Write(out, func(w io.Writer) error { return reports.Encode(w, formatDORA, r, reports.Options{}) })
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	files, err := reports.DORARoI(r)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := atomicfile.Write(filepath.Join(out, f.Name), func(w io.Writer) error { _, err := w.Write(f.Data); return err }); err != nil {
			return err
		}
	}
	return nil
}

// tableWidth is the width the table fits: COLUMNS when set, else the width
// of the terminal f is, else reports.DefaultWidth.
func tableWidth(f *os.File) int {
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	if isTerminal(f) {
		if n := terminalWidth(f); n > 0 {
			return n
		}
	}
	return reports.DefaultWidth
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress draws "described N/M buckets" on stderr when it is a terminal.
func progress() func(done, total int) {
	if !isTerminal(os.Stderr) {
		return nil
	}
	return func(done, total int) {
		fmt.Fprintf(os.Stderr, "\rdescribed %d/%d buckets", done, total)
		if done == total {
			fmt.Fprint(os.Stderr, "\r\033[K")
		}
	}
}

// newLogger builds the process logger: text on stderr at the given level.
func newLogger(level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if level == "" {
		level = "warn"
	}
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usageError{fmt.Errorf("log level %q: want debug, info, warn or error", level)}
	}
	hopts := &slog.HandlerOptions{Level: lv}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, hopts)
	if format == "json" {
		h = slog.NewJSONHandler(os.Stderr, hopts)
	}
	// Every line goes through the one redactor: an error text may quote a
	// token a server echoed or a signed URL.
	return slog.New(redact.Default.Handler(h)), nil
}

func logLevelFlag(cmd *cobra.Command) string {
	v, _ := cmd.Flags().GetString("log-level")
	return v
}

// askedNothing reports whether a run was asked to cover no account at all.
func askedNothing(r *agent.Result) bool {
	for _, c := range r.Summary.Coverage {
		if len(c.Asked) > 0 || len(c.Failed) > 0 {
			return false
		}
	}
	return true
}
