// Command reachaudit tells which of a company's cloud data a
// foreign-controlled provider could block or expose.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/spf13/cobra"

	"github.com/reachaudit/reachaudit/internal/redact"
	"github.com/reachaudit/reachaudit/internal/yamlfile"

	// The provider plugins and their sandbox emulators join by init.
	_ "github.com/reachaudit/reachaudit/providers/alibaba"
	_ "github.com/reachaudit/reachaudit/providers/aws"
	_ "github.com/reachaudit/reachaudit/providers/azure"
	_ "github.com/reachaudit/reachaudit/providers/gcp"
	_ "github.com/reachaudit/reachaudit/providers/sandbox/alibabaemu"
	_ "github.com/reachaudit/reachaudit/providers/sandbox/awsemu"
	_ "github.com/reachaudit/reachaudit/providers/sandbox/azureemu"
	_ "github.com/reachaudit/reachaudit/providers/sandbox/gcpemu"
)

// Exit codes, as DESIGN fixes them.
const (
	exitOK       = 0
	exitFailure  = 1
	exitUsage    = 2
	exitFindings = 3
)

// clock is the time source of scans and the sandbox; tests pin it.
var clock = time.Now

// usageError marks bad usage, config, estate or policy: exit 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// coverageError marks a run that did not cover what it was asked to: exit 1.
type coverageError struct{ err error }

func (e coverageError) Error() string { return e.err.Error() }
func (e coverageError) Unwrap() error { return e.err }

// findingsError is returned when findings reach --fail-on: exit 3.
type findingsError struct {
	n         int
	threshold string
}

func (e findingsError) Error() string {
	return fmt.Sprintf("%d open finding(s) at or above %s", e.n, e.threshold)
}

// lossError is returned when a scenario loses more than --fail-on-loss:
// exit 3, as for findings.
type lossError struct {
	spec  string
	lost  int64
	limit string
}

func (e lossError) Error() string {
	return fmt.Sprintf("scenario %s loses %s with no surviving copy, more than --fail-on-loss %s",
		e.spec, humanize.Bytes(uint64(e.lost)), e.limit)
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	os.Exit(exitCode(err))
}

func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var fe findingsError
	var le lossError
	if errors.As(err, &fe) || errors.As(err, &le) {
		fmt.Fprintln(os.Stderr, "reachaudit:", redact.Default.String(err.Error()))
		return exitFindings
	}
	fmt.Fprintln(os.Stderr, "reachaudit:", redact.Default.String(err.Error()))
	var ue usageError
	var ye *yamlfile.Error
	if errors.As(err, &ue) || errors.As(err, &ye) || isUnknownCommand(err) {
		return exitUsage
	}
	return exitFailure
}

// isUnknownCommand tells cobra's "unknown command" error, which it returns
// from its command lookup before any validator of ours runs.
func isUnknownCommand(err error) bool {
	return strings.HasPrefix(err.Error(), "unknown command ")
}

// usageArgs makes every command's argument check a usage error (exit 2), so
// that `scan --config x extra` is bad usage like a bad flag.
func usageArgs(cmd *cobra.Command) {
	if check := cmd.Args; check != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := check(c, args); err != nil {
				return usageError{fmt.Errorf("%s: %w", c.CommandPath(), err)}
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		usageArgs(sub)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "reachaudit",
		Short: "Audit which cloud data a foreign-controlled provider could block or expose",
		Long: `reachaudit lists your object-storage buckets at each cloud provider and records,
for each, where the data sits, who controls the provider, who holds the key and
whether it works, where the copies are and whether the data is reachable now;
then it flags what a provider controlled from a foreign jurisdiction could block
(cut off) or expose (read, or be compelled to hand over).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().String("log-level", "", "log level: debug, info, warn, error (default warn for one-shot commands, info for agent)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(newDemoCmd(), newScanCmd(), newAgentCmd(), newRulesCmd(), newVersionCmd(),
		newSandboxCmd(), newHistoryCmd(), newRenewalCmd(), newMergeCmd())
	usageArgs(root)
	return root
}
