package reports

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
)

// TestJSONStreamsTheSameBytes checks the streamed document against
// encoding/json's own rendering of the whole Result.
func TestJSONStreamsTheSameBytes(t *testing.T) {
	empty := testResult()
	empty.Buckets, empty.Findings = []providers.Bucket{}, []risk.Finding{}
	nils := testResult()
	nils.Buckets, nils.Findings = nil, nil
	cases := []struct {
		name string
		r    *agent.Result
	}{
		{"fixture", testResult()},
		{"empty arrays", empty},
		{"nil arrays", nils},
		{"larger", bigResult(300)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetIndent("", "  ")
			enc.SetEscapeHTML(false)
			if err := enc.Encode(tc.r); err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			if err := Encode(&got, "json", tc.r, fixtureOpts); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want.String(), got.String()); diff != "" {
				t.Errorf("streamed json differs (-encoding/json +streamed):\n%s", diff)
			}
			var back agent.Result
			if err := json.Unmarshal(got.Bytes(), &back); err != nil {
				t.Fatalf("streamed json does not parse: %v", err)
			}
		})
	}
}
