package outputs

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/reachaudit/reachaudit/providers/sandbox/sandboxtest"
)

// rsyslogd is Debian's rsyslogd in the foreground on a generated config
// (which writes every message it takes to outFile), listening on port
// until the test ends. It can be killed and started again on the same
// files.
type rsyslogd struct {
	t       *testing.T
	bin     string
	dir     string
	port    int
	conf    string
	outFile string
	cmd     *exec.Cmd
	done    chan struct{}
	stderr  *strings.Builder
}

// runRsyslog writes the config conf makes (from the work directory and
// the output file) and starts rsyslogd on it.
func runRsyslog(t *testing.T, port int, conf func(work, outFile string) string) *rsyslogd {
	t.Helper()
	bin := sandboxtest.RequireTool(t, "rsyslogd")
	dir := t.TempDir()
	rs := &rsyslogd{t: t, bin: bin, dir: dir, port: port, outFile: filepath.Join(dir, "received.log")}
	work := filepath.Join(dir, "work")
	os.MkdirAll(work, 0o700)
	rs.conf = conf(work, rs.outFile)
	t.Cleanup(rs.stop)
	rs.start()
	return rs
}

func (rs *rsyslogd) start() {
	t := rs.t
	t.Helper()
	confPath := filepath.Join(rs.dir, "rsyslog.conf")
	os.WriteFile(confPath, []byte(rs.conf), 0o600)
	rs.stderr = &strings.Builder{}
	rs.cmd = exec.Command(rs.bin, "-n", "-f", confPath, "-i", filepath.Join(rs.dir, "rsyslogd.pid"))
	rs.cmd.Stdout, rs.cmd.Stderr = rs.stderr, rs.stderr
	if err := rs.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rs.done = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) { c.Wait(); close(done) }(rs.cmd, rs.done)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", rs.port), 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsyslogd did not listen on %d: %v\n%s\n%s", rs.port, err, rs.stderr.String(), rs.conf)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// kill ends rsyslogd with SIGKILL: no flush, no goodbye.
func (rs *rsyslogd) kill() {
	rs.cmd.Process.Signal(syscall.SIGKILL)
	<-rs.done
}

func (rs *rsyslogd) stop() {
	select {
	case <-rs.done:
		return
	default:
	}
	rs.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-rs.done:
	case <-time.After(5 * time.Second):
		rs.cmd.Process.Kill()
		<-rs.done
	}
	if rs.t.Failed() {
		rs.t.Logf("rsyslogd output:\n%s\nconfig:\n%s", rs.stderr.String(), rs.conf)
	}
}

// rsyslogRELP is rsyslogd with imrelp on port, writing every message it
// takes to outFile before it acknowledges it (a Direct queue: no
// in-memory queue between the acknowledgement and the file).
type rsyslogRELP struct{ *rsyslogd }

func newRsyslogRELP(t *testing.T, port int, pki *testPKI) *rsyslogRELP {
	t.Helper()
	sandboxtest.RequireTool(t, "rsyslogd")
	if _, err := os.Stat("/usr/lib/x86_64-linux-gnu/rsyslog/imrelp.so"); err != nil {
		if _, err2 := os.Stat("/usr/lib/rsyslog/imrelp.so"); err2 != nil {
			sandboxtest.RequireTool(t, "rsyslog imrelp (Debian package rsyslog-relp)")
		}
	}
	return &rsyslogRELP{runRsyslog(t, port, func(work, outFile string) string {
		var conf strings.Builder
		fmt.Fprintf(&conf, "global(workDirectory=%q maxMessageSize=\"64k\")\nmodule(load=\"imrelp\")\n", work)
		fmt.Fprintf(&conf, `template(name="raw" type="string" string="%%rawmsg%%\n")
ruleset(name="capture" queue.type="Direct") { action(type="omfile" file=%q template="raw" flushOnTXEnd="on") }
`, outFile)
		tlsArgs := ""
		if pki != nil {
			tlsArgs = fmt.Sprintf(` tls="on" tls.cacert=%q tls.mycert=%q tls.myprivkey=%q tls.authMode="certvalid"`, pki.ca, pki.serverCert, pki.serverKey)
		}
		fmt.Fprintf(&conf, "input(type=\"imrelp\" address=\"127.0.0.1\" port=\"%d\" ruleset=\"capture\"%s)\n", port, tlsArgs)
		return conf.String()
	})}
}

