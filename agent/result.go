package agent

import (
	"time"

	"github.com/reachaudit/reachaudit/agent/risk"
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
	Errors   []RunError         `json:"errors"`
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
