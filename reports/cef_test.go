package reports

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/reports/internal/cefparse"
)

// cefFinding reads back the finding fields a CEF line carries.
func cefFinding(t testing.TB, ev *cefparse.Event) risk.Finding {
	t.Helper()
	sev := -1
	n, err := strconv.Atoi(ev.Severity)
	if err != nil {
		t.Fatalf("severity %q: %v", ev.Severity, err)
	}
	for s, v := range cefSeverity {
		if v == n {
			sev = int(s)
		}
	}
	var jur []string
	if j := ev.Label("jurisdictions"); j != "" {
		jur = strings.Split(j, ",")
	}
	var legal []string
	if l := ev.Label("legal_basis"); l != "" {
		legal = strings.Split(l, "; ")
	}
	return risk.Finding{
		ID: ev.Ext["externalId"], Rule: ev.ClassID, Risk: ev.Ext["cat"], Severity: risk.Severity(sev),
		Status: ev.Label("status"), SuppressedReason: ev.Ext["reason"],
		Provider: ev.Label("provider"), Account: ev.Label("account"), Bucket: ev.Label("bucket"), Region: ev.Label("region"),
		Title: ev.Name, Jurisdictions: jur, LegalBasis: legal, Remediation: ev.Label("remediation"),
	}
}

// comparableFinding drops what CEF carries only as a summary (evidence).
func comparableFinding(f risk.Finding) risk.Finding {
	f.Evidence = nil
	if len(f.LegalBasis) == 0 {
		f.LegalBasis = nil
	}
	if len(f.Jurisdictions) == 0 {
		f.Jurisdictions = nil
	}
	return f
}

func TestCEFParsesBackToTheFinding(t *testing.T) {
	demo, _ := loadDemo(t)
	for _, tc := range []struct {
		name string
		r    *agent.Result
	}{{"fixture", testResult()}, {"demo estate", demo}} {
		t.Run(tc.name, func(t *testing.T) { checkCEFParsesBack(t, tc.r) })
	}
}

func checkCEFParsesBack(t *testing.T, r *agent.Result) {
	var buf bytes.Buffer
	if err := Encode(&buf, "cef", r, fixtureOpts); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	i := 0
	for ; sc.Scan(); i++ {
		ev, err := cefparse.Parse(sc.Text())
		if err != nil {
			t.Fatalf("line %d: %v\n%s", i+1, err, sc.Text())
		}
		if ev.Version != "0" || ev.Vendor != Product || ev.Product != Product || ev.DeviceVersion != fixtureOpts.Version {
			t.Errorf("line %d: header %+v", i+1, ev)
		}
		got := cefFinding(t, ev)
		want := comparableFinding(r.Findings[i])
		want.Title = strings.NewReplacer("\n", " ", "\r", " ").Replace(want.Title)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("finding %d (-want +got):\n%s", i, diff)
		}
	}
	if i != len(r.Findings) {
		t.Errorf("%d CEF lines for %d findings", i, len(r.Findings))
	}
}

func TestCEFEscaping(t *testing.T) {
	cases := []struct{ name, header, value, wantHeader, wantValue string }{
		{"plain", "abc", "abc", "abc", "abc"},
		{"pipe in header, kept in value", "a|b", "a|b", `a\|b`, "a|b"},
		{"backslash", `a\b`, `a\b`, `a\\b`, `a\\b`},
		{"equals only escaped in value", "a=b", "a=b", "a=b", `a\=b`},
		{"newlines", "a\nb\rc", "a\nb\rc", "a b c", `a\nb\rc`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(appendCEFHeader(nil, tc.header)); got != tc.wantHeader {
				t.Errorf("header %q → %q, want %q", tc.header, got, tc.wantHeader)
			}
			if got := string(appendCEFValue(nil, tc.value)); got != tc.wantValue {
				t.Errorf("value %q → %q, want %q", tc.value, got, tc.wantValue)
			}
		})
	}
}

// FuzzCEFEscape checks that any header text and extension value survive
// the encoder's escaping and an independent parser's reading.
func FuzzCEFEscape(f *testing.F) {
	for _, s := range []string{"", "a|b", `a\b`, "a=b", "a\nb", `\|=\`, "x y=z", " ", "ü|=\\\n", "k=v\\"} {
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, header, value string) {
		line := []byte("CEF:0|v|p|1|")
		line = appendCEFHeader(line, header)
		line = append(line, "|name|5|"...)
		ext := cefExt{dst: line}
		ext.add("msg", value)
		ext.add("cs1", value+" tail")
		ext.add("cs1Label", "label")
		ev, err := cefparse.Parse(string(ext.dst))
		if err != nil {
			t.Fatalf("parse %q: %v", ext.dst, err)
		}
		if want := strings.NewReplacer("\n", " ", "\r", " ").Replace(header); ev.ClassID != want {
			t.Errorf("header %q read back as %q", header, ev.ClassID)
		}
		if value != "" && ev.Ext["msg"] != value {
			t.Errorf("value %q read back as %q", value, ev.Ext["msg"])
		}
		if ev.Label("label") != value+" tail" {
			t.Errorf("cs1 %q read back as %q", value+" tail", ev.Label("label"))
		}
	})
}
