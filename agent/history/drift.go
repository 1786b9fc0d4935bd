package history

import (
	"cmp"
	"slices"
	"strings"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
)

// StatusResolved marks, in what Changes returns, a finding of the earlier
// run that no longer fires, so that a receiver can close it.
const StatusResolved = "resolved"

// BucketRef names a bucket across runs.
type BucketRef struct {
	Provider string `json:"provider"`
	Account  string `json:"account"`
	Name     string `json:"name"`
}

func refOf(b *providers.Bucket) BucketRef { return BucketRef{b.Provider, b.Account, b.Name} }

func (r BucketRef) String() string { return r.Provider + ":" + r.Account + ":" + r.Name }

func compareRefs(a, b BucketRef) int {
	return cmp.Or(cmp.Compare(a.Provider, b.Provider), cmp.Compare(a.Account, b.Account), cmp.Compare(a.Name, b.Name))
}

// FindingChange is a finding present in both runs whose severity or status
// changed.
type FindingChange struct {
	Before risk.Finding `json:"before"`
	After  risk.Finding `json:"after"`
	// Fields names what changed: severity, status.
	Fields []string `json:"fields"`
}

// FactChange is a bucket fact that changed between runs. For Field "copy"
// Before names a copy that disappeared (After empty) or After one that
// appeared (Before empty).
type FactChange struct {
	Bucket BucketRef `json:"bucket"`
	Field  string    `json:"field"`
	Before string    `json:"before"`
	After  string    `json:"after"`
}

// ReachLoss is a provider, or one region of it (Region not empty), whose
// every bucket that was reachable in the earlier run is unreachable now:
// the signal of a block in progress rather than of one bucket's trouble.
type ReachLoss struct {
	Provider string `json:"provider"`
	Region   string `json:"region,omitempty"`
	// Buckets are the buckets lost: unreachable now, or no longer listed
	// because listing their account failed.
	Buckets []BucketRef `json:"buckets"`
}

// Drift is what changed from one run to the next.
type Drift struct {
	From     string          `json:"from"`
	To       string          `json:"to"`
	New      []risk.Finding  `json:"new"`
	Changed  []FindingChange `json:"changed"`
	Resolved []risk.Finding  `json:"resolved"`
	Added    []BucketRef     `json:"buckets_added"`
	Removed  []BucketRef     `json:"buckets_removed"`
	Facts    []FactChange    `json:"facts_changed"`
	// ReachLoss holds the losses of reach that began with To; one that
	// goes on is not drift (its finding stays, unchanged).
	ReachLoss []ReachLoss `json:"reach_loss"`
}

// Empty reports whether nothing changed.
func (d *Drift) Empty() bool {
	return len(d.New)+len(d.Changed)+len(d.Resolved)+len(d.Added)+len(d.Removed)+len(d.Facts)+len(d.ReachLoss) == 0
}

// facts are the bucket facts whose change is drift, each read as a string
// that compares equal when the fact did not change.
var facts = []struct {
	field string
	get   func(b *providers.Bucket) string
}{
	{"region", func(b *providers.Bucket) string { return b.Region }},
	{"countries", func(b *providers.Bucket) string { return joinSorted(b.Countries) }},
	{"controller", func(b *providers.Bucket) string { return b.Controller }},
	{"operator", func(b *providers.Bucket) string { return b.Operator }},
	{"custody", func(b *providers.Bucket) string { return string(b.Custody) }},
	{"key", func(b *providers.Bucket) string {
		if b.Key == nil {
			return ""
		}
		return b.Key.ID
	}},
	{"key_state", func(b *providers.Bucket) string {
		if b.Key == nil {
			return ""
		}
		return string(b.Key.State)
	}},
	{"public", func(b *providers.Bucket) string { return string(b.Public) }},
	{"versioning", func(b *providers.Bucket) string { return b.Versioning }},
	{"object_lock", func(b *providers.Bucket) string { return string(b.ObjectLock) }},
	{"reachable", func(b *providers.Bucket) string { return string(providers.TriOf(b.Reachability.Reachable)) }},
}

func joinSorted(ss []string) string {
	ss = slices.Clone(ss)
	slices.Sort(ss)
	return strings.Join(ss, ",")
}

func copyKey(c providers.Copy) string {
	k := c.Provider + ":" + c.Account + ":" + c.Bucket
	if c.Region != "" {
		k += "@" + c.Region
	}
	return k
}

