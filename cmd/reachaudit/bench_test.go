package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkScanSandbox scans a large synthetic estate on the sandbox with
// latency injected into every request, in a separate process so that its
// peak RSS can be read, and prints wall time, API calls, peak RSS and the
// ratio of wall time to the ideal (calls × latency ÷ concurrency). The
// sandbox runs in a process of its own (`sandbox serve`), so the scan talks
// to it over loopback exactly as to a cloud and its RSS is its own.
func BenchmarkScanSandbox(b *testing.B) {
	bin := buildBinary(b)
	b.Run("aws-5000", func(b *testing.B) {
		benchScan(b, bin, syntheticEstate(5000, 20, 500, 0, 0, 0, 0, 0, 0), 25*time.Millisecond)
	})
	b.Run("all-7000", func(b *testing.B) {
		benchScan(b, bin, syntheticEstate(5000, 20, 500, 1000, 5, 100, 1000, 5, 100), 25*time.Millisecond)
	})
	// One account: its cap must grow from 8 to the overall 32.
	b.Run("aws-1-account-5000", func(b *testing.B) {
		benchScan(b, bin, syntheticEstate(5000, 1, 25, 0, 0, 0, 0, 0, 0), 25*time.Millisecond)
	})
	// One account that throttles above 200 requests a second: the scan
	// must keep every bucket and run close to that rate.
	b.Run("aws-1-account-throttled", func(b *testing.B) {
		benchScan(b, bin, throttled(syntheticEstate(5000, 1, 25, 0, 0, 0, 0, 0, 0), 200), 25*time.Millisecond)
	})
}

// throttled gives every AWS account of a synthetic estate a request rate.
func throttled(estate string, rps int) string {
	return strings.ReplaceAll(estate, "\n      keys:\n", fmt.Sprintf("\n      throttle: {rps: %d}\n      keys:\n", rps))
}

// BenchmarkScanMemory measures how the scan's peak RSS grows with the
// estate: 5,000 to 100,000 buckets over 200 accounts, with no injected
// latency (memory, not wall time, is the point). The target at 100,000
// buckets is under 1 GiB.
func BenchmarkScanMemory(b *testing.B) {
	bin := buildBinary(b)
	for _, n := range []int{5000, 25000, 100000} {
		b.Run(fmt.Sprintf("aws-%dk-200-accounts", n/1000), func(b *testing.B) {
			estate := compactEstate(n, 200)
			if len(estate) > 8<<20 {
				b.Fatalf("estate of %d bytes is over the 8 MiB limit for a YAML input", len(estate))
			}
			benchScan(b, bin, estate, 0)
		})
	}
}

// compactEstate writes n AWS buckets over the given accounts in few bytes
// a bucket (an estate file, like any YAML input, stays under 8 MiB): one
// KMS key per account used by every tenth bucket, regions in turn (so
// that findings fire: ap-east-1 is Hong Kong), versioning off on every
// seventh.
func compactEstate(n, accounts int) string {
	var b strings.Builder
	regions := []string{"us-east-1", "us-west-2", "eu-west-1", "ap-east-1", "ap-southeast-1"}
	b.WriteString("aws:\n accounts:\n")
	for a := range accounts {
		fmt.Fprintf(&b, " - id: \"%012d\"\n   keys: [{id: %s, region: us-east-1, manager: CUSTOMER, origin: AWS_KMS, state: Enabled}]\n   buckets:\n",
			100000000000+a, uuidLike(a, 0))
		for i := range n / accounts {
			v := "Enabled"
			if i%7 == 0 {
				v = "Off"
			}
			if i%10 == 0 {
				fmt.Fprintf(&b, "   - {name: m%d-%d, region: us-east-1, versioning: %s, encryption: {algorithm: \"aws:kms\", key: %s}}\n", a, i, v, uuidLike(a, 0))
				continue
			}
			fmt.Fprintf(&b, "   - {name: m%d-%d, region: %s, versioning: %s}\n", a, i, regions[i%len(regions)], v)
		}
	}
	return b.String()
}