var idField = regexp.MustCompile(`"id":"([^"]+)"`)

// received counts, per finding id, the messages in the receiver's file.
func (rs *rsyslogRELP) received() (map[string]int, int) {
	data, _ := os.ReadFile(rs.outFile)
	seen := map[string]int{}
	lines := 0
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if line == "" {
			continue
		}
		lines++
		if m := idField.FindStringSubmatch(line); m != nil {
			seen[m[1]]++
		}
	}
	return seen, lines
}

func TestRELPAgainstRsyslog(t *testing.T) {
	pki := newTestPKI(t, t.TempDir())
	for _, tc := range []struct {
		name string
		tls  bool
	}{{"relp", false}, {"relp+tls", true}} {
		t.Run(tc.name, func(t *testing.T) {
			port := freePort(t)
			out := Output{Type: TypeSyslog, Format: "json", Address: fmt.Sprintf("relp://127.0.0.1:%d", port), BatchSize: 50, Timeout: 10 * time.Second}
			var p *testPKI
			if tc.tls {
				p = &pki
				out.Address = fmt.Sprintf("relp+tls://127.0.0.1:%d", port)
				out.CAFile, out.CertFile, out.KeyFile, out.ServerName = pki.ca, pki.clientCert, pki.clientKey, "siem.test"
			}
			rs := newRsyslogRELP(t, port, p)
			s := open(t, out)
			r := testResult("run-relp", 120)
			d := s.Deliver(context.Background(), r)[0]
			if d.Delivered != 120 || d.Spooled != 0 || d.Error != "" {
				t.Fatalf("delivery %+v", d)
			}
			// Acknowledged means written: the file holds every one now.
			seen, lines := rs.received()
			for _, id := range ids(r) {
				if seen[id] != 1 {
					t.Errorf("finding %s received %d times", id, seen[id])
				}
			}
			if lines != 120 {
				t.Errorf("%d lines, want 120", lines)
			}
		})
	}
}

// rsyslogd is killed with SIGKILL in the middle of a large delivery; what
// it had not acknowledged is spooled and sent when it is back: every
// finding arrives, none is lost.
func TestRELPReceiverKilledMidBatchLosesNothing(t *testing.T) {
	port := freePort(t)
	rs := newRsyslogRELP(t, port, nil)
	out := Output{Type: TypeSyslog, Format: "json", Address: fmt.Sprintf("relp://127.0.0.1:%d", port), BatchSize: 100,
		Timeout: 5 * time.Second, Spool: SpoolConfig{Dir: t.TempDir()}}
	s := open(t, out)
	r := testResult("run-kill", 3000)
	killed := make(chan int, 1)
	go func() {
		for {
			if _, n := rs.received(); n >= 700 {
				rs.kill()
				killed <- n
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	d1 := s.Deliver(context.Background(), r)[0]
	atKill := <-killed
	if d1.Delivered+d1.Spooled != 3000 || d1.Dropped != 0 || d1.Spooled == 0 {
		t.Fatalf("delivery while rsyslogd was killed: %+v (it had %d lines when killed)", d1, atKill)
	}
	rs.start()
	d2 := s.FlushDeliveries(context.Background())[0]
	if d2.Spooled != 0 || d2.Delivered != d1.Spooled || d2.Dropped != 0 {
		t.Fatalf("flush after the restart: %+v; want the %d spooled delivered", d2, d1.Spooled)
	}
	seen, lines := rs.received()
	lost, dup := 0, 0
	for _, id := range ids(r) {
		switch n := seen[id]; {
		case n == 0:
			lost++
		case n > 1:
			dup += n - 1
		}
	}
	t.Logf("relp: sent 3000; rsyslogd killed at %d lines; run 1 acknowledged %d, spooled %d; after restart %d delivered; received %d lines, lost %d, duplicated %d",
		atKill, d1.Delivered, d1.Spooled, d2.Delivered, lines, lost, dup)
	if lost != 0 {
		t.Errorf("%d findings lost", lost)
	}
}
