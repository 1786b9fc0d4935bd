package history

import (
	"maps"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
)

// unverifiedBecause says why prev's finding f, absent from cur, cannot be
// called resolved by cur: the inputs that decide it are unknown on its
// bucket now, or the bucket was not seen because cur was cut short or
// could not list its account. Empty: cur saw the bucket and the facts,
// and the finding is resolved.
func unverifiedBecause(f *risk.Finding, cur *agent.Result) []string {
	if f.Bucket == anyName {
		return nil // provider-wide findings are judged by reachLosses
	}
	ref := BucketRef{f.Provider, f.Account, f.Bucket}
	for i := range cur.Buckets {
		if refOf(&cur.Buckets[i]) == ref {
			return risk.Undecided(f.Rule, &cur.Buckets[i])
		}
	}
	switch {
	case cur.Partial:
		return []string{"bucket not seen: the run was cut short"}
	case listingFailed(cur, ref):
		return []string{"bucket not listed: listing its account failed"}
	}
	return nil
}

// KeepUnverified adds to cur, open and marked unverified, every finding
// of prev (the baseline, may be nil) that cur does not have but cannot
// call resolved (see unverifiedBecause), and recomputes cur's summary. A
// permission lost for one run then neither closes a finding in the SIEM
// nor opens it again when the permission comes back. It returns how many
// findings it kept.
func KeepUnverified(prev, cur *agent.Result) int {
	if prev == nil || cur == nil {
		return 0
	}
	have := indexFindings(cur.Findings)
	n := 0
	for i := range prev.Findings {
		f := prev.Findings[i]
		if _, ok := have[f.ID]; ok {
			continue
		}
		why := unverifiedBecause(&f, cur)
		if len(why) == 0 {
			continue
		}
		f.Unverified = true
		f.Evidence = maps.Clone(f.Evidence)
		if f.Evidence == nil {
			f.Evidence = map[string]any{}
		}
		f.Evidence["unverified_because"] = why
		f.Evidence["last_verified_run"] = lastVerified(&prev.Findings[i], prev)
		cur.Findings = append(cur.Findings, f)
		n++
	}
	if n > 0 {
		risk.Sort(cur.Findings)
		cur.Summary = withDelivery(agent.Summarise(cur), cur.Summary)
	}
	return n
}

// lastVerified is the run in which f was last seen firing on read facts.
func lastVerified(f *risk.Finding, prev *agent.Result) string {
	if f.Unverified {
		if id, ok := f.Evidence["last_verified_run"].(string); ok {
			return id
		}
	}
	return prev.RunID
}

// withDelivery keeps what the caller filled in after the scan.
func withDelivery(s, old agent.Summary) agent.Summary {
	s.Delivery, s.APICalls = old.Delivery, old.APICalls
	return s
}
