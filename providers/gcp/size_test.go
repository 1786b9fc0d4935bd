package gcp_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/sandbox"
)

// 150 buckets page the series (the emulator pages at 100); one bucket
// has no point yet; a second project denies its metrics.
func sizeEstate() []byte {
	var b strings.Builder
	b.WriteString("gcp:\n  projects:\n    - id: acme-prod\n      buckets:\n        - {name: acme-young, location: US}\n")
	for i := range 150 {
		fmt.Fprintf(&b, "        - {name: acme-%03d, location: us-central1, bytes: %d, objects: %d}\n", i, 5000+i, i)
	}
	b.WriteString("    - id: acme-other\n      buckets:\n        - {name: other-denied, location: EU, bytes: 10, objects: 1, deny: [monitoring.timeSeries.list]}\n")
	return []byte(b.String())
}

func sizes(t *testing.T, opts sandbox.Options) (map[string]*providers.Bucket, map[string]int) {
	t.Helper()
	env := startSandbox(t, sizeEstate(), opts, nil)
	got := env.scan(t)
	sizer, ok := env.prov.(providers.Sizer)
	if !ok {
		t.Fatal("the gcp plugin reads no sizes in bulk")
	}
	byProject := map[string][]*providers.Bucket{}
	out := map[string]*providers.Bucket{}
	for name := range got {
		b := got[name]
		out[name] = &b
		byProject[b.Account] = append(byProject[b.Account], &b)
	}
	for proj, bs := range byProject {
		sizer.Sizes(context.Background(), proj, bs)
	}
	perOp := map[string]int{}
	for _, oc := range env.calls.Snapshot() {
		perOp[oc.Op] = oc.Calls
	}
	return out, perOp
}

func sizeUnknown(b *providers.Bucket) *providers.Unknown {
	for i := range b.Unknowns {
		if b.Unknowns[i].Field == providers.FieldSize {
			return &b.Unknowns[i]
		}
	}
	return nil
}

func TestSizesFromCloudMonitoring(t *testing.T) {
	got, perOp := sizes(t, sandbox.Options{})
	for i := range 150 {
		b := got[fmt.Sprintf("acme-%03d", i)]
		if b.Size == nil || b.Size.Bytes != int64(5000+i) || b.Size.Objects == nil || *b.Size.Objects != int64(i) ||
			b.Size.Source != "monitoring:storage.googleapis.com/storage/v2/total_bytes" {
			t.Fatalf("%s: size %+v unknowns %v", b.Name, b.Size, b.Unknowns)
		}
	}
	if u := sizeUnknown(got["acme-young"]); got["acme-young"].Size != nil || u == nil || !strings.Contains(u.Error, "no total_bytes point") {
		t.Errorf("young bucket: size %+v unknown %+v", got["acme-young"].Size, u)
	}
	if u := sizeUnknown(got["other-denied"]); got["other-denied"].Size != nil || u == nil || u.Permission != "monitoring.timeSeries.list" {
		t.Errorf("denied project: size %+v unknown %+v", got["other-denied"].Size, u)
	}
	// Two metrics of two pages in acme-prod, one denied call in acme-other.
	if n := perOp["monitoring.timeSeries.list"]; n != 5 {
		t.Errorf("ListTimeSeries %d times, want 5 (2 pages × 2 metrics + 1 denied)", n)
	}
	t.Logf("ListTimeSeries: %d calls for %d buckets in 2 projects", perOp["monitoring.timeSeries.list"], len(got))
}

func TestSizesThrottledIsRetried(t *testing.T) {
	got, _ := sizes(t, sandbox.Options{Faults: sandbox.NewFaults(sandbox.Fault{Op: "monitoring.timeSeries.list", Kind: sandbox.FaultThrottle, Times: 1})})
	if b := got["acme-000"]; b.Size == nil {
		t.Errorf("after one throttle: size unknown %v", b.Unknowns)
	}
}
