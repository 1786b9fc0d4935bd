package outputs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// One flipped byte in a spool segment loses the one finding whose record
// it hits: every other spooled finding is delivered, and the lost one is
// counted as dropped (the command then exits 1), not silently cut.
func TestFlippedByteInASpoolSegmentDropsOneAndCountsIt(t *testing.T) {
	port := freePort(t)
	dir := t.TempDir()
	out := Output{Type: TypeSyslog, Address: fmt.Sprintf("tcp://127.0.0.1:%d", port), BatchSize: 10,
		Timeout: 2 * time.Second, Spool: SpoolConfig{Dir: dir}}
	s := open(t, out)
	r1 := testResult("run-1", 73)
	if d := s.Deliver(context.Background(), r1)[0]; d.Spooled != 73 {
		t.Fatalf("while down: %+v", d)
	}
	s.Close()
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	data, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/10] ^= 0x01
	os.WriteFile(segs[0], data, 0o600)

	rv := listenReceiver(t, port)
	defer rv.stop()
	s2 := open(t, out)
	d := s2.Deliver(context.Background(), testResult("run-2", 0))[0]
	if d.Delivered != 72 || d.Dropped != 1 || d.Spooled != 0 {
		t.Fatalf("after the flip: %+v, want 72 delivered and 1 dropped", d)
	}
	got := rv.waitFor(72)
	missing := 0
	for _, f := range r1.Findings {
		found := false
		for _, m := range got {
			if strings.Contains(m, f.ID) {
				found = true
				break
			}
		}
		if !found {
			missing++
		}
	}
	if missing != 1 || len(got) != 72 {
		t.Errorf("received %d, %d findings missing; want 72 and 1", len(got), missing)
	}
	if h := s2.Health(); h != nil {
		t.Errorf("health %v after a readable spool", h)
	}
}

func TestUnreadableSpoolIsUnhealthy(t *testing.T) {
	dir := t.TempDir()
	out := Output{Type: TypeSyslog, Address: fmt.Sprintf("tcp://127.0.0.1:%d", freePort(t)), Timeout: time.Second, Spool: SpoolConfig{Dir: dir}}
	s := open(t, out)
	s.Deliver(context.Background(), testResult("run-1", 3))
	segs, _ := filepath.Glob(filepath.Join(dir, "*.seg"))
	os.Rename(segs[0], segs[0]+".away")
	d := s.FlushDeliveries(context.Background())[0]
	if d.Error == "" || s.Health() == nil || !strings.Contains(s.Health().Error(), "spool unreadable") {
		t.Fatalf("flush %+v, health %v", d, s.Health())
	}
}
