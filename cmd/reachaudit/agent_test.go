package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer collects a process's stderr while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(d); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func get(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func countLines(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); {
		n++
	}
	return n
}

// The agent as users run it: the built binary against a sandbox estate,
// with a schedule every second. Health and metrics answer, findings reach a
// file output, SIGHUP reloads a good config and refuses a bad one, and
// SIGTERM exits 0 with every run recorded.
func TestAgentProcess(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	files, err := sandboxDemoFiles()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "estate.yaml"), files, 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	out := filepath.Join(dir, "findings.jsonl")
	cfgPath := filepath.Join(dir, "agent.yaml")
	writeCfg := func(schedule string) {
		cfg := fmt.Sprintf(`sandbox: {estate: estate.yaml}
schedules:
  - {name: %s, cron: "@every 1s", timeout: 30s}
listen: %s
history: {path: %s, keep_runs: 100}
emit: all
outputs:
  - {type: file, path: %s, format: jsonl}
`, schedule, addr, filepath.Join(dir, "state", "history.db"), out)
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeCfg("first")
	if err := os.MkdirAll(filepath.Join(dir, "state"), 0o755); err != nil {
		t.Fatal(err)
	}
	var stderr lockedBuffer
	cmd := exec.Command(bin, "agent", "--config", cfgPath)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("agent stderr:\n%s", stderr.String())
		}
	})

	base := "http://" + addr
	waitFor(t, "/healthz", 30*time.Second, func() bool { c, _ := get(base + "/healthz"); return c == 200 })
	waitFor(t, "a run's findings in the file output", 60*time.Second, func() bool { return countLines(out) > 0 })
	waitFor(t, "/readyz", 10*time.Second, func() bool { c, _ := get(base + "/readyz"); return c == 200 })
	// The file output gets the findings before the run is recorded and
	// counted: wait for the metrics to show it.
	var metrics string
	waitFor(t, "/metrics of the first run", 10*time.Second, func() bool {
		var code int
		code, metrics = get(base + "/metrics")
		return code == 200 && strings.Contains(metrics, "reachaudit_buckets{")
	})
	for _, want := range []string{`reachaudit_runs_total{result="ok"}`, `reachaudit_buckets{country="CN",provider="alibaba"}`,
		`reachaudit_api_calls_total{op="GetBucketEncryption",provider="aws"}`, "reachaudit_last_success_timestamp_seconds"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// A bad config on SIGHUP is refused; the agent keeps running.
	if err := os.WriteFile(cfgPath, []byte("schedules: [{name: x, cron: \"every tuesday\"}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "the bad reload to be refused", 10*time.Second, func() bool {
		return strings.Contains(stderr.String(), "reload") && strings.Contains(stderr.String(), "every tuesday")
	})
	if c, _ := get(base + "/healthz"); c != 200 {
		t.Fatal("the agent stopped after a bad reload")
	}

	// A good config on SIGHUP takes effect: runs come from the new schedule.
	writeCfg("second")
	_ = cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, "a run of the reloaded schedule", 30*time.Second, func() bool { return strings.Contains(stderr.String(), "schedule=second") })

	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("agent exited with %v after SIGTERM", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("agent did not exit within 60s of SIGTERM")
	}
	list := exec.Command(bin, "history", "list", "--db", filepath.Join(dir, "state", "history.db"), "--limit", "0")
	listing, err := list.CombinedOutput()
	if err != nil {
		t.Fatalf("history list: %v\n%s", err, listing)
	}
	if !strings.Contains(string(listing), "first") || !strings.Contains(string(listing), "second") {
		t.Errorf("history lacks runs of both schedules:\n%s", listing)
	}
}

// sandboxDemoFiles joins the demo estate's files into one estate file.
func sandboxDemoFiles() ([]byte, error) {
	var b bytes.Buffer
	root := newRootCmd()
	root.SetArgs([]string{"sandbox", "estate"})
	root.SetOut(&b)
	if err := root.Execute(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
