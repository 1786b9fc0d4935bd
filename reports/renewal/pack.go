package renewal

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/agent/scenario"
	"github.com/reachaudit/reachaudit/providers"
)

// Schema names the version of the pack's JSON document.
const Schema = "reachaudit/renewal/v1"

// Pack is everything one provider's renewal meeting needs.
type Pack struct {
	Schema      string    `json:"schema"`
	Provider    string    `json:"provider"`
	AccountGlob string    `json:"account_glob"`
	GeneratedAt time.Time `json:"generated_at"`
	Summary     Summary   `json:"summary"`
	// Scenarios are the ban of the provider and the cut-off and compelled
	// disclosure by its controller's government, narrowed to the pack's
	// accounts: what leaving, or being made to leave, would cost.
	Scenarios  []Scenario `json:"scenarios"`
	Contracts  []Term     `json:"contracts"`
	Accounts   []Account  `json:"accounts"`
	LegalBases []Basis    `json:"legal_bases"`
	Questions  []Question `json:"questions"`
	Evidence   Evidence   `json:"evidence"`
}

// Scenario is one what-if over the pack's buckets with the line that
// says it.
type Scenario struct {
	scenario.Scenario
	Headline string `json:"headline"`
}

// Summary is the first page: what is held at the provider, where, under
// whose keys, and what is worst.
type Summary struct {
	Accounts int `json:"accounts"`
	Buckets  int `json:"buckets"`
	// Bytes sums the buckets whose size is known; UnknownSizeBuckets
	// counts the others, which are not in the sum.
	Bytes              int64 `json:"bytes"`
	UnknownSizeBuckets int   `json:"unknown_size_buckets"`
	// Countries counts buckets per country where their data sits (a
	// multi-region's candidates each count).
	Countries []Count `json:"countries"`
	// Custody counts buckets per key custody class; ProviderCanDecrypt of
	// them let the provider read the data without the customer.
	Custody            []Count           `json:"custody"`
	ProviderCanDecrypt int               `json:"provider_can_decrypt"`
	Controller         providers.Party   `json:"controller"`
	Operators          []providers.Party `json:"operators"`
	OpenBySeverity     map[string]int    `json:"open_by_severity"`
	Worst              []Finding         `json:"worst"`
	// NoCopyElsewhere counts buckets with no copy at another provider: what
	// a ban or cut-off of this provider would take.
	NoCopyElsewhere int `json:"no_copy_elsewhere"`
}

// Count is a number of buckets for one value.
type Count struct {
	Value   string `json:"value"`
	Buckets int    `json:"buckets"`
}

// Finding is a finding as the pack lists it.
type Finding struct {
	Rule     string `json:"rule"`
	Severity string `json:"severity"`
	Account  string `json:"account"`
	Bucket   string `json:"bucket"`
	Region   string `json:"region"`
	Title    string `json:"title"`
}

// Term is one contract covering accounts at the provider, and where its
// notice period stands at the time of the scan.
type Term struct {
	providers.Contract
	Accounts []string `json:"accounts"`
	// NoticeBy is the last day to give notice (end minus notice_days), and
	// DaysLeft the days from the scan to it; Status is ok, due (within 30
	// days), passed, or unknown when end or notice_days is missing.
	NoticeBy string `json:"notice_by,omitempty"`
	DaysLeft *int   `json:"days_left,omitempty"`
	Status   string `json:"notice_status"`
}

// Notice statuses.
const (
	NoticeOK      = "ok"
	NoticeDue     = "due"
	NoticePassed  = "passed"
	NoticeUnknown = "unknown"
)

// noticeWarning is how close the notice day may come before the pack
// calls it due.
const noticeWarning = 30

// Account is one account and its buckets.
type Account struct {
	ID       string              `json:"id"`
	Contract *providers.Contract `json:"contract"`
	Buckets  []Bucket            `json:"buckets"`
}

// Bucket is one bucket's line in the pack.
type Bucket struct {
	Name   string `json:"name"`
	Region string `json:"region"`
	// Bytes is nil when the bucket's size is unknown.
	Bytes     *int64   `json:"bytes"`
	Countries []string `json:"countries"`
	Operator  string   `json:"operator"`
	Custody   string   `json:"custody"`
	KeyState  string   `json:"key_state,omitempty"`
	// Copies name the bucket's other copies; Elsewhere is set when one of
	// them is at another provider.
	Copies    []string `json:"copies"`
	Elsewhere bool     `json:"copy_elsewhere"`
	Reachable bool     `json:"reachable"`
	Open      int      `json:"open_findings"`
	Worst     string   `json:"worst,omitempty"`
	Rules     []string `json:"rules"`
}

