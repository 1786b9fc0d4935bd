package sandboxtest

import (
	"bytes"
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Chromium runs Debian's headless Chromium with flags that keep it off
// the network and out of the user's profile, and returns what it printed
// and its log (where the page's console messages go). A missing Chromium
// skips or fails tb as Require does.
func Chromium(tb testing.TB, args ...string) (stdout, log string) {
	tb.Helper()
	bin := RequireTool(tb, "chromium", "chromium-browser")
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=" + tb.TempDir(),
		"--enable-logging=stderr", "--v=0"}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		tb.Fatalf("chromium %v: %v\n%s", args, err, errb.String())
	}
	return out.String(), errb.String()
}

// ConsoleLines picks the page's console messages out of Chromium's log.
func ConsoleLines(log string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, ":CONSOLE") {
			out = append(out, l)
		}
	}
	return out
}

var pdfPage = regexp.MustCompile(`/Type\s*/Page[^s]`)

// PDFPages counts the pages of a PDF Chromium printed.
func PDFPages(pdf []byte) int { return len(pdfPage.FindAll(pdf, -1)) }
