package reports

import (
	"cmp"
	_ "embed"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
)

//go:embed report.html.tmpl
var reportTemplate string

// scenarioTemplate defines "scenarios", the section that opens the report.
//
//go:embed scenarios.html.tmpl
var scenarioTemplate string

var htmlTemplate = template.Must(template.Must(template.New("report").Funcs(template.FuncMap{
	"resource": func(provider, account, bucket string) string { return resourceName(provider, account, bucket) },
	"evidence": func(f *risk.Finding) string { return evidenceSummary(f, 600) },
	"evkey":    func(f *risk.Finding) string { return keyFactsSummary(f) },
	"evrest":   func(f *risk.Finding) string { return restSummary(f, 500) },
	"join":     strings.Join,
	"upper":    strings.ToUpper,
	"sevnum":   func(s risk.Severity) int { return int(s) },
	"add":      func(a, b int) int { return a + b },
	"mul":      func(a, b int) int { return a * b },
	"size":     bucketSize,
	"sizesort": func(b *providers.Bucket) int64 {
		if b.Size == nil {
			return -1
		}
		return b.Size.Bytes
	},
	"keyid": func(k *providers.Key) string {
		if k == nil {
			return "-"
		}
		return k.ID + " (" + string(k.State) + ")"
	},
	"copies": func(cs []providers.Copy) string {
		if len(cs) == 0 {
			return "none"
		}
		parts := make([]string, 0, len(cs))
		for _, c := range cs {
			parts = append(parts, c.Provider+":"+c.Bucket+" "+c.Region)
		}
		return strings.Join(parts, ", ")
	},
	"date": func(d risk.Date) string {
		if d.IsZero() {
			return "never"
		}
		return d.Format("2006-01-02")
	},
}).Parse(reportTemplate)).New("scenarios.html.tmpl").Parse(scenarioTemplate)).Lookup("report")

// htmlView is what the template needs beyond the Result: per-provider and
// per-jurisdiction counts and the chart geometry, all computed here so the
// template stays declarative.
type htmlView struct {
	R         *agent.Result
	Generated string
	Version   string
	Exposed   int // buckets with an open expose finding
	Blocked   int // buckets with an open block finding
	Providers []providerRow
	Juris     []jurisdictionRow
	Severity  []severityBar
	Matrix    matrixChart
	Buckets   []bucketRow
	Scenarios []htmlScenario
	// Sizes are the buckets' sizes by resource name, for the findings.
	Sizes map[string]string
	// Actions are the fixes that remove the most open critical findings,
	// for the opening; Conclusions say in a sentence where each provider
	// stands.
	Actions     []action
	Conclusions []string
}

// action is one fix: a rule's remediation at one provider, and how many
// open critical findings (on how many buckets) it removes.
type action struct {
	Rule, Title, Provider string
	Critical, Buckets     int
	Example               string // the remediation of its first finding
	// Bytes sums the known sizes of its buckets (the data the fix
	// protects); Unsized counts its buckets of unknown size.
	Bytes   int64
	Unsized int
}

// Held is the data the fix protects, in decimal units, or "" when no
// bucket of it has a known size.
func (a action) Held() string {
	if a.Bytes == 0 && a.Unsized > 0 {
		return ""
	}
	return humanize.Bytes(uint64(a.Bytes))
}

type providerRow struct {
	Provider                  string
	Buckets, Exposed, Blocked int
	Open                      int
	Worst                     string
}

type jurisdictionRow struct {
	Code                     string
	Concern                  bool
	DataHere, ControlledHere int
	Exposed, Blocked         int
}

type severityBar struct {
	Label        string
	Count, Width int
	Y            int
}

type matrixChart struct {
	Cols          []matrixCol
	Rows          []matrixRow
	Width, Height int
}

type matrixCol struct {
	Code    string
	Concern bool
}

type matrixRow struct {
	Provider string
	Y        int
	Cells    []matrixCell
}

type matrixCell struct {
	X, Count int
	Class    string
	Title    string
	// Candidate: every bucket counted here only may sit in the country
	// (a multi-region's candidate list); drawn hatched, not solid.
	Candidate bool
}

type bucketRow struct {
	B     *providers.Bucket
	Open  int
	Worst string
	Sev   int
}

func encodeHTML(w io.Writer, r *agent.Result, opts Options) error {
	return htmlTemplate.Execute(w, buildView(r, opts))
}

