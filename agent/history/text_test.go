package history

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", name, diff)
	}
}

func TestWriteDrift(t *testing.T) {
	first, second := twoRuns()
	down := result("run-3", t0, []providers.Bucket{first.Buckets[2]})
	unreachable(&down.Buckets[0])
	tests := []struct {
		name string
		a, b *agent.Result
	}{
		{"drift.txt", first, second},
		{"drift-first-run.txt", nil, first},
		{"drift-none.txt", first, first},
		{"drift-reach-loss.txt", result("run-2", t0, []providers.Bucket{first.Buckets[2]}), down},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Diff(tt.a, tt.b)
			var buf bytes.Buffer
			if err := WriteDrift(&buf, &d); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name, buf.Bytes())
		})
	}
}

func TestWriteRuns(t *testing.T) {
	first, second := twoRuns()
	runs := []Run{
		{ID: "run-3", Schedule: "nightly", StartedAt: t0.Add(48 * time.Hour), FinishedAt: t0.Add(48*time.Hour + 3*time.Second),
			Status: StatusFailed, Error: "no provider could be opened:\n aws: no credentials"},
		{ID: "run-2", Schedule: "nightly", StartedAt: second.StartedAt, FinishedAt: second.FinishedAt, Status: StatusOK,
			Buckets: 2, Findings: 4, Open: 3, Critical: 2, New: 2, Changed: 1, Resolved: 1},
		{ID: "run-1b", Schedule: "hourly", StartedAt: first.StartedAt, FinishedAt: first.StartedAt.Add(420 * time.Millisecond), Status: StatusOK},
		{ID: "run-1", Schedule: "nightly", StartedAt: first.StartedAt, FinishedAt: first.FinishedAt, Status: StatusPartial,
			Buckets: 3, Findings: 3, Open: 3, New: 3, Error: "cut short: context deadline exceeded"},
	}
	var buf bytes.Buffer
	if err := WriteRuns(&buf, runs); err != nil {
		t.Fatal(err)
	}
	golden(t, "runs.txt", buf.Bytes())
}

func TestTookIsNotRoundedAway(t *testing.T) {
	for d, want := range map[time.Duration]string{420 * time.Millisecond: "420ms", 1234 * time.Millisecond: "1.23s", 90 * time.Second: "1m30s"} {
		if got := took(d); got != want {
			t.Errorf("took(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestCause(t *testing.T) {
	r := &agent.Result{Errors: []agent.RunError{
		{Provider: "gcp", Account: "acme", Op: "buckets.list", Error: "connect: connection refused"},
		{Provider: "aws", Op: "ListBuckets", Error: "timeout"},
	}}
	if got, want := Cause(r), "gcp acme buckets.list: connect: connection refused (and 1 more error(s))"; got != want {
		t.Errorf("Cause = %q, want %q", got, want)
	}
	if got := Cause(&agent.Result{Partial: true}); got == "" {
		t.Error("a partial run with no errors has no cause")
	}
}

func TestNewFindingsWorstFirst(t *testing.T) {
	d := &Drift{To: "b", New: []risk.Finding{
		{Rule: "HYG-001", Severity: risk.Low, Provider: "aws", Account: "1", Bucket: "a"},
		{Rule: "EXP-006", Severity: risk.Critical, Provider: "aws", Account: "1", Bucket: "b"},
	}}
	var buf bytes.Buffer
	if err := WriteDrift(&buf, d); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if i, j := strings.Index(out, "EXP-006"), strings.Index(out, "HYG-001"); i < 0 || j < 0 || i > j {
		t.Errorf("new findings not worst first:\n%s", out)
	}
}
