package alibaba_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
	"github.com/reachaudit/reachaudit/providers/sandbox"
)

// BenchmarkScanAlibaba scans 1,000 OSS buckets over 5 accounts and 100 KMS
// keys with 25 ms added to every sandbox request, and reports calls per
// bucket and the ratio of wall time to the ideal (calls × latency ÷
// concurrency).
func BenchmarkScanAlibaba(b *testing.B) {
	const (
		latency     = 25 * time.Millisecond
		concurrency = agent.DefaultConcurrency
		buckets     = 1000
		accounts    = 5
		keys        = 100
	)
	regions := []string{"cn-hangzhou", "cn-shanghai", "cn-hongkong", "ap-southeast-1", "us-west-1"}
	var est strings.Builder
	est.WriteString("alibaba:\n  accounts:\n")
	for a := 0; a < accounts; a++ {
		fmt.Fprintf(&est, "    - id: \"58172039461582%02d\"\n      keys:\n", a)
		for k := 0; k < keys/accounts; k++ {
			fmt.Fprintf(&est, "        - {id: key-bench-%d-%d, region: %s}\n", a, k, regions[k%len(regions)])
		}
		est.WriteString("      buckets:\n")
		for i := 0; i < buckets/accounts; i++ {
			k := i % (keys / accounts)
			fmt.Fprintf(&est, "        - {name: bench-oss-%d-%d, region: %s, encryption: {algorithm: KMS, key: key-bench-%d-%d}, versioning: Enabled, block_public_access: %t}\n",
				a, i, regions[k%len(regions)], a, k, i%2 == 0)
		}
	}
	e, err := sandbox.ParseEstate("bench.yaml", []byte(est.String()))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		sb, err := sandbox.Start(context.Background(), e, sandbox.Options{Latency: latency})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		res, err := agent.Scan(context.Background(), agent.ScanConfig{
			Providers: map[string]providers.Config{"alibaba": sb.Configs()["alibaba"]},
			Policy:    risk.DefaultPolicy(),
			Limits:    agent.Limits{Concurrency: concurrency, PerAccount: agent.DefaultPerAccount},
		})
		wall := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		calls := sb.Requests()
		sb.Close()
		if len(res.Buckets) != buckets || len(res.Errors) != 0 {
			b.Fatalf("scanned %d buckets, errors %v", len(res.Buckets), res.Errors)
		}
		ideal := time.Duration(float64(calls) * float64(latency) / concurrency)
		perBucket := float64(calls-keys-accounts) / buckets
		b.Logf("%d buckets: wall %.2fs, %d calls (%.2f OSS calls/bucket + %d DescribeKey + %d ListBuckets), ideal %.2fs, ratio %.2f",
			buckets, wall.Seconds(), calls, perBucket, keys, accounts, ideal.Seconds(), wall.Seconds()/ideal.Seconds())
		b.ReportMetric(wall.Seconds()/ideal.Seconds(), "ratio")
		b.ReportMetric(perBucket, "calls/bucket")
	}
}
