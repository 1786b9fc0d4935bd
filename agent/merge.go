package agent

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
)

// MergeError is a set of shard results that cannot be one run: shards of
// different runs, policies or shard counts, a shard missing or given twice.
type MergeError struct{ Msg string }

func (e *MergeError) Error() string { return "merge: " + e.Msg }

// Merge joins the results of every shard of one run into the run's
// document, as one scan of the whole estate would have written it. The
// shards must share the run ID, the shard count and the policy, and each
// shard must be there exactly once.
//
// What needs the whole estate is judged again over it: copies whose
// destination another shard scanned are completed from that bucket's
// record, and the findings are evaluated over every bucket at once (a copy's
// custody, EXP-008's organisation). Findings that name no bucket (bucket
// "*") are about an account and stay as their shard found them.
func Merge(shards []*Result) (*Result, error) {
	if len(shards) == 0 {
		return nil, &MergeError{"no shard results given"}
	}
	first := shards[0]
	if err := checkShards(shards); err != nil {
		return nil, err
	}
	out := &Result{
		Schema:    Schema,
		RunID:     first.RunID,
		StartedAt: first.StartedAt,
		Policy:    first.Policy,
		Buckets:   []providers.Bucket{},
		Findings:  []risk.Finding{},
		Errors:    []RunError{},
	}
	calls := map[string]map[string]*providers.OpCount{}
	seenErr := map[RunError]bool{}
	var kept []risk.Finding
	for _, r := range shards {
		if r.StartedAt.Before(out.StartedAt) {
			out.StartedAt = r.StartedAt
		}
		if r.FinishedAt.After(out.FinishedAt) {
			out.FinishedAt = r.FinishedAt
		}
		out.Partial = out.Partial || r.Partial
		out.Buckets = append(out.Buckets, r.Buckets...)
		for _, f := range r.Findings {
			if f.Bucket == "*" {
				kept = append(kept, f)
			}
		}
		// A provider that would not open fails in every shard alike:
		// the run has that error once.
		for _, e := range r.Errors {
			if !seenErr[e] {
				seenErr[e] = true
				out.Errors = append(out.Errors, e)
			}
		}
		for prov, ops := range r.Summary.APICalls {
			if calls[prov] == nil {
				calls[prov] = map[string]*providers.OpCount{}
			}
			for _, op := range ops {
				c := calls[prov][op.Op]
				if c == nil {
					c = &providers.OpCount{Op: op.Op}
					calls[prov][op.Op] = c
				}
				c.Calls += op.Calls
				c.Errors += op.Errors
			}
		}
		out.Summary.Delivery = append(out.Summary.Delivery, r.Summary.Delivery...)
	}
	if dup := duplicateBucket(out.Buckets); dup != "" {
		return nil, &MergeError{fmt.Sprintf("bucket %s is in more than one shard: the shards did not split the same estate", dup)}
	}
	sortBuckets(out.Buckets)
	byURI := make(map[string]int, len(out.Buckets))
	for i, b := range out.Buckets {
		byURI[b.URI] = i
	}
	fillCopies(out.Buckets, byURI)
	// The shards judged at about the time they finished; the run is
	// judged when its last shard did.
	out.Findings = risk.Evaluate(out.Buckets, out.Policy, risk.Options{Now: out.FinishedAt, Scanned: scannedAccounts(out.Buckets)})
	out.Findings = appendAccountFindings(out.Findings, kept)
	out.Summary.Coverage = mergeCoverage(shards)
	out.Summary = Summarise(out)
	out.Summary.APICalls = map[string][]providers.OpCount{}
	for prov, ops := range calls {
		list := make([]providers.OpCount, 0, len(ops))
		for _, c := range ops {
			list = append(list, *c)
		}
		sort.Slice(list, func(i, j int) bool { return list[i].Op < list[j].Op })
		out.Summary.APICalls[prov] = list
	}
	// Each account's pace was measured by the one shard that scanned it;
	// throttling answers add up across shards.
	for _, r := range shards {
		for k, p := range r.Summary.Pace {
			if out.Summary.Pace == nil {
				out.Summary.Pace = map[string]Pace{}
			}
			out.Summary.Pace[k] = p
		}
		for prov, n := range r.Summary.Throttled {
			if out.Summary.Throttled == nil {
				out.Summary.Throttled = map[string]int{}
			}
			out.Summary.Throttled[prov] += n
		}
	}
	if out.FinishedAt.IsZero() {
		out.FinishedAt = time.Now().UTC()
	}
	return out, nil
}

