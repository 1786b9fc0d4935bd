package aws_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/sandbox"
)

// syntheticEstate writes an estate of buckets spread over accounts, every
// fifth bucket sharing one of the keys of its account.
func syntheticEstate(accounts, bucketsPerAccount, keysPerAccount int) string {
	regions := []string{"us-east-1", "eu-west-1", "ap-northeast-1", "us-west-2"}
	var sb strings.Builder
	sb.WriteString("aws:\n  accounts:\n")
	for a := range accounts {
		fmt.Fprintf(&sb, "    - id: \"%012d\"\n      keys:\n", 100000000000+a)
		for k := range keysPerAccount {
			fmt.Fprintf(&sb, "        - {id: key-%d-%d, region: %s}\n", a, k, regions[k%len(regions)])
		}
		sb.WriteString("      buckets:\n")
		for b := range bucketsPerAccount {
			region := regions[b%len(regions)]
			fmt.Fprintf(&sb, "        - name: bench-%d-%d\n          region: %s\n", a, b, region)
			switch b % 5 {
			case 0:
				// Key k sits in regions[k%4]; S3 needs a key of the
				// bucket's region (keysPerAccount is a multiple of 4).
				k := (b/5*len(regions) + b%len(regions)) % keysPerAccount
				fmt.Fprintf(&sb, "          encryption: {algorithm: \"aws:kms\", key: key-%d-%d}\n", a, k)
			case 1:
				sb.WriteString("          public_access_block: true\n          versioning: Enabled\n")
			case 2:
				sb.WriteString("          tags: {data-class: internal}\n")
			}
		}
	}
	return sb.String()
}

// BenchmarkSandboxScan scans a synthetic estate with 25 ms of latency on
// every request, 32 buckets at a time, and reports the ratio of the wall
// time to the ideal (calls × latency ÷ concurrency).
func BenchmarkSandboxScan(b *testing.B) {
	const (
		latency     = 25 * time.Millisecond
		concurrency = 32
	)
	estate := syntheticEstate(4, 100, 20)
	e, err := sandbox.ParseEstate("bench.yaml", []byte(estate))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		sb, err := sandbox.Start(context.Background(), e, sandbox.Options{Latency: latency})
		if err != nil {
			b.Fatal(err)
		}
		plugin, _ := providers.Lookup("aws")
		calls := providers.NewCalls("aws", 0, 0, nil)
		p, err := plugin.Open(context.Background(), sb.Configs()["aws"], providers.Env{Calls: calls})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		ctx := context.Background()
		accounts, err := p.Accounts(ctx)
		if err != nil {
			b.Fatal(err)
		}
		var refs []providers.BucketRef
		for _, a := range accounts {
			r, err := p.List(ctx, a)
			if err != nil {
				b.Fatal(err)
			}
			refs = append(refs, r...)
		}
		sem := make(chan struct{}, concurrency)
		var wg sync.WaitGroup
		var mu sync.Mutex
		unknowns := 0
		for _, ref := range refs {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				rec := p.Describe(ctx, ref)
				mu.Lock()
				unknowns += len(rec.Unknowns)
				mu.Unlock()
			})
		}
		wg.Wait()
		wall := time.Since(start)
		sb.Close()
		if unknowns != 0 {
			b.Fatalf("%d unknowns in a fault-free scan", unknowns)
		}
		total := calls.Total()
		describeKey := 0
		for _, oc := range calls.Snapshot() {
			if oc.Op == "DescribeKey" {
				describeKey = oc.Calls
			}
		}
		ideal := time.Duration(total) * latency / concurrency
		b.ReportMetric(float64(len(refs)), "buckets")
		b.ReportMetric(float64(total-describeKey)/float64(len(refs)), "calls/bucket")
		b.ReportMetric(float64(describeKey), "DescribeKey")
		b.ReportMetric(float64(wall)/float64(ideal), "wall/ideal")
	}
}
