package outputs

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/internal/yamlfile"
	"github.com/reachaudit/reachaudit/reports"
	"github.com/reachaudit/reachaudit/reports/internal/cefparse"
)

var encOpts = reports.Options{Version: "1.0.0-test"}

func TestValidate(t *testing.T) {
	t.Setenv("HEC_TOKEN", "x")
	cases := []struct{ name, yaml, want string }{
		{"valid set", `
- {type: file, path: out.jsonl, format: jsonl}
- {type: stdout}
- {type: syslog, address: "tls://siem.example.com:6514", format: cef}
- {type: splunk-hec, url: "https://splunk.example.com:8088", token_env: HEC_TOKEN, ack: true}
- {type: webhook, url: "https://hooks.example.com/x", secret_file: /run/secret, format: ocsf}
`, ""},
		{"unknown type", `[{type: kafka}]`, `x.yaml:2: outputs[0].type: "kafka" is not one of`},
		{"bad syslog address", "- {type: file, path: a}\n- {type: syslog, address: \"http://x\"}", `x.yaml:3: outputs[1].address:`},
		{"syslog without address", `[{type: syslog}]`, `[0].address: is required`},
		{"bad facility", `[{type: syslog, address: "udp://h", facility: local9}]`, `[0].facility`},
		{"format not for syslog", `[{type: syslog, address: "udp://h", format: html}]`, `[0].format: "html" is not one of cef, json, ocsf`},
		{"hec without token", `[{type: splunk-hec, url: "https://h:8088"}]`, `[0].token_env: give token_env or token_file`},
		{"hec with both", `[{type: splunk-hec, url: "https://h:8088", token_env: A, token_file: B}]`, `not both`},
		{"token in the config is refused", `[{type: splunk-hec, url: "https://h:8088", token: abc}]`, `token: unknown key (want one of`},
		{"url with credentials", `[{type: webhook, url: "https://u:p@h/x", secret_env: S}]`, `[0].url: must not carry credentials`},
		{"webhook without secret", `[{type: webhook, url: "https://h/x"}]`, `[0].secret_env`},
		{"cert without key", `[{type: syslog, address: "tls://h", cert_file: c.pem}]`, `[0].cert_file: cert_file and key_file go together`},
		{"ack outside hec", `[{type: webhook, url: "https://h/x", secret_env: S, ack: true}]`, `[0].ack`},
		{"file without path", `[{type: file}]`, `[0].path: is required`},
		{"negative batch", `[{type: syslog, address: "tcp://h:1", batch_size: -1}]`, `[0].batch_size`},
		{"timeout and spool decode", `[{type: syslog, address: "tcp://h:1", timeout: 45s, spool: {dir: /tmp/x, max_bytes: 1048576}}]`, ""},
		{"bad timeout", `[{type: syslog, address: "tcp://h:1", timeout: soon}]`, `x.yaml:2`},
		{"relp", `[{type: syslog, address: "relp://siem.example.com:2514"}, {type: syslog, address: "relp+tls://siem.example.com:2514", spool: {dir: /tmp/b}}]`, ""},
		{"relp without a port", `[{type: syslog, address: "relp://siem.example.com"}]`, `RELP has no standard port`},
		{"hec token over http is refused", `[{type: splunk-hec, url: "http://h:8088", token_env: A}]`, `[0].url: http:// would send the HEC token in clear text`},
		{"hec over http named", `[{type: splunk-hec, url: "http://h:8088", token_env: A, insecure_http: true}]`, ""},
		{"insecure_http outside hec", `[{type: webhook, url: "https://h/x", secret_env: S, insecure_http: true}]`, `[0].insecure_http`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Decoded as the config loader does: the outputs section of a file.
			data := []byte("outputs:\n" + indent(tc.yaml))
			secs, err := yamlfile.Sections("x.yaml", data)
			if err != nil {
				t.Fatal(err)
			}
			var outs Outputs
			err = yamlfile.DecodeNode("x.yaml", data, secs[0].Node, "outputs", &outs)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func indent(s string) string {
	lines := strings.Split(strings.TrimPrefix(s, "\n"), "\n")
	for i := range lines {
		lines[i] = "  " + lines[i]
	}
	return strings.Join(lines, "\n")
}

func open(t *testing.T, outs ...Output) *Set {
	t.Helper()
	s, err := Open(outs, Options{SpoolDir: t.TempDir(), Encode: encOpts, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// checkSyslogCEF asserts that msgs are exactly r's findings, in order, each
// a valid RFC 5424 message whose CEF reads back to the finding.
func checkSyslogCEF(t *testing.T, msgs []string, findings ...*agent.Result) {
	t.Helper()
	var want []string
	for _, r := range findings {
		for _, f := range r.Findings {
			want = append(want, f.ID)
		}
	}
	var got []string
	for i, m := range msgs {
		p, err := parse5424(m)
		if err != nil {
			t.Fatalf("message %d is not RFC 5424: %v\n%s", i, err, m)
		}
		ev, err := cefparse.Parse(p.Msg)
		if err != nil {
			t.Fatalf("message %d: CEF: %v\n%s", i, err, p.Msg)
		}
		if p.MsgID != ev.ClassID || p.AppName != "reachaudit" {
			t.Errorf("message %d: MSGID %q APP-NAME %q for rule %q", i, p.MsgID, p.AppName, ev.ClassID)
		}
		got = append(got, ev.Ext["externalId"])
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("finding IDs received (-want +got):\n%s", diff)
	}
}

func TestSyslogTCPDeliversEveryFindingInOrder(t *testing.T) {
	port := freePort(t)
	rv := listenReceiver(t, port)
	defer rv.stop()
	s := open(t, Output{Type: TypeSyslog, Address: fmt.Sprintf("tcp://127.0.0.1:%d", port), BatchSize: 7})
	r := testResult("run-1", 50)
	d := s.Deliver(context.Background(), r)
	if want := (agent.Delivery{Output: "syslog tcp://127.0.0.1:" + fmt.Sprint(port), Delivered: 50}); d[0] != want {
		t.Errorf("delivery %+v, want %+v", d[0], want)
	}
	msgs := rv.waitFor(50)
	checkSyslogCEF(t, msgs, r)
	// Severity travels in PRI: local0 (16) and critical → 2.
	if p, _ := parse5424(msgs[0]); p.Pri != 16*8+2 {
		t.Errorf("PRI %d, want %d", p.Pri, 16*8+2)
	}
}

func TestSyslogOutageThenRecoveryExactlyOnceInOrder(t *testing.T) {
	port := freePort(t)
	dir := t.TempDir()
	out := Output{Type: TypeSyslog, Address: fmt.Sprintf("tcp://127.0.0.1:%d", port), BatchSize: 10,
		Timeout: 2 * time.Second, Spool: SpoolConfig{Dir: dir}}
	s := open(t, out)
	ctx := context.Background()

	// The receiver is down for the whole first run.
	r1 := testResult("run-1", 35)
	d := s.Deliver(ctx, r1)
	if d[0].Delivered != 0 || d[0].Spooled != 35 || d[0].Dropped != 0 || d[0].Error == "" {
		t.Fatalf("while down: %+v, want 35 spooled with an error", d[0])
	}
	// It comes back; the next run delivers the backlog first, then its own.
	rv := listenReceiver(t, port)
	defer rv.stop()
	r2 := testResult("run-2", 12)
	d = s.Deliver(ctx, r2)
	if d[0].Delivered != 47 || d[0].Spooled != 0 || d[0].Error != "" {
		t.Fatalf("after recovery: %+v, want 47 delivered", d[0])
	}
	checkSyslogCEF(t, rv.waitFor(47), r1, r2)

	// The receiver goes away after a connection was made: the kept
	// connection is noticed dead, nothing is written into the void.
	rv.stop()
	time.Sleep(50 * time.Millisecond)
	r3 := testResult("run-3", 5)
	d = s.Deliver(ctx, r3)
	if d[0].Spooled != 5 || d[0].Delivered != 0 {
		t.Fatalf("after the receiver left: %+v, want 5 spooled", d[0])
	}
	rv2 := listenReceiver(t, port)
	defer rv2.stop()
	d = s.FlushDeliveries(ctx)
	if d[0].Delivered != 5 || d[0].Spooled != 0 {
		t.Fatalf("flush: %+v", d[0])
	}
	checkSyslogCEF(t, rv2.waitFor(5), r3)
}

func TestSyslogSpoolSurvivesARestart(t *testing.T) {
	port := freePort(t)
	spoolRoot := t.TempDir()
	out := Output{Type: TypeSyslog, Address: fmt.Sprintf("tcp://127.0.0.1:%d", port), BatchSize: 4, Timeout: time.Second}
	ctx := context.Background()

	first, err := Open([]Output{out}, Options{SpoolDir: spoolRoot, Encode: encOpts, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	r1 := testResult("run-1", 21)
	if d := first.Deliver(ctx, r1); d[0].Spooled != 21 {
		t.Fatalf("while down: %+v", d[0])
	}
	first.Close() // the process ends

	rv := listenReceiver(t, port)
	defer rv.stop()
	second, err := Open([]Output{out}, Options{SpoolDir: spoolRoot, Encode: encOpts, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if second.Backlog() != 21 {
		t.Fatalf("restarted set sees a backlog of %d, want 21", second.Backlog())
	}
	r2 := testResult("run-2", 3)
	if d := second.Deliver(ctx, r2); d[0].Delivered != 24 || d[0].Spooled != 0 {
		t.Fatalf("after restart: %+v", d[0])
	}
	checkSyslogCEF(t, rv.waitFor(24), r1, r2)
}

func TestSpoolFullIsCountedAndReported(t *testing.T) {
	port := freePort(t)
	var logs bytes.Buffer
	s, err := Open([]Output{{Type: TypeSyslog, Address: fmt.Sprintf("tcp://127.0.0.1:%d", port),
		Timeout: time.Second, Spool: SpoolConfig{Dir: t.TempDir(), MaxBytes: 8 << 10}}},
		Options{Encode: encOpts, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := testResult("run-1", 200)
	d := s.Deliver(context.Background(), r)[0]
	if d.Dropped == 0 || d.Spooled+d.Dropped != 200 {
		t.Fatalf("delivery %+v: want drops, and spooled+dropped = 200", d)
	}
	if !strings.Contains(logs.String(), "spool full") {
		t.Errorf("the loss was not logged:\n%s", logs.String())
	}
}

// hecServer is a Splunk HEC stand-in that checks what Splunk checks.
type hecServer struct {
	t        *testing.T
	token    string
	failures int // answer 503 to this many event posts first
	ack      bool
	mu       sync.Mutex
	batches  [][]map[string]any
	acked    map[int64]int // ack polls seen per id
	nextAck  int64
	channels map[string]bool
}

func (h *hecServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if got := r.Header.Get("Authorization"); got != "Splunk "+h.token {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"text":"Invalid authorization","code":3}`)
		return
	}
	ch := r.Header.Get("X-Splunk-Request-Channel")
	if h.ack && ch == "" {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"text":"Data channel is missing","code":10}`)
		return
	}
	switch r.URL.Path {
	case "/services/collector/event":
		if h.failures > 0 {
			h.failures--
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"text":"Server is busy","code":9}`)
			return
		}
		if r.Header.Get("Content-Encoding") != "gzip" {
			h.t.Errorf("event post without gzip")
		}
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			h.t.Errorf("gzip: %v", err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		dec := json.NewDecoder(zr)
		var batch []map[string]any
		for dec.More() {
			var ev map[string]any
			if err := dec.Decode(&ev); err != nil {
				h.t.Errorf("envelope: %v", err)
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `{"text":"Invalid data format","code":6}`)
				return
			}
			batch = append(batch, ev)
		}
		h.batches = append(h.batches, batch)
		if h.ack {
			h.channels[ch] = true
			h.nextAck++
			fmt.Fprintf(w, `{"text":"Success","code":0,"ackId":%d}`, h.nextAck)
			return
		}
		fmt.Fprint(w, `{"text":"Success","code":0}`)
	case "/services/collector/ack":
		if r.URL.Query().Get("channel") != ch || !h.channels[ch] {
			h.t.Errorf("ack poll on an unknown channel %q", ch)
		}
		var q struct {
			Acks []int64 `json:"acks"`
		}
		json.NewDecoder(r.Body).Decode(&q)
		out := map[string]bool{}
		for _, id := range q.Acks {
			h.acked[id]++
			out[fmt.Sprint(id)] = h.acked[id] >= 2 // indexed on the second poll
		}
		json.NewEncoder(w).Encode(map[string]any{"acks": out})
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func TestSplunkHEC(t *testing.T) {
	const token = "11111111-2222-3333-4444-555555555555"
	t.Setenv("TEST_HEC_TOKEN", token)
	for _, ack := range []bool{false, true} {
		t.Run(fmt.Sprintf("ack=%v", ack), func(t *testing.T) {
			h := &hecServer{t: t, token: token, failures: 1, ack: ack, acked: map[int64]int{}, channels: map[string]bool{}}
			srv := httptest.NewServer(h)
			defer srv.Close()
			var logs bytes.Buffer
			s, err := Open([]Output{{Type: TypeSplunkHEC, URL: srv.URL, InsecureHTTP: true, TokenEnv: "TEST_HEC_TOKEN", BatchSize: 4, Ack: ack,
				Index: "security", Sourcetype: "reachaudit:finding", Timeout: 10 * time.Second}},
				Options{SpoolDir: t.TempDir(), Encode: encOpts, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			s.outs[0].sink.(*hecSink).ackPoll = 10 * time.Millisecond
			r := testResult("run-1", 10)
			d := s.Deliver(context.Background(), r)[0]
			if d.Delivered != 10 || d.Spooled != 0 || d.Error != "" {
				t.Fatalf("delivery %+v", d)
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			var sizes []int
			var ids []string
			for _, b := range h.batches {
				sizes = append(sizes, len(b))
				for _, ev := range b {
					if ev["index"] != "security" || ev["sourcetype"] != "reachaudit:finding" || ev["source"] != "reachaudit" {
						t.Errorf("envelope %v", ev)
					}
					if tm, ok := ev["time"].(float64); !ok || int64(tm) != r.FinishedAt.Unix() {
						t.Errorf("envelope time %v", ev["time"])
					}
					ids = append(ids, ev["event"].(map[string]any)["id"].(string))
				}
			}
			if diff := cmp.Diff([]int{4, 4, 2}, sizes); diff != "" {
				t.Errorf("batch sizes (-want +got):\n%s", diff)
			}
			var want []string
			for _, f := range r.Findings {
				want = append(want, f.ID)
			}
			if diff := cmp.Diff(want, ids); diff != "" {
				t.Errorf("event ids (-want +got):\n%s", diff)
			}
			if ack && len(h.acked) != 3 {
				t.Errorf("acks polled for %d batches, want 3", len(h.acked))
			}
			if strings.Contains(logs.String(), token) {
				t.Error("the HEC token reached the log")
			}
		})
	}
}

func TestSplunkHECRefusedTokenIsSpooledAndNotLeaked(t *testing.T) {
	const token = "wrong-token-value"
	t.Setenv("TEST_HEC_TOKEN", token)
	h := &hecServer{t: t, token: "right", acked: map[int64]int{}, channels: map[string]bool{}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	s := open(t, Output{Type: TypeSplunkHEC, URL: srv.URL, InsecureHTTP: true, TokenEnv: "TEST_HEC_TOKEN"})
	d := s.Deliver(context.Background(), testResult("run-1", 5))[0]
	if d.Delivered != 0 || d.Spooled != 5 || !strings.Contains(d.Error, "401") {
		t.Fatalf("delivery %+v", d)
	}
	if strings.Contains(d.Error, token) {
		t.Error("the token reached the delivery error")
	}
}

func TestWebhookSignedBatches(t *testing.T) {
	secret := "s3cret-webhook-key"
	secretFile := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secretFile, []byte(secret+"\n"), 0o600)
	for _, format := range []string{"json", "ocsf"} {
		t.Run(format, func(t *testing.T) {
			var mu sync.Mutex
			var ids []string
			var bad int
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				ts := r.Header.Get(HeaderTimestamp)
				// The receiver's own check, from the documented recipe.
				if r.Header.Get(HeaderSignature) != Sign([]byte(secret), ts, body) {
					mu.Lock()
					bad++
					mu.Unlock()
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				var items []map[string]any
				if format == "json" {
					if err := json.Unmarshal(body, &items); err != nil {
						t.Errorf("body is not a JSON array: %v", err)
					}
				} else {
					for _, line := range strings.Split(strings.TrimSpace(string(body)), "\n") {
						var ev map[string]any
						if err := json.Unmarshal([]byte(line), &ev); err != nil {
							t.Errorf("ocsf line: %v", err)
						}
						items = append(items, map[string]any{"id": ev["finding_info"].(map[string]any)["uid"]})
					}
				}
				mu.Lock()
				for _, it := range items {
					ids = append(ids, it["id"].(string))
				}
				mu.Unlock()
			}))
			defer srv.Close()
			s := open(t, Output{Type: TypeWebhook, URL: srv.URL, Format: format, SecretFile: secretFile, BatchSize: 3})
			r := testResult("run-1", 8)
			if d := s.Deliver(context.Background(), r)[0]; d.Delivered != 8 || d.Error != "" {
				t.Fatalf("delivery %+v", d)
			}
			var want []string
			for _, f := range r.Findings {
				want = append(want, f.ID)
			}
			if diff := cmp.Diff(want, ids); diff != "" || bad != 0 {
				t.Errorf("%d bad signatures; ids (-want +got):\n%s", bad, diff)
			}
		})
	}
}

func TestWebhookWrongSecretIsRefused(t *testing.T) {
	t.Setenv("TEST_WEBHOOK_SECRET", "not-the-secret")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get(HeaderSignature) != Sign([]byte("the-secret"), r.Header.Get(HeaderTimestamp), body) {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	s := open(t, Output{Type: TypeWebhook, URL: srv.URL, SecretEnv: "TEST_WEBHOOK_SECRET"})
	if d := s.Deliver(context.Background(), testResult("run-1", 2))[0]; d.Delivered != 0 || d.Spooled != 2 {
		t.Fatalf("a wrongly signed delivery was accepted: %+v", d)
	}
}

func TestFileIsWrittenAtomicallyAndStdout(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "findings.jsonl")
	os.WriteFile(path, []byte("old report\n"), 0o644)
	var stdout bytes.Buffer
	s, err := Open([]Output{{Type: TypeFile, Path: path, Format: "jsonl"}, {Type: TypeStdout, Format: "cef"}},
		Options{Stdout: &stdout, Encode: encOpts, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	r := testResult("run-1", 6)
	d := s.Deliver(context.Background(), r)
	if d[0].Delivered != 6 || d[1].Delivered != 6 {
		t.Fatalf("deliveries %+v", d)
	}
	data, _ := os.ReadFile(path)
	if n := strings.Count(string(data), "\n"); n != 6 || strings.Contains(string(data), "old report") {
		t.Errorf("file holds %d lines:\n%s", n, data)
	}
	if n := strings.Count(stdout.String(), "CEF:0|"); n != 6 {
		t.Errorf("stdout holds %d CEF lines", n)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	// A file output that cannot be written is refused when it is opened,
	// before any scan; one that becomes unwritable later says so and
	// counts the loss.
	if _, err := Open([]Output{{Type: TypeFile, Path: filepath.Join(dir, "missing", "x.json")}}, Options{Logger: quietLogger()}); err == nil {
		t.Error("a file output in a missing directory opened")
	}
	later := filepath.Join(t.TempDir(), "later")
	os.Mkdir(later, 0o700)
	s2 := open(t, Output{Type: TypeFile, Path: filepath.Join(later, "x.json")})
	os.Remove(later)
	if d := s2.Deliver(context.Background(), r)[0]; d.Error == "" || d.Dropped != 6 {
		t.Errorf("unwritable file: %+v", d)
	}
}

// FuzzSyslogMessage checks that any header values and message survive
// AppendMessage and octet-counted framing as a strict RFC 5424 reading
// sees them: header fields sanitised, the message byte for byte.
func FuzzSyslogMessage(f *testing.F) {
	f.Add("host.example", "reachaudit", "1234", "EXP-001", "CEF:0|a|b|1|EXP-001|t|10|msg=x\\=y")
	f.Add("", "", "", "", "")
	f.Add("h o s t", "app\n", "ü", "<34>1", "line1\nline2 1 <13>1 - - - -")
	f.Fuzz(func(t *testing.T, host, app, proc, msgid, msg string) {
		h := Header{Facility: 16, Severity: 2, Time: time.Date(2026, 11, 30, 2, 0, 42, 123000000, time.UTC),
			Hostname: host, AppName: app, ProcID: proc, MsgID: msgid}
		m := AppendMessage(nil, h, []byte(msg))
		framed := AppendOctetCounted(nil, m)
		framed = AppendOctetCounted(framed, []byte("<13>1 - - - - - next"))
		br := bufioReader(framed)
		got, err := readOctetCounted(br)
		if err != nil {
			t.Fatal(err)
		}
		if next, err := readOctetCounted(br); err != nil || next != "<13>1 - - - - - next" {
			t.Fatalf("the frame after was misread: %q %v", next, err)
		}
		p, err := parse5424(got)
		if err != nil {
			t.Fatalf("%q: %v", got, err)
		}
		want := func(s string, max int) string { return string(appendHeaderField(nil, s, max)) }
		if p.Hostname != want(host, 255) || p.AppName != want(app, 48) || p.ProcID != want(proc, 128) || p.MsgID != want(msgid, 32) {
			t.Errorf("header read back as %+v", p)
		}
		if p.Msg != msg || !p.Time.Equal(h.Time) || p.Pri != 130 {
			t.Errorf("message %q time %v pri %d; want %q", p.Msg, p.Time, p.Pri, msg)
		}
	})
}

func TestTwoOutputsCannotShareASpool(t *testing.T) {
	dir := t.TempDir()
	out := Output{Type: TypeSyslog, Address: "tcp://127.0.0.1:1", Spool: SpoolConfig{Dir: dir}}
	other := Output{Type: TypeSyslog, Address: "tcp://127.0.0.1:2", Spool: SpoolConfig{Dir: dir + "/"}}
	_, err := Open([]Output{out, other}, Options{Logger: quietLogger()})
	if err == nil || !strings.Contains(err.Error(), "would share the spool") {
		t.Fatalf("error %v", err)
	}
	// The same destination twice, with default spools, is caught too.
	_, err = Open([]Output{{Type: TypeSyslog, Address: "tcp://127.0.0.1:1"}, {Type: TypeSyslog, Address: "tcp://127.0.0.1:1"}},
		Options{SpoolDir: t.TempDir(), Logger: quietLogger()})
	if err == nil || !strings.Contains(err.Error(), "would share the spool") {
		t.Fatalf("error %v", err)
	}
}

func TestSplunkHECOutageThenRecovery(t *testing.T) {
	t.Setenv("TEST_HEC_TOKEN", "tok")
	h := &hecServer{t: t, token: "tok", failures: 1 << 30, acked: map[int64]int{}, channels: map[string]bool{}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	s := open(t, Output{Type: TypeSplunkHEC, URL: srv.URL, InsecureHTTP: true, TokenEnv: "TEST_HEC_TOKEN", BatchSize: 5, Timeout: 2 * time.Second})
	ctx := context.Background()
	r1 := testResult("run-1", 12)
	if d := s.Deliver(ctx, r1)[0]; d.Delivered != 0 || d.Spooled != 12 || !strings.Contains(d.Error, "503") {
		t.Fatalf("while HEC is busy: %+v", d)
	}
	h.mu.Lock()
	h.failures = 0
	h.mu.Unlock()
	r2 := testResult("run-2", 4)
	if d := s.Deliver(ctx, r2)[0]; d.Delivered != 16 || d.Spooled != 0 || d.Error != "" {
		t.Fatalf("after recovery: %+v", d)
	}
	var want, got []string
	for _, r := range []*agent.Result{r1, r2} {
		for _, f := range r.Findings {
			want = append(want, f.ID)
		}
	}
	h.mu.Lock()
	for _, b := range h.batches {
		for _, ev := range b {
			got = append(got, ev["event"].(map[string]any)["id"].(string))
		}
	}
	h.mu.Unlock()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events received (-want +got):\n%s", diff)
	}
}

func TestDecodeTimeoutAndSpool(t *testing.T) {
	data := []byte("outputs:\n  - {type: syslog, address: \"tcp://h:1\", timeout: 45s, spool: {dir: /var/spool/x, max_bytes: 1048576}}\n")
	secs, err := yamlfile.Sections("x.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	var outs Outputs
	if err := yamlfile.DecodeNode("x.yaml", data, secs[0].Node, "outputs", &outs); err != nil {
		t.Fatal(err)
	}
	want := Output{Type: TypeSyslog, Address: "tcp://h:1", Timeout: 45 * time.Second, Spool: SpoolConfig{Dir: "/var/spool/x", MaxBytes: 1 << 20}}
	if diff := cmp.Diff(want, outs[0]); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestHTTPSVerifiesTheServer(t *testing.T) {
	t.Setenv("TEST_WEBHOOK_SECRET", "k")
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	writePEM(t, caFile, "CERTIFICATE", srv.Certificate().Raw)
	cases := []struct {
		name      string
		out       Output
		delivered int
	}{
		{"trusted through ca_file", Output{CAFile: caFile}, 3},
		{"unknown authority is refused", Output{}, 0},
		{"insecure_skip_verify named", Output{InsecureSkipVerify: true}, 3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := tc.out
			out.Type, out.URL, out.SecretEnv, out.Timeout = TypeWebhook, srv.URL, "TEST_WEBHOOK_SECRET", 2*time.Second
			d := open(t, out).Deliver(context.Background(), testResult("run-1", 3))[0]
			if d.Delivered != tc.delivered {
				t.Errorf("delivery %+v, want %d delivered", d, tc.delivered)
			}
			if tc.delivered == 0 && !strings.Contains(d.Error, "certificate") {
				t.Errorf("error %q does not name the certificate", d.Error)
			}
		})
	}
}
