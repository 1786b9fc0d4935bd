package schedule

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
)

func TestParse(t *testing.T) {
	from := time.Date(2026, 11, 29, 23, 30, 0, 0, time.UTC)
	tests := []struct {
		name, spec string
		next       time.Time // zero: only check that it parses
		wantErr    string
	}{
		{"five fields, UTC by default", "0 2 * * *", time.Date(2026, 11, 30, 2, 0, 0, 0, time.UTC), ""},
		{"optional seconds", "30 */15 * * * *", time.Date(2026, 11, 29, 23, 30, 30, 0, time.UTC), ""},
		{"descriptor", "@daily", time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), ""},
		{"interval", "@every 1h", time.Date(2026, 11, 30, 0, 30, 0, 0, time.UTC), ""},
		{"CRON_TZ zone", "CRON_TZ=Asia/Tokyo 0 9 * * *", time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC), ""},
		{"TZ zone", "TZ=America/New_York 0 2 * * *", time.Date(2026, 11, 30, 7, 0, 0, 0, time.UTC), ""},
		{"zone and descriptor", "CRON_TZ=Europe/Berlin @daily", time.Date(2026, 11, 29, 23, 0, 0, 0, time.UTC).Add(24 * time.Hour), ""},
		{"empty", "", time.Time{}, "empty spec"},
		{"minute out of range", "61 * * * *", time.Time{}, "above maximum"},
		{"too few fields", "* * *", time.Time{}, "expected 5 to 6 fields"},
		{"too many fields", "0 0 0 1 1 * 2026", time.Time{}, "expected 5 to 6 fields"},
		{"unknown descriptor", "@fortnightly", time.Time{}, "unrecognized descriptor"},
		{"unknown zone", "CRON_TZ=Mars/Olympus 0 2 * * *", time.Time{}, "bad location"},
		{"zone without a schedule", "CRON_TZ=UTC", time.Time{}, "no schedule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.spec)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) error = %v; want %q", tt.spec, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.spec, err)
			}
			if got := s.Next(from).UTC(); !got.Equal(tt.next) {
				t.Errorf("Next(%s) = %s; want %s", from, got, tt.next)
			}
		})
	}
}

func TestListValidate(t *testing.T) {
	tests := []struct {
		name, yaml, wantErr string
	}{
		{"good", "schedules:\n  - {name: nightly, cron: \"CRON_TZ=UTC 0 2 * * *\", timeout: 30m, jitter: 5m}\n  - {name: hourly, cron: \"@every 1h\", tags: {env: prod}}\n", ""},
		{"bad spec names file, line and field", "schedules:\n  - {name: nightly, cron: \"0 2 * * *\"}\n  - {name: hourly, cron: \"61 * * * *\"}\n",
			"cfg.yaml:3: schedules[1].cron: bad cron spec"},
		{"missing name", "schedules:\n  - {cron: \"@daily\"}\n", "schedules[0].name: is required"},
		{"missing cron", "schedules:\n  - {name: a}\n", "schedules[0].cron: is required"},
		{"duplicate name", "schedules:\n  - {name: a, cron: \"@daily\"}\n  - {name: a, cron: \"@hourly\"}\n", "schedules[1].name: \"a\" is also the name of schedule 0"},
		{"negative timeout", "schedules:\n  - {name: a, cron: \"@daily\", timeout: -1m}\n", "schedules[0].timeout: must not be negative"},
		{"unknown provider", "schedules:\n  - {name: a, cron: \"@daily\", providers: [azure-nope]}\n", "schedules[0].providers[0]: unknown provider"},
		{"unknown key", "schedules:\n  - {name: a, cron: \"@daily\", every: 1h}\n", "schedules[0].every: unknown key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.yaml)
			secs, err := yamlfile.Sections("cfg.yaml", data)
			if err != nil {
				t.Fatal(err)
			}
			var l List
			err = yamlfile.DecodeNode("cfg.yaml", data, secs[0].Node, "schedules", &l)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(l) != 2 || l[0].Timeout != 30*time.Minute || l[0].Jitter != 5*time.Minute || l[1].Tags["env"] != "prod" {
					t.Errorf("decoded %+v", l)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v; want %q", err, tt.wantErr)
			}
		})
	}
}

// syncBuffer collects log output from several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (s *syncBuffer) Count(sub string) int { return strings.Count(s.String(), sub) }

func testLogger(t *testing.T) (*slog.Logger, *syncBuffer) {
	var buf syncBuffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", buf.String())
		}
	})
	return slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), &buf
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func startCron(t *testing.T, job cron.Job) {
	t.Helper()
	c := cron.New(cron.WithParser(parser), cron.WithLocation(time.UTC))
	s, err := Parse("@every 1s")
	if err != nil {
		t.Fatal(err)
	}
	c.Schedule(s, job)
	c.Start()
	t.Cleanup(func() { <-c.Stop().Done() })
}

// A tick that comes while the previous run still goes on is skipped, not
// stacked; the next tick after it ends runs.
func TestWrapSkipsOverlappingRuns(t *testing.T) {
	t.Parallel()
	log, buf := testLogger(t)
	var running, maxRunning, starts atomic.Int32
	release := make(chan struct{})
	startCron(t, wrap(log, cron.FuncJob(func() {
		n := running.Add(1)
		defer running.Add(-1)
		if n > maxRunning.Load() {
			maxRunning.Store(n)
		}
		if starts.Add(1) == 1 {
			<-release
		}
	})))
	eventually(t, 5*time.Second, "two ticks skipped", func() bool { return buf.Count("run skipped") >= 2 })
	if got := starts.Load(); got != 1 {
		t.Fatalf("started %d runs while the first was going; want 1", got)
	}
	close(release)
	eventually(t, 3*time.Second, "a run after the long one ended", func() bool { return starts.Load() >= 2 })
	if got := maxRunning.Load(); got != 1 {
		t.Errorf("at most %d runs at once; want 1", got)
	}
}

// A panic is recovered and logged with its stack, and the schedule runs
// again on the next tick (Recover inside SkipIfStillRunning).
func TestWrapRecoversPanicAndRunsAgain(t *testing.T) {
	t.Parallel()
	log, buf := testLogger(t)
	var runs atomic.Int32
	startCron(t, wrap(log, cron.FuncJob(func() {
		if runs.Add(1) == 1 {
			panic("scan exploded")
		}
	})))
	eventually(t, 5*time.Second, "a second run after the panic", func() bool { return runs.Load() >= 3 })
	if !strings.Contains(buf.String(), "scan exploded") || !strings.Contains(buf.String(), "stack") {
		t.Errorf("panic not logged with its stack")
	}
	if buf.Count("run skipped") > 0 {
		t.Errorf("ticks skipped after the panic: the overlap guard kept its token")
	}
}
