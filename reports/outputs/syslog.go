package outputs

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"time"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
)

// facilities are the RFC 5424 facility codes by their usual names.
var facilities = map[string]int{
	"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7,
	"uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11, "ntp": 12, "security": 13, "console": 14,
	"local0": 16, "local1": 17, "local2": 18, "local3": 19, "local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

// syslogSeverity maps our severities onto RFC 5424 severities.
var syslogSeverity = map[risk.Severity]int{
	risk.Critical: 2, risk.High: 3, risk.Medium: 4, risk.Low: 5, risk.Info: 6,
}

const defaultFacility = "local0"

// syslogPorts are the default ports of the syslog transports; RELP has no
// registered port, so its address must name one.
var syslogPorts = map[string]string{"udp": "514", "tcp": "514", "tls": "6514", "relp": "", "relp+tls": ""}

// parseSyslogAddress reads udp://, tcp://, tls://, relp:// or
// relp+tls://host[:port].
func parseSyslogAddress(addr string) (network, hostport string, err error) {
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" {
		return "", "", fmt.Errorf("%q: want udp://host:port, tcp://host:port, tls://host:port, relp://host:port or relp+tls://host:port", addr)
	}
	port, ok := syslogPorts[u.Scheme]
	if !ok {
		return "", "", fmt.Errorf("%q: scheme must be udp, tcp, tls, relp or relp+tls", addr)
	}
	if u.Port() != "" {
		port = u.Port()
	}
	if port == "" {
		return "", "", fmt.Errorf("%q: RELP has no standard port; give one (rsyslog's imrelp examples use 2514 or 20514)", addr)
	}
	return u.Scheme, net.JoinHostPort(u.Hostname(), port), nil
}

// isRELP reports whether network is a RELP transport.
func isRELP(network string) bool { return network == "relp" || network == "relp+tls" }

// Header holds the RFC 5424 header fields a message is built from.
type Header struct {
	Facility, Severity int
	Time               time.Time
	Hostname, AppName  string
	ProcID, MsgID      string
}

// AppendMessage appends an RFC 5424 message: header, no structured data,
// and msg as the MSG part. Header fields are made valid (printable ASCII
// without spaces, within the RFC's lengths; empty becomes "-").
func AppendMessage(dst []byte, h Header, msg []byte) []byte {
	dst = append(dst, '<')
	dst = strconv.AppendInt(dst, int64(h.Facility*8+h.Severity), 10)
	dst = append(dst, ">1 "...)
	if h.Time.IsZero() {
		dst = append(dst, '-')
	} else {
		dst = h.Time.UTC().AppendFormat(dst, "2006-01-02T15:04:05.000000Z07:00")
	}
	dst = append(dst, ' ')
	dst = appendHeaderField(dst, h.Hostname, 255)
	dst = append(dst, ' ')
	dst = appendHeaderField(dst, h.AppName, 48)
	dst = append(dst, ' ')
	dst = appendHeaderField(dst, h.ProcID, 128)
	dst = append(dst, ' ')
	dst = appendHeaderField(dst, h.MsgID, 32)
	dst = append(dst, " - "...)
	return append(dst, msg...)
}

// appendHeaderField keeps PRINTUSASCII (33-126) and replaces anything else
// with '_', cut to max bytes.
func appendHeaderField(dst []byte, s string, max int) []byte {
	if s == "" {
		return append(dst, '-')
	}
	if len(s) > max {
		s = s[:max]
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 33 || c > 126 {
			c = '_'
		}
		dst = append(dst, c)
	}
	return dst
}

// AppendOctetCounted frames msg for a stream transport (RFC 6587 octet
// counting, also RFC 5425's framing over TLS): "LEN SP MSG".
func AppendOctetCounted(dst, msg []byte) []byte {
	dst = strconv.AppendInt(dst, int64(len(msg)), 10)
	dst = append(dst, ' ')
	return append(dst, msg...)
}

type syslogSink struct {
	network, addr string
	tls           *tls.Config
	facility      int
	hostname      string
	procID        string
	timeout       time.Duration
	conn          net.Conn
	relp          *relpClient // the session over conn, for relp and relp+tls
	settle        time.Duration
	buf           []byte
}

