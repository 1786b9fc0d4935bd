package reports

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/reachaudit/reachaudit/providers/sandbox/sandboxtest"
)

func TestHTMLIsSelfContained(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, "html", testResult(), fixtureOpts); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	remote := regexp.MustCompile(`(?i)(src|href|xlink:href|action)\s*=\s*["']?\s*(https?:|//|ftp:)|@import|url\(\s*["']?(https?:|//)`)
	if m := remote.FindString(page); m != "" {
		t.Errorf("the report loads something remote: %q", m)
	}
	for _, want := range []string{
		`default-src 'none'`,                            // the page itself forbids remote loads
		`&lt;grant storage.buckets.get&gt; &amp; retry`, // text from a cloud is escaped
		`<svg id="severity-chart"`, `<svg id="matrix-chart"`,
		`@media print`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}

// chromium and consoleLines are the shared headless Chromium helpers.
func chromium(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	return sandboxtest.Chromium(t, args...)
}

func consoleLines(log string) []string { return sandboxtest.ConsoleLines(log) }

var (
	findingRow = regexp.MustCompile(`(?s)<tr data-risk="([a-z]+)" data-status="[a-z]+"([^>]*)>(.*?)</tr>`)
	countText  = regexp.MustCompile(`id="count">([^<]*)<`)
	sevCell    = regexp.MustCompile(`<tr data-risk="[a-z]+"[^>]*><td data-sort="(\d+)">`)
)

func TestHTMLInHeadlessChromium(t *testing.T) {
	sandboxtest.RequireTool(t, "chromium", "chromium-browser")
	dir := t.TempDir()
	report := filepath.Join(dir, "report.html")
	var buf bytes.Buffer
	if err := Encode(&buf, "html", testResult(), fixtureOpts); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(report, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	// The console check must be able to fail: a page with an error shows it.
	bad := filepath.Join(dir, "bad.html")
	os.WriteFile(bad, []byte(`<html><body><script>missingFunction();</script></body></html>`), 0o644)
	if _, log := chromium(t, "--dump-dom", "file://"+bad); !strings.Contains(strings.Join(consoleLines(log), "\n"), "missingFunction") {
		t.Fatalf("Chromium's log does not show console errors; the check below would prove nothing:\n%s", log)
	}

	cases := []struct {
		name, fragment string
		wantShown      int
		rowHas         string
		wantCount      string
	}{
		{"no filter", "", 10, "", "10 of 10 findings"},
		{"filter by rule", "#filter=EXP-001", 1, "EXP-001", "1 of 10 findings"},
		{"filter by text and risk", "#filter=logs-archive&risk=block", 1, "BLK-005", "1 of 10 findings"},
		{"filter by status", "#status=suppressed", 1, "archive copy kept by contract", "1 of 10 findings"},
		{"filter by country", "#filter=cn-hangzhou", 3, "acme-cn-orders", "3 of 10 findings"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dom, log := chromium(t, "--dump-dom", "file://"+report+tc.fragment)
			if c := consoleLines(log); len(c) > 0 {
				t.Errorf("console messages:\n%s", strings.Join(c, "\n"))
			}
			rows := findingRow.FindAllStringSubmatch(dom, -1)
			if len(rows) != 10 {
				t.Fatalf("%d finding rows in the DOM, want 10", len(rows))
			}
			shown := 0
			for _, row := range rows {
				if strings.Contains(row[2], "hidden") {
					continue
				}
				shown++
				if !strings.Contains(row[3], tc.rowHas) {
					t.Errorf("a row without %q is shown: %.200s", tc.rowHas, row[3])
				}
			}
			if shown != tc.wantShown {
				t.Errorf("%d rows shown, want %d", shown, tc.wantShown)
			}
			if m := countText.FindStringSubmatch(dom); m == nil || m[1] != tc.wantCount {
				t.Errorf("count reads %v, want %q", m, tc.wantCount)
			}
		})
	}

	t.Run("sort by clicking a header", func(t *testing.T) {
		// The page's own script sorts; the test only clicks, from a copy
		// of the report with one more inline script.
		for _, tc := range []struct {
			clicks int
			asc    bool
		}{{1, true}, {2, false}} {
			page := strings.Replace(buf.String(), "</body>",
				"<script>for(var i=0;i<"+strconv.Itoa(tc.clicks)+";i++)document.querySelector('#findings th.sort').click();</script></body>", 1)
			clicked := filepath.Join(dir, "sorted.html")
			os.WriteFile(clicked, []byte(page), 0o644)
			dom, log := chromium(t, "--dump-dom", "file://"+clicked)
			if c := consoleLines(log); len(c) > 0 {
				t.Errorf("console messages:\n%s", strings.Join(c, "\n"))
			}
			var sevs []int
			for _, m := range sevCell.FindAllStringSubmatch(dom, -1) {
				n, _ := strconv.Atoi(m[1])
				sevs = append(sevs, n)
			}
			if len(sevs) != 10 {
				t.Fatalf("%d severity cells", len(sevs))
			}
			sorted := slices.IsSorted(sevs)
			if !tc.asc {
				sorted = slices.IsSortedFunc(sevs, func(a, b int) int { return b - a })
			}
			if !sorted || slices.Min(sevs) == slices.Max(sevs) {
				t.Errorf("after %d click(s) severities are %v", tc.clicks, sevs)
			}
		}
	})

	t.Run("screenshot", func(t *testing.T) {
		shot := filepath.Join(dir, "report.png")
		if keep := os.Getenv("REACHAUDIT_SCREENSHOT_DIR"); keep != "" {
			shot = filepath.Join(keep, "report.png")
		}
		_, log := chromium(t, "--hide-scrollbars", "--window-size=1400,2200", "--screenshot="+shot, "file://"+report)
		if c := consoleLines(log); len(c) > 0 {
			t.Errorf("console messages:\n%s", strings.Join(c, "\n"))
		}
		f, err := os.Open(shot)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		if b := img.Bounds(); b.Dx() != 1400 || b.Dy() != 2200 {
			t.Errorf("screenshot is %v", b)
		}
		t.Logf("screenshot at %s", shot)
	})

	t.Run("print to PDF", func(t *testing.T) {
		pdf := filepath.Join(dir, "report.pdf")
		chromium(t, "--no-pdf-header-footer", "--print-to-pdf="+pdf, "file://"+report)
		data, err := os.ReadFile(pdf)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, []byte("%PDF-")) || len(data) < 10<<10 {
			t.Errorf("PDF of %d bytes starting %q", len(data), data[:min(len(data), 8)])
		}
	})
}

