package agent

import (
	"time"

	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/agent/scenario"
	"github.com/reachaudit/reachaudit/providers"
)

// Schema names the version of the JSON result document.
const Schema = "reachaudit/run/v1"

// Result is one run: DESIGN's JSON result document.
type Result struct {
	Schema     string    `json:"schema"`
	RunID      string    `json:"run_id"`
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	// Partial is set when the run was cut short (timeout, shutdown): what
	// it holds is true but not complete.
	Partial bool `json:"partial,omitempty"`
	// Shard is set on the result of one shard of a run split across
	// agents; Merge joins the shards into the run's document, without it.
	Shard    *Shard             `json:"shard,omitempty"`
	Policy   risk.Policy        `json:"policy"`
	Buckets  []providers.Bucket `json:"buckets"`
	Findings []risk.Finding     `json:"findings"`
	Summary  Summary            `json:"summary"`
	// Scenarios are the policy's what-ifs evaluated over Buckets.
	Scenarios []scenario.Scenario `json:"scenarios"`
	Errors    []RunError          `json:"errors"`
}

// Summary counts what the run saw.
type Summary struct {
	Buckets           int            `json:"buckets"`
	BucketsByProvider map[string]int `json:"buckets_by_provider"`
	Findings          int            `json:"findings"`
	Open              int            `json:"open"`
	Suppressed        int            `json:"suppressed"`
	// BySeverity and ByRisk count open findings.
	BySeverity map[string]int `json:"by_severity"`
	ByRisk     map[string]int `json:"by_risk"`
	ByRule     map[string]int `json:"by_rule"`
	// Coverage says, per provider, which asked-for accounts were listed
	// and which could not be; CoverageState sums it up (complete, partial,
	// none). A run with state none audited nothing.
	Coverage      map[string]*Coverage `json:"coverage,omitempty"`
	CoverageState string               `json:"coverage_state,omitempty"`
	// Throttled counts, per provider, the throttling answers the run got
	// (each retried by the SDK); Pace says, per provider/account, how the
	// account's adaptive cap on buckets in flight went.
	Throttled map[string]int  `json:"throttled,omitempty"`
	Pace      map[string]Pace `json:"pace,omitempty"`
	// APICalls counts the provider API calls the run made.
	APICalls map[string][]providers.OpCount `json:"api_calls,omitempty"`
	// Delivery counts what outputs could not deliver (filled by the caller
	// that runs the outputs).
	Delivery []Delivery `json:"delivery,omitempty"`
}

// Delivery is an output's account of a run.
type Delivery struct {
	Output    string `json:"output"`
	Delivered int    `json:"delivered"`
	Spooled   int    `json:"spooled"`
	Dropped   int    `json:"dropped"`
	Error     string `json:"error,omitempty"`
}

// RunError is a failure that is not about one bucket: a provider that would
// not open, an account whose buckets could not be listed.
type RunError struct {
	Provider string `json:"provider"`
	Account  string `json:"account,omitempty"`
	Op       string `json:"op"`
	Error    string `json:"error"`
}

// Pace is how one account's adaptive concurrency went: the cap it started
// at, the highest it reached, where it ended and how often throttling cut it.
type Pace struct {
	Start int `json:"start"`
	Peak  int `json:"peak"`
	End   int `json:"end"`
	Cuts  int `json:"cuts"`
}

// EvaluateScenarios (re)computes Scenarios from the policy's specs over the
// recorded buckets; it makes no API call, so a stored run can be asked new
// questions.
func (r *Result) EvaluateScenarios() error {
	specs, err := scenario.ParseAll(r.Policy.Scenarios)
	if err != nil {
		r.Scenarios = []scenario.Scenario{}
		return err
	}
	r.Scenarios = scenario.Evaluate(specs, r.Buckets, r.Policy.Exit)
	return nil
}
