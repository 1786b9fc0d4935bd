package renewal

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/reachaudit/reachaudit/agent/scenario"
)

// Formats lists the formats Encode writes.
var Formats = []string{"html", "json", "md"}

// Encode writes the pack in format.
func Encode(w io.Writer, format string, p *Pack, version string) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(p)
	case "md":
		return encodeMD(w, p)
	case "html":
		return page.Execute(w, struct {
			*Pack
			Version string
		}{p, version})
	}
	return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

//go:embed renewal.html.tmpl
var pageText string

var page = template.Must(template.New("renewal").Funcs(template.FuncMap{
	"join":  strings.Join,
	"title": func(s string) string { return strings.ToUpper(s[:1]) + s[1:] },
	"day":   func(t interface{ Format(string) string }) string { return t.Format("2006-01-02 15:04 MST") },
	"deref": func(p *int) int { return *p },
	"sev":   func(m map[string]int) []sevCount { return sevCounts(m) },
	"size":  size,
	"bytes": func(n int64) string { return humanize.Bytes(uint64(max(n, 0))) },
	"lost":  lostAt,
}).Parse(pageText))

// size is a bucket's size in decimal units, as storage is billed.
func size(n *int64) string {
	if n == nil {
		return "size unknown"
	}
	return humanize.Bytes(uint64(max(*n, 0)))
}