// overflowProbe reports, into the DOM, how many elements reach past the
// viewport's right edge and the page's scroll width.
const overflowProbe = `<script>window.addEventListener("load",function(){var vw=document.documentElement.clientWidth,n=0;` +
	`document.querySelectorAll("body *").forEach(function(e){if(e.getBoundingClientRect().right>vw+1){n++}});` +
	`document.body.setAttribute("data-overflow",n+" "+document.documentElement.scrollWidth+" "+vw);});</script>`

var overflowAttr = regexp.MustCompile(`data-overflow="(\d+) (\d+) (\d+)"`)

// TestDemoReportReadsAndPrints measures the demo's report in Chromium: it
// prints to at most 15 A4 pages, nothing is wider than a 1280 px window,
// and a rule id in the filter matches the rule column only.
func TestDemoReportReadsAndPrints(t *testing.T) {
	sandboxtest.RequireTool(t, "chromium", "chromium-browser")
	r, _ := loadDemo(t)
	dir := t.TempDir()
	var buf bytes.Buffer
	if err := Encode(&buf, "html", r, fixtureOpts); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "demo.html")
	if err := os.WriteFile(report, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("prints to at most 15 A4 pages", func(t *testing.T) {
		pdf := filepath.Join(dir, "demo.pdf")
		chromium(t, "--no-pdf-header-footer", "--print-to-pdf="+pdf, "file://"+report)
		data, err := os.ReadFile(pdf)
		if err != nil {
			t.Fatal(err)
		}
		pages := sandboxtest.PDFPages(data)
		t.Logf("demo report: %d A4 pages", pages)
		if pages == 0 || pages > 15 {
			t.Errorf("the demo report prints to %d pages, want 1 to 15", pages)
		}
		if !bytes.Contains(data, []byte("/MediaBox [0 0 841.9")) {
			t.Error("the PDF is not A4 landscape")
		}
	})

	t.Run("no element wider than a 1280 px window", func(t *testing.T) {
		probe := filepath.Join(dir, "probe.html")
		os.WriteFile(probe, []byte(strings.Replace(buf.String(), "</body>", overflowProbe+"</body>", 1)), 0o644)
		dom, _ := chromium(t, "--window-size=1280,900", "--dump-dom", "file://"+probe)
		m := overflowAttr.FindStringSubmatch(dom)
		if m == nil {
			t.Fatal("the overflow probe did not run")
		}
		t.Logf("at 1280 px: %s element(s) past the edge, scroll width %s, viewport %s", m[1], m[2], m[3])
		if m[1] != "0" || m[2] != m[3] {
			t.Errorf("horizontal overflow at 1280 px: %s element(s), scroll width %s > %s", m[1], m[2], m[3])
		}
	})

	t.Run("a rule id filters the rule column exactly", func(t *testing.T) {
		want := 0
		for _, f := range r.Findings {
			if f.Rule == "EXP-001" {
				want++
			}
		}
		dom, _ := chromium(t, "--dump-dom", "file://"+report+"#filter=EXP-001")
		shown := 0
		for _, row := range findingRow.FindAllStringSubmatch(dom, -1) {
			if !strings.Contains(row[2], "hidden") {
				shown++
			}
		}
		if shown != want {
			t.Errorf("filter EXP-001 shows %d rows, want the %d EXP-001 findings", shown, want)
		}
	})

	t.Run("screenshot", func(t *testing.T) {
		shot := filepath.Join(dir, "demo.png")
		if keep := os.Getenv("REACHAUDIT_SCREENSHOT_DIR"); keep != "" {
			shot = filepath.Join(keep, "demo.png")
		}
		chromium(t, "--hide-scrollbars", "--window-size=1280,1600", "--screenshot="+shot, "file://"+report)
		f, err := os.Open(shot)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if img, err := png.Decode(f); err != nil || img.Bounds().Dx() != 1280 {
			t.Fatalf("screenshot: %v", err)
		}
	})
}

