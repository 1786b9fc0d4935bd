package reports

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/reachaudit/reachaudit/reports/internal/cefparse"
)

// A finding kept open from an earlier run, because this run could not read
// what decides it, says so in every format a person or a SIEM reads; the
// finding beside it does not.
func TestUnverifiedIsCarriedEverywhere(t *testing.T) {
	r := testResult()
	r.Findings[0].Unverified = true
	id := r.Findings[0].ID
	encode := func(format string) string {
		var buf bytes.Buffer
		if err := Encode(&buf, format, r, fixtureOpts); err != nil {
			t.Fatal(err)
		}
		return buf.String()
	}
	if out := encode("table"); strings.Count(out, UnverifiedNote) != 1 {
		t.Errorf("table shows the unverified note %d times, want 1", strings.Count(out, UnverifiedNote))
	}
	if out := encode("html"); strings.Count(out, `<span class="unverified"`) != 1 {
		t.Errorf("html marks %d findings unverified, want 1", strings.Count(out, `<span class="unverified"`))
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(encode("ocsf")), "\n") {
		var ev struct {
			StatusDetail string `json:"status_detail"`
			FindingInfo  struct {
				UID string `json:"uid"`
			} `json:"finding_info"`
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatal(err)
		}
		if marked := strings.Contains(ev.StatusDetail, UnverifiedNote); marked != (ev.FindingInfo.UID == id) {
			t.Errorf("ocsf %s: status_detail %q", ev.FindingInfo.UID, ev.StatusDetail)
		} else if marked {
			seen++
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(encode("cef")), "\n") {
		ev, err := cefparse.Parse(line)
		if err != nil {
			t.Fatal(err)
		}
		marked := ev.Ext["cn1Label"] == "unverified" && ev.Ext["cn1"] == "1"
		if marked != (ev.Ext["externalId"] == id) {
			t.Errorf("cef %s: cn1=%q cn1Label=%q", ev.Ext["externalId"], ev.Ext["cn1"], ev.Ext["cn1Label"])
		} else if marked {
			seen++
		}
	}
	if seen != 2 {
		t.Errorf("the unverified finding was marked in %d of ocsf and cef", seen)
	}
}
