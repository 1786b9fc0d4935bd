package sandboxtest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Moto is a moto_server of the test's own, the AWS emulator no one here
// wrote, on a free loopback port until the test ends.
type Moto struct {
	// URL is the endpoint of every service moto serves.
	URL string
	// Env is the environment for moto's clients (boto3, the aws CLI): the
	// test's settings only, never the user's profile or keys. The config
	// and credentials files are an empty file of the test's own, not
	// /dev/null, which a broken machine may have replaced.
	Env []string
	tb  testing.TB
}

// StartMoto runs moto_server (and needs python3 for its clients); it
// skips or fails tb as Require does when either is missing.
func StartMoto(tb testing.TB) *Moto {
	tb.Helper()
	bin := RequireTool(tb, "moto_server")
	RequireTool(tb, "python3")
	empty := filepath.Join(tb.TempDir(), "aws-empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		tb.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") && !strings.HasPrefix(kv, "HOME=") {
			env = append(env, kv)
		}
	}
	env = append(env, "HOME="+tb.TempDir(), "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing",
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE="+empty, "AWS_SHARED_CREDENTIALS_FILE="+empty,
		"AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	m := &Moto{URL: fmt.Sprintf("http://127.0.0.1:%d", port), Env: env, tb: tb}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(m.URL + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return m
		}
		if time.Now().After(deadline) {
			tb.Fatalf("moto_server did not answer on %s: %v", m.URL, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// AWS runs the aws CLI against moto with JSON output and returns what it
// printed; a failure fails the test. It needs the aws CLI as Require does.
func (m *Moto) AWS(args ...string) string {
	m.tb.Helper()
	cli := RequireTool(m.tb, "aws")
	cmd := exec.Command(cli, append([]string{"--endpoint-url", m.URL, "--output", "json"}, args...)...)
	cmd.Env = m.Env
	out, err := cmd.CombinedOutput()
	if err != nil {
		m.tb.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
