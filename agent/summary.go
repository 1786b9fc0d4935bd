package agent

import "github.com/reachaudit/reachaudit/agent/risk"

// Summarise counts a result's buckets and findings.
func Summarise(r *Result) Summary {
	s := Summary{
		Buckets:           len(r.Buckets),
		BucketsByProvider: map[string]int{},
		Findings:          len(r.Findings),
		BySeverity:        map[string]int{},
		ByRisk:            map[string]int{},
		ByRule:            map[string]int{},
		Coverage:          r.Summary.Coverage,
		CoverageState:     CoverageState(r.Summary.Coverage),
		APICalls:          r.Summary.APICalls,
		Throttled:         r.Summary.Throttled,
		Pace:              r.Summary.Pace,
		Delivery:          r.Summary.Delivery,
	}
	if r.Partial && s.CoverageState == CoverageComplete {
		// Every account was listed, but the run was cut short before it
		// read them all: it must not read as a complete audit.
		s.CoverageState = CoveragePartial
	}
	for _, b := range r.Buckets {
		s.BucketsByProvider[b.Provider]++
	}
	for _, f := range r.Findings {
		if f.Status == risk.StatusSuppressed {
			s.Suppressed++
			continue
		}
		s.Open++
		s.BySeverity[f.Severity.String()]++
		s.ByRisk[f.Risk]++
		s.ByRule[f.Rule]++
	}
	return s
}