func buildView(r *agent.Result, opts Options) *htmlView {
	v := &htmlView{R: r, Generated: opts.now().Format("2006-01-02 15:04:05 UTC"), Version: opts.version(),
		Scenarios: buildScenarios(r), Sizes: make(map[string]string, len(r.Buckets))}
	for i := range r.Buckets {
		b := &r.Buckets[i]
		v.Sizes[resourceName(b.Provider, b.Account, b.Name)] = bucketSize(b)
	}

	// Which buckets could be exposed or blocked, and through which
	// jurisdictions; by bucket position, so memory follows the buckets.
	type flags struct{ exposed, blocked bool }
	friends := map[string]bool{}
	for _, j := range append(slices.Clone(r.Policy.Home), r.Policy.Trusted...) {
		friends[j] = true
	}
	idx := indexBuckets(r)
	byBucket := make([]flags, len(r.Buckets))
	jurExposed, jurBlocked := map[string]map[int]bool{}, map[string]map[int]bool{}
	mark := func(m map[string]map[int]bool, j string, p int) {
		if m[j] == nil {
			m[j] = map[int]bool{}
		}
		m[j][p] = true
	}
	for i := range r.Findings {
		f := &r.Findings[i]
		if f.Status != risk.StatusOpen || (f.Risk != risk.RiskExpose && f.Risk != risk.RiskBlock) {
			continue
		}
		p := idx.pos(bucketKey{f.Provider, f.Account, f.Bucket})
		if p < 0 {
			continue
		}
		rule, _ := risk.RuleByID(f.Rule)
		for _, j := range f.Jurisdictions {
			if !rule.Jurisdictional || friends[j] {
				continue // not that jurisdiction's doing
			}
			if f.Risk == risk.RiskExpose {
				mark(jurExposed, j, p)
			} else {
				mark(jurBlocked, j, p)
			}
		}
		if f.Risk == risk.RiskExpose {
			byBucket[p].exposed = true
		} else {
			byBucket[p].blocked = true
		}
	}
	for _, fl := range byBucket {
		if fl.exposed {
			v.Exposed++
		}
		if fl.blocked {
			v.Blocked++
		}
	}

	counts := bucketCounts(r)
	provIdx := map[string]*providerRow{}
	jurIdx := map[string]*jurisdictionRow{}
	jur := func(code string) *jurisdictionRow {
		if jurIdx[code] == nil {
			jurIdx[code] = &jurisdictionRow{Code: code, Concern: slices.Contains(r.Policy.Concern, code)}
		}
		return jurIdx[code]
	}
	type cellKey struct{ provider, country string }
	cells := map[cellKey]*matrixCell{}
	dataHere := map[string]int{}
	countries := map[string]bool{}
	for i := range r.Buckets {
		b := &r.Buckets[i]
		c := counts[i]
		row := bucketRow{B: b, Open: c.open, Worst: "clean", Sev: -1}
		if c.open > 0 {
			row.Worst, row.Sev = c.worst.String(), int(c.worst)
		}
		v.Buckets = append(v.Buckets, row)

		p := provIdx[b.Provider]
		if p == nil {
			p = &providerRow{Provider: b.Provider, Worst: "clean"}
			provIdx[b.Provider] = p
		}
		p.Buckets++
		p.Open += c.open
		if c.open > 0 && (p.Worst == "clean" || severityRank(p.Worst) < int(c.worst)) {
			p.Worst = c.worst.String()
		}
		if byBucket[i].exposed {
			p.Exposed++
		}
		if byBucket[i].blocked {
			p.Blocked++
		}
		for _, country := range b.Countries {
			dataHere[country]++
			countries[country] = true
			ck := cellKey{b.Provider, country}
			cell := cells[ck]
			if cell == nil {
				cell = &matrixCell{Class: "clean", Candidate: true}
				cells[ck] = cell
			}
			cell.Count++
			cell.Candidate = cell.Candidate && b.CountriesAreCandidates
			if c.open > 0 && (cell.Class == "clean" || severityRank(cell.Class) < int(c.worst)) {
				cell.Class = c.worst.String()
			}
		}
		for _, j := range uniq(b.Controller, b.Operator) {
			jur(j).ControlledHere++
		}
	}
	// The table lists the jurisdictions that control or operate a provider
	// of ours (made above) and the concern jurisdictions our data sits in
	// or that a finding names; not every country of a multi-region.
	for j, n := range dataHere {
		if jurIdx[j] != nil || slices.Contains(r.Policy.Concern, j) {
			jur(j).DataHere = n
		}
	}
	for j, m := range jurExposed {
		jur(j).Exposed = len(m)
	}
	for j, m := range jurBlocked {
		jur(j).Blocked = len(m)
	}

	for _, p := range sortedKeys(provIdx) {
		v.Providers = append(v.Providers, *provIdx[p])
	}
	for _, j := range sortedKeys(jurIdx) {
		v.Juris = append(v.Juris, *jurIdx[j])
	}
	// The jurisdictions that could reach the most buckets come first.
	slices.SortStableFunc(v.Juris, func(a, b jurisdictionRow) int {
		return (b.Exposed + b.Blocked) - (a.Exposed + a.Blocked)
	})

	maxCount := 0
	for sev := risk.Critical; sev >= risk.Info; sev-- {
		maxCount = max(maxCount, r.Summary.BySeverity[sev.String()])
	}
	for i, sev := 0, risk.Critical; sev >= risk.Info; i, sev = i+1, sev-1 {
		n := r.Summary.BySeverity[sev.String()]
		width := 0
		if maxCount > 0 {
			width = n * 300 / maxCount
		}
		v.Severity = append(v.Severity, severityBar{Label: sev.String(), Count: n, Width: width, Y: i * 28})
	}

	m := &v.Matrix
	for _, c := range sortedKeys(countries) {
		m.Cols = append(m.Cols, matrixCol{Code: c, Concern: slices.Contains(r.Policy.Concern, c)})
	}
	for i, p := range v.Providers {
		row := matrixRow{Provider: p.Provider, Y: 40 + i*36}
		for j, col := range m.Cols {
			country := col.Code
			cell := matrixCell{X: 90 + j*44, Class: "none"}
			if c := cells[cellKey{p.Provider, country}]; c != nil {
				cell.Count, cell.Class, cell.Candidate = c.Count, c.Class, c.Candidate
			}
			cell.Title = p.Provider + " in " + country + ": " + strconv.Itoa(cell.Count) + " bucket(s), worst " + cell.Class
			if cell.Candidate {
				cell.Title += " (a multi-region: the data may sit here)"
			}
			row.Cells = append(row.Cells, cell)
		}
		m.Rows = append(m.Rows, row)
	}
	m.Width = 100 + len(m.Cols)*44
	m.Height = 50 + len(m.Rows)*36
	v.Actions = topActions(r, 3)
	v.Conclusions = conclusions(r, v.Providers)
	return v
}