func sameBucket(a, b scenario.Bucket) bool {
	return a.Provider == b.Provider && a.Account == b.Account && a.Bucket == b.Bucket
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// maxLost is how many lost buckets a scenario lists in the pack, largest
// first; the JSON has them all.
const maxLost = 8

// lostList is the lost buckets a scenario lists: the first of them
// (sorted worst and largest first), how many more, and whether they are
// the same as the previous scenario's, which the pack then does not repeat.
type lostList struct {
	Rows []scenario.Bucket
	More int
	Same bool
}

func lostAt(scs []Scenario, i int) lostList {
	rows := func(sc Scenario) []scenario.Bucket {
		var out []scenario.Bucket
		for _, b := range sc.Buckets {
			if b.Effect == scenario.Lost {
				out = append(out, b)
			}
		}
		return out
	}
	cur := rows(scs[i])
	l := lostList{Rows: cur}
	if i > 0 && len(cur) > 0 && slices.EqualFunc(cur, rows(scs[i-1]), sameBucket) {
		l.Same = true
	}
	if len(cur) > maxLost {
		l.Rows, l.More = cur[:maxLost], len(cur)-maxLost
	}
	return l
}

type sevCount struct {
	Name string
	N    int
}

var severities = []string{"critical", "high", "medium", "low", "info"}

func sevCounts(m map[string]int) []sevCount {
	var out []sevCount
	for _, s := range severities {
		if m[s] > 0 {
			out = append(out, sevCount{s, m[s]})
		}
	}
	return out
}

// md escapes the characters that would start Markdown markup in a cell.
func md(s string) string {
	return strings.NewReplacer("|", `\|`, "*", `\*`, "_", `\_`, "`", "\\`", "\n", " ").Replace(s)
}

func encodeMD(w io.Writer, p *Pack) error {
	var b strings.Builder
	s := p.Summary
	fmt.Fprintf(&b, "# Renewal pack: %s (accounts %s)\n\n", p.Provider, md(p.AccountGlob))
	fmt.Fprintf(&b, "Scan %s, %s → %s, policy %s.\n\n", p.Evidence.RunID, p.Evidence.StartedAt.Format("2006-01-02 15:04:05Z"), p.Evidence.FinishedAt.Format("15:04:05Z"), p.Evidence.Policy)
	b.WriteString("## Summary\n\n")
	fmt.Fprintf(&b, "- **%d buckets** in %d accounts; ultimate parent %s (%s)\n", s.Buckets, s.Accounts, md(s.Controller.Entity), s.Controller.Jurisdiction)
	var cs []string
	for _, c := range s.Countries {
		cs = append(cs, fmt.Sprintf("%s %d", c.Value, c.Buckets))
	}
	fmt.Fprintf(&b, "- Countries: %s\n", strings.Join(cs, ", "))
	cs = cs[:0]
	for _, c := range s.Custody {
		cs = append(cs, fmt.Sprintf("%s %d", c.Value, c.Buckets))
	}
	fmt.Fprintf(&b, "- Custody: %s; the provider can decrypt %d\n", strings.Join(cs, ", "), s.ProviderCanDecrypt)
	fmt.Fprintf(&b, "- Data held: %s", humanize.Bytes(uint64(s.Bytes)))
	if s.UnknownSizeBuckets > 0 {
		fmt.Fprintf(&b, " (and %d bucket%s of unknown size, not in the sum)", s.UnknownSizeBuckets, plural(s.UnknownSizeBuckets))
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "- No copy at another provider: %d buckets\n", s.NoCopyElsewhere)
	cs = cs[:0]
	for _, c := range sevCounts(s.OpenBySeverity) {
		cs = append(cs, fmt.Sprintf("%s %d", c.Name, c.N))
	}
	if len(cs) == 0 {
		cs = append(cs, "none")
	}
	fmt.Fprintf(&b, "- Open findings: %s\n", strings.Join(cs, ", "))
	for _, t := range p.Contracts {
		fmt.Fprintf(&b, "- Contract %s with %s (%s), %s → %s", md(ref(t)), md(t.Entity), t.Jurisdiction, t.Start, t.End)
		if t.NoticeBy != "" {
			fmt.Fprintf(&b, "; notice by %s (%d days, %s)", t.NoticeBy, *t.DaysLeft, t.Status)
		}
		b.WriteString("\n")
	}
	if len(s.Worst) > 0 {
		b.WriteString("\nWorst findings:\n\n| severity | rule | bucket | region | title |\n| --- | --- | --- | --- | --- |\n")
		for _, f := range s.Worst {
			fmt.Fprintf(&b, "| %s | %s | %s:%s | %s | %s |\n", f.Severity, f.Rule, f.Account, md(f.Bucket), md(f.Region), md(f.Title))
		}
	}
	if len(p.Scenarios) > 0 {
		b.WriteString("\n## What a ban, a cut-off or compelled disclosure would cost\n\n")
		for i, sc := range p.Scenarios {
			fmt.Fprintf(&b, "- **%s**\n", md(sc.Headline))
			l := lostAt(p.Scenarios, i)
			if l.Same {
				b.WriteString("  - lost: the same buckets as above\n")
				continue
			}
			for _, x := range l.Rows {
				fmt.Fprintf(&b, "  - lost: %s:%s, %s\n", x.Account, md(x.Bucket), size(x.Bytes))
			}
			if l.More > 0 {
				fmt.Fprintf(&b, "  - … and %d more lost (see --format json)\n", l.More)
			}
		}
	}
	b.WriteString("\n## Questions for the provider\n\n")
	for i, q := range p.Questions {
		fmt.Fprintf(&b, "%d. **%s**", i+1, md(q.Topic))
		if q.Basis != "" {
			fmt.Fprintf(&b, " (%s)", md(q.Basis))
		}
		fmt.Fprintf(&b, ": %s\n   *Why:* %s\n", md(q.Text), md(q.Evidence))
	}
	b.WriteString("\n## Accounts and buckets\n")
	for _, a := range p.Accounts {
		fmt.Fprintf(&b, "\n### %s\n\n", a.ID)
		if a.Contract != nil {
			fmt.Fprintf(&b, "Contract: %s (%s)", md(a.Contract.Entity), a.Contract.Jurisdiction)
			if a.Contract.Reference != "" {
				fmt.Fprintf(&b, ", %s", md(a.Contract.Reference))
			}
			b.WriteString("\n\n")
		}
		b.WriteString("| bucket | size | region | countries | custody | copies | reachable | open | worst | rules |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
		for _, l := range a.Buckets {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %t | %d | %s | %s |\n", md(l.Name), size(l.Bytes), md(l.Region), strings.Join(l.Countries, " "),
				l.Custody, md(strings.Join(l.Copies, " ")), l.Reachable, l.Open, l.Worst, strings.Join(l.Rules, " "))
		}
	}
	b.WriteString("\n## Legal bases\n\n")
	for _, l := range p.LegalBases {
		fmt.Fprintf(&b, "- **%s** — %s (%d findings on %d buckets: %s)\n", md(l.Law), md(l.Meaning), l.Findings, l.Buckets, strings.Join(l.Rules, ", "))
	}
	e := p.Evidence
	b.WriteString("\n## Evidence\n\n")
	fmt.Fprintf(&b, "- Run %s, started %s, finished %s", e.RunID, e.StartedAt.Format("2006-01-02 15:04:05Z"), e.FinishedAt.Format("2006-01-02 15:04:05Z"))
	if e.Partial {
		b.WriteString(" (cut short: partial)")
	}
	fmt.Fprintf(&b, "\n- Accounts read: %s\n", strings.Join(e.Accounts, ", "))
	var calls []string
	for _, c := range e.APICalls {
		calls = append(calls, fmt.Sprintf("%s %d (%d failed)", c.Op, c.Calls, c.Errors))
	}
	fmt.Fprintf(&b, "- API calls: %s\n", strings.Join(calls, ", "))
	if len(e.Errors) == 0 && len(e.Unknowns) == 0 {
		b.WriteString("- Everything asked for could be read.\n")
	}
	for _, x := range e.Errors {
		fmt.Fprintf(&b, "- Could not %s %s: %s\n", x.Op, x.Account, md(x.Error))
	}
	for _, u := range e.Unknowns {
		fmt.Fprintf(&b, "- Could not read %s of %s:%s (%s: %s)", u.Field, u.Account, md(u.Bucket), md(u.API), md(u.Error))
		if u.Permission != "" {
			fmt.Fprintf(&b, "; grant %s", md(u.Permission))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
