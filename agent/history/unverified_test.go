package history

import (
	"testing"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
)

func TestKeepUnverified(t *testing.T) {
	plain := bucket("aws", "111", "plain", "us-east-1", func(b *providers.Bucket) { b.Custody = providers.CustodyNone })
	g1 := bucket("gcp", "proj", "g1", "us-central1")
	first := result("r1", t0, []providers.Bucket{plain, g1}, finding("EXP-005", risk.High, plain), finding("HYG-001", risk.Low, g1))
	denied := plain
	denied.Custody = providers.CustodyUnknown
	denied.Unknowns = []providers.Unknown{{Field: providers.FieldCustody, API: "GetBucketEncryption", Error: "AccessDenied"}}
	fixed := plain
	fixed.Custody = providers.CustodyProviderManaged

	tests := []struct {
		name     string
		second   *agent.Result
		kept     []string // rules kept open, unverified
		resolved []string // rules the drift calls resolved
	}{
		{"encryption unreadable: EXP-005 kept", result("r2", t0, []providers.Bucket{denied, g1}, finding("HYG-001", risk.Low, g1)),
			[]string{"EXP-005"}, nil},
		{"encryption read and fixed: EXP-005 resolved", result("r2", t0, []providers.Bucket{fixed, g1}, finding("HYG-001", risk.Low, g1)),
			nil, []string{"EXP-005"}},
		{"the account could not be listed: its findings kept", func() *agent.Result {
			r := result("r2", t0, []providers.Bucket{plain}, finding("EXP-005", risk.High, plain))
			r.Errors = []agent.RunError{{Provider: "gcp", Account: "proj", Op: "ListBuckets", Error: "denied"}}
			return r
		}(), []string{"HYG-001"}, nil},
		{"the bucket is gone from a complete listing: resolved", result("r2", t0, []providers.Bucket{plain}, finding("EXP-005", risk.High, plain)),
			nil, []string{"HYG-001"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := KeepUnverified(first, tt.second)
			var kept []string
			for _, f := range tt.second.Findings {
				if f.Unverified {
					if f.Status != risk.StatusOpen || f.Evidence["last_verified_run"] != "r1" {
						t.Errorf("kept %+v", f)
					}
					kept = append(kept, f.Rule)
				}
			}
			if n != len(tt.kept) || !equal(kept, tt.kept) {
				t.Errorf("kept %v (%d), want %v", kept, n, tt.kept)
			}
			if tt.second.Summary.Open != len(tt.second.Findings) {
				t.Errorf("summary open %d, findings %d", tt.second.Summary.Open, len(tt.second.Findings))
			}
			d := Diff(first, tt.second)
			var resolved []string
			for _, f := range d.Resolved {
				resolved = append(resolved, f.Rule)
			}
			if !equal(resolved, tt.resolved) || len(d.New) != 0 {
				t.Errorf("resolved %v new %v, want resolved %v", resolved, d.New, tt.resolved)
			}
			// A third run in the same state keeps it, still from r1.
			third := *tt.second
			third.Findings = nil
			for _, f := range tt.second.Findings {
				if !f.Unverified {
					third.Findings = append(third.Findings, f)
				}
			}
			third.RunID = "r3"
			KeepUnverified(tt.second, &third)
			for _, f := range third.Findings {
				if f.Unverified && f.Evidence["last_verified_run"] != "r1" {
					t.Errorf("third run: %+v", f)
				}
			}
		})
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The provider-wide BLK-005 is judged by the risk engine like every
// finding: an exception suppresses it, a sensitive tag is in its evidence.
func TestReachLossFindingGoesThroughThePolicy(t *testing.T) {
	tagged := bucket("alibaba", "123", "e1", "cn-hangzhou", func(b *providers.Bucket) { b.Tags = map[string]string{"data-class": "restricted"} })
	other := bucket("alibaba", "123", "e2", "cn-hangzhou")
	down := func(b providers.Bucket) providers.Bucket { unreachable(&b); return b }
	policy := risk.DefaultPolicy()
	policy.SensitiveTags = map[string][]string{"data-class": {"restricted"}}
	for _, tc := range []struct {
		name       string
		exceptions []risk.Exception
		status     string
	}{
		{"no exception", nil, risk.StatusOpen},
		{"an exception for the provider", []risk.Exception{{Rule: "BLK-005", Resource: "alibaba:*:*", Reason: "exit planned"}}, risk.StatusSuppressed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := policy
			p.Exceptions = tc.exceptions
			prev := result("r1", t0, []providers.Bucket{tagged, other})
			prev.Policy = p
			cur := result("r2", t0, []providers.Bucket{down(tagged), down(other)})
			cur.Policy = p
			AddReachLoss(prev, cur)
			var f *risk.Finding
			for i := range cur.Findings {
				if cur.Findings[i].Bucket == anyName {
					f = &cur.Findings[i]
				}
			}
			if f == nil {
				t.Fatal("no provider-wide BLK-005")
			}
			if f.Status != tc.status || f.Evidence["sensitive_tag"] == nil || f.Severity != risk.Critical {
				t.Errorf("finding %+v; want status %s with the sensitive tag in evidence", f, tc.status)
			}
			if tc.status == risk.StatusSuppressed && (f.SuppressedReason != "exit planned" || cur.Summary.Suppressed != 1) {
				t.Errorf("reason %q, summary %+v", f.SuppressedReason, cur.Summary)
			}
		})
	}
}