// Basis is a law the findings cite, what it means for this provider, and
// how much it reaches.
type Basis struct {
	Law      string   `json:"law"`
	Meaning  string   `json:"meaning"`
	Rules    []string `json:"rules"`
	Findings int      `json:"findings"`
	Buckets  int      `json:"buckets"`
}

// Question is one question to put to the provider, with what the scan
// found that asks it.
type Question struct {
	Topic    string `json:"topic"`
	Basis    string `json:"basis,omitempty"`
	Text     string `json:"text"`
	Evidence string `json:"evidence"`
}

// Evidence is the appendix: when the scan ran, what it read, what it could
// not.
type Evidence struct {
	RunID      string              `json:"run_id"`
	StartedAt  time.Time           `json:"started_at"`
	FinishedAt time.Time           `json:"finished_at"`
	Partial    bool                `json:"partial"`
	Policy     string              `json:"policy"`
	Accounts   []string            `json:"accounts_read"`
	APICalls   []providers.OpCount `json:"api_calls"`
	Errors     []agent.RunError    `json:"errors"`
	Unknowns   []Unknown           `json:"unknowns"`
}

// Unknown is a field of a bucket the scan could not read.
type Unknown struct {
	Account string `json:"account"`
	Bucket  string `json:"bucket"`
	providers.Unknown
}

// meanings say briefly what each law the catalogue cites means for data a
// provider holds.
var meanings = map[string]string{
	risk.LawCNIntelligence: "Organisations and citizens must support, assist and cooperate with state intelligence work: a CN-controlled provider can be required to hand over data it can read.",
	risk.LawCNDataSecurity: "Organisations and individuals must cooperate when public and state security organs retrieve data for national security or criminal investigations.",
	risk.LawCLOUDAct:       "A provider subject to US jurisdiction must disclose data in its possession, custody, or control, whether the data sits inside or outside the US.",
	risk.LawForeignAdv:     "The US Department of Commerce's list of foreign adversaries: ICT transactions involving their companies can be reviewed, restricted or banned.",
	risk.LawCountriesOfCon: "The US Department of Justice's countries of concern: bulk US sensitive data may not be made accessible to them or their covered persons.",
}

// maxWorst is how many findings the summary lists.
const maxWorst = 8

// Options tune Build.
type Options struct {
	// AccountGlob narrows the pack to the accounts it matches; empty: all.
	AccountGlob string
	// Now is when the pack is made; zero: the run's end.
	Now time.Time
}

// Build makes the pack for one provider from a finished run.
func Build(r *agent.Result, provider string, opts Options) (*Pack, error) {
	pl, ok := providers.Lookup(provider)
	if !ok {
		return nil, fmt.Errorf("unknown provider %q (want one of %s)", provider, strings.Join(providers.Names(), ", "))
	}
	glob := opts.AccountGlob
	if glob == "" {
		glob = "*"
	}
	if _, err := path.Match(glob, ""); err != nil {
		return nil, fmt.Errorf("--account %q is not a valid glob", glob)
	}
	now := opts.Now
	if now.IsZero() {
		now = r.FinishedAt
	}
	p := &Pack{
		Schema: Schema, Provider: provider, AccountGlob: glob, GeneratedAt: now.UTC(),
		Scenarios: []Scenario{}, Contracts: []Term{}, Accounts: []Account{}, LegalBases: []Basis{}, Questions: []Question{},
		Summary: Summary{Controller: pl.Controller, Operators: []providers.Party{}, OpenBySeverity: map[string]int{},
			Countries: []Count{}, Custody: []Count{}, Worst: []Finding{}},
		Evidence: Evidence{RunID: r.RunID, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, Partial: r.Partial,
			Policy: r.Policy.Profile, Accounts: []string{}, APICalls: append([]providers.OpCount{}, r.Summary.APICalls[provider]...),
			Errors: []agent.RunError{}, Unknowns: []Unknown{}},
	}
	in := func(prov, acct string) bool {
		m, _ := path.Match(glob, acct)
		return prov == provider && m
	}
	var buckets []*providers.Bucket
	for i := range r.Buckets {
		if b := &r.Buckets[i]; in(b.Provider, b.Account) {
			buckets = append(buckets, b)
		}
	}
	var findings []*risk.Finding
	byBucket := map[string][]*risk.Finding{}
	for i := range r.Findings {
		f := &r.Findings[i]
		if !in(f.Provider, f.Account) || f.Status != risk.StatusOpen {
			continue
		}
		findings = append(findings, f)
		byBucket[f.Account+"/"+f.Bucket] = append(byBucket[f.Account+"/"+f.Bucket], f)
	}
	for _, e := range r.Errors {
		if e.Provider == provider && (e.Account == "" || in(provider, e.Account)) {
			p.Evidence.Errors = append(p.Evidence.Errors, e)
		}
	}
	p.summarise(buckets, findings)
	if err := p.whatIf(r, pl, in); err != nil {
		return nil, err
	}
	p.accounts(buckets, byBucket)
	p.terms(buckets, now)
	p.bases(findings)
	p.ask(pl, buckets, findings, r.Policy.Exit)
	return p, nil
}

