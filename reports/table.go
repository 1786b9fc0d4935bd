package reports

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
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
	width int // 0: no limit (--wide)
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

// seg is a run of text in one style; a line is a list of them, so that it
// can be cut to the width by what the reader sees, not by escape bytes.
type seg struct{ style, text string }

// line writes segs as one line, cut with "…" at the table's width.
func (t *tableWriter) line(segs ...seg) {
	var b strings.Builder
	room := t.width
	for _, s := range segs {
		text := termSafe(s.text)
		if t.width > 0 {
			n := utf8.RuneCountInString(text)
			if n > room {
				text = ""
				if room >= 1 {
					text = string([]rune(termSafe(s.text))[:room-1]) + "…"
				}
				b.WriteString(t.style(s.style, text))
				room = 0
				break
			}
			room -= n
		}
		b.WriteString(t.style(s.style, text))
	}
	t.printf("%s\n", strings.TrimRight(b.String(), " "))
}

// tableSections are the table's parts, in order. The findings come after
// the run's counts; a section that frames them (what a scenario would
// cost) belongs between the two.
var tableSections = []func(t *tableWriter, r *agent.Result, v *tableView){
	tableHeader,
	func(t *tableWriter, r *agent.Result, _ *tableView) { t.coverage(r) },
	func(t *tableWriter, r *agent.Result, _ *tableView) { writeScenarioTable(t, r) },
	tableFindings,
	tableBuckets,
	tableErrors,
}

// tableView is what the sections share: the findings grouped by bucket.
type tableView struct {
	idx    bucketIndex
	groups []findingGroup
	wide   bool
}

// findingGroup is one bucket (or one provider-wide subject, bucket "*")
// and its findings, the worst first.
type findingGroup struct {
	provider, account, bucket string
	record                    *providers.Bucket
	findings                  []*risk.Finding
	open                      int
	worst                     risk.Severity // of the open findings
}

// encodeTable writes the terminal view: the run and its counts, then the
// findings grouped by bucket, worst bucket first (one line a finding, then
// its deciding evidence, then its remediation), then the clean buckets.
// Lines fit opts.Width unless opts.Wide.
func encodeTable(w io.Writer, r *agent.Result, opts Options) error {
	t := &tableWriter{w: w, color: opts.Color, width: opts.width()}
	if opts.Wide {
		t.width = 0
	}
	v := &tableView{idx: indexBuckets(r), wide: opts.Wide}
	v.groups = groupFindings(r, v.idx)
	for _, section := range tableSections {
		section(t, r, v)
	}
	return t.err
}

func groupFindings(r *agent.Result, idx bucketIndex) []findingGroup {
	pos := map[bucketKey]int{}
	var groups []findingGroup
	for i := range r.Findings {
		f := &r.Findings[i]
		k := bucketKey{f.Provider, f.Account, f.Bucket}
		p, ok := pos[k]
		if !ok {
			p = len(groups)
			pos[k] = p
			groups = append(groups, findingGroup{provider: f.Provider, account: f.Account, bucket: f.Bucket, record: idx.of(f)})
		}
		g := &groups[p]
		g.findings = append(g.findings, f)
		if f.Status == risk.StatusOpen {
			if g.open == 0 || f.Severity > g.worst {
				g.worst = f.Severity
			}
			g.open++
		}
	}
	for i := range groups {
		slices.SortStableFunc(groups[i].findings, func(a, b *risk.Finding) int {
			return cmp.Or(
				cmp.Compare(statusRank(a), statusRank(b)),
				cmp.Compare(b.Severity, a.Severity),
				cmp.Compare(slices.Index(risks, a.Risk), slices.Index(risks, b.Risk)),
				cmp.Compare(a.Rule, b.Rule),
				cmp.Compare(a.ID, b.ID),
			)
		})
	}
	slices.SortStableFunc(groups, func(a, b findingGroup) int {
		return cmp.Or(
			cmp.Compare(min(b.open, 1), min(a.open, 1)),
			cmp.Compare(b.worst, a.worst),
			cmp.Compare(b.open, a.open),
			cmp.Compare(resourceName(a.provider, a.account, a.bucket), resourceName(b.provider, b.account, b.bucket)),
		)
	})
	return groups
}

// statusRank puts open findings before suppressed ones.
func statusRank(f *risk.Finding) int {
	if f.Status == risk.StatusOpen {
		return 0
	}
	return 1
}

