package reports_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/reports"
	"github.com/reachaudit/reachaudit/reports/outputs"
)

// benchFindings is the size of the run every benchmark op encodes or
// delivers: 100,000, or REACHAUDIT_BENCH_FINDINGS to show that memory
// does not grow with it.
var benchFindings = func() int {
	if n, err := strconv.Atoi(os.Getenv("REACHAUDIT_BENCH_FINDINGS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}()

var (
	benchOnce   sync.Once
	benchResult *agent.Result
	benchBase   uint64 // live heap with the Result built
)

func result(b *testing.B) *agent.Result {
	benchOnce.Do(func() {
		benchResult = reports.BigResult(benchFindings)
		runtime.GC()
		benchBase = liveHeap()
	})
	return benchResult
}

// liveHeap is the heap the last GC found reachable.
func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// peakRSS reads the process's high-water resident set size (VmHWM), in MiB.
func peakRSS() float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return -1
}

// sampler discards what is written and samples the live heap every MiB,
// so the benchmark can show that encoding retains nothing per finding.
type sampler struct {
	n, next uint64
	maxLive uint64
}

func (s *sampler) Write(p []byte) (int, error) {
	s.n += uint64(len(p))
	if s.n >= s.next {
		s.next = s.n + 1<<20
		s.maxLive = max(s.maxLive, liveHeap())
	}
	return len(p), nil
}

func report(b *testing.B, findings int) {
	b.ReportMetric(float64(findings)/b.Elapsed().Seconds(), "findings/s")
	b.ReportMetric(peakRSS(), "peak-RSS-MiB")
	b.ReportMetric(float64(benchBase)/(1<<20), "result-MiB")
}

// BenchmarkEncode encodes a run of 100,000 findings per op in each format.
// live-growth-MiB is the most the reachable heap grew over the Result
// while encoding: flat, whatever the number of findings.
func BenchmarkEncode(b *testing.B) {
	r := result(b)
	for _, format := range reports.Formats() {
		b.Run(format, func(b *testing.B) {
			w := &sampler{}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := reports.Encode(w, format, r, reports.FixtureOpts); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			report(b, benchFindings*b.N)
			growth := 0.0
			if w.maxLive > benchBase {
				growth = float64(w.maxLive-benchBase) / (1 << 20)
			}
			b.ReportMetric(growth, "live-growth-MiB")
			b.ReportMetric(float64(w.n)/float64(b.N)/(1<<20), "MiB-out/op")
		})
	}
}

// loopbackReceiver accepts octet-counted syslog on a loopback port and
// counts the messages; stop closes the listener and its connections.
func loopbackReceiver(b *testing.B, l net.Listener) (received *atomic.Int64, stop func()) {
	received = new(atomic.Int64)
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() {
				defer c.Close()
				br := bufio.NewReaderSize(c, 256<<10)
				for {
					n, err := br.ReadString(' ')
					if err != nil {
						return
					}
					size, err := strconv.Atoi(n[:len(n)-1])
					if err != nil {
						return
					}
					if _, err := br.Discard(size); err != nil {
						return
					}
					received.Add(1)
				}
			}()
		}
	}()
	return received, func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}
}

func syslogSet(b *testing.B, addr, spoolDir string) *outputs.Set {
	set, err := outputs.Open([]outputs.Output{{Type: outputs.TypeSyslog, Address: "tcp://" + addr, Format: "cef", BatchSize: 500,
		Spool: outputs.SpoolConfig{Dir: spoolDir, MaxBytes: 1 << 30}}},
		outputs.Options{Encode: reports.FixtureOpts, Logger: quietLog})
	if err != nil {
		b.Fatal(err)
	}
	return set
}

var quietLog = slog.New(slog.NewTextHandler(io.Discard, nil))

// BenchmarkSyslogTCP delivers 100,000 findings per op as CEF in RFC 5424
// messages over TCP (octet-counted) to a loopback receiver, through the
// spool-backed output, and checks every message arrived.
func BenchmarkSyslogTCP(b *testing.B) {
	r := result(b)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	received, stop := loopbackReceiver(b, l)
	defer stop()
	set := syslogSet(b, l.Addr().String(), b.TempDir())
	defer set.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		d := set.Deliver(context.Background(), r)[0]
		if d.Delivered != benchFindings || d.Error != "" {
			b.Fatalf("delivery %+v", d)
		}
	}
	b.StopTimer()
	for received.Load() < int64(benchFindings*b.N) {
		runtime.Gosched()
	}
	report(b, benchFindings*b.N)
}

// BenchmarkSyslogTCPOutage is the path that keeps nothing lost: the
// receiver is down, 100,000 findings go to the disk spool (fsynced per
// batch); then it comes back and a flush delivers them all in order.
func BenchmarkSyslogTCPOutage(b *testing.B) {
	r := result(b)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	set := syslogSet(b, addr, b.TempDir())
	defer set.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if d := set.Deliver(context.Background(), r)[0]; d.Spooled != benchFindings || d.Dropped != 0 {
			b.Fatalf("while down: %+v", d)
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		received, stop := loopbackReceiver(b, l)
		if err := set.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
		for received.Load() < int64(benchFindings) {
			runtime.Gosched()
		}
		stop()
	}
	b.StopTimer()
	report(b, benchFindings*b.N)
}

var _ io.Writer = (*sampler)(nil)
