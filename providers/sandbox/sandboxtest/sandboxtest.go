// Package sandboxtest holds what the project's tests share: the rule for
// outside tools (moto, the aws CLI, rsyslog, Chromium, systemd-analyze),
// and a full scan of one provider. Only tests import it; it must never be
// linked into the command.
package sandboxtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reachaudit/reachaudit/providers"
)

// RequireExternalEnv names the variable that turns a missing outside tool
// from a skip into a failure; CI sets it to 1 so that it cannot pass by
// skipping.
const RequireExternalEnv = "REACHAUDIT_REQUIRE_EXTERNAL"

// Require skips tb when what (a tool, a schema checkout) is not present,
// or fails it under REACHAUDIT_REQUIRE_EXTERNAL=1.
func Require(tb testing.TB, what string, present bool) {
	tb.Helper()
	if present {
		return
	}
	if os.Getenv(RequireExternalEnv) == "1" {
		tb.Fatalf("%s is required (%s=1) but missing", what, RequireExternalEnv)
	}
	noteSkip(tb.Name(), what)
	tb.Skipf("%s missing; skipping", what)
}

// SkipLogEnv names a file that each skip for a missing tool is appended
// to, one "tool<TAB>test" line, so that make test can say at its end what
// it did not run and why. Unset: nothing is written.
const SkipLogEnv = "REACHAUDIT_SKIP_LOG"

func noteSkip(test, what string) {
	name := os.Getenv(SkipLogEnv)
	if name == "" {
		return
	}
	// One short write with O_APPEND: lines from test binaries running at
	// once do not interleave.
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = fmt.Fprintf(f, "%s\t%s\n", strings.NewReplacer("\t", " ", "\n", " ").Replace(what), test)
}

// RequireTool returns the path of the first of names found on PATH, or in
// /usr/sbin and /sbin (where Debian puts daemons, and a user's PATH may
// not reach); when none is, it skips or fails tb as Require does.
func RequireTool(tb testing.TB, names ...string) string {
	tb.Helper()
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		for _, dir := range []string{"/usr/sbin", "/sbin"} {
			p := filepath.Join(dir, name)
			if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
				return p
			}
		}
	}
	Require(tb, names[0], false)
	return ""
}

// ScanAll lists and describes every bucket of every account p scans, one
// at a time, and returns the records by bucket name.
func ScanAll(tb testing.TB, p providers.Provider) map[string]providers.Bucket {
	tb.Helper()
	ctx := context.Background()
	accounts, err := p.Accounts(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]providers.Bucket{}
	for _, a := range accounts {
		refs, err := p.List(ctx, a)
		if err != nil {
			tb.Fatalf("List(%s): %v", a, err)
		}
		for _, ref := range refs {
			out[ref.Name] = p.Describe(ctx, ref)
		}
	}
	return out
}
