package reports

import (
	"fmt"
	"io"
	"strings"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
)

// ANSI styles per severity, used only when Options.Color is set.
var severityStyle = map[risk.Severity]string{
	risk.Critical: "\x1b[1;31m", risk.High: "\x1b[31m", risk.Medium: "\x1b[33m",
	risk.Low: "\x1b[36m", risk.Info: "\x1b[2m",
}

const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiDim   = "\x1b[2m"
)

type tableWriter struct {
	w     io.Writer
	color bool
	err   error
}

func (t *tableWriter) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

func (t *tableWriter) style(s, text string) string {
	if !t.color || s == "" {
		return text
	}
	return s + text + ansiReset
}

// encodeTable writes the terminal view: a header, findings grouped by risk
// then severity (most severe first), then one line per bucket. It makes one
// pass over the findings per risk and severity instead of sorting a copy.
func encodeTable(w io.Writer, r *agent.Result, opts Options) error {
	t := &tableWriter{w: w, color: opts.Color}
	s := &r.Summary
	t.printf("%s  run %s  policy %s\n", t.style(ansiBold, "reachaudit"), r.RunID, r.Policy.Profile)
	t.printf("%s → %s", r.StartedAt.UTC().Format("2006-01-02 15:04:05Z"), r.FinishedAt.UTC().Format("15:04:05Z"))
	if r.Partial {
		t.printf("  %s", t.style(severityStyle[risk.High], "PARTIAL RUN"))
	}
	t.printf("\n%d buckets, %d findings (%d open, %d suppressed)", s.Buckets, s.Findings, s.Open, s.Suppressed)
	for sev := risk.Critical; sev >= risk.Info; sev-- {
		if n := s.BySeverity[sev.String()]; n > 0 {
			t.printf("  %s %d", t.style(severityStyle[sev], sev.String()), n)
		}
	}
	t.printf("\n")
	t.coverage(r)
	writeScenarioTable(t, r)

	idx := indexBuckets(r)
	for _, rk := range risks {
		n := 0
		for i := range r.Findings {
			if r.Findings[i].Risk == rk {
				n++
			}
		}
		if n == 0 {
			continue
		}
		t.printf("\n%s (%d)\n", t.style(ansiBold, strings.ToUpper(rk)), n)
		for sev := risk.Critical; sev >= risk.Info; sev-- {
			for i := range r.Findings {
				f := &r.Findings[i]
				if f.Risk != rk || f.Severity != sev {
					continue
				}
				label := fmt.Sprintf("%-8s", strings.ToUpper(sev.String()))
				status := ""
				if f.Status == risk.StatusSuppressed {
					status = t.style(ansiDim, " [suppressed: "+termSafe(f.SuppressedReason)+"]")
				}
				size := ""
				if p := idx.pos(bucketKey{f.Provider, f.Account, f.Bucket}); p >= 0 {
					size = "  " + bucketSize(&r.Buckets[p])
				}
				t.printf("  %s %-7s %s  %s%s  %s%s\n", t.style(severityStyle[sev], label), termSafe(f.Rule),
					termSafe(resourceName(f.Provider, f.Account, f.Bucket)), termSafe(f.Region), size, termSafe(f.Title), status)
				if ev := evidenceSummary(f.Evidence, 160); ev != "" {
					t.printf("           %s\n", t.style(ansiDim, termSafe(ev)))
				}
			}
		}
	}

	if len(r.Buckets) > 0 {
		t.printf("\n%s\n", t.style(ansiBold, "BUCKETS"))
		counts := bucketCounts(r)
		for i := range r.Buckets {
			b := &r.Buckets[i]
			c := counts[i]
			verdict := t.style(ansiDim, "clean")
			if c.open > 0 {
				verdict = t.style(severityStyle[c.worst], fmt.Sprintf("%d open, worst %s", c.open, c.worst))
			}
			reach := "reachable"
			if !b.Reachability.Reachable {
				reach = "UNREACHABLE"
				if b.Reachability.Failure != "" {
					reach += " (" + b.Reachability.Failure + ")"
				}
			}
			t.printf("  %s  %s  %s [%s]  controller %s operator %s  custody %s  %s  %s\n",
				termSafe(resourceName(b.Provider, b.Account, b.Name)), bucketSize(b), termSafe(b.Region), termSafe(strings.Join(b.Countries, ",")),
				termSafe(orDash(b.Controller)), termSafe(orDash(b.Operator)), termSafe(string(b.Custody)), termSafe(reach), verdict)
		}
	}
	for _, e := range r.Errors {
		t.printf("%s %s %s %s: %s\n", t.style(severityStyle[risk.High], "error"), termSafe(e.Provider), termSafe(e.Account), termSafe(e.Op), termSafe(e.Error))
	}
	return t.err
}

type counts struct {
	open  int
	worst risk.Severity
}

// bucketCounts counts open findings and the worst open severity per
// bucket, by the bucket's position in r.Buckets.
func bucketCounts(r *agent.Result) []counts {
	idx := indexBuckets(r)
	out := make([]counts, len(r.Buckets))
	for i := range r.Findings {
		f := &r.Findings[i]
		if f.Status != risk.StatusOpen {
			continue
		}
		p := idx.pos(bucketKey{f.Provider, f.Account, f.Bucket})
		if p < 0 {
			continue
		}
		c := &out[p]
		if c.open == 0 || f.Severity > c.worst {
			c.worst = f.Severity
		}
		c.open++
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// termSafe keeps a value on one line and stops it from driving the terminal:
// text read from a cloud (tags, error messages) may hold line breaks or
// escape sequences, which are shown escaped instead.
func termSafe(s string) string {
	clean := true
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// coverage says what the run covered, per provider, so that "0 buckets"
// never reads as a clean result when accounts could not be listed.
func (t *tableWriter) coverage(r *agent.Result) {
	s := &r.Summary
	if s.Coverage == nil {
		return
	}
	switch s.CoverageState {
	case agent.CoverageNone:
		t.printf("%s: no account it was asked to cover could be listed; 0 buckets is not a clean result\n",
			t.style(severityStyle[risk.Critical], "NOTHING AUDITED"))
	case agent.CoveragePartial:
		t.printf("%s: some accounts could not be listed (UNK-002); nothing in them was audited\n",
			t.style(severityStyle[risk.High], "PARTIAL COVERAGE"))
	}
	for _, name := range sortedKeys(s.Coverage) {
		c := s.Coverage[name]
		t.printf("coverage %s: %d/%d listed", termSafe(name), len(c.Listed), len(c.Asked))
		if len(c.Partitions) > 0 {
			t.printf(" in %s", termSafe(strings.Join(c.Partitions, ", ")))
		}
		if c.Source != "" && c.Source != "config" {
			t.printf(" (found by %s)", termSafe(c.Source))
		}
		for _, k := range sortedKeys(c.Skipped) {
			t.printf(", %d %s skipped", c.Skipped[k], termSafe(k))
		}
		if len(c.Failed) > 0 {
			t.printf(", %s %s", t.style(severityStyle[risk.High], "failed:"), termSafe(strings.Join(c.Failed, ", ")))
		}
		t.printf("\n")
	}
}
