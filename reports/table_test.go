package reports

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/reachaudit/reachaudit/agent/risk"
)

func demoTable(t *testing.T, opts Options) []string {
	t.Helper()
	r, _ := loadDemo(t)
	var buf bytes.Buffer
	if err := Encode(&buf, "table", r, opts); err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
}

func TestTableFitsTheWidth(t *testing.T) {
	for _, width := range []int{0, 80, 100, 120, 160} {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			want := width
			if want == 0 {
				want = DefaultWidth
			}
			for i, l := range demoTable(t, Options{Width: width}) {
				if n := utf8.RuneCountInString(l); n > want {
					t.Errorf("line %d is %d columns, more than %d: %q", i+1, n, want, l)
				}
			}
		})
	}
	t.Run("wide cuts nothing", func(t *testing.T) {
		long := 0
		for _, l := range demoTable(t, Options{Width: 80, Wide: true}) {
			if strings.HasSuffix(l, "…") {
				t.Errorf("--wide cut a line: %q", l)
			}
			if utf8.RuneCountInString(l) > 80 {
				long++
			}
		}
		if long == 0 {
			t.Error("--wide kept every line within 80 columns: it is not wide")
		}
	})
	t.Run("colour does not count toward the width", func(t *testing.T) {
		ansi := regexp.MustCompile("\x1b\\[[0-9;]*m")
		for _, l := range demoTable(t, Options{Width: 100, Color: true}) {
			if n := utf8.RuneCountInString(ansi.ReplaceAllString(l, "")); n > 100 {
				t.Errorf("%d visible columns: %q", n, l)
			}
		}
	})
}

// TestTableShowsTheDecidingFactsFirst: each finding's evidence line begins
// with its rule's first key fact, and at 120 columns every key fact the
// issue found cut (UNK-001's permission, BLK-003's key state, EXP-007's
// copy) is whole on the line.
func TestTableShowsTheDecidingFactsFirst(t *testing.T) {
	r, _ := loadDemo(t)
	lines := demoTable(t, Options{Width: 120})
	text := strings.Join(lines, "\n")
	for i := range r.Findings {
		f := &r.Findings[i]
		rule, _ := risk.RuleByID(f.Rule)
		first := ""
		for _, k := range rule.KeyFacts {
			if _, ok := f.Evidence[k]; ok {
				first = k
				break
			}
		}
		if first == "" {
			t.Errorf("%s %s: no key fact in its evidence", f.Rule, f.Bucket)
			continue
		}
		head := first + ": " + evidenceValue(f.Evidence[first])
		if !strings.Contains(text, "    "+head) {
			t.Errorf("%s %s: no evidence line starts with %q", f.Rule, f.Bucket, head)
		}
		switch f.Rule {
		case "UNK-001", "BLK-003", "EXP-007":
			if !strings.Contains(text, head+";") {
				t.Errorf("%s %s: deciding fact %q is cut", f.Rule, f.Bucket, head)
			}
		}
	}
}

func TestTableHasNoNoise(t *testing.T) {
	r, _ := loadDemo(t)
	lines := demoTable(t, Options{Wide: true})
	text := strings.Join(lines, "\n")
	for _, bad := range []string{"copies: ;", "base_severity: critical", "RESIDENCY (", "BLOCK ("} {
		if strings.Contains(text, bad) {
			t.Errorf("table holds %q", bad)
		}
	}
	// One line per finding, a remediation line per finding.
	if n, want := strings.Count(text, "\n")+1, len(r.Findings); n < 3*want {
		t.Errorf("%d lines for %d findings: want a finding, evidence and remediation line each", n, want)
	}
	if n := strings.Count(text, "fix: "); n != len(r.Findings) {
		t.Errorf("%d remediation lines for %d findings", n, len(r.Findings))
	}
	// A bucket is named once: as the header of its findings, or on the
	// line of its only finding, or in the list of buckets without findings.
	// (The scenarios before the findings name the buckets each would hit.)
	findings := text
	if i := strings.Index(text, "FINDINGS BY BUCKET"); i >= 0 {
		findings = text[i:]
	}
	for _, b := range r.Buckets {
		name := resourceName(b.Provider, b.Account, b.Name) + " "
		if n := strings.Count(findings+"\n", name); n != 2 && n != 1 {
			t.Errorf("%s named %d times", name, n)
		}
	}
}

func TestTableCountsSayWhatTheyCount(t *testing.T) {
	r, _ := loadDemo(t)
	text := strings.Join(demoTable(t, Options{}), "\n")
	s := r.Summary
	want := fmt.Sprintf("%d findings: %d open, %d suppressed", s.Findings, s.Open, s.Suppressed)
	if !strings.Contains(text, want) {
		t.Errorf("header does not say %q", want)
	}
	for rk, n := range s.ByRisk {
		if !strings.Contains(text, fmt.Sprintf("%s %d", rk, n)) {
			t.Errorf("open findings by risk: %s %d (JSON by_risk) not in the header", rk, n)
		}
	}
	if !strings.Contains(text, "open findings by risk:") {
		t.Error("the risk counts do not say they count open findings")
	}
}

func TestWrapText(t *testing.T) {
	got := wrapText("connect: connection refused to 127.0.0.1:1 after three tries", 20)
	for _, l := range got {
		if utf8.RuneCountInString(l) > 20 {
			t.Errorf("line %q is over 20", l)
		}
	}
	if strings.Join(got, " ") != "connect: connection refused to 127.0.0.1:1 after three tries" {
		t.Errorf("wrap lost words: %q", got)
	}
}

// TestStoredListsPrintLikeTheScan: a run read back from the history holds
// evidence lists as []any; they print as the scan printed them.
func TestStoredListsPrintLikeTheScan(t *testing.T) {
	if got := evidenceValue([]any{"acl:AllUsers", "bucket-policy"}); got != "acl:AllUsers,bucket-policy" {
		t.Errorf("stored list prints %q", got)
	}
	if got := evidenceValue([]any{}); got != "none" {
		t.Errorf("empty stored list prints %q", got)
	}
}