func benchScan(b *testing.B, bin, estateYAML string, latency time.Duration) {
	const concurrency = 32
	dir := b.TempDir()
	estate := filepath.Join(dir, "estate.yaml")
	if err := os.WriteFile(estate, []byte(estateYAML), 0o644); err != nil {
		b.Fatal(err)
	}
	cfg, env, stop := serveSandbox(b, bin, dir, estate, latency)
	defer stop()
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(f, "limits: {concurrency: %d, per_account: 8}\n", concurrency)
	f.Close()
	out := filepath.Join(dir, "result.json")
	for b.Loop() {
		cmd := exec.Command(bin, "scan", "--config", cfg, "--format", "json", "--out", out)
		cmd.Env = append(os.Environ(), env...)
		cmd.Stderr = os.Stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatalf("scan: %v", err)
		}
		wall := time.Since(start)
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		var res struct {
			Summary struct {
				Buckets           int            `json:"buckets"`
				BucketsByProvider map[string]int `json:"buckets_by_provider"`
				Findings          int            `json:"findings"`
				Throttled         map[string]int `json:"throttled"`
				Pace              map[string]struct {
					Peak int `json:"peak"`
					End  int `json:"end"`
					Cuts int `json:"cuts"`
				} `json:"pace"`
				APICalls map[string][]struct {
					Op     string `json:"op"`
					Calls  int    `json:"calls"`
					Errors int    `json:"errors"`
				} `json:"api_calls"`
			} `json:"summary"`
		}
		data, err := os.ReadFile(out)
		if err != nil {
			b.Fatal(err)
		}
		if err := json.Unmarshal(data, &res); err != nil {
			b.Fatal(err)
		}
		total := 0
		var lines []string
		for prov, ops := range res.Summary.APICalls {
			n, errs := 0, 0
			var per []string
			for _, op := range ops {
				n += op.Calls
				errs += op.Errors
				per = append(per, fmt.Sprintf("%s=%d", op.Op, op.Calls))
			}
			total += n
			nb := res.Summary.BucketsByProvider[prov]
			lines = append(lines, fmt.Sprintf("  %-8s buckets=%d calls=%d (%.2f/bucket) errors=%d  %s",
				prov, nb, n, float64(n)/float64(max(nb, 1)), errs, strings.Join(per, " ")))
		}
		fmt.Printf("scan of %d buckets: wall %.1fs, %d API calls (%.2f/bucket), peak RSS %.0f MiB, result %.1f MiB, findings %d",
			res.Summary.Buckets, wall.Seconds(), total, float64(total)/float64(max(res.Summary.Buckets, 1)),
			float64(ru.Maxrss)/1024, float64(len(data))/(1<<20), res.Summary.Findings)
		if latency > 0 {
			ideal := time.Duration(float64(total) * float64(latency) / concurrency)
			fmt.Printf(", ideal %.1fs, ratio %.2f", ideal.Seconds(), wall.Seconds()/ideal.Seconds())
			b.ReportMetric(wall.Seconds()/ideal.Seconds(), "ratio")
		}
		fmt.Println()
		for _, l := range lines {
			fmt.Println(l)
		}
		throttles := 0
		for _, n := range res.Summary.Throttled {
			throttles += n
		}
		if throttles > 0 {
			// Against a throttled account the floor is its rate, not latency.
			fmt.Printf("  throttled answers %d; wall %.1fs is %.2f× calls ÷ 200/s\n", throttles, wall.Seconds(), wall.Seconds()/(float64(total)/200))
		}
		if len(res.Summary.Pace) == 1 {
			for acct, p := range res.Summary.Pace {
				fmt.Printf("  pace %s: peak %d, end %d, cuts %d\n", acct, p.Peak, p.End, p.Cuts)
			}
		}
		b.ReportMetric(float64(ru.Maxrss)/1024, "peakRSS-MiB")
		b.ReportMetric(float64(total), "calls")
	}
}

// serveSandbox runs `reachaudit sandbox serve` in its own process, so that
// the scan's memory is measured alone, and returns the config and the
// environment that scan it.
func serveSandbox(tb testing.TB, bin, dir, estate string, latency time.Duration) (cfg string, env []string, stop func()) {
	tb.Helper()
	cfg, envFile := filepath.Join(dir, "scan.yaml"), filepath.Join(dir, "scan.env")
	srv := exec.Command(bin, "sandbox", "serve", "--estate", estate, "--latency", latency.String(),
		"--config-out", cfg, "--env-out", envFile)
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		tb.Fatal(err)
	}
	stop = func() {
		_ = srv.Process.Signal(syscall.SIGTERM)
		_ = srv.Wait()
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(cfg); err == nil {
			break
		}
		if time.Now().After(deadline) {
			stop()
			tb.Fatal("sandbox serve wrote no config within 2 minutes")
		}
	}
	data, err := os.ReadFile(envFile)
	if err != nil {
		stop()
		tb.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if l != "" {
			env = append(env, l)
		}
	}
	return cfg, env, stop
}

