package risk

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCatalogueMatchesDesign pins the catalogue to DESIGN's rule table:
// id, risk and default severity, in order.
func TestCatalogueMatchesDesign(t *testing.T) {
	type row struct {
		ID       string
		Risk     string
		Severity Severity
	}
	want := []row{
		{"EXP-001", RiskExpose, Critical},
		{"EXP-002", RiskExpose, High},
		{"EXP-003", RiskExpose, High},
		{"EXP-004", RiskExpose, Medium},
		{"EXP-005", RiskExpose, High},
		{"EXP-006", RiskExpose, Critical},
		{"EXP-007", RiskExpose, Critical}, // the highest it takes; each finding takes its rule's
		{"EXP-008", RiskExpose, High},
		{"BLK-001", RiskBlock, Critical},
		{"BLK-002", RiskBlock, Medium},
		{"BLK-003", RiskBlock, Critical},
		{"BLK-004", RiskBlock, High},
		{"BLK-005", RiskBlock, Critical},
		{"RES-001", RiskResidency, High},
		{"HYG-001", RiskHygiene, Low},
		{"HYG-002", RiskHygiene, Low},
		{"UNK-001", RiskUnknown, Medium},
		{"UNK-002", RiskUnknown, High},
	}
	var got []row
	for _, r := range Rules() {
		got = append(got, row{r.ID, r.Risk, r.Severity})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("catalogue (-want +got):\n%s", diff)
	}
}

func TestCatalogueEntriesAreComplete(t *testing.T) {
	laws := []string{LawCNIntelligence, LawCNDataSecurity, LawCLOUDAct, LawForeignAdv, LawCountriesOfCon}
	placeholders := []string{"{bucket}", "{provider}", "{key}", "{copy}", "{countries}", "{allowed}", "{permission}", "{api}", "{field}"}
	for _, r := range Rules() {
		if r.Title == "" || r.Description == "" || r.Remediation == "" || r.LegalBasis == nil {
			t.Errorf("%s is incomplete: %+v", r.ID, r)
		}
		for _, l := range r.LegalBasis {
			if !slices.Contains(laws, l) {
				t.Errorf("%s cites unknown law %q", r.ID, l)
			}
		}
		rest := r.Remediation
		for _, p := range placeholders {
			rest = strings.ReplaceAll(rest, p, "")
		}
		if strings.ContainsAny(rest, "{}") {
			t.Errorf("%s remediation has an unknown placeholder: %q", r.ID, r.Remediation)
		}
		if got, ok := RuleByID(r.ID); !ok || got.Title != r.Title {
			t.Errorf("RuleByID(%s) = %v, %v", r.ID, got, ok)
		}
	}
	if _, ok := RuleByID("EXP-999"); ok {
		t.Error("RuleByID found a rule that does not exist")
	}
	// Callers may not change the catalogue through what Rules returns.
	Rules()[0].LegalBasis[0] = "changed"
	if Rules()[0].LegalBasis[0] == "changed" {
		t.Error("Rules shares its slices with the catalogue")
	}
}

func TestEveryRuleNamesItsInputs(t *testing.T) {
	for _, r := range Rules() {
		if _, ok := inputs[r.ID]; !ok {
			t.Errorf("%s has no entry in inputs: drift cannot tell unverified from resolved", r.ID)
		}
	}
}
