package schedule

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/reports/outputs"
)

// A spool that cannot be read is not an empty queue: /readyz says so.
func TestReadyzShowsAnUnreadableSpool(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	down := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	set, err := outputs.Open([]outputs.Output{{Type: outputs.TypeSyslog, Address: "tcp://" + down, Timeout: time.Second,
		Spool: outputs.SpoolConfig{Dir: dir}}}, outputs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// A run the receiver missed: its findings wait in the spool.
	set.Deliver(context.Background(), sampleResult())
	h := start(t, Options{Deliver: set, FlushEvery: 50 * time.Millisecond, Plan: Plan{
		Schedules: []Schedule{{Name: "s", Cron: "@yearly"}},
		Scan:      func(context.Context, agent.Scope) (*agent.Result, error) { return sampleResult(), nil }}})
	if code, _ := h.get("/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz with a readable spool = %d", code)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	if len(segs) == 0 {
		t.Fatal("nothing spooled")
	}
	for _, s := range segs {
		os.Rename(s, s+".away")
	}
	eventually(t, 5*time.Second, "/readyz naming the spool", func() bool {
		code, body := h.get("/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "spool unreadable")
	})
}
