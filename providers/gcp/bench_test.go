package gcp_test

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

// BenchmarkScanGCP scans 1,000 GCS buckets over 5 projects and 100 keys
// with 25 ms added to every sandbox request, and reports calls per bucket
// and the ratio of wall time to the ideal (calls × latency ÷ concurrency).
func BenchmarkScanGCP(b *testing.B) {
	const (
		latency     = 25 * time.Millisecond
		concurrency = agent.DefaultConcurrency
		buckets     = 1000
		projects    = 5
		keys        = 100
	)
	locations := []string{"us-central1", "US", "EU", "asia-east2", "NAM4"}
	var est strings.Builder
	est.WriteString("gcp:\n  projects:\n")
	for p := 0; p < projects; p++ {
		fmt.Fprintf(&est, "    - id: bench-project-%d\n      keys:\n", p)
		for k := 0; k < keys/projects; k++ {
			fmt.Fprintf(&est, "        - {name: projects/bench-project-%d/locations/us/keyRings/r/cryptoKeys/k%d}\n", p, k)
		}
		est.WriteString("      buckets:\n")
		for i := 0; i < buckets/projects; i++ {
			fmt.Fprintf(&est, "        - {name: bench-gcs-%d-%d, location: %s, default_kms_key: projects/bench-project-%d/locations/us/keyRings/r/cryptoKeys/k%d, versioning: true, uniform_access: %t}\n",
				p, i, locations[i%len(locations)], p, i%(keys/projects), i%10 != 0)
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
			Providers: map[string]providers.Config{"gcp": sb.Configs()["gcp"]},
			Policy:    risk.DefaultPolicy(),
			Limits:    agent.Limits{Concurrency: concurrency, PerAccount: agent.DefaultPerAccount},
		})
		wall := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		calls := sb.Requests()
		sb.Close()
		if len(res.Buckets) != buckets {
			b.Fatalf("scanned %d buckets", len(res.Buckets))
		}
		ideal := time.Duration(float64(calls) * float64(latency) / concurrency)
		storage := float64(calls-keys) / buckets
		b.Logf("%d buckets: wall %.2fs, %d calls (%.2f storage calls/bucket + %d key lookups), ideal %.2fs, ratio %.2f",
			buckets, wall.Seconds(), calls, storage, keys, ideal.Seconds(), wall.Seconds()/ideal.Seconds())
		b.ReportMetric(wall.Seconds()/ideal.Seconds(), "ratio")
		b.ReportMetric(storage, "calls/bucket")
	}
}
