package schedule

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	_ "github.com/reachaudit/reachaudit/providers/aws"
	"github.com/reachaudit/reachaudit/providers/sandbox"
	_ "github.com/reachaudit/reachaudit/providers/sandbox/awsemu"
	"github.com/reachaudit/reachaudit/reports/outputs"
)

// A permission lost for one run and given back: with emit: changes the
// SIEM hears of EXP-005 once (open), never "resolved" while encryption
// could not be read, and not "open" again when it can.
func TestDriftWithAPermissionRemovedAndRestored(t *testing.T) {
	const bucket = "plain"
	estate := func(deny string) string {
		return `aws:
  accounts:
    - id: "111122223333"
      buckets:
        - {name: plain, region: us-east-1, encryption: {algorithm: none}, versioning: Enabled, public_access_block: true, deny: [` + deny + `]}
`
	}
	steps := []string{estate(""), estate("GetBucketEncryption"), estate("")}

	var mu sync.Mutex
	var events [][]string // per delivery: "RULE status" (+ " unverified")
	siem := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var items []risk.Finding
		if err := json.Unmarshal(body, &items); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		var got []string
		for _, f := range items {
			got = append(got, f.Rule+" "+f.Status)
		}
		slices.Sort(got)
		mu.Lock()
		events = append(events, got)
		mu.Unlock()
	}))
	defer siem.Close()
	t.Setenv("TEST_DRIFT_WEBHOOK_SECRET", "drift-webhook-secret")
	set, err := outputs.Open([]outputs.Output{{Type: outputs.TypeWebhook, URL: siem.URL, SecretEnv: "TEST_DRIFT_WEBHOOK_SECRET"}},
		outputs.Options{SpoolDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var run atomic.Int32
	var results []*agent.Result
	scan := func(ctx context.Context, _ agent.Scope) (*agent.Result, error) {
		i := int(run.Add(1)) - 1
		if i >= len(steps) {
			i = len(steps) - 1
		}
		est, err := sandbox.ParseEstate("estate.yaml", []byte(steps[i]))
		if err != nil {
			return nil, err
		}
		sb, err := sandbox.Start(ctx, est, sandbox.Options{})
		if err != nil {
			return nil, err
		}
		defer sb.Close()
		res, err := agent.Scan(ctx, agent.ScanConfig{Providers: sb.Configs(), Policy: risk.DefaultPolicy()})
		mu.Lock()
		results = append(results, res)
		mu.Unlock()
		return res, err
	}
	h := start(t, Options{Deliver: set, Plan: Plan{Schedules: every1s("nightly"), Emit: EmitChanges, Scan: scan}})
	eventually(t, 20*time.Second, "three runs recorded", func() bool { return len(h.runs()) >= 3 })
	h.stop(nil)

	mu.Lock()
	defer mu.Unlock()
	var exp005 []string
	for _, ev := range events {
		for _, e := range ev {
			if strings.HasPrefix(e, "EXP-005") {
				exp005 = append(exp005, e)
			}
		}
	}
	if !slices.Equal(exp005, []string{"EXP-005 open"}) {
		t.Errorf("the SIEM heard of EXP-005 as %v; want it opened once and nothing else\nall deliveries: %v", exp005, events)
	}
	// The run without the permission still holds EXP-005: open, unverified.
	var kept *risk.Finding
	for i := range results[1].Findings {
		if f := &results[1].Findings[i]; f.Rule == "EXP-005" && f.Bucket == bucket {
			kept = f
		}
	}
	if kept == nil || !kept.Unverified || kept.Status != risk.StatusOpen {
		t.Fatalf("run 2's EXP-005: %+v; want it kept open and unverified", kept)
	}
	if why, _ := kept.Evidence["unverified_because"].([]string); !slices.Equal(why, []string{"custody"}) {
		t.Errorf("unverified_because %v", kept.Evidence["unverified_because"])
	}
	hasUNK := false
	for _, f := range results[1].Findings {
		hasUNK = hasUNK || (f.Rule == "UNK-001" && f.Bucket == bucket)
	}
	if !hasUNK {
		t.Error("run 2 has no UNK-001 saying why")
	}
}
