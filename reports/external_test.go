package reports

import (
	"os"
	"os/exec"
	"testing"
)

// requireExternal skips a test whose outside dependency (a tool, a schema
// checkout) is missing, unless REACHAUDIT_REQUIRE_EXTERNAL=1, when the
// missing dependency fails it: CI must not pass by skipping.
func requireExternal(t testing.TB, what string, present bool) {
	t.Helper()
	if present {
		return
	}
	if os.Getenv("REACHAUDIT_REQUIRE_EXTERNAL") == "1" {
		t.Fatalf("%s is required (REACHAUDIT_REQUIRE_EXTERNAL=1) but missing", what)
	}
	t.Skipf("%s missing; skipping", what)
}

// requireTool returns the path of a command, or skips/fails as above.
func requireTool(t testing.TB, names ...string) string {
	t.Helper()
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	requireExternal(t, names[0], false)
	return ""
}
