package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/reachaudit/reachaudit/agent"
)

// execArgsEnv holds, separated by \x1f, the arguments TestMain runs the CLI
// with in a process of its own.
const execArgsEnv = "REACHAUDIT_TEST_EXEC_ARGS"

// runProcess runs the CLI as a child process, with shell limits applied
// first (e.g. "ulimit -f 64"), and returns its exit code and stderr.
func runProcess(t *testing.T, limits string, args ...string) (int, string) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", "-c", limits+` && exec "$0"`, self)
	cmd.Env = append(os.Environ(), execArgsEnv+"="+strings.Join(args, "\x1f"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), stderr.String()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0, stderr.String()
}

// countingCloud is an AWS endpoint that counts the requests a scan makes.
func countingCloud(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Error(w, "<Error><Code>AccessDenied</Code></Error>", http.StatusForbidden)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestOutputsThatCannotOpenFailBeforeTheScan(t *testing.T) {
	dir := t.TempDir()
	cloud, calls := countingCloud(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret-for-the-counting-cloud")
	notADir := filepath.Join(dir, "plain-file")
	os.WriteFile(notADir, []byte("x"), 0o600)
	cases := []struct{ name, output, want string }{
		{"missing token_env", `{type: splunk-hec, url: "https://h:8088", token_env: REACHAUDIT_TEST_UNSET_TOKEN}`, "REACHAUDIT_TEST_UNSET_TOKEN is not set"},
		{"spool directory that cannot be made", fmt.Sprintf(`{type: syslog, address: "tcp://127.0.0.1:1", spool: {dir: %q}}`, filepath.Join(notADir, "spool")), "not a directory"},
		{"file output in a missing directory", fmt.Sprintf(`{type: file, path: %q}`, filepath.Join(dir, "missing", "out.jsonl")), "cannot write in"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := filepath.Join(dir, "scan.yaml")
			os.WriteFile(cfg, []byte(fmt.Sprintf("providers:\n  aws:\n    accounts: [\"111122223333\"]\n    regions: [us-east-1]\n    endpoint: %q\noutputs:\n  - %s\n", cloud.URL, tc.output)), 0o600)
			out := filepath.Join(dir, "report.json")
			code, stderr := run(t, "scan", "--allow-partial", "--config", cfg, "--format", "json", "--out", out)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 naming %q", code, stderr, tc.want)
			}
			if n := calls.Load(); n != 0 {
				t.Errorf("the scan ran (%d cloud calls) before the outputs were checked", n)
			}
		})
	}
}

// A spool that cannot be written (the file-size limit of the process makes
// its segment refuse writes, as a full disk would) loses the findings it
// was given: the command says how many and exits 1, and the report with
// summary.delivery is written all the same.
func TestSpoolWriteFailureStillWritesTheReport(t *testing.T) {
	dir := t.TempDir()
	files, err := sandboxDemoFiles()
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "estate.yaml"), files, 0o644)
	// A syslog receiver that is down: every finding goes to the spool.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	down := ln.Addr().String()
	ln.Close()
	spoolDir := filepath.Join(dir, "spool")
	cfg := filepath.Join(dir, "scan.yaml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`sandbox: {estate: estate.yaml}
outputs:
  - {type: syslog, address: "tcp://%s", format: ocsf, timeout: 1s, spool: {dir: %q}}
`, down, spoolDir)), 0o644)
	out := filepath.Join(dir, "report.json")
	scan := []string{"scan", "--allow-partial", "--config", cfg, "--format", "json", "--out", out}

	// Unlimited runs fill the spool past what the limit will allow.
	code, stderr := runProcess(t, "true", scan...)
	if code != 0 {
		t.Fatalf("unlimited run exited %d: %s", code, stderr)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	// POSIX sh counts ulimit -f in blocks of 512 bytes.
	limit := fi.Size()*3/2/512 + 1
	for range 10 {
		if segBytes(t, spoolDir) > 2*limit*512 {
			break
		}
		if code, stderr := runProcess(t, "true", scan...); code != 0 {
			t.Fatalf("unlimited run exited %d: %s", code, stderr)
		}
	}
	os.Remove(out)

	code, stderr = runProcess(t, fmt.Sprintf("ulimit -f %d", limit), scan...)
	if code != exitFailure {
		t.Fatalf("exit %d, want 1; stderr:\n%s", code, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatalf("no report written: %v\nstderr:\n%s", err, stderr)
	}
	var r agent.Result
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Summary.Delivery) != 1 {
		t.Fatalf("summary.delivery %+v", r.Summary.Delivery)
	}
	d := r.Summary.Delivery[0]
	if d.Dropped != len(r.Findings) || d.Delivered != 0 || d.Error == "" {
		t.Errorf("delivery %+v; want all %d findings dropped, with the error", d, len(r.Findings))
	}
	if want := fmt.Sprintf("%d finding(s) could neither be delivered nor kept", len(r.Findings)); !strings.Contains(stderr, want) {
		t.Errorf("stderr does not say %q:\n%s", want, stderr)
	}
}

func segBytes(t *testing.T, dir string) int64 {
	var n int64
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".seg") {
			if fi, err := e.Info(); err == nil {
				n += fi.Size()
			}
		}
	}
	return n
}
