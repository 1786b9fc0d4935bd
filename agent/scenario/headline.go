package scenario

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/reachaudit/reachaudit/providers"
)

// Headline says in one line what the event costs: "Ban of alibaba: 9
// buckets, 4.1 TB lost with no surviving copy; 2 survive at aws; exit
// 6.2 TB ≈ 13.8 h at 1 Gbit/s". Every report that shows a scenario opens
// with it, so the table, the HTML report and the renewal pack agree.
func (s *Scenario) Headline(exit Exit) string {
	t := s.Totals
	if t.BucketsHit == 0 {
		return s.Title + ": no bucket is hit"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d bucket%s", s.Title, t.BucketsHit, plural(t.BucketsHit))
	if t.ExposedBuckets > 0 {
		fmt.Fprintf(&b, ", %s exposed (%d bucket%s)", humanize.Bytes(uint64(t.ExposedBytes)), t.ExposedBuckets, plural(t.ExposedBuckets))
	}
	if t.LostBuckets > 0 || t.SurvivesBuckets > 0 {
		fmt.Fprintf(&b, ", %s lost with no surviving copy (%d bucket%s)", humanize.Bytes(uint64(t.LostBytes)), t.LostBuckets, plural(t.LostBuckets))
	}
	if t.SurvivesBuckets > 0 {
		fmt.Fprintf(&b, "; %d survive", t.SurvivesBuckets)
		if at := s.SurvivorProviders(); at != "" {
			b.WriteString(" at " + at)
		}
	}
	if t.ExitBytes > 0 {
		fmt.Fprintf(&b, "; exit %s ≈ %s h at %s Gbit/s", humanize.Bytes(uint64(t.ExitBytes)),
			strconv.FormatFloat(t.ExitHours, 'f', 1, 64), humanize.Ftoa(exit.Bandwidth()))
		if t.ExitCost != nil {
			fmt.Fprintf(&b, ", egress ≈ %s", humanize.CommafWithDigits(*t.ExitCost, 2))
		}
	}
	if t.UnknownSizeBuckets > 0 {
		fmt.Fprintf(&b, "; %d of unknown size, not in these sums", t.UnknownSizeBuckets)
	}
	return b.String()
}

// Bandwidth is the exit bandwidth in Gbit/s, the default when none is set.
func (e Exit) Bandwidth() float64 {
	if e.BandwidthGbps <= 0 {
		return DefaultBandwidthGbps
	}
	return e.BandwidthGbps
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// SurvivorProviders names, comma-separated, the providers whose copies
// save the surviving buckets.
func (s *Scenario) SurvivorProviders() string {
	seen := map[string]bool{}
	for _, b := range s.Buckets {
		if b.Effect != Survives {
			continue
		}
		scheme, _, _ := strings.Cut(b.Copy, "://")
		name := scheme
		if pl, ok := providers.ByScheme(scheme); ok {
			name = pl.Name
		}
		seen[name] = true
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