func newSyslogSink(o *Output) (*syslogSink, error) {
	network, addr, err := parseSyslogAddress(o.Address)
	if err != nil {
		return nil, err
	}
	fac := o.Facility
	if fac == "" {
		fac = defaultFacility
	}
	host, _ := os.Hostname()
	s := &syslogSink{network: network, addr: addr, facility: facilities[fac], hostname: host,
		procID: strconv.Itoa(os.Getpid()), timeout: o.timeout(), settle: defaultSettle}
	if network == "tls" || network == "relp+tls" {
		h, _, _ := net.SplitHostPort(addr)
		if s.tls, err = tlsConfig(o, h); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (s *syslogSink) frame(dst []byte, f *risk.Finding, body []byte, r *agent.Result) []byte {
	return AppendMessage(dst, Header{Facility: s.facility, Severity: syslogSeverity[f.Severity],
		Time: r.FinishedAt, Hostname: s.hostname, AppName: "reachaudit", ProcID: s.procID, MsgID: f.Rule}, body)
}

func (s *syslogSink) dial(ctx context.Context) (net.Conn, error) {
	d := &net.Dialer{Timeout: s.timeout}
	switch s.network {
	case "tls", "relp+tls":
		td := &tls.Dialer{NetDialer: d, Config: s.tls}
		return td.DialContext(ctx, "tcp", s.addr)
	case "relp":
		return d.DialContext(ctx, "tcp", s.addr)
	default:
		return d.DialContext(ctx, s.network, s.addr)
	}
}

// alive tells whether a kept stream connection still stands: a syslog
// receiver never writes, so a read that does not time out means the peer
// closed it (writing into such a socket would lose messages silently).
func (s *syslogSink) alive() bool {
	if s.network == "udp" {
		return true
	}
	s.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	var one [1]byte
	_, err := s.conn.Read(one[:])
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (s *syslogSink) send(ctx context.Context, batch [][]byte) (int, error) {
	if isRELP(s.network) {
		return s.sendRELP(ctx, batch)
	}
	if s.conn != nil && !s.alive() {
		s.conn.Close()
		s.conn = nil
	}
	if s.conn == nil {
		c, err := s.dial(ctx)
		if err != nil {
			return 0, fmt.Errorf("syslog %s: %w", s.addr, err)
		}
		s.conn = c
	}
	if dl, ok := ctx.Deadline(); ok {
		s.conn.SetWriteDeadline(dl)
	}
	if s.network == "udp" {
		for i, m := range batch {
			if _, err := s.conn.Write(m); err != nil {
				s.conn.Close()
				s.conn = nil
				return i, fmt.Errorf("syslog %s: %w", s.addr, err)
			}
		}
		return len(batch), nil
	}
	// One write per batch keeps syscalls low; on failure the whole batch
	// counts as undelivered (it is spooled and sent again: at least once).
	s.buf = s.buf[:0]
	for _, m := range batch {
		s.buf = AppendOctetCounted(s.buf, m)
	}
	_, err := s.conn.Write(s.buf)
	if err == nil {
		// A write only fills our socket buffer: the batch counts once the
		// receiver's TCP has acknowledged every byte and the connection
		// still stands a moment later (a receiver that resets part-way has
		// thrown away what it had not read).
		err = s.confirm(ctx)
	}
	if err != nil {
		s.conn.Close()
		s.conn = nil
		return 0, fmt.Errorf("syslog %s: %w", s.addr, err)
	}
	return len(batch), nil
}

// defaultSettle is how long after the last byte is acknowledged the
// connection must stay up for the batch to count: long enough for a
// receiver that reads part of a batch and resets to be seen doing so, short
// enough that a backlog of a thousand batches costs seconds, not minutes.
const defaultSettle = 25 * time.Millisecond

// confirm waits until the peer has acknowledged every byte written (on
// Linux, where the kernel tells) and then checks that the connection
// still stands after s.settle.
func (s *syslogSink) confirm(ctx context.Context) error {
	tcp := tcpConnOf(s.conn)
	if tcp != nil && canCountUnacked {
		poll := time.Millisecond
		for {
			n, err := unacked(tcp)
			if err != nil {
				return err
			}
			if n == 0 {
				break
			}
			// A reset leaves the unacknowledged bytes counted for ever.
			if !s.alive() {
				return fmt.Errorf("the receiver reset the connection with %d bytes of the batch unacknowledged; sending it again", n)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%d bytes of the batch not acknowledged by the receiver: %w", n, ctx.Err())
			case <-time.After(poll):
			}
			poll = min(poll*2, 50*time.Millisecond)
		}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(s.settle):
	}
	if !s.alive() {
		return errors.New("the receiver closed or reset the connection during the batch; sending it again")
	}
	return nil
}

// tcpConnOf is the TCP connection under c (plain or TLS), or nil.
func tcpConnOf(c net.Conn) *net.TCPConn {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	tcp, _ := c.(*net.TCPConn)
	return tcp
}

// sendRELP delivers batch over a RELP session (opened on first use and
// after a failure): what the receiver acknowledged counts, the rest is
// sent again.
func (s *syslogSink) sendRELP(ctx context.Context, batch [][]byte) (int, error) {
	if s.relp == nil {
		c, err := s.dial(ctx)
		if err != nil {
			return 0, fmt.Errorf("relp %s: %w", s.addr, err)
		}
		if s.relp, err = openRELP(ctx, c); err != nil {
			c.Close()
			return 0, fmt.Errorf("relp %s: %w", s.addr, err)
		}
		s.conn = c
	}
	n, err := s.relp.send(ctx, batch)
	if err != nil {
		s.conn.Close()
		s.conn, s.relp = nil, nil
		return n, fmt.Errorf("relp %s: %d of %d messages acknowledged: %w", s.addr, n, len(batch), err)
	}
	return n, nil
}

func (s *syslogSink) close() error {
	if s.relp != nil {
		err := s.relp.close()
		s.conn, s.relp = nil, nil
		return err
	}
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}