// topActions groups the open critical findings by rule and provider (one
// remediation applied across a provider's buckets) and returns the n groups
// that protect the most data (the bytes of their buckets), then that
// remove the most critical findings: a fix over a 3 TB ledger comes before
// one over empty scratch buckets.
func topActions(r *agent.Result, n int) []action {
	sizes := map[string]*providers.Size{}
	for i := range r.Buckets {
		b := &r.Buckets[i]
		sizes[b.Provider+"/"+b.Account+"/"+b.Name] = b.Size
	}
	type key struct{ rule, provider string }
	groups := map[key]*action{}
	buckets := map[key]map[string]bool{}
	var order []key
	for i := range r.Findings {
		f := &r.Findings[i]
		if f.Status != risk.StatusOpen || f.Severity != risk.Critical {
			continue
		}
		k := key{f.Rule, f.Provider}
		if groups[k] == nil {
			groups[k] = &action{Rule: f.Rule, Title: f.Title, Provider: f.Provider, Example: f.Remediation}
			buckets[k] = map[string]bool{}
			order = append(order, k)
		}
		groups[k].Critical++
		buckets[k][f.Account+"/"+f.Bucket] = true
	}
	out := make([]action, 0, len(order))
	for _, k := range order {
		a := groups[k]
		a.Buckets = len(buckets[k])
		for b := range buckets[k] {
			if sz := sizes[k.provider+"/"+b]; sz != nil {
				a.Bytes += sz.Bytes
			} else {
				a.Unsized++
			}
		}
		out = append(out, *a)
	}
	slices.SortStableFunc(out, func(a, b action) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), b.Critical-a.Critical)
	})
	return out[:min(n, len(out))]
}

// conclusions says in one sentence per provider who controls it and what
// could happen to our data there.
func conclusions(r *agent.Result, rows []providerRow) []string {
	control := map[string][]string{}
	for i := range r.Buckets {
		b := &r.Buckets[i]
		control[b.Provider] = uniq(append(control[b.Provider], b.Controller, b.Operator)...)
	}
	var out []string
	for _, p := range rows {
		var concern, home []string
		for _, j := range control[p.Provider] {
			switch {
			case j == "":
			case slices.Contains(r.Policy.Concern, j):
				concern = append(concern, j)
			case slices.Contains(r.Policy.Home, j) || slices.Contains(r.Policy.Trusted, j):
				home = append(home, j)
			}
		}
		s := p.Provider + ": " + strconv.Itoa(p.Buckets) + " bucket(s)"
		switch {
		case len(concern) > 0:
			s += ", controlled or operated from " + strings.Join(concern, ", ") + " (a jurisdiction of concern)"
		case len(home) > 0 && len(home) == len(control[p.Provider]):
			s += ", controlled and operated from home (" + strings.Join(home, ", ") + ")"
		}
		switch {
		case p.Exposed == 0 && p.Blocked == 0 && p.Open == 0:
			s += "; nothing to fix."
		case p.Exposed == 0 && p.Blocked == 0:
			s += "; none could be exposed or blocked, " + strconv.Itoa(p.Open) + " finding(s) of hygiene, residency or visibility to fix."
		default:
			s += "; " + strconv.Itoa(p.Exposed) + " could be exposed and " + strconv.Itoa(p.Blocked) + " blocked (worst finding " + p.Worst + ")."
		}
		out = append(out, s)
	}
	return out
}

func severityRank(name string) int {
	s, err := risk.ParseSeverity(name)
	if err != nil {
		return -1
	}
	return int(s)
}

func uniq(values ...string) []string {
	var out []string
	for _, v := range values {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
