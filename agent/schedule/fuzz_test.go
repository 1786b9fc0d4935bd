package schedule_test

import (
	"testing"
	"time"

	"github.com/reachaudit/reachaudit/agent/schedule"
)

// FuzzParse: no cron spec panics the parser, and one it accepts has a next
// run after any time.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"0 2 * * *", "@every 1h", "@daily", "CRON_TZ=Europe/Berlin 0 3 * * 1-5", "*/5 * * * * *", "0 0 30 2 *", "TZ=", "@every -1h"} {
		f.Add(s)
	}
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := schedule.Parse(spec)
		if err != nil {
			return
		}
		if next := s.Next(from); !next.After(from) {
			t.Fatalf("%q accepted, but its next run after %v is %v", spec, from, next)
		}
	})
}
