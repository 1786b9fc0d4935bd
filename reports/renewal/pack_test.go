package renewal

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dustin/go-humanize"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/scenario"
	_ "github.com/reachaudit/reachaudit/providers/alibaba"
	_ "github.com/reachaudit/reachaudit/providers/aws"
	_ "github.com/reachaudit/reachaudit/providers/gcp"
	"github.com/reachaudit/reachaudit/providers/sandbox/sandboxtest"
)

// demoRun is the demo estate's run as the CLI's golden file holds it.
const demoRun = "../../cmd/reachaudit/testdata/demo.golden.json"

func loadDemo(t *testing.T) *agent.Result {
	t.Helper()
	data, err := os.ReadFile(demoRun)
	if err != nil {
		t.Fatal(err)
	}
	var r agent.Result
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

func TestBuildDemoAlibaba(t *testing.T) {
	r := loadDemo(t)
	p, err := Build(r, "alibaba", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary.Buckets != r.Summary.BucketsByProvider["alibaba"] || p.Summary.Buckets == 0 {
		t.Fatalf("%d buckets in the pack, %d in the run", p.Summary.Buckets, r.Summary.BucketsByProvider["alibaba"])
	}
	if len(p.Contracts) != 1 || p.Contracts[0].Entity != "Alibaba Cloud US LLC" || p.Contracts[0].NoticeBy != "2026-12-31" {
		t.Fatalf("contracts %+v", p.Contracts)
	}
	// The demo clock is 2026-11-30: 31 days to the notice day is not yet due.
	if c := p.Contracts[0]; c.Status != NoticeOK || *c.DaysLeft != 31 {
		t.Errorf("notice %s, %d days", c.Status, *c.DaysLeft)
	}
	var bases []string
	for _, q := range p.Questions {
		bases = append(bases, q.Basis)
		if q.Text == "" || q.Evidence == "" {
			t.Errorf("question without text or evidence: %+v", q)
		}
	}
	for _, want := range []string{dataAct28a, dataAct28b, dataAct25, doraArt30h} {
		if !strings.Contains(strings.Join(bases, "|"), want) {
			t.Errorf("no question cites %s", want)
		}
	}
	if len(p.LegalBases) == 0 || len(p.Evidence.APICalls) == 0 || len(p.Evidence.Accounts) != 1 {
		t.Errorf("legal bases %d, api calls %d, accounts %v", len(p.LegalBases), len(p.Evidence.APICalls), p.Evidence.Accounts)
	}
	if len(p.Evidence.Unknowns) == 0 {
		t.Error("the demo's unreadable Alibaba field is not in the evidence")
	}
}

// The pack's ban scenario moves every byte held at the provider in the
// pack's accounts, and the exit question carries its numbers; the cut-off
// and compelled disclosure by the controller's government come with it.
func TestPackScenariosDemoAlibaba(t *testing.T) {
	r := loadDemo(t)
	p, err := Build(r, "alibaba", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var specs []string
	for _, sc := range p.Scenarios {
		specs = append(specs, sc.Spec)
		if sc.Headline == "" || !strings.HasPrefix(sc.Headline, sc.Title) {
			t.Errorf("%s: headline %q", sc.Spec, sc.Headline)
		}
		for _, b := range sc.Buckets {
			if b.Provider != "alibaba" {
				t.Errorf("%s: bucket %s/%s outside the pack", sc.Spec, b.Provider, b.Bucket)
			}
		}
	}
	if got := strings.Join(specs, " "); got != "ban:alibaba cutoff:CN compel:CN" {
		t.Fatalf("specs %q", got)
	}
	ban := p.scenarioOf("ban").Totals
	var held, lost int64
	unknown := 0
	for _, a := range p.Accounts {
		for _, b := range a.Buckets {
			if b.Bytes == nil {
				unknown++
				continue
			}
			held += *b.Bytes
			if !b.Elsewhere {
				lost += *b.Bytes
			}
		}
	}
	if held == 0 || ban.ExitBytes != held || p.Summary.Bytes != held || ban.UnknownSizeBuckets != unknown || p.Summary.UnknownSizeBuckets != unknown {
		t.Errorf("ban exit %d bytes (%d unknown), summary %d, buckets hold %d (%d unknown)", ban.ExitBytes, ban.UnknownSizeBuckets, p.Summary.Bytes, held, unknown)
	}
	if ban.BucketsHit != p.Summary.Buckets || ban.LostBuckets != p.Summary.NoCopyElsewhere {
		t.Errorf("ban hits %d (lost %d); pack has %d buckets, %d with no copy elsewhere", ban.BucketsHit, ban.LostBuckets, p.Summary.Buckets, p.Summary.NoCopyElsewhere)
	}
	// A lost bucket is one with no copy at another provider; the demo's
	// Alibaba copies are all at Alibaba or declared elsewhere.
	if ban.LostBytes > lost {
		t.Errorf("lost %d bytes, more than the %d of buckets with no copy elsewhere", ban.LostBytes, lost)
	}
	var exitQ string
	for _, q := range p.Questions {
		if q.Topic == "Exit and egress" {
			exitQ = q.Text + " | " + q.Evidence
		}
	}
	if want := humanize.Bytes(uint64(ban.ExitBytes)); !strings.Contains(exitQ, want) || !strings.Contains(exitQ, "Gbit/s") {
		t.Errorf("exit question does not carry the %s the ban moves: %s", want, exitQ)
	}
	// With the user's egress price the question prices the exit.
	r.Policy.Exit = scenario.Exit{BandwidthGbps: 10, EgressPerGB: map[string]float64{"alibaba": 0.07}}
	p, err = Build(r, "alibaba", Options{})
	if err != nil {
		t.Fatal(err)
	}
	ban = p.scenarioOf("ban").Totals
	if ban.ExitCost == nil || *ban.ExitCost != math.Round(float64(held)/1e9*0.07*100)/100 {
		t.Fatalf("exit cost %v for %d bytes at 0.07/GB", ban.ExitCost, held)
	}
	for _, q := range p.Questions {
		if q.Topic == "Exit and egress" && !strings.Contains(q.Text, "egress ≈ "+humanize.CommafWithDigits(*ban.ExitCost, 2)) {
			t.Errorf("exit question without the priced egress: %s", q.Text)
		}
	}
}

func TestBuildAccountGlobAndNotice(t *testing.T) {
	r := loadDemo(t)
	p, err := Build(r, "aws", Options{AccountGlob: "7370*"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary.Accounts != 1 || len(p.Accounts) != 1 || p.Accounts[0].ID != "737046815593" {
		t.Fatalf("accounts %+v", p.Accounts)
	}
	for _, e := range p.Contracts {
		if !strings.Contains(e.Entity, "Sinnet") && !strings.Contains(e.Entity, "Ningxia") {
			t.Errorf("China account's contract with %s", e.Entity)
		}
	}
	for _, tc := range []struct {
		now  time.Time
		want string
	}{
		{time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), NoticeOK},
		{time.Date(2026, 12, 15, 0, 0, 0, 0, time.UTC), NoticeDue},
		{time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC), NoticePassed},
	} {
		p, _ := Build(r, "alibaba", Options{Now: tc.now})
		if got := p.Contracts[0].Status; got != tc.want {
			t.Errorf("at %s notice is %s, want %s", tc.now.Format("2006-01-02"), got, tc.want)
		}
	}
	if _, err := Build(r, "oracle", Options{}); err == nil {
		t.Error("an unknown provider built a pack")
	}
}

// The HTML pack prints on A4 in at most six pages for the demo's Alibaba
// account, with no console error.
func TestHTMLPrintsOnA4(t *testing.T) {
	sandboxtest.RequireTool(t, "chromium", "chromium-browser")
	p, err := Build(loadDemo(t), "alibaba", Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := Encode(&buf, "html", p, "test"); err != nil {
		t.Fatal(err)
	}
	html := filepath.Join(dir, "pack.html")
	if err := os.WriteFile(html, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	chromium := func(args ...string) string {
		_, log := sandboxtest.Chromium(t, args...)
		return log
	}
	console := sandboxtest.ConsoleLines
	// The console check can fail: a broken page shows its error.
	bad := filepath.Join(dir, "bad.html")
	os.WriteFile(bad, []byte(`<html><body><script>missingFunction();</script></body></html>`), 0o644)
	if c := console(chromium("--dump-dom", "file://"+bad)); len(c) == 0 {
		t.Fatal("Chromium's log shows no console errors; the check below would prove nothing")
	}
	if c := console(chromium("--dump-dom", "file://"+html)); len(c) > 0 {
		t.Errorf("console messages:\n%s", strings.Join(c, "\n"))
	}
	pdf := filepath.Join(dir, "pack.pdf")
	chromium("--no-pdf-header-footer", "--print-to-pdf="+pdf, "file://"+html)
	data, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	pages := sandboxtest.PDFPages(data)
	t.Logf("the pack prints on %d A4 pages (%d bytes of PDF)", pages, len(data))
	if pages < 2 || pages > 6 {
		t.Errorf("the pack prints on %d pages, want 2 to 6 (a summary page, then the rest)", pages)
	}
	// A4 is 595 × 842 points (Chromium writes 594.96 × 841.92).
	for _, m := range regexp.MustCompile(`/MediaBox\s*\[\s*0 0 ([0-9.]+) ([0-9.]+)\s*\]`).FindAllSubmatch(data, -1) {
		w, _ := strconv.ParseFloat(string(m[1]), 64)
		h, _ := strconv.ParseFloat(string(m[2]), 64)
		if math.Abs(w-595) > 1 || math.Abs(h-842) > 1 {
			t.Errorf("a page is %.2f × %.2f points, not A4", w, h)
		}
	}
}

func TestMarkdownAndJSON(t *testing.T) {
	p, err := Build(loadDemo(t), "alibaba", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var md, js bytes.Buffer
	if err := Encode(&md, "md", p, "test"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Renewal pack: alibaba", "## Questions for the provider", "art. 28(1)(a)", "Alibaba Cloud US LLC", "## Evidence"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if err := Encode(&js, "json", p, "test"); err != nil {
		t.Fatal(err)
	}
	var back Pack
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Schema != Schema {
		t.Fatalf("json: %v (schema %q)", err, back.Schema)
	}
	if err := Encode(&js, "pdf", p, "test"); err == nil {
		t.Error("an unknown format encoded")
	}
}
