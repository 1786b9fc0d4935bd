package outputs

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
)

var rules = []struct {
	rule, risk string
	sev        risk.Severity
	title      string
}{
	{"EXP-001", risk.RiskExpose, risk.Critical, "Concern-controlled provider can decrypt the data"},
	{"BLK-001", risk.RiskBlock, risk.Critical, "Concern-controlled provider and no independent copy"},
	{"EXP-002", risk.RiskExpose, risk.High, "Data sits in a concern country | Hong Kong"},
	{"HYG-001", risk.RiskHygiene, risk.Low, "Versioning off and no object lock"},
	{"UNK-001", risk.RiskUnknown, risk.Medium, "Custody could not be read: a=b \\ c"},
}

var providersOf = []struct{ provider, account, region, scheme string }{
	{"alibaba", "1234567890123456", "cn-hangzhou", "oss"},
	{"aws", "111122223333", "ap-east-1", "s3"},
	{"gcp", "acme-prod", "asia-east2", "gs"},
}

// testResult builds a run of n findings over three providers; runID makes
// the finding IDs of two runs distinct.
func testResult(runID string, n int) *agent.Result {
	end := time.Date(2026, 11, 30, 2, 0, 42, 0, time.UTC)
	r := &agent.Result{Schema: agent.Schema, RunID: runID, StartedAt: end.Add(-time.Minute), FinishedAt: end,
		Policy: risk.Policy{Profile: "us-adversary", Home: []string{"US"}, Concern: []string{"CN", "HK"}}}
	for i := 0; i < n; i++ {
		p := providersOf[i%len(providersOf)]
		rl := rules[i%len(rules)]
		bucket := fmt.Sprintf("bucket-%05d", i)
		b := providers.NewBucket(p.provider, p.account, bucket, p.scheme+"://"+bucket)
		b.Region, b.Countries, b.Controller, b.Operator = p.region, []string{"CN"}, "CN", "CN"
		b.Custody = providers.CustodyProviderKMS
		b.Reachability.Reachable = true
		r.Buckets = append(r.Buckets, b)
		status, reason := risk.StatusOpen, ""
		if i%7 == 6 {
			status, reason = risk.StatusSuppressed, "kept by contract"
		}
		r.Findings = append(r.Findings, risk.Finding{
			ID: fmt.Sprintf("%s:%s:%s:%s:%s", rl.rule, p.provider, p.account, bucket, runID), Rule: rl.rule, Risk: rl.risk,
			Severity: rl.sev, Status: status, SuppressedReason: reason,
			Provider: p.provider, Account: p.account, Bucket: bucket, Region: p.region, Title: rl.title,
			Evidence:      map[string]any{"controller": "CN", "note": "line1\nline2 k=v"},
			Jurisdictions: []string{"CN"}, LegalBasis: []string{"CN National Intelligence Law 2017 art. 7"},
			Remediation: "Hold the key outside the provider.",
		})
	}
	return r
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// freePort returns a loopback port that was free a moment ago. It is
// taken below the kernel's ephemeral range (32768 and up), so that no
// ":0" listener or outgoing connection of a concurrent test lands on it
// while an outage test relies on nothing listening there.
func freePort(t testing.TB) int {
	t.Helper()
	for range 200 {
		port := 20000 + rand.IntN(12000)
		l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
		l.Close()
		return port
	}
	t.Fatal("no free loopback port below the ephemeral range")
	return 0
}

// receiver is a syslog receiver over TCP with octet-counted framing.
type receiver struct {
	t     testing.TB
	l     net.Listener
	mu    sync.Mutex
	msgs  []string
	conns []net.Conn
	wg    sync.WaitGroup
}

func listenReceiver(t testing.TB, port int) *receiver {
	t.Helper()
	var l net.Listener
	var err error
	for range 50 { // the port may linger briefly after the last close
		if l, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	rv := &receiver{t: t, l: l}
	rv.wg.Add(1)
	go func() {
		defer rv.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			rv.mu.Lock()
			rv.conns = append(rv.conns, c)
			rv.mu.Unlock()
			rv.wg.Add(1)
			go func() {
				defer rv.wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					m, err := readOctetCounted(br)
					if err != nil {
						if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
							t.Errorf("receiver: %v", err)
						}
						return
					}
					rv.mu.Lock()
					rv.msgs = append(rv.msgs, m)
					rv.mu.Unlock()
				}
			}()
		}
	}()
	return rv
}

func (rv *receiver) messages() []string {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return append([]string(nil), rv.msgs...)
}

// waitFor waits until the receiver holds n messages.
func (rv *receiver) waitFor(n int) []string {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := rv.messages(); len(m) >= n {
			return m
		}
		time.Sleep(10 * time.Millisecond)
	}
	return rv.messages()
}

// stop takes the receiver down as a crash would: listener and connections.
func (rv *receiver) stop() {
	rv.l.Close()
	rv.mu.Lock()
	for _, c := range rv.conns {
		c.Close()
	}
	rv.mu.Unlock()
	rv.wg.Wait()
}

// readOctetCounted reads one "LEN SP MSG" frame.
func readOctetCounted(br *bufio.Reader) (string, error) {
	lenStr, err := br.ReadString(' ')
	if err != nil {
		if lenStr == "" {
			return "", io.EOF
		}
		return "", err
	}
	n, err := strconv.Atoi(lenStr[:len(lenStr)-1])
	if err != nil || n <= 0 {
		return "", fmt.Errorf("bad frame length %q", lenStr)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(br, buf); err != nil {
		return "", err
	}
	return string(buf), nil
}

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }
