package outputs

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/reports/internal/cefparse"
)

// testPKI writes a CA, a server certificate for "siem.test" and 127.0.0.1,
// and a client certificate, all PEM, into dir.
type testPKI struct{ ca, serverCert, serverKey, clientCert, clientKey string }

func newTestPKI(t *testing.T, dir string) testPKI {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "reachaudit test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	issue := func(name string, serial int64, usage x509.ExtKeyUsage, dns []string, ips []net.IP) (string, string) {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}, DNSNames: dns, IPAddresses: ips}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, _ := x509.MarshalPKCS8PrivateKey(key)
		certPath, keyPath := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
		writePEM(t, certPath, "CERTIFICATE", der)
		writePEM(t, keyPath, "PRIVATE KEY", keyDER)
		return certPath, keyPath
	}
	p := testPKI{ca: filepath.Join(dir, "ca.pem")}
	writePEM(t, p.ca, "CERTIFICATE", caDER)
	p.serverCert, p.serverKey = issue("siem.test", 2, x509.ExtKeyUsageServerAuth, []string{"siem.test"}, []net.IP{net.IPv4(127, 0, 0, 1)})
	p.clientCert, p.clientKey = issue("reachaudit-agent", 3, x509.ExtKeyUsageClientAuth, []string{"reachaudit-agent"}, nil)
	return p
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startRsyslog runs Debian's rsyslogd in the foreground with a generated
// config: one imtcp input on port (TLS when pki is given, requiring a
// client certificate from the CA), writing each raw message to a file.
func startRsyslog(t *testing.T, port int, pki *testPKI) (outFile string) {
	t.Helper()
	return runRsyslog(t, port, func(work, outFile string) string {
		var conf strings.Builder
		fmt.Fprintf(&conf, "global(workDirectory=%q maxMessageSize=\"64k\" parser.escapeControlCharactersOnReceive=\"off\"", work)
		if pki != nil {
			fmt.Fprintf(&conf, " defaultNetstreamDriver=\"gtls\" defaultNetstreamDriverCAFile=%q defaultNetstreamDriverCertFile=%q defaultNetstreamDriverKeyFile=%q",
				pki.ca, pki.serverCert, pki.serverKey)
		}
		conf.WriteString(")\n")
		if pki != nil {
			conf.WriteString("module(load=\"imtcp\" streamDriver.name=\"gtls\" streamDriver.mode=\"1\" streamDriver.authMode=\"x509/certvalid\")\n")
		} else {
			conf.WriteString("module(load=\"imtcp\")\n")
		}
		fmt.Fprintf(&conf, `template(name="raw" type="string" string="%%rawmsg%%\n")
ruleset(name="capture") { action(type="omfile" file=%q template="raw") }
input(type="imtcp" address="127.0.0.1" port="%d" ruleset="capture")
`, outFile, port)
		return conf.String()
	}).outFile
}

// readReceived waits until file holds n lines and returns them.
func readReceived(t *testing.T, file string, n int) []string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	var lines []string
	for time.Now().Before(deadline) {
		lines = lines[:0]
		if f, err := os.Open(file); err == nil {
			sc := bufio.NewScanner(f)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				lines = append(lines, sc.Text())
			}
			f.Close()
		}
		if len(lines) >= n {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// A moment more, to catch duplicates arriving late.
	time.Sleep(200 * time.Millisecond)
	return lines
}

func TestRsyslogReceivesEveryFindingOnce(t *testing.T) {
	pkiDir := t.TempDir()
	pki := newTestPKI(t, pkiDir)
	cases := []struct {
		name string
		tls  bool
	}{{"tcp octet-counted", false}, {"tls with client certificate", true}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			port := freePort(t)
			out := Output{Type: TypeSyslog, Address: fmt.Sprintf("tcp://127.0.0.1:%d", port), BatchSize: 16, Timeout: 5 * time.Second}
			var p *testPKI
			if tc.tls {
				p = &pki
				out.Address = fmt.Sprintf("tls://127.0.0.1:%d", port)
				out.CAFile, out.CertFile, out.KeyFile, out.ServerName = pki.ca, pki.clientCert, pki.clientKey, "siem.test"
			}
			file := startRsyslog(t, port, p)
			s := open(t, out)
			r := testResult("run-rsyslog", 60)
			d := s.Deliver(context.Background(), r)[0]
			if d.Delivered != 60 || d.Spooled != 0 || d.Error != "" {
				t.Fatalf("delivery %+v", d)
			}
			lines := readReceived(t, file, 60)
			checkSyslogCEF(t, lines, r)
			// And each CEF reads back to its finding's fields.
			for i, line := range lines {
				p, _ := parse5424(line)
				ev, _ := cefparse.Parse(p.Msg)
				f := r.Findings[i]
				sev, _ := risk.ParseSeverity(f.Severity.String())
				if ev.ClassID != f.Rule || ev.Name != f.Title || ev.Label("bucket") != f.Bucket || ev.Label("provider") != f.Provider ||
					ev.Label("account") != f.Account || ev.Label("region") != f.Region || ev.Label("status") != f.Status ||
					ev.Ext["cat"] != f.Risk || ev.Ext["reason"] != f.SuppressedReason || sev != f.Severity {
					t.Errorf("line %d reads back as %+v, finding %+v", i, ev, f)
				}
			}
		})
	}
	t.Run("outage: rsyslog down during a run, then back", func(t *testing.T) {
		port := freePort(t)
		spoolDir := t.TempDir()
		out := Output{Type: TypeSyslog, Address: fmt.Sprintf("tls://127.0.0.1:%d", port), BatchSize: 8, Timeout: 3 * time.Second,
			CAFile: pki.ca, CertFile: pki.clientCert, KeyFile: pki.clientKey, ServerName: "siem.test", Spool: SpoolConfig{Dir: spoolDir}}
		first := open(t, out)
		r1 := testResult("run-down", 30)
		if d := first.Deliver(context.Background(), r1)[0]; d.Spooled != 30 || d.Delivered != 0 {
			t.Fatalf("while rsyslog is down: %+v", d)
		}
		first.Close() // and the agent restarts meanwhile
		file := startRsyslog(t, port, &pki)
		second := open(t, out)
		r2 := testResult("run-up", 10)
		if d := second.Deliver(context.Background(), r2)[0]; d.Delivered != 40 || d.Spooled != 0 {
			t.Fatalf("after rsyslog came back: %+v", d)
		}
		checkSyslogCEF(t, readReceived(t, file, 40), r1, r2)
	})
	t.Run("tls refuses a server it cannot verify", func(t *testing.T) {
		port := freePort(t)
		startRsyslog(t, port, &pki)
		// No ca_file: the system roots do not know the test CA.
		s := open(t, Output{Type: TypeSyslog, Address: fmt.Sprintf("tls://127.0.0.1:%d", port), Timeout: 3 * time.Second,
			CertFile: pki.clientCert, KeyFile: pki.clientKey})
		d := s.Deliver(context.Background(), testResult("run-x", 3))[0]
		if d.Delivered != 0 || d.Spooled != 3 || !strings.Contains(d.Error, "certificate") {
			t.Fatalf("delivery to an unverified server: %+v", d)
		}
	})
}
