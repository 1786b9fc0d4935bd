package reports

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachaudit/reachaudit/agent"
)

// demoResult is the demo estate's run as the CLI's golden file holds it
// (volatile fields normalised there), so every format has a golden file
// from the demo estate too.
const demoResult = "../cmd/reachaudit/testdata/demo.golden.json"

func loadDemo(t *testing.T) (*agent.Result, []byte) {
	t.Helper()
	data, err := os.ReadFile(demoResult)
	if err != nil {
		t.Fatal(err)
	}
	var r agent.Result
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("%s: %v", demoResult, err)
	}
	if len(r.Findings) == 0 {
		t.Fatalf("%s holds no findings", demoResult)
	}
	return &r, data
}

func TestEncodeDemoGolden(t *testing.T) {
	r, data := loadDemo(t)
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Encode(&buf, format, r, fixtureOpts); err != nil {
				t.Fatal(err)
			}
			if format == "json" {
				// The json format is the run document itself: byte for byte.
				if diff := cmp.Diff(strings.Split(string(data), "\n"), strings.Split(buf.String(), "\n")); diff != "" {
					t.Errorf("json does not reproduce %s (-file +encoded):\n%s", demoResult, diff)
				}
				return
			}
			path := filepath.Join("testdata", "demo.golden."+format)
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(buf.String(), "\n")); diff != "" {
				t.Errorf("%s differs from %s (-want +got):\n%s", format, path, diff)
			}
		})
	}
}