// Diff compares run a (earlier) with run b. A nil a is an empty history:
// everything in b is new. Where b did not look (it was cut short, or
// listing an account failed), a bucket or finding missing from b is not
// reported removed or resolved: it was not seen, not gone.
func Diff(a, b *agent.Result) Drift {
	var d Drift
	if b == nil {
		return d
	}
	d.To = b.RunID
	if a == nil {
		a = &agent.Result{}
	}
	d.From = a.RunID

	before := indexBuckets(a)
	after := indexBuckets(b)
	for ref, nb := range after {
		ob, ok := before[ref]
		if !ok {
			d.Added = append(d.Added, ref)
			continue
		}
		for _, f := range facts {
			if x, y := f.get(ob), f.get(nb); x != y {
				d.Facts = append(d.Facts, FactChange{Bucket: ref, Field: f.field, Before: x, After: y})
			}
		}
		d.Facts = append(d.Facts, copyChanges(ref, ob.Copies, nb.Copies)...)
	}
	for ref := range before {
		if _, ok := after[ref]; !ok && covered(b, ref) {
			d.Removed = append(d.Removed, ref)
		}
	}

	oldF := indexFindings(a.Findings)
	newF := indexFindings(b.Findings)
	for id, nf := range newF {
		of, ok := oldF[id]
		if !ok {
			d.New = append(d.New, *nf)
			continue
		}
		var fields []string
		if of.Severity != nf.Severity {
			fields = append(fields, "severity")
		}
		if of.Status != nf.Status {
			fields = append(fields, "status")
		}
		if fields != nil {
			d.Changed = append(d.Changed, FindingChange{Before: *of, After: *nf, Fields: fields})
		}
	}
	for id, of := range oldF {
		// Resolved only when b read the facts that decide it and they no
		// longer fire it: a finding whose inputs became unknown is not.
		if _, ok := newF[id]; !ok && covered(b, BucketRef{of.Provider, of.Account, of.Bucket}) && len(unverifiedBecause(of, b)) == 0 {
			d.Resolved = append(d.Resolved, *of)
		}
	}
	d.ReachLoss = reachLosses(a, b, true)

	slices.SortFunc(d.Added, compareRefs)
	slices.SortFunc(d.Removed, compareRefs)
	slices.SortFunc(d.Facts, func(x, y FactChange) int {
		return cmp.Or(compareRefs(x.Bucket, y.Bucket), cmp.Compare(x.Field, y.Field),
			cmp.Compare(x.Before, y.Before), cmp.Compare(x.After, y.After))
	})
	byID := func(x, y risk.Finding) int { return cmp.Compare(x.ID, y.ID) }
	slices.SortFunc(d.New, byID)
	slices.SortFunc(d.Resolved, byID)
	slices.SortFunc(d.Changed, func(x, y FindingChange) int { return cmp.Compare(x.After.ID, y.After.ID) })
	return d
}

func copyChanges(ref BucketRef, before, after []providers.Copy) []FactChange {
	was := map[string]bool{}
	for _, c := range before {
		was[copyKey(c)] = true
	}
	is := map[string]bool{}
	for _, c := range after {
		is[copyKey(c)] = true
	}
	var out []FactChange
	for k := range was {
		if !is[k] {
			out = append(out, FactChange{Bucket: ref, Field: "copy", Before: k})
		}
	}
	for k := range is {
		if !was[k] {
			out = append(out, FactChange{Bucket: ref, Field: "copy", After: k})
		}
	}
	return out
}

func indexBuckets(r *agent.Result) map[BucketRef]*providers.Bucket {
	m := make(map[BucketRef]*providers.Bucket, len(r.Buckets))
	for i := range r.Buckets {
		m[refOf(&r.Buckets[i])] = &r.Buckets[i]
	}
	return m
}

// NotIn returns the findings of fs that r does not hold (by ID); nil r
// holds none.
func NotIn(fs []risk.Finding, r *agent.Result) []risk.Finding {
	if r == nil {
		return fs
	}
	seen := indexFindings(r.Findings)
	out := fs[:0:0]
	for _, f := range fs {
		if seen[f.ID] == nil {
			out = append(out, f)
		}
	}
	return out
}

func indexFindings(fs []risk.Finding) map[string]*risk.Finding {
	m := make(map[string]*risk.Finding, len(fs))
	for i := range fs {
		m[fs[i].ID] = &fs[i]
	}
	return m
}

// covered reports whether run r looked at the place where the bucket ref
// would be: a bucket r lists was seen; otherwise r saw that it is gone
// unless r was cut short or failed to list the bucket's provider or
// account.
func covered(r *agent.Result, ref BucketRef) bool {
	for i := range r.Buckets {
		if refOf(&r.Buckets[i]) == ref {
			return true
		}
	}
	return !r.Partial && !listingFailed(r, ref)
}

func listingFailed(r *agent.Result, ref BucketRef) bool {
	for _, e := range r.Errors {
		if e.Provider == ref.Provider && (e.Account == "" || ref.Account == "*" || e.Account == ref.Account) {
			return true
		}
	}
	return false
}

// Changes returns a copy of res holding only what d reports: new findings,
// changed findings (as they are now) and resolved findings (with status
// "resolved"), and the records of the buckets they or a changed fact
// concern. It is what `emit: changes` delivers.
func Changes(res *agent.Result, d *Drift) *agent.Result {
	out := *res
	out.Findings = make([]risk.Finding, 0, len(d.New)+len(d.Changed)+len(d.Resolved))
	out.Findings = append(out.Findings, d.New...)
	for _, c := range d.Changed {
		out.Findings = append(out.Findings, c.After)
	}
	for _, f := range d.Resolved {
		f.Status = StatusResolved
		out.Findings = append(out.Findings, f)
	}
	touched := map[BucketRef]bool{}
	for _, ref := range d.Added {
		touched[ref] = true
	}
	for _, fc := range d.Facts {
		touched[fc.Bucket] = true
	}
	for _, f := range out.Findings {
		touched[BucketRef{f.Provider, f.Account, f.Bucket}] = true
	}
	out.Buckets = make([]providers.Bucket, 0, len(touched))
	for _, b := range res.Buckets {
		if touched[refOf(&b)] {
			out.Buckets = append(out.Buckets, b)
		}
	}
	// Resolved findings are in the document but counted neither open nor
	// suppressed.
	counted := out
	counted.Findings = out.Findings[:len(out.Findings)-len(d.Resolved)]
	counted.Summary.Delivery = nil
	out.Summary = agent.Summarise(&counted)
	out.Summary.Findings = len(out.Findings)
	return &out
}