func (p *Pack) summarise(buckets []*providers.Bucket, findings []*risk.Finding) {
	s := &p.Summary
	countries, custody := map[string]int{}, map[string]int{}
	accounts := map[string]bool{}
	for _, b := range buckets {
		accounts[b.Account] = true
		for _, c := range b.Countries {
			countries[c]++
		}
		custody[string(b.Custody)]++
		if b.Size != nil {
			s.Bytes += b.Size.Bytes
		} else {
			s.UnknownSizeBuckets++
		}
		if b.Custody.ProviderCanDecrypt() {
			s.ProviderCanDecrypt++
		}
		op := providers.Party{Jurisdiction: b.Operator, Entity: b.OperatorEntity}
		if !slices.Contains(s.Operators, op) {
			s.Operators = append(s.Operators, op)
		}
		if !copyElsewhere(b) {
			s.NoCopyElsewhere++
		}
	}
	s.Accounts, s.Buckets = len(accounts), len(buckets)
	s.Countries, s.Custody = counts(countries), counts(custody)
	slices.SortFunc(s.Operators, func(a, b providers.Party) int { return cmp.Compare(a.Entity, b.Entity) })
	for _, f := range findings {
		s.OpenBySeverity[f.Severity.String()]++
	}
	// The worst findings, one per rule, so that the page shows the kinds
	// of trouble rather than one rule eight times.
	worst := slices.Clone(findings)
	slices.SortStableFunc(worst, func(a, b *risk.Finding) int { return cmp.Compare(b.Severity, a.Severity) })
	seen := map[string]bool{}
	for _, f := range worst {
		if seen[f.Rule] || len(s.Worst) == maxWorst {
			continue
		}
		seen[f.Rule] = true
		s.Worst = append(s.Worst, Finding{f.Rule, f.Severity.String(), f.Account, f.Bucket, f.Region, f.Title})
	}
	p.Evidence.Accounts = sortedKeys(accounts)
}

// whatIfSpecs are the events a renewal weighs for a provider: its ban, and
// its controlling government cutting the company off or compelling
// disclosure.
func whatIfSpecs(pl providers.Plugin) []string {
	j := pl.Controller.Jurisdiction
	return []string{"ban:" + pl.Name, "cutoff:" + j, "compel:" + j}
}

// whatIf evaluates the renewal's scenarios over the whole estate (a copy
// at another provider saves a bucket wherever it is) and keeps the pack's
// buckets.
func (p *Pack) whatIf(r *agent.Result, pl providers.Plugin, in func(prov, acct string) bool) error {
	specs, err := scenario.ParseAll(whatIfSpecs(pl))
	if err != nil {
		return fmt.Errorf("renewal scenarios for %s: %w", pl.Name, err)
	}
	keep := func(b scenario.Bucket) bool { return in(b.Provider, b.Account) }
	for _, sc := range scenario.Evaluate(specs, r.Buckets, r.Policy.Exit) {
		sc = sc.Scope(keep, r.Policy.Exit)
		p.Scenarios = append(p.Scenarios, Scenario{Scenario: sc, Headline: sc.Headline(r.Policy.Exit)})
	}
	return nil
}

// scenarioOf returns the pack's scenario of a kind ("ban", "cutoff",
// "compel").
func (p *Pack) scenarioOf(kind string) *Scenario {
	for i := range p.Scenarios {
		if strings.HasPrefix(p.Scenarios[i].Spec, kind+":") {
			return &p.Scenarios[i]
		}
	}
	return nil
}