// checkShards refuses a set of results that are not every shard of one run.
func checkShards(shards []*Result) error {
	first := shards[0]
	policy, err := json.Marshal(first.Policy)
	if err != nil {
		return &MergeError{fmt.Sprintf("shard %s: policy: %v", first.RunID, err)}
	}
	for i, r := range shards {
		switch {
		case r.Schema != Schema:
			return &MergeError{fmt.Sprintf("result %d has schema %q, not %q", i+1, r.Schema, Schema)}
		case r.Shard == nil:
			return &MergeError{fmt.Sprintf("result %d (run %s) is not a shard's result: it was not scanned with --shard", i+1, r.RunID)}
		case r.RunID != first.RunID:
			return &MergeError{fmt.Sprintf("shards of different runs: %s (shard %s) and %s (shard %s)", first.RunID, first.Shard, r.RunID, r.Shard)}
		case r.Shard.Count != first.Shard.Count:
			return &MergeError{fmt.Sprintf("run %s: shards split %d ways and %d ways (shard %s and %s)", r.RunID, first.Shard.Count, r.Shard.Count, first.Shard, r.Shard)}
		}
		if err := r.Shard.Check(); err != nil {
			return &MergeError{fmt.Sprintf("run %s: %v", r.RunID, err)}
		}
		p, err := json.Marshal(r.Policy)
		if err != nil || !bytes.Equal(p, policy) {
			return &MergeError{fmt.Sprintf("run %s: shard %s and shard %s were judged under different policies", r.RunID, first.Shard, r.Shard)}
		}
	}
	n := first.Shard.Count
	have := make([]int, n)
	for _, r := range shards {
		have[r.Shard.Index]++
	}
	var missing, twice []string
	for k, c := range have {
		switch {
		case c == 0:
			missing = append(missing, fmt.Sprintf("%d/%d", k, n))
		case c > 1:
			twice = append(twice, fmt.Sprintf("%d/%d", k, n))
		}
	}
	if len(twice) > 0 {
		return &MergeError{fmt.Sprintf("run %s: shard %s given more than once", first.RunID, strings.Join(twice, ", "))}
	}
	if len(missing) > 0 {
		return &MergeError{fmt.Sprintf("run %s: shard %s missing (have %d of %d)", first.RunID, strings.Join(missing, ", "), len(shards), n)}
	}
	return nil
}

func duplicateBucket(bs []providers.Bucket) string {
	seen := make(map[string]bool, len(bs))
	for _, b := range bs {
		k := b.Provider + ":" + b.Account + ":" + b.Name
		if seen[k] {
			return k
		}
		seen[k] = true
	}
	return ""
}

// appendAccountFindings adds the shards' account findings that the
// evaluation did not make itself, in the evaluation's order.
func appendAccountFindings(fs, kept []risk.Finding) []risk.Finding {
	if len(kept) == 0 {
		return fs
	}
	have := make(map[string]bool, len(fs))
	for _, f := range fs {
		have[f.ID] = true
	}
	for _, f := range kept {
		if !have[f.ID] {
			have[f.ID] = true
			fs = append(fs, f)
		}
	}
	risk.Sort(fs)
	return fs
}

// mergeCoverage joins the shards' coverage: the accounts each asked for,
// listed and could not list, once each ("*", a provider that failed in
// every shard alike, once); how accounts were found and which were left
// out is the organisation's, the same in every shard.
func mergeCoverage(shards []*Result) map[string]*Coverage {
	var out map[string]*Coverage
	for _, r := range shards {
		for prov, c := range r.Summary.Coverage {
			if out == nil {
				out = map[string]*Coverage{}
			}
			m := out[prov]
			if m == nil {
				m = &Coverage{Asked: []string{}, Listed: []string{}, Failed: []string{}, Source: c.Source, Skipped: c.Skipped}
				out[prov] = m
			}
			m.Asked = union(m.Asked, c.Asked)
			m.Listed = union(m.Listed, c.Listed)
			m.Failed = union(m.Failed, c.Failed)
			m.Partitions = union(m.Partitions, c.Partitions)
		}
	}
	return out
}

func union(a, b []string) []string {
	out := append(a, b...)
	sort.Strings(out)
	return slices.Compact(out)
}
