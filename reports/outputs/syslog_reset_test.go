package outputs

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reachaudit/reachaudit/agent"
)

// resetter is a syslog receiver that reads the first `read` messages of
// its first connection and then resets it (SO_LINGER 0: what it had not
// read is thrown away); later connections it reads in full.
type resetter struct {
	l     net.Listener
	read  int
	mu    sync.Mutex
	got   []string
	conns int
}

func (rs *resetter) serve(t *testing.T) {
	for {
		c, err := rs.l.Accept()
		if err != nil {
			return
		}
		rs.mu.Lock()
		rs.conns++
		first := rs.conns == 1
		rs.mu.Unlock()
		go func() {
			defer c.Close()
			br := bufio.NewReader(c)
			for n := 0; ; n++ {
				if first && n == rs.read {
					tcpConnOf(c).SetLinger(0)
					return
				}
				m, err := readOctetCounted(br)
				if err != nil {
					return
				}
				rs.mu.Lock()
				rs.got = append(rs.got, m)
				rs.mu.Unlock()
			}
		}()
	}
}

func TestSyslogBatchResetPartWayIsSentAgain(t *testing.T) {
	for _, network := range []string{"tcp", "tls"} {
		t.Run(network, func(t *testing.T) {
			var l net.Listener
			var out Output
			if network == "tls" {
				pki := newTestPKI(t, t.TempDir())
				cert, err := tls.LoadX509KeyPair(pki.serverCert, pki.serverKey)
				if err != nil {
					t.Fatal(err)
				}
				tl, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				l = &tcpUnderTLS{Listener: tls.NewListener(tl, &tls.Config{Certificates: []tls.Certificate{cert}})}
				out = Output{Type: TypeSyslog, Address: "tls://" + l.Addr().String(), CAFile: pki.ca, ServerName: "siem.test"}
			} else {
				l, _ = net.Listen("tcp", "127.0.0.1:0")
				out = Output{Type: TypeSyslog, Address: "tcp://" + l.Addr().String()}
			}
			defer l.Close()
			rs := &resetter{l: l, read: 6}
			go rs.serve(t)
			out.Timeout = 5 * time.Second
			s := open(t, out)
			// A loaded test machine may take a while to run the receiver's
			// reset; the default settle assumes a receiver that is not starved.
			s.outs[0].sink.(*syslogSink).settle = 250 * time.Millisecond
			r1 := testResult("run-1", 73)
			d1 := s.Deliver(context.Background(), r1)[0]
			if d1.Delivered != 0 || d1.Spooled != 73 || d1.Dropped != 0 {
				t.Fatalf("run 1 against a receiver that reset after 6: %+v; want the whole batch spooled", d1)
			}
			r2 := testResult("run-2", 10)
			d2 := s.Deliver(context.Background(), r2)[0]
			if d2.Delivered != 83 || d2.Spooled != 0 {
				t.Fatalf("run 2: %+v; want 73 resent and 10 new", d2)
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				rs.mu.Lock()
				n := len(rs.got)
				rs.mu.Unlock()
				if n >= 89 || time.Now().After(deadline) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			rs.mu.Lock()
			defer rs.mu.Unlock()
			seen := map[string]int{}
			for _, m := range rs.got {
				for _, r := range [][]string{ids(r1), ids(r2)} {
					for _, id := range r {
						if strings.Contains(m, id) {
							seen[id]++
						}
					}
				}
			}
			lost, dup := 0, 0
			for _, id := range append(ids(r1), ids(r2)...) {
				switch {
				case seen[id] == 0:
					lost++
				case seen[id] > 1:
					dup += seen[id] - 1
				}
			}
			t.Logf("%s: sent 83 findings, received %d messages, lost %d, duplicated %d", network, len(rs.got), lost, dup)
			if lost != 0 {
				t.Errorf("%d findings never arrived", lost)
			}
		})
	}
}

// tcpUnderTLS is a TLS listener; tcpConnOf reaches the TCP connection.
type tcpUnderTLS struct{ net.Listener }

func ids(r *agent.Result) []string {
	out := make([]string, len(r.Findings))
	for i, f := range r.Findings {
		out[i] = f.ID
	}
	return out
}
