package outputs

import (
	"context"
	"encoding/json"
	"net"
	"testing"
	"time"
)

func TestSyslogUDPCarriesJSON(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s := open(t, Output{Type: TypeSyslog, Address: "udp://" + pc.LocalAddr().String(), Format: "json", Facility: "local3"})
	r := testResult("run-udp", 20)
	if d := s.Deliver(context.Background(), r)[0]; d.Delivered != 20 || d.Error != "" {
		t.Fatalf("delivery %+v", d)
	}
	buf := make([]byte, 65536)
	for i := range 20 {
		pc.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
		p, err := parse5424(string(buf[:n]))
		if err != nil {
			t.Fatalf("datagram %d: %v", i, err)
		}
		var line map[string]any
		if err := json.Unmarshal([]byte(p.Msg), &line); err != nil {
			t.Fatalf("datagram %d carries no JSON: %v", i, err)
		}
		f := r.Findings[i]
		if line["id"] != f.ID || line["uri"] != "oss://"+f.Bucket && line["uri"] != "s3://"+f.Bucket && line["uri"] != "gs://"+f.Bucket {
			t.Errorf("datagram %d: %v, want finding %s", i, line, f.ID)
		}
		if want := 19*8 + syslogSeverity[f.Severity]; p.Pri != want {
			t.Errorf("datagram %d: PRI %d, want %d (local3)", i, p.Pri, want)
		}
	}
}