func tableHeader(t *tableWriter, r *agent.Result, _ *tableView) {
	s := &r.Summary
	t.line(seg{ansiBold, "reachaudit"}, seg{"", "  run " + r.RunID + "  policy " + r.Policy.Profile})
	when := r.StartedAt.UTC().Format("2006-01-02 15:04:05Z") + " → " + r.FinishedAt.UTC().Format("15:04:05Z")
	if d := r.FinishedAt.Sub(r.StartedAt); d > 0 {
		when += fmt.Sprintf(" (%.1f s)", d.Seconds())
	}
	segs := []seg{{"", when}}
	if r.Partial {
		segs = append(segs, seg{"", "  "}, seg{severityStyle[risk.High], "PARTIAL RUN"})
	}
	t.line(segs...)
	clean := 0
	for _, c := range bucketCounts(r) {
		if c.open == 0 {
			clean++
		}
	}
	t.line(seg{"", fmt.Sprintf("%d buckets (%d clean); %d findings: %d open, %d suppressed", s.Buckets, clean, s.Findings, s.Open, s.Suppressed)})
	segs = []seg{{"", "open findings by severity:"}}
	for sev := risk.Critical; sev >= risk.Info; sev-- {
		if n := s.BySeverity[sev.String()]; n > 0 {
			segs = append(segs, seg{"", "  "}, seg{severityStyle[sev], sev.String()}, seg{"", fmt.Sprintf(" %d", n)})
		}
	}
	t.line(segs...)
	var byRisk []string
	for _, rk := range risks {
		if n := s.ByRisk[rk]; n > 0 {
			byRisk = append(byRisk, fmt.Sprintf("%s %d", rk, n))
		}
	}
	if len(byRisk) > 0 {
		t.line(seg{"", "open findings by risk:      " + strings.Join(byRisk, "  ")})
	}
}

func tableFindings(t *tableWriter, r *agent.Result, v *tableView) {
	if len(v.groups) == 0 {
		return
	}
	t.printf("\n")
	t.line(seg{ansiBold, fmt.Sprintf("FINDINGS BY BUCKET (%d buckets, worst first)", len(v.groups))})
	for i := range v.groups {
		g := &v.groups[i]
		name := resourceName(g.provider, g.account, g.bucket)
		if len(g.findings) == 1 {
			t.printf("\n")
			f := g.findings[0]
			where := name + "  "
			if g.record != nil {
				where += bucketSize(g.record) + "  "
			}
			t.line(append(severitySegs(t, f), seg{"", where + f.Region + "  "}, seg{"", f.Title})...)
			findingDetail(t, f, "    ")
			continue
		}
		t.printf("\n")
		head := []seg{{ansiBold, name}, {"", "  "}}
		verdict := fmt.Sprintf("%d findings", len(g.findings))
		if g.open > 0 {
			head = append(head, seg{severityStyle[g.worst], fmt.Sprintf("%d open, worst %s", g.open, g.worst)})
			if n := len(g.findings) - g.open; n > 0 {
				head = append(head, seg{"", fmt.Sprintf(", %d suppressed", n)})
			}
		} else {
			head = append(head, seg{ansiDim, verdict + ", all suppressed"})
		}
		if b := g.record; b != nil {
			head = append(head, seg{"", "  " + bucketFacts(b)})
		}
		t.line(head...)
		for _, f := range g.findings {
			t.line(append([]seg{{"", "  "}}, append(severitySegs(t, f), seg{"", f.Title})...)...)
			findingDetail(t, f, "      ")
		}
	}
}

// severitySegs is the start of a finding's line: severity, rule and, for a
// suppressed finding, the mark and its reason come at the end (see detail).
func severitySegs(t *tableWriter, f *risk.Finding) []seg {
	label := fmt.Sprintf("%-8s", strings.ToUpper(f.Severity.String()))
	st := severityStyle[f.Severity]
	if f.Status == risk.StatusSuppressed {
		label, st = fmt.Sprintf("%-8s", "(supp.)"), ansiDim
	}
	return []seg{{st, label}, {"", " " + fmt.Sprintf("%-7s", f.Rule) + "  "}}
}