// TestReportOpeningAndJurisdictions checks the report's plain-language
// opening, its print rules and the jurisdiction table on the demo.
func TestReportOpeningAndJurisdictions(t *testing.T) {
	r, _ := loadDemo(t)
	v := buildView(r, fixtureOpts)
	// The fixes that protect the most data come first: with sizes in the
	// demo, the bytes of the buckets a fix covers rank it, not the count
	// of its findings.
	if len(v.Actions) != 3 || v.Actions[0].Bytes < v.Actions[1].Bytes || v.Actions[1].Bytes < v.Actions[2].Bytes || v.Actions[2].Bytes == 0 {
		t.Errorf("actions %+v: want the three that protect the most bytes, most first", v.Actions)
	}
	for _, a := range v.Actions {
		t.Logf("do first: %s at %s, %d critical on %d buckets holding %s (%d of unknown size)", a.Rule, a.Provider, a.Critical, a.Buckets, a.Held(), a.Unsized)
	}
	// Without sizes the count of critical findings decides.
	bare := *r
	bare.Buckets = slices.Clone(r.Buckets)
	for i := range bare.Buckets {
		bare.Buckets[i].Size = nil
	}
	if a := buildView(&bare, fixtureOpts).Actions; len(a) != 3 || a[0].Critical < a[1].Critical || a[1].Critical < a[2].Critical || a[0].Held() != "" {
		t.Errorf("actions without sizes %+v: want the three that remove the most critical findings", a)
	}
	if len(v.Conclusions) != len(v.Providers) {
		t.Errorf("%d conclusions for %d providers", len(v.Conclusions), len(v.Providers))
	}
	rows := map[string]jurisdictionRow{}
	for _, j := range v.Juris {
		rows[j.Code] = j
	}
	for code, j := range rows {
		if j.ControlledHere == 0 && !j.Concern {
			t.Errorf("jurisdiction %s listed although it neither controls, operates nor is of concern", code)
		}
	}
	if us := rows["US"]; us.Exposed != 0 || us.Blocked != 0 {
		t.Errorf("the home jurisdiction US is said to expose %d and block %d buckets", us.Exposed, us.Blocked)
	}
	if cn := rows["CN"]; cn.Exposed == 0 || cn.Blocked == 0 {
		t.Errorf("CN row %+v: the concern jurisdiction causes exposure and blocking in the demo", cn)
	}
	candidates := 0
	for _, row := range v.Matrix.Rows {
		for _, c := range row.Cells {
			if c.Candidate {
				candidates++
			}
		}
	}
	if candidates == 0 {
		t.Error("no matrix cell is marked a multi-region candidate")
	}
	var buf bytes.Buffer
	if err := Encode(&buf, "html", r, fixtureOpts); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	print := page[strings.Index(page, "@media print"):]
	for _, want := range []string{`id="opening"`, "<b>Exposed</b> means", "<b>Blocked</b> means", `id="actions"`, `id="conclusions"`, `class="cand"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	for _, want := range []string{"th.sort::after", "content:none", "break-before:page"} {
		if !strings.Contains(print, want) {
			t.Errorf("the print rules lack %q", want)
		}
	}
}
