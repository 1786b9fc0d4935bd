package alibaba_test

import (
	"strings"
	"testing"
	"time"

	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/sandbox"
)

// Sizes come from GetBucketStat through the SDK's signed requests; what
// cannot be read is unknown with the API, never zero.
func TestBucketSize(t *testing.T) {
	const estate = `
alibaba:
  accounts:
    - id: "1111222233334444"
      buckets:
        - {name: ledger, region: cn-hangzhou, bytes: 3100000000000, objects: 42000000}
`
	const young = `
alibaba:
  accounts:
    - id: "1111222233334444"
      buckets:
        - {name: ledger, region: cn-hangzhou}
`
	const denied = `
alibaba:
  accounts:
    - id: "1111222233334444"
      buckets:
        - {name: ledger, region: cn-hangzhou, bytes: 10, objects: 1, deny: [GetBucketStat]}
`
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name, estate string
		fault        *sandbox.Fault
		bytes        int64
		unknown      string // substring of the unknown's error; "" means known
		permission   string
	}{
		{name: "datapoint", estate: estate, bytes: 3100000000000},
		{name: "throttled once and retried", estate: estate, fault: &sandbox.Fault{Op: "GetBucketStat", Kind: sandbox.FaultThrottle, Times: 1}, bytes: 3100000000000},
		{name: "young bucket has no statistics", estate: young, unknown: "no statistics yet"},
		{name: "denied", estate: denied, unknown: "AccessDenied", permission: "oss:GetBucketStat"},
		{name: "malformed answer", estate: estate, fault: &sandbox.Fault{Op: "GetBucketStat", Kind: sandbox.FaultMalformed}, unknown: "GetBucketStat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := sandbox.Options{Now: now}
			if tt.fault != nil {
				opts.Faults = sandbox.NewFaults(*tt.fault)
			}
			cfg, _ := start(t, tt.estate, opts)
			b, _ := describeOne(t, cfg)
			if tt.unknown == "" {
				if b.Size == nil {
					t.Fatalf("size unknown: %v", b.Unknowns)
				}
				if b.Size.Bytes != tt.bytes || b.Size.Objects == nil || *b.Size.Objects != 42000000 ||
					b.Size.Source != "oss:GetBucketStat" || !b.Size.AsOf.Equal(now.Add(-3*time.Hour)) {
					t.Errorf("size %+v", b.Size)
				}
				return
			}
			if b.Size != nil {
				t.Fatalf("size %+v, want unknown", b.Size)
			}
			var u *providers.Unknown
			for i := range b.Unknowns {
				if b.Unknowns[i].Field == providers.FieldSize {
					u = &b.Unknowns[i]
				}
			}
			if u == nil || u.API != "oss:GetBucketStat" || !strings.Contains(u.Error, tt.unknown) || u.Permission != tt.permission {
				t.Errorf("unknown %+v, want API oss:GetBucketStat, error with %q, permission %q", u, tt.unknown, tt.permission)
			}
		})
	}
}
