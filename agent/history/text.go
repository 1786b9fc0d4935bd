package history

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/reachaudit/reachaudit/agent/risk"
)

// WriteRuns writes runs as a table for `reachaudit history list`.
func WriteRuns(w io.Writer, runs []Run) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tSCHEDULE\tSTARTED\tTOOK\tSTATUS\tBUCKETS\tOPEN\tCRITICAL\tHIGH\tNEW\tCHANGED\tRESOLVED\tERROR")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\n",
			r.ID, r.Schedule, r.StartedAt.UTC().Format(time.RFC3339), took(r.FinishedAt.Sub(r.StartedAt)),
			r.Status, r.Buckets, r.Open, r.Critical, r.High, r.New, r.Changed, r.Resolved, oneLine(r.Error, 80))
	}
	return tw.Flush()
}

// WriteDrift writes d for people, for `reachaudit history diff`.
func WriteDrift(w io.Writer, d *Drift) error {
	var b strings.Builder
	fmt.Fprintf(&b, "drift from %s to %s\n", cmp.Or(d.From, "(empty history)"), d.To)
	if d.Empty() {
		b.WriteString("no changes between these two runs (history list shows what each run found new, changed or resolved)\n")
		_, err := io.WriteString(w, b.String())
		return err
	}
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	section := func(title string, n int) bool {
		if n == 0 {
			return false
		}
		tw.Flush()
		fmt.Fprintf(&b, "\n%s (%d)\n", title, n)
		return true
	}
	finding := func(f risk.Finding, note string) {
		fmt.Fprintf(tw, "  %s\t%s\t%s:%s:%s\t%s\t%s\n", f.Severity, f.Rule, f.Provider, f.Account, f.Bucket, note, f.Title)
	}
	if section("loss of reach", len(d.ReachLoss)) {
		for _, l := range d.ReachLoss {
			names := make([]string, len(l.Buckets))
			for i, ref := range l.Buckets {
				names[i] = ref.String()
			}
			fmt.Fprintf(tw, "  %s\t%s\tunreachable: %s\n", l.Provider, cmp.Or(l.Region, "every region"), strings.Join(names, ", "))
		}
	}
	if section("new findings", len(d.New)) {
		// Worst first, as the report orders them.
		fresh := slices.Clone(d.New)
		slices.SortStableFunc(fresh, func(a, b risk.Finding) int {
			return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(a.Rule, b.Rule),
				cmp.Compare(a.Provider+":"+a.Account+":"+a.Bucket, b.Provider+":"+b.Account+":"+b.Bucket))
		})
		for _, f := range fresh {
			finding(f, "")
		}
	}
	if section("changed findings", len(d.Changed)) {
		for _, c := range d.Changed {
			var notes []string
			for _, field := range c.Fields {
				switch field {
				case "severity":
					notes = append(notes, fmt.Sprintf("severity %s -> %s", c.Before.Severity, c.After.Severity))
				case "status":
					notes = append(notes, fmt.Sprintf("status %s -> %s", c.Before.Status, c.After.Status))
				}
			}
			finding(c.After, strings.Join(notes, ", "))
		}
	}
	if section("resolved findings", len(d.Resolved)) {
		for _, f := range d.Resolved {
			finding(f, "")
		}
	}
	if section("buckets added", len(d.Added)) {
		for _, ref := range d.Added {
			fmt.Fprintf(tw, "  %s\n", ref)
		}
	}
	if section("buckets removed", len(d.Removed)) {
		for _, ref := range d.Removed {
			fmt.Fprintf(tw, "  %s\n", ref)
		}
	}
	if section("bucket facts changed", len(d.Facts)) {
		for _, f := range d.Facts {
			fmt.Fprintf(tw, "  %s\t%s\t%s -> %s\n", f.Bucket, f.Field, cmp.Or(f.Before, "(none)"), cmp.Or(f.After, "(none)"))
		}
	}
	tw.Flush()
	_, err := io.WriteString(w, b.String())
	return err
}

// took shows a run's duration to the hundredth of a second under a minute
// (a 0.4 s run is not "0s"), to the second above.
func took(d time.Duration) string {
	if d < time.Minute {
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}
