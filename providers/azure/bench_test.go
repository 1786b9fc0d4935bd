package azure_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers/sandbox"
)

// BenchmarkScanAzure scans 1,000 containers in 100 storage accounts of 2
// subscriptions, half of them under Key Vault keys, with 10 ms added to
// every sandbox request, and reports calls per container.
func BenchmarkScanAzure(b *testing.B) {
	const (
		latency    = 10 * time.Millisecond
		subs       = 2
		accounts   = 50 // per subscription
		containers = 10 // per account
	)
	regions := []string{"eastus", "westeurope", "brazilsouth", "eastasia", "japaneast"}
	reds := []string{"LRS", "ZRS", "GRS", "RAGZRS"}
	var est strings.Builder
	est.WriteString("azure:\n  subscriptions:\n")
	for s := 0; s < subs; s++ {
		fmt.Fprintf(&est, "    - id: \"%08d-0000-4000-8000-000000000000\"\n      keys:\n", s+1)
		for k := 0; k < 5; k++ {
			fmt.Fprintf(&est, "        - {vault: bench-kv-%d, name: k%d}\n", s, k)
		}
		est.WriteString("      storage_accounts:\n")
		for a := 0; a < accounts; a++ {
			fmt.Fprintf(&est, "        - name: bench%d%03d\n          location: %s\n          redundancy: %s\n          versioning: true\n",
				s, a, regions[a%len(regions)], reds[a%len(reds)])
			if a%2 == 0 {
				fmt.Fprintf(&est, "          encryption: {key_source: Microsoft.Keyvault, key: bench-kv-%d/k%d}\n", s, a%5)
			}
			est.WriteString("          containers:\n")
			for c := 0; c < containers; c++ {
				fmt.Fprintf(&est, "            - {name: ctr-%03d}\n", c)
			}
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
		r, err := agent.Scan(context.Background(), agent.ScanConfig{Providers: sb.Configs(), Policy: risk.DefaultPolicy()})
		if err != nil {
			b.Fatal(err)
		}
		elapsed := time.Since(start)
		sb.Close()
		n := len(r.Buckets)
		if n != subs*accounts*containers || len(r.Errors) != 0 {
			b.Fatalf("%d containers, errors %+v", n, r.Errors)
		}
		calls := 0
		for _, oc := range r.Summary.APICalls["azure"] {
			calls += oc.Calls
		}
		b.ReportMetric(float64(calls)/float64(n), "calls/container")
		b.ReportMetric(elapsed.Seconds(), "scan-s")
	}
}
