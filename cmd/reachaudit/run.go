package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/reports"
)

// outputFlags are the flags every one-shot audit shares.
type outputFlags struct {
	format string
	out    string
	failOn string
	wide   bool
}

func (o *outputFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.format, "format", "table", "output format: "+strings.Join(reports.Formats(), ", "))
	cmd.Flags().StringVarP(&o.out, "out", "o", "", "write the report to this file (written atomically) instead of stdout")
	cmd.Flags().BoolVar(&o.wide, "wide", false, "table: show every line whole, all evidence and every bucket, whatever the terminal width")
	cmd.Flags().StringVar(&o.failOn, "fail-on", "", "exit 3 when an open finding is at or above this severity: info, low, medium, high, critical (any case)")
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
	return nil
}

// render writes the result in the chosen format and applies --fail-on.
func (o *outputFlags) render(r *agent.Result) error {
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
	} else if err := writeFileAtomic(o.out, write); err != nil {
		return err
	}
	return o.gate(r)
}

func (o *outputFlags) gate(r *agent.Result) error {
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
		return writeFileAtomic(out, func(w io.Writer) error { return reports.Encode(w, formatDORA, r, reports.Options{}) })
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	files, err := reports.DORARoI(r)
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := writeFileAtomic(filepath.Join(out, f.Name), func(w io.Writer) error { _, err := w.Write(f.Data); return err }); err != nil {
			return err
		}
	}
	return nil
}

// writeFileAtomic writes through a temporary file in the same directory and
// renames it into place, so a reader never sees half a report.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(f.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
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
	if format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, hopts)), nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, hopts)), nil
}

func logLevelFlag(cmd *cobra.Command) string {
	v, _ := cmd.Flags().GetString("log-level")
	return v
}