// buildBinary builds the command once into a temporary directory.
func buildBinary(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "reachaudit")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// syntheticEstate writes an estate with the given numbers of buckets,
// accounts and keys per provider; buckets share keys round-robin.
func syntheticEstate(awsBuckets, awsAccounts, awsKeys, gcpBuckets, gcpProjects, gcpKeys, ossBuckets, ossAccounts, ossKeys int) string {
	var b strings.Builder
	awsRegions := []string{"us-east-1", "us-west-2", "eu-west-1", "ap-east-1", "ap-southeast-1"}
	b.WriteString("aws:\n  accounts:\n")
	for a := 0; a < awsAccounts; a++ {
		id := fmt.Sprintf("%012d", 100000000000+a)
		fmt.Fprintf(&b, "    - id: %q\n      keys:\n", id)
		kpa := awsKeys / awsAccounts
		for k := 0; k < kpa; k++ {
			fmt.Fprintf(&b, "        - {id: %s, region: %s, manager: CUSTOMER, origin: AWS_KMS, state: Enabled}\n",
				uuidLike(a, k), awsRegions[k%len(awsRegions)])
		}
		fmt.Fprintf(&b, "      buckets:\n")
		bpa := awsBuckets / awsAccounts
		for i := 0; i < bpa; i++ {
			k := i % kpa
			fmt.Fprintf(&b, "        - {name: bench-%d-%d, region: %s, encryption: {algorithm: \"aws:kms\", key: %s}, versioning: Enabled, public_access_block: %t, tags: {team: t%d}}\n",
				a, i, awsRegions[k%len(awsRegions)], uuidLike(a, k), i%2 == 0, i%7)
		}
	}
	if gcpProjects == 0 || ossAccounts == 0 {
		return b.String()
	}
	gcpLocations := []string{"us-central1", "US", "EU", "asia-east2", "NAM4"}
	b.WriteString("gcp:\n  projects:\n")
	for p := 0; p < gcpProjects; p++ {
		fmt.Fprintf(&b, "    - id: bench-project-%d\n      keys:\n", p)
		kpp := gcpKeys / gcpProjects
		for k := 0; k < kpp; k++ {
			fmt.Fprintf(&b, "        - {name: projects/bench-project-%d/locations/us/keyRings/r/cryptoKeys/k%d, protection_level: SOFTWARE, state: ENABLED}\n", p, k)
		}
		b.WriteString("      buckets:\n")
		for i := 0; i < gcpBuckets/gcpProjects; i++ {
			fmt.Fprintf(&b, "        - {name: bench-gcs-%d-%d, location: %s, default_kms_key: projects/bench-project-%d/locations/us/keyRings/r/cryptoKeys/k%d, versioning: true}\n",
				p, i, gcpLocations[i%len(gcpLocations)], p, i%kpp)
		}
	}
	ossRegions := []string{"cn-hangzhou", "cn-shanghai", "cn-hongkong", "ap-southeast-1", "us-west-1"}
	b.WriteString("alibaba:\n  accounts:\n")
	for a := 0; a < ossAccounts; a++ {
		id := fmt.Sprintf("%016d", 1000000000000000+a)
		fmt.Fprintf(&b, "    - id: %q\n      keys:\n", id)
		kpa := ossKeys / ossAccounts
		for k := 0; k < kpa; k++ {
			fmt.Fprintf(&b, "        - {id: key-bench%04d%04d, region: %s, origin: Aliyun_KMS, protection_level: SOFTWARE, creator: %q, state: Enabled}\n",
				a, k, ossRegions[k%len(ossRegions)], id)
		}
		b.WriteString("      buckets:\n")
		for i := 0; i < ossBuckets/ossAccounts; i++ {
			k := i % kpa
			fmt.Fprintf(&b, "        - {name: bench-oss-%d-%d, region: %s, encryption: {algorithm: KMS, key: key-bench%04d%04d}, redundancy: ZRS, versioning: Enabled}\n",
				a, i, ossRegions[k%len(ossRegions)], a, k)
		}
	}
	return b.String()
}

func uuidLike(a, k int) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", a, k)
}
