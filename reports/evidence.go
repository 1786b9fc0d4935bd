package reports

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/reachaudit/reachaudit/agent/risk"
)

// evidenceValue renders one evidence value compactly for the text formats:
// strings as they are, lists joined with commas (an empty list as "none"),
// the rest as JSON.
func evidenceValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []string:
		if len(x) == 0 {
			return "none"
		}
		return strings.Join(x, ",")
	case []any:
		// Lists read back from JSON (a stored run) print as the scan did.
		if len(x) == 0 {
			return "none"
		}
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = evidenceValue(e)
		}
		return strings.Join(parts, ",")
	case fmt.Stringer:
		return x.String()
	case nil:
		return "-"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// evidenceKeys orders a finding's evidence for reading: the rule's key facts
// (from the catalogue) first, in the catalogue's order, then the rest by name.
func evidenceKeys(f *risk.Finding) []string {
	var facts []string
	if r, ok := risk.RuleByID(f.Rule); ok {
		facts = r.KeyFacts
	}
	out := make([]string, 0, len(f.Evidence))
	for _, k := range facts {
		if _, ok := f.Evidence[k]; ok {
			out = append(out, k)
		}
	}
	rest := make([]string, 0, len(f.Evidence))
	for k := range f.Evidence {
		if !slices.Contains(facts, k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// evidenceSummary renders evidence as "k: v; k: v", deciding facts first,
// cut to at most max bytes on a rune boundary.
func evidenceSummary(f *risk.Finding, max int) string {
	var b strings.Builder
	for i, k := range evidenceKeys(f) {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(evidenceValue(f.Evidence[k]))
	}
	s := b.String()
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// keyFactsSummary is the part of evidenceSummary that the rule's key facts
// make; restSummary the rest, cut to max bytes. The html report prints only
// the first.
func keyFactsSummary(f *risk.Finding) string {
	n := keyFactCount(f)
	return joinEvidence(f, evidenceKeys(f)[:n])
}

func restSummary(f *risk.Finding, max int) string {
	keys := evidenceKeys(f)
	s := joinEvidence(f, keys[keyFactCount(f):])
	if s != "" && keyFactCount(f) > 0 {
		s = "; " + s
	}
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func keyFactCount(f *risk.Finding) int {
	r, _ := risk.RuleByID(f.Rule)
	n := 0
	for _, k := range r.KeyFacts {
		if _, ok := f.Evidence[k]; ok {
			n++
		}
	}
	return n
}

func joinEvidence(f *risk.Finding, keys []string) string {
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(evidenceValue(f.Evidence[k]))
	}
	return b.String()
}
