package reports

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/scenario"
	"github.com/reachaudit/reachaudit/providers"
	// The copy's scheme names its provider through the registry.
	_ "github.com/reachaudit/reachaudit/providers/aws"
	"github.com/reachaudit/reachaudit/providers/sandbox/sandboxtest"
)

// scenarioResult is the fixture with sizes and the us-adversary
// scenarios evaluated over it.
func scenarioResult(t *testing.T) *agent.Result {
	t.Helper()
	r := testResult()
	for i := range r.Buckets {
		n := int64(i+1) * 750e9
		if i == len(r.Buckets)-1 {
			continue // one size unknown
		}
		objects := n / 4e6
		r.Buckets[i].Size = &providers.Size{Bytes: n, Objects: &objects, Source: "test"}
	}
	r.Policy.Exit = scenario.Exit{BandwidthGbps: 1, EgressPerGB: map[string]float64{"alibaba": 0.07}}
	r.Policy.Scenarios = []string{"ban:alibaba", "cutoff:CN", "compel:CN", "key:nowhere-*"}
	if err := r.EvaluateScenarios(); err != nil {
		t.Fatal(err)
	}
	return r
}

// The table opens with the scenarios, before any finding.
func TestScenarioTableComesFirst(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, "table", scenarioResult(t), fixtureOpts); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	sc, exp := strings.Index(out, "SCENARIOS"), strings.Index(out, "\nFINDINGS BY BUCKET")
	if sc < 0 || exp < 0 || sc > exp {
		t.Fatalf("scenario section at %d, findings at %d:\n%s", sc, exp, out)
	}
	for _, want := range []string{"Ban of alibaba: ", "lost, no surviving copy", "CN compels disclosure", "Key nowhere-* disabled or destroyed: no bucket is hit"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q", want)
		}
	}
}

func TestScenarioSectionInHeadlessChromium(t *testing.T) {
	sandboxtest.RequireTool(t, "chromium", "chromium-browser")
	r := scenarioResult(t)
	var buf bytes.Buffer
	if err := Encode(&buf, "html", r, fixtureOpts); err != nil {
		t.Fatal(err)
	}
	// The page measures itself: the section is laid out above the
	// findings, and every bar of a non-zero value has a drawn width.
	probe := `<script>
var s=document.getElementById('scenarios'), f=document.getElementById('findings');
var bars=[].slice.call(document.querySelectorAll('#scenarios svg rect')).map(function(r){var b=r.getBBox();return {w:b.width,v:r.querySelector('title').textContent}});
document.body.setAttribute('data-probe', JSON.stringify({h:s.getBoundingClientRect().height, top:s.getBoundingClientRect().top,
 ftop:f.getBoundingClientRect().top, blocks:document.querySelectorAll('#scenarios .scenario').length, bars:bars,
 visible:getComputedStyle(s).display!=='none'&&getComputedStyle(s).visibility!=='hidden'}));
</script></body>`
	page := strings.Replace(buf.String(), "</body>", probe, 1)
	file := filepath.Join(t.TempDir(), "report.html")
	if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	dom, log := chromium(t, "--dump-dom", "file://"+file)
	if c := consoleLines(log); len(c) > 0 {
		t.Errorf("console messages:\n%s", strings.Join(c, "\n"))
	}
	m := regexp.MustCompile(`data-probe="([^"]*)"`).FindStringSubmatch(dom)
	if m == nil {
		t.Fatalf("the probe did not run:\n%.2000s", dom)
	}
	var got struct {
		H, Top, Ftop float64
		Blocks       int
		Visible      bool
		Bars         []struct {
			W float64
			V string
		}
	}
	js := strings.NewReplacer("&#34;", `"`, "&quot;", `"`, "&amp;", "&").Replace(m[1])
	if err := json.Unmarshal([]byte(js), &got); err != nil {
		t.Fatalf("probe %s: %v", js, err)
	}
	if !got.Visible || got.H < 100 || got.Top >= got.Ftop {
		t.Errorf("scenario section visible %v, height %v, top %v; findings top %v", got.Visible, got.H, got.Top, got.Ftop)
	}
	if got.Blocks != len(r.Scenarios) || len(got.Bars) != 3*len(r.Scenarios) {
		t.Fatalf("%d scenario blocks and %d bars for %d scenarios", got.Blocks, len(got.Bars), len(r.Scenarios))
	}
	drawn := 0
	for _, b := range got.Bars {
		zero := strings.HasSuffix(b.V, ": 0 B")
		if !zero && b.W < 2 {
			t.Errorf("bar %q is not drawn (width %v)", b.V, b.W)
		}
		if !zero {
			drawn++
		}
	}
	if drawn == 0 {
		t.Error("no bar has a value: the chart shows nothing")
	}
}