// findingDetail writes the evidence line (deciding facts first) and the
// remediation line of f.
func findingDetail(t *tableWriter, f *risk.Finding, indent string) {
	if f.Status == risk.StatusSuppressed {
		t.line(seg{"", indent}, seg{ansiDim, "suppressed (" + f.Severity.String() + "): " + f.SuppressedReason})
	}
	if f.Unverified {
		t.line(seg{"", indent}, seg{ansiBold, UnverifiedNote})
	}
	if ev := evidenceSummary(f, 1<<20); ev != "" {
		t.line(seg{"", indent}, seg{ansiDim, ev})
	}
	if f.Remediation != "" {
		t.line(seg{"", indent + "fix: " + f.Remediation})
	}
}

// bucketFacts is a bucket's place, control, custody and reach, short
// enough to sit beside its name on one line.
func bucketFacts(b *providers.Bucket) string {
	control := orDash(b.Controller) + "-controlled"
	if b.Operator != b.Controller {
		control += ", " + orDash(b.Operator) + "-operated"
	}
	// The size comes first: it is what a reader ranks the buckets by.
	out := fmt.Sprintf("%s  %s [%s]  %s  custody %s", bucketSize(b), b.Region, strings.Join(b.Countries, ","), control, b.Custody)
	if !b.Reachability.Reachable {
		out += "  UNREACHABLE"
		if b.Reachability.Failure != "" {
			out += " (" + b.Reachability.Failure + ")"
		}
	}
	return out
}

// tableBuckets lists the buckets without open findings (every bucket with
// --wide), so that the findings above are not repeated.
func tableBuckets(t *tableWriter, r *agent.Result, v *tableView) {
	counts := bucketCounts(r)
	var show []int
	for i := range r.Buckets {
		if v.wide || counts[i].open == 0 {
			show = append(show, i)
		}
	}
	if len(show) == 0 {
		return
	}
	title := fmt.Sprintf("BUCKETS WITHOUT OPEN FINDINGS (%d)", len(show))
	if v.wide {
		title = fmt.Sprintf("BUCKETS (%d)", len(show))
	}
	t.printf("\n")
	t.line(seg{ansiBold, title})
	for _, i := range show {
		b := &r.Buckets[i]
		c := counts[i]
		segs := []seg{{"", "  " + resourceName(b.Provider, b.Account, b.Name) + "  "}}
		if v.wide {
			verdict := seg{ansiDim, "clean"}
			if c.open > 0 {
				verdict = seg{severityStyle[c.worst], fmt.Sprintf("%d open, worst %s", c.open, c.worst)}
			}
			segs = append(segs, verdict, seg{"", "  "})
		}
		t.line(append(segs, seg{"", bucketFacts(b)})...)
	}
}

// tableErrors lists what could not be read; errors are wrapped, not cut,
// since the cause is the point.
func tableErrors(t *tableWriter, r *agent.Result, _ *tableView) {
	if len(r.Errors) == 0 {
		return
	}
	t.printf("\n")
	t.line(seg{ansiBold, fmt.Sprintf("ERRORS (%d)", len(r.Errors))})
	for _, e := range r.Errors {
		text := termSafe(fmt.Sprintf("%s %s %s: %s", e.Provider, e.Account, e.Op, e.Error))
		for i, part := range wrapText(text, t.width-8) {
			lead := t.style(severityStyle[risk.High], "  error ")
			if i > 0 {
				lead = "        "
			}
			t.printf("%s%s\n", lead, part)
		}
	}
}

// wrapText breaks s at spaces into lines of at most width runes (a word
// longer than that is cut); width <= 0 means one line.
func wrapText(s string, width int) []string {
	if width <= 0 || utf8.RuneCountInString(s) <= width {
		return []string{s}
	}
	var out []string
	var cur []rune
	for _, word := range strings.Fields(s) {
		w := []rune(word)
		for len(w) > width {
			if len(cur) > 0 {
				out, cur = append(out, string(cur)), nil
			}
			out, w = append(out, string(w[:width])), w[width:]
		}
		if len(cur) > 0 && len(cur)+1+len(w) > width {
			out, cur = append(out, string(cur)), nil
		}
		if len(cur) > 0 {
			cur = append(cur, ' ')
		}
		cur = append(cur, w...)
	}
	if len(cur) > 0 {
		out = append(out, string(cur))
	}
	return out
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
		t.line(seg{style: severityStyle[risk.Critical], text: "NOTHING AUDITED"},
			seg{text: ": no account it was asked to cover could be listed; 0 buckets is not a clean result"})
	case agent.CoveragePartial:
		t.line(seg{style: severityStyle[risk.High], text: "PARTIAL COVERAGE"},
			seg{text: ": some accounts could not be listed (UNK-002), so nothing in them was audited"})
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