func sizeOf(b *providers.Bucket) *int64 {
	if b.Size == nil {
		return nil
	}
	n := b.Size.Bytes
	return &n
}

func copyElsewhere(b *providers.Bucket) bool {
	return slices.ContainsFunc(b.Copies, func(c providers.Copy) bool { return c.Provider != b.Provider })
}

func counts(m map[string]int) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{k, v})
	}
	slices.SortFunc(out, func(a, b Count) int { return cmp.Or(cmp.Compare(b.Buckets, a.Buckets), cmp.Compare(a.Value, b.Value)) })
	return out
}

func (p *Pack) accounts(buckets []*providers.Bucket, byBucket map[string][]*risk.Finding) {
	idx := map[string]int{}
	for _, b := range buckets {
		i, ok := idx[b.Account]
		if !ok {
			i = len(p.Accounts)
			idx[b.Account] = i
			p.Accounts = append(p.Accounts, Account{ID: b.Account, Contract: b.Contract, Buckets: []Bucket{}})
		}
		line := Bucket{Name: b.Name, Region: b.Region, Bytes: sizeOf(b), Countries: b.Countries, Operator: b.Operator,
			Custody: string(b.Custody), Copies: []string{}, Elsewhere: copyElsewhere(b),
			Reachable: b.Reachability.Reachable, Rules: []string{}}
		if b.Key != nil {
			line.KeyState = string(b.Key.State)
		}
		for _, c := range b.Copies {
			line.Copies = append(line.Copies, c.Provider+":"+c.Bucket)
		}
		var worst risk.Severity = -1
		for _, f := range byBucket[b.Account+"/"+b.Name] {
			line.Open++
			if f.Severity > worst {
				worst = f.Severity
			}
			if !slices.Contains(line.Rules, f.Rule) {
				line.Rules = append(line.Rules, f.Rule)
			}
		}
		if worst >= 0 {
			line.Worst = worst.String()
		}
		slices.Sort(line.Rules)
		for _, u := range b.Unknowns {
			p.Evidence.Unknowns = append(p.Evidence.Unknowns, Unknown{Account: b.Account, Bucket: b.Name, Unknown: u})
		}
		p.Accounts[i].Buckets = append(p.Accounts[i].Buckets, line)
	}
}

// terms gathers the distinct contracts of the buckets and where their
// notice periods stand.
func (p *Pack) terms(buckets []*providers.Bucket, now time.Time) {
	for _, b := range buckets {
		c := b.Contract
		if c == nil {
			continue
		}
		i := slices.IndexFunc(p.Contracts, func(t Term) bool {
			return t.Entity == c.Entity && t.Reference == c.Reference
		})
		if i < 0 {
			p.Contracts = append(p.Contracts, notice(*c, now))
			i = len(p.Contracts) - 1
		}
		if !slices.Contains(p.Contracts[i].Accounts, b.Account) {
			p.Contracts[i].Accounts = append(p.Contracts[i].Accounts, b.Account)
		}
	}
}

func notice(c providers.Contract, now time.Time) Term {
	t := Term{Contract: c, Status: NoticeUnknown, Accounts: []string{}}
	end, err := time.Parse("2006-01-02", c.End)
	if err != nil || c.NoticeDays == nil {
		return t
	}
	by := end.AddDate(0, 0, -*c.NoticeDays)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	left := int(by.Sub(today).Hours() / 24)
	t.NoticeBy, t.DaysLeft = by.Format("2006-01-02"), &left
	switch {
	case left < 0:
		t.Status = NoticePassed
	case left <= noticeWarning:
		t.Status = NoticeDue
	default:
		t.Status = NoticeOK
	}
	return t
}

func (p *Pack) bases(findings []*risk.Finding) {
	type acc struct {
		rules   map[string]bool
		n       int
		buckets map[string]bool
	}
	laws := map[string]*acc{}
	for _, f := range findings {
		for _, l := range f.LegalBasis {
			a := laws[l]
			if a == nil {
				a = &acc{rules: map[string]bool{}, buckets: map[string]bool{}}
				laws[l] = a
			}
			a.rules[f.Rule] = true
			a.n++
			a.buckets[f.Account+"/"+f.Bucket] = true
		}
	}
	for _, l := range sortedKeys(laws) {
		a := laws[l]
		p.LegalBases = append(p.LegalBases, Basis{Law: l, Meaning: meanings[l], Rules: sortedKeys(a.rules), Findings: a.n, Buckets: len(a.buckets)})
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
