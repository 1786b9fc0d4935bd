package outputs

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// redirector answers every POST with a redirect to target, and counts the
// requests that reach target and the bodies they carry.
type redirector struct {
	status  int
	posts   atomic.Int32
	reached atomic.Int32
	bodies  atomic.Int32
}

func (rd *redirector) servers(t *testing.T) (front *httptest.Server) {
	back := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rd.reached.Add(1)
		if b, _ := io.ReadAll(r.Body); len(b) > 0 {
			rd.bodies.Add(1)
		}
		// What a HEC or a webhook receiver says to an empty GET.
		w.Write([]byte(`{"text":"Success","code":0}`))
	}))
	t.Cleanup(back.Close)
	front = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rd.posts.Add(1)
		http.Redirect(w, r, back.URL+r.URL.Path+"?X-Amz-Signature=deadbeef", rd.status)
	}))
	t.Cleanup(front.Close)
	return front
}

func TestHTTPSinksNeverFollowARedirect(t *testing.T) {
	t.Setenv("TEST_HEC_TOKEN", "hec-token-redirect")
	t.Setenv("TEST_WEBHOOK_SECRET", "webhook-secret-redirect")
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		for _, typ := range []string{TypeSplunkHEC, TypeWebhook} {
			t.Run(typ+"/"+http.StatusText(status), func(t *testing.T) {
				rd := &redirector{status: status}
				front := rd.servers(t)
				out := Output{Type: typ, URL: front.URL, TokenEnv: "TEST_HEC_TOKEN", InsecureHTTP: true}
				if typ == TypeWebhook {
					out = Output{Type: typ, URL: front.URL, SecretEnv: "TEST_WEBHOOK_SECRET"}
				}
				var logs bytes.Buffer
				s, err := Open([]Output{out}, Options{SpoolDir: t.TempDir(), Encode: encOpts,
					Logger: slog.New(slog.NewTextHandler(&logs, nil))})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				d := s.Deliver(context.Background(), testResult("run-1", 7))[0]
				if d.Delivered != 0 || d.Spooled != 7 || d.Dropped != 0 || !strings.Contains(d.Error, "redirect") {
					t.Fatalf("delivery %+v; want 0 delivered, 7 spooled", d)
				}
				if rd.reached.Load() != 0 || rd.posts.Load() != 1 {
					t.Errorf("%d requests followed the redirect, %d POSTs (want 0 and 1: a redirect is not retried)", rd.reached.Load(), rd.posts.Load())
				}
				if !strings.Contains(logs.String(), "location=") || strings.Contains(logs.String(), "deadbeef") {
					t.Errorf("the log should name the Location, without its signature:\n%s", logs.String())
				}
			})
		}
	}
}

func TestHECCountsOnlyAParsedCodeZero(t *testing.T) {
	t.Setenv("TEST_HEC_TOKEN", "hec-token-parse")
	cases := []struct {
		name, body string
		delivered  int
	}{
		{"html from a proxy", "<html><body>OK</body></html>", 0},
		{"empty 200", "", 0},
		{"json without code", `{"text":"Success"}`, 0},
		{"code 0", `{"text":"Success","code":0}`, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			s := open(t, Output{Type: TypeSplunkHEC, URL: srv.URL, InsecureHTTP: true, TokenEnv: "TEST_HEC_TOKEN"})
			d := s.Deliver(context.Background(), testResult("run-1", 5))[0]
			if d.Delivered != tc.delivered || d.Delivered+d.Spooled != 5 {
				t.Errorf("delivery %+v, want %d delivered and the rest spooled", d, tc.delivered)
			}
		})
	}
}

func TestHECTokenOverHTTPIsRefusedAtOpen(t *testing.T) {
	t.Setenv("TEST_HEC_TOKEN", "hec-token-clear")
	_, err := Open([]Output{{Type: TypeSplunkHEC, URL: "http://127.0.0.1:1", TokenEnv: "TEST_HEC_TOKEN"}},
		Options{SpoolDir: t.TempDir(), Logger: quietLogger()})
	if err == nil || !strings.Contains(err.Error(), "insecure_http") {
		t.Fatalf("err %v, want a refusal naming insecure_http", err)
	}
}

func TestCertificateErrorIsNotRetried(t *testing.T) {
	t.Setenv("TEST_HEC_TOKEN", "hec-token-cert")
	var handshakes atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			handshakes.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	s := open(t, Output{Type: TypeSplunkHEC, URL: srv.URL, TokenEnv: "TEST_HEC_TOKEN", Timeout: 5 * time.Second})
	start := time.Now()
	d := s.Deliver(context.Background(), testResult("run-1", 3))[0]
	if d.Delivered != 0 || d.Spooled != 3 || !strings.Contains(d.Error, "certificate") {
		t.Fatalf("delivery %+v", d)
	}
	if n := handshakes.Load(); n != 1 {
		t.Errorf("%d connections for one batch: a certificate failure was retried", n)
	}
	// The connection count above is the proof; time only says how long a
	// machine took, and a TLS handshake under the race detector can take
	// longer than the first backoff (200 ms).
	t.Logf("one failed batch took %v", time.Since(start))
}

// TestEchoedSecretAppearsNowhere runs a HEC that echoes the request's
// headers (the token among them) in its error text, and a webhook whose
// secret is a canary too; neither canary may reach the delivery record,
// the log or the spool's account of the error.
func TestEchoedSecretAppearsNowhere(t *testing.T) {
	const canary = "canary-7f3e9a1c-token"
	const hmacCanary = "canary-hmac-5d2b8e40"
	t.Setenv("TEST_HEC_TOKEN", canary)
	secretFile := filepath.Join(t.TempDir(), "secret")
	os.WriteFile(secretFile, []byte(hmacCanary), 0o600)
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		var hdrs strings.Builder
		r.Header.Write(&hdrs)
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]any{"text": "bad request, headers were: " + hdrs.String() +
			" and the key " + hmacCanary, "code": 6})
	}))
	defer echo.Close()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	s, err := Open([]Output{
		{Type: TypeSplunkHEC, URL: echo.URL, InsecureHTTP: true, TokenEnv: "TEST_HEC_TOKEN"},
		{Type: TypeWebhook, URL: echo.URL, SecretFile: secretFile},
	}, Options{SpoolDir: t.TempDir(), Encode: encOpts, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ds := s.Deliver(context.Background(), testResult("run-1", 4))
	for _, d := range ds {
		if d.Spooled != 4 {
			t.Errorf("delivery %+v", d)
		}
		if strings.Contains(d.Error, canary) || strings.Contains(d.Error, hmacCanary) {
			t.Errorf("a canary reached summary.delivery: %s", d.Error)
		}
	}
	if !strings.Contains(ds[0].Error, "bad request, headers were") {
		t.Errorf("the HEC's answer should still be told: %q", ds[0].Error)
	}
	if strings.Contains(logs.String(), canary) || strings.Contains(logs.String(), hmacCanary) {
		t.Errorf("a canary reached the log:\n%s", logs.String())
	}
}
