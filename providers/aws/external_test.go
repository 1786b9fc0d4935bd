package aws

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// requireTool returns the path of an external program the test needs. It
// skips the test when the program is missing, unless
// REACHAUDIT_REQUIRE_EXTERNAL=1 demands that every such test runs.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("REACHAUDIT_REQUIRE_EXTERNAL") == "1" {
		t.Fatalf("%s is required (REACHAUDIT_REQUIRE_EXTERNAL=1) but not found: %v", name, err)
	}
	t.Skipf("%s not found: %v", name, err)
	return ""
}

func jsonUnmarshal(out []byte, v any) error {
	// The seed prints one JSON line last; anything before it is noise.
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return json.Unmarshal([]byte(lines[len(lines)-1]), v)
}
