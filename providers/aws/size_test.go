package aws_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/sandbox"
)

// sizeEstate has 300 buckets in one region of one account (two
// GetMetricData calls of 250), a bucket in several storage classes, a
// bucket with no datapoint yet, a second region, and an account whose
// GetMetricData is denied.
func sizeEstate() string {
	var b strings.Builder
	b.WriteString(`aws:
  accounts:
    - id: "111122223333"
      buckets:
        - {name: cold, region: us-east-1, storage_types: {StandardStorage: 2000000000000, GlacierStorage: 30000000000000, DeepArchiveStorage: 6000000000000}, objects: 4750000}
        - {name: young, region: us-east-1}
        - {name: frankfurt, region: eu-central-1, bytes: 5000, objects: 2}
`)
	for i := range 300 {
		fmt.Fprintf(&b, "        - {name: bulk-%03d, region: us-east-1, bytes: %d, objects: %d}\n", i, 1000+i, i)
	}
	b.WriteString(`    - id: "444455556666"
      buckets:
        - {name: denied, region: us-east-1, bytes: 10, objects: 1, deny: [GetMetricData]}
`)
	return b.String()
}

func sizeAll(t *testing.T, opts sandbox.Options) (map[string]*providers.Bucket, map[string]int) {
	t.Helper()
	e, err := sandbox.ParseEstate("estate.yaml", []byte(sizeEstate()))
	if err != nil {
		t.Fatal(err)
	}
	opts.Now = time.Now().UTC()
	sb, err := sandbox.Start(context.Background(), e, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	plugin, _ := providers.Lookup("aws")
	calls := providers.NewCalls("aws", 0, 0, nil)
	p, err := plugin.Open(context.Background(), sb.Configs()["aws"], providers.Env{Calls: calls})
	if err != nil {
		t.Fatal(err)
	}
	sizer, ok := p.(providers.Sizer)
	if !ok {
		t.Fatal("the aws plugin reads no sizes in bulk")
	}
	ctx := context.Background()
	accounts, err := p.Accounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*providers.Bucket{}
	for _, a := range accounts {
		refs, err := p.List(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		var bs []*providers.Bucket
		for _, ref := range refs {
			b := p.Describe(ctx, ref)
			out[b.Name] = &b
			bs = append(bs, &b)
		}
		sizer.Sizes(ctx, a, bs)
	}
	perOp := map[string]int{}
	for _, oc := range calls.Snapshot() {
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

func TestSizesFromCloudWatch(t *testing.T) {
	got, perOp := sizeAll(t, sandbox.Options{})
	if got["cold"].Size == nil || got["cold"].Size.Bytes != 38000000000000 || *got["cold"].Size.Objects != 4750000 {
		t.Errorf("cold: size %+v, want 38 TB summed over three storage types", got["cold"].Size)
	}
	if s := got["cold"].Size; s != nil && (s.Source != "cloudwatch:AWS/S3/BucketSizeBytes" || time.Since(s.AsOf) > 72*time.Hour) {
		t.Errorf("cold: source %s as of %s", s.Source, s.AsOf)
	}
	for i := range 300 {
		b := got[fmt.Sprintf("bulk-%03d", i)]
		if b.Size == nil || b.Size.Bytes != int64(1000+i) || *b.Size.Objects != int64(i) {
			t.Fatalf("%s: size %+v unknowns %v", b.Name, b.Size, b.Unknowns)
		}
	}
	if got["frankfurt"].Size == nil || got["frankfurt"].Size.Bytes != 5000 {
		t.Errorf("frankfurt: size %+v; its metrics are in its own region", got["frankfurt"].Size)
	}
	if u := sizeUnknown(got["young"]); got["young"].Size != nil || u == nil || !strings.Contains(u.Error, "no BucketSizeBytes datapoint") {
		t.Errorf("young: size %+v unknown %+v, want unknown for want of a datapoint", got["young"].Size, u)
	}
	if u := sizeUnknown(got["denied"]); got["denied"].Size != nil || u == nil || u.Permission != "cloudwatch:GetMetricData" || u.API != "cloudwatch:GetMetricData" {
		t.Errorf("denied: size %+v unknown %+v, want unknown naming cloudwatch:GetMetricData", got["denied"].Size, u)
	}
	// 302 buckets in us-east-1 of the first account: two calls of at most
	// 250 buckets; one for eu-central-1; one for the second account.
	if n := perOp["GetMetricData"]; n != 4 {
		t.Errorf("GetMetricData %d times for 304 buckets in 3 account-regions", n)
	}
	t.Logf("GetMetricData: %d calls (pages included) for %d buckets: %.4f per bucket", perOp["GetMetricData"], len(got),
		float64(perOp["GetMetricData"])/float64(len(got)))
}

func TestSizesThrottledAreRetried(t *testing.T) {
	got, _ := sizeAll(t, sandbox.Options{Faults: sandbox.NewFaults(sandbox.Fault{Op: "GetMetricData", Kind: sandbox.FaultThrottle, Times: 2})})
	if got["cold"].Size == nil || got["bulk-000"].Size == nil {
		t.Errorf("after throttling: cold %+v bulk-000 %+v %v", got["cold"].Size, got["bulk-000"].Size, got["bulk-000"].Unknowns)
	}
}

func TestSizesMalformedAnswerIsUnknown(t *testing.T) {
	got, _ := sizeAll(t, sandbox.Options{Faults: sandbox.NewFaults(sandbox.Fault{Op: "GetMetricData", Kind: sandbox.FaultMalformed})})
	b := got["bulk-000"]
	if u := sizeUnknown(b); b.Size != nil || u == nil {
		t.Errorf("malformed answer: size %+v unknowns %v", b.Size, b.Unknowns)
	}
	if len(got) != 304 {
		t.Errorf("%d buckets, want all 304", len(got))
	}
}
