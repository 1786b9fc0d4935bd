package main

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/reports/outputs"
)

// One scan feeds every kind of output the config names: a file, a syslog
// receiver over TCP, Splunk HEC and a signed webhook. Each receives every
// finding of the run once.
func TestScanDeliversToEveryOutput(t *testing.T) {
	dir := t.TempDir()
	const token, secret = "hec-token-for-test", "webhook-secret-for-test"
	t.Setenv("TEST_HEC_TOKEN", token)
	t.Setenv("TEST_WEBHOOK_SECRET", secret)

	var mu sync.Mutex
	got := map[string]int{}
	add := func(sink string, n int) {
		mu.Lock()
		got[sink] += n
		mu.Unlock()
	}

	hec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Splunk "+token {
			http.Error(w, `{"text":"Invalid token","code":4}`, http.StatusForbidden)
			return
		}
		body := io.Reader(r.Body)
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		dec := json.NewDecoder(body)
		n := 0
		for {
			var ev struct {
				Event map[string]any `json:"event"`
			}
			if err := dec.Decode(&ev); err == io.EOF {
				break
			} else if err != nil || ev.Event["rule"] == nil {
				http.Error(w, "bad envelope", http.StatusBadRequest)
				return
			}
			n++
		}
		add("hec", n)
		fmt.Fprint(w, `{"text":"Success","code":0}`)
	}))
	defer hec.Close()

	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts := r.Header.Get("X-Reachaudit-Timestamp")
		if r.Header.Get("X-Reachaudit-Signature") != outputs.Sign([]byte(secret), ts, body) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var batch []map[string]any
		if err := json.Unmarshal(body, &batch); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		add("webhook", len(batch))
	}))
	defer hook.Close()

	// A syslog receiver over TCP with octet-counted framing (RFC 6587).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					l, err := br.ReadString(' ')
					if err != nil {
						return
					}
					n, err := strconv.Atoi(strings.TrimSpace(l))
					if err != nil {
						return
					}
					msg := make([]byte, n)
					if _, err := io.ReadFull(br, msg); err != nil {
						return
					}
					if strings.Contains(string(msg), "CEF:0|reachaudit|") {
						add("syslog", 1)
					}
				}
			}()
		}
	}()

	files, err := sandboxDemoFiles()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "estate.yaml"), files, 0o644); err != nil {
		t.Fatal(err)
	}
	jsonl := filepath.Join(dir, "findings.jsonl")
	cfg := filepath.Join(dir, "scan.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`sandbox: {estate: estate.yaml}
history: {path: %s}
outputs:
  - {type: file, path: %s, format: jsonl}
  - {type: syslog, address: "tcp://%s", format: cef}
  - {type: splunk-hec, url: "%s", insecure_http: true, token_env: TEST_HEC_TOKEN, batch_size: 25}
  - {type: webhook, url: "%s", secret_env: TEST_WEBHOOK_SECRET, batch_size: 40}
`, filepath.Join(dir, "state", "history.db"), jsonl, ln.Addr(), hec.URL, hook.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "result.json")
	// The demo estate holds a project the scanner may not list.
	if code, stderr := run(t, "scan", "--config", cfg, "--format", "json", "--out", out, "--allow-partial"); code != 0 {
		t.Fatalf("scan exited %d: %s", code, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var r agent.Result
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatal(err)
	}
	want := len(r.Findings)
	if want == 0 {
		t.Fatal("the scan found nothing to deliver")
	}
	// The syslog receiver reads on its own goroutine.
	waitFor(t, "every syslog message", 10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return got["syslog"] >= want
	})
	mu.Lock()
	defer mu.Unlock()
	got["file"] = countLines(jsonl)
	for _, sink := range []string{"file", "syslog", "hec", "webhook"} {
		if got[sink] != want {
			t.Errorf("%s received %d findings, want %d", sink, got[sink], want)
		}
	}
	if len(r.Summary.Delivery) != 4 {
		t.Fatalf("summary.delivery: %+v", r.Summary.Delivery)
	}
	for _, d := range r.Summary.Delivery {
		if d.Error != "" || d.Dropped != 0 || d.Spooled != 0 {
			t.Errorf("delivery %+v", d)
		}
	}
}
