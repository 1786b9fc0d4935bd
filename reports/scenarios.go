package reports

import (
	"fmt"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/scenario"
	"github.com/reachaudit/reachaudit/providers"
)

// scenarioListMax bounds how many buckets of one effect a scenario block
// lists in the terminal; the JSON has them all.
const scenarioListMax = 10

// formatBytes is a size in decimal units (as storage is billed), or
// "size unknown".
func formatBytes(n *int64) string {
	if n == nil {
		return "size unknown"
	}
	return humanize.Bytes(uint64(max(*n, 0)))
}

// bucketSize is a record's size for a reader to rank it by.
func bucketSize(b *providers.Bucket) string {
	if b == nil || b.Size == nil {
		return "size unknown"
	}
	return formatBytes(&b.Size.Bytes)
}

// effectHeadings are the sub-lists of a scenario block, worst first.
var effectHeadings = []struct{ effect, heading string }{
	{scenario.Lost, "lost, no surviving copy"},
	{scenario.Survives, "survive at a copy"},
	{scenario.Exposed, "exposed"},
}

// writeScenarioTable writes the scenario section that opens the terminal
// report: per scenario a headline, then its buckets by effect, largest
// first.
func writeScenarioTable(t *tableWriter, r *agent.Result) {
	if len(r.Scenarios) == 0 {
		return
	}
	t.printf("\n%s\n", t.style(ansiBold, "SCENARIOS"))
	for i := range r.Scenarios {
		sc := &r.Scenarios[i]
		// The headline's clauses go on lines of their own, so that what is
		// lost, what survives and the exit all fit the width.
		for k, part := range strings.Split(sc.Headline(r.Policy.Exit), "; ") {
			indent := "  "
			if k > 0 {
				indent = "    "
			}
			t.line(seg{text: indent}, seg{style: ansiBold, text: part})
		}
		for _, eh := range effectHeadings {
			var rows []scenario.Bucket
			for _, b := range sc.Buckets {
				if b.Effect == eh.effect {
					rows = append(rows, b)
				}
			}
			if len(rows) == 0 {
				continue
			}
			t.printf("    %s (%d)\n", eh.heading, len(rows))
			for k, b := range rows {
				if k == scenarioListMax {
					t.printf("      %s\n", t.style(ansiDim, fmt.Sprintf("… and %d more (see --format json)", len(rows)-k)))
					break
				}
				segs := []seg{{text: fmt.Sprintf("      %12s  %s", formatBytes(b.Bytes), resourceName(b.Provider, b.Account, b.Bucket))}}
				if b.Copy != "" {
					segs = append(segs, seg{text: "  → " + b.Copy})
				}
				t.line(segs...)
			}
		}
	}
}

// scenarioChartWidth is the widest bar of the HTML chart, in pixels.
const scenarioChartWidth = 360

// htmlScenario is one scenario as the HTML section shows it.
type htmlScenario struct {
	S        *scenario.Scenario
	Headline string
	Bars     []scenarioBar
	Groups   []scenarioGroup
}

type scenarioBar struct {
	Class, Label string
	Bytes        string
	Width, Y     int
}

type scenarioGroup struct {
	Heading string
	Rows    []scenarioRow
}

type scenarioRow struct {
	Resource, Size, Copy string
}

// buildScenarios lays out the HTML scenario section: bars of bytes lost,
// surviving and exposed, on one scale across scenarios so they compare.
func buildScenarios(r *agent.Result) []htmlScenario {
	var most int64
	for i := range r.Scenarios {
		t := r.Scenarios[i].Totals
		most = max(most, t.LostBytes, t.ExposedBytes, r.Scenarios[i].Surviving())
	}
	out := make([]htmlScenario, 0, len(r.Scenarios))
	for i := range r.Scenarios {
		sc := &r.Scenarios[i]
		v := htmlScenario{S: sc, Headline: sc.Headline(r.Policy.Exit)}
		vals := []struct {
			class, label string
			n            int64
		}{
			{"lost", "lost", sc.Totals.LostBytes},
			{"survives", "surviving", sc.Surviving()},
			{"exposed", "exposed", sc.Totals.ExposedBytes},
		}
		for k, x := range vals {
			w := 0
			if most > 0 && x.n > 0 {
				w = max(2, int(float64(x.n)/float64(most)*scenarioChartWidth))
			}
			v.Bars = append(v.Bars, scenarioBar{Class: x.class, Label: x.label, Bytes: humanize.Bytes(uint64(x.n)), Width: w, Y: k * 26})
		}
		for _, eh := range effectHeadings {
			g := scenarioGroup{Heading: eh.heading}
			for _, b := range sc.Buckets {
				if b.Effect == eh.effect {
					g.Rows = append(g.Rows, scenarioRow{Resource: resourceName(b.Provider, b.Account, b.Bucket), Size: formatBytes(b.Bytes), Copy: b.Copy})
				}
			}
			if len(g.Rows) > 0 {
				v.Groups = append(v.Groups, g)
			}
		}
		out = append(out, v)
	}
	return out
}
