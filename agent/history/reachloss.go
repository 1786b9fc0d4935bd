package history

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
)

// A provider-wide loss of reach is reported under BLK-005 ("the probe could
// not read the bucket") rather than under a rule of its own: it is the same
// risk seen across a provider or region at once, and DESIGN's catalogue is
// the one list of rules users write exceptions against. It is told apart
// from the per-bucket BLK-005s by its bucket "*" and its region ("*" when
// the whole provider is lost).
const (
	reachLossRule = "BLK-005"
	anyName       = "*"
)

type group struct{ provider, region string } // region "": the whole provider

// reachLosses finds the providers and provider regions of which every
// bucket that a could reach, b cannot. A loss already reported in a stays
// reported while none of its buckets is reachable again, so the finding
// does not read as resolved while the block goes on.
// With onlyNew, losses already reported in a are left out.
func reachLosses(a, b *agent.Result, onlyNew bool) []ReachLoss {
	// A run cut short may have had its probes cancelled: no verdict on
	// reach from it.
	if a == nil || b == nil || len(a.Buckets) == 0 || b.Partial {
		return nil
	}
	members := map[group][]BucketRef{}
	reachable := map[group][]BucketRef{}
	regionOf := map[BucketRef]string{}
	add := func(r *agent.Result, reach bool) {
		for i := range r.Buckets {
			bk := &r.Buckets[i]
			ref := refOf(bk)
			regionOf[ref] = bk.Region
			for _, g := range []group{{bk.Provider, ""}, {bk.Provider, bk.Region}} {
				if !slices.Contains(members[g], ref) {
					members[g] = append(members[g], ref)
				}
				if reach && bk.Reachability.Reachable {
					reachable[g] = append(reachable[g], ref)
				}
			}
		}
	}
	add(a, true)
	add(b, false)
	now := indexBuckets(b)

	var lost []ReachLoss
	wholeProvider := map[string]bool{}
	for g, refs := range members {
		carried := hasReachLoss(a, g)
		if len(reachable[g]) == 0 && !carried {
			continue
		}
		var gone []BucketRef
		stillReached := false
		for _, ref := range refs {
			nb, seen := now[ref]
			switch {
			case seen && nb.Reachability.Reachable:
				stillReached = true
			case seen:
				gone = append(gone, ref)
			case listingFailed(b, ref):
				// Not listed because listing its account failed: as cut
				// off as a bucket whose probe failed.
				gone = append(gone, ref)
			}
		}
		if stillReached || len(gone) == 0 {
			continue
		}
		if !carried && !allIn(reachable[g], gone) {
			continue
		}
		if g.region == "" {
			wholeProvider[g.provider] = true
		}
		if carried && onlyNew {
			continue
		}
		slices.SortFunc(gone, compareRefs)
		lost = append(lost, ReachLoss{Provider: g.provider, Region: g.region, Buckets: gone})
	}
	// A whole provider lost says all there is to say about its regions.
	lost = slices.DeleteFunc(lost, func(l ReachLoss) bool { return l.Region != "" && wholeProvider[l.Provider] })
	slices.SortFunc(lost, func(x, y ReachLoss) int {
		return cmp.Or(cmp.Compare(x.Provider, y.Provider), cmp.Compare(x.Region, y.Region))
	})
	return lost
}

func allIn(want, have []BucketRef) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func hasReachLoss(r *agent.Result, g group) bool {
	for _, f := range r.Findings {
		if f.Rule == reachLossRule && f.Bucket == anyName && f.Provider == g.provider && f.Region == regionOrAny(g.region) {
			return true
		}
	}
	return false
}

func regionOrAny(region string) string {
	if region == "" {
		return anyName
	}
	return region
}

// AddReachLoss finds the provider-wide losses of reach from prev (the
// baseline, may be nil) to cur, adds one critical finding for each to cur
// and recomputes cur's summary. It returns the losses.
func AddReachLoss(prev, cur *agent.Result) []ReachLoss {
	losses := reachLosses(prev, cur, false)
	if len(losses) == 0 {
		return nil
	}
	for _, l := range losses {
		cur.Findings = append(cur.Findings, reachLossFinding(prev, cur, l))
	}
	risk.Sort(cur.Findings)
	cur.Summary = withDelivery(agent.Summarise(cur), cur.Summary)
	return losses
}

func reachLossFinding(prev, cur *agent.Result, l ReachLoss) risk.Finding {
	where, scope := "every region", "provider"
	if l.Region != "" {
		where, scope = "region "+l.Region, "provider region"
	}
	accounts := map[string]bool{}
	names := make([]string, 0, len(l.Buckets))
	failures := map[string]string{}
	var juris []string
	var records []providers.Bucket
	now := indexBuckets(cur)
	then := indexBuckets(prev)
	for _, ref := range l.Buckets {
		accounts[ref.Account] = true
		names = append(names, ref.String())
		b := now[ref]
		if b != nil {
			failures[ref.String()] = cmp.Or(b.Reachability.Failure, "unreachable")
		} else {
			failures[ref.String()] = "not listed: listing the account failed"
			b = then[ref]
		}
		if b != nil {
			records = append(records, *b)
			for _, j := range []string{b.Controller, b.Operator} {
				if j != "" && !slices.Contains(juris, j) {
					juris = append(juris, j)
				}
			}
		}
	}
	slices.Sort(juris)
	account := anyName
	if len(accounts) == 1 {
		account = l.Buckets[0].Account
	}
	evidence := map[string]any{
		"buckets":      names,
		"failures":     failures,
		"previous_run": prev.RunID,
	}
	if l.Region != "" {
		evidence["region"] = l.Region
	}
	var runErrs []string
	for _, e := range cur.Errors {
		if e.Provider == l.Provider {
			runErrs = append(runErrs, fmt.Sprintf("%s %s: %s", e.Op, e.Account, e.Error))
		}
	}
	if runErrs != nil {
		evidence["run_errors"] = runErrs
	}
	// Judged by the engine like every finding: the policy's exceptions
	// (a resource "PROVIDER:*:*" or the account) and sensitive tags apply.
	return risk.EvaluateAggregate(risk.Aggregate{
		// Stable across runs for the same provider and region, so that a
		// loss that goes on is one finding, not a new one every run.
		ID:            risk.FindingID(reachLossRule, l.Provider, anyName, anyName, "reach-loss@"+regionOrAny(l.Region)),
		Rule:          reachLossRule,
		Provider:      l.Provider,
		Account:       account,
		Bucket:        anyName,
		Region:        regionOrAny(l.Region),
		Title:         fmt.Sprintf("provider-wide loss of reach: no %s bucket in %s that was reachable can be read now (%d buckets)", l.Provider, where, len(l.Buckets)),
		Evidence:      evidence,
		Jurisdictions: juris,
		Remediation:   "Every bucket of this " + scope + " became unreachable at once: check the provider's status page and the account's standing (suspension, sanctions, billing, revoked credentials or network policy), and be ready to serve the data from an independent copy.",
		Buckets:       records,
	}, cur.Policy, risk.Options{Now: cur.FinishedAt})
}
