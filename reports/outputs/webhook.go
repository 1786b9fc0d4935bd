package outputs

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
)

// Webhook signature headers. The signature is HMAC-SHA256, keyed by the
// shared secret, over "<timestamp>.<body>", so a receiver can refuse both
// forged and replayed deliveries.
const (
	HeaderSignature = "X-Reachaudit-Signature"
	HeaderTimestamp = "X-Reachaudit-Timestamp"
)

type webhookSink struct {
	url    string
	ndjson bool
	secret []byte
	client *http.Client
	log    *slog.Logger
	now    func() time.Time
}

func newWebhookSink(o *Output, log *slog.Logger) (*webhookSink, error) {
	secret, err := readSecret("secret", o.SecretEnv, o.SecretFile)
	if err != nil {
		return nil, err
	}
	client, err := newHTTPClient(o)
	if err != nil {
		return nil, err
	}
	return &webhookSink{url: o.URL, ndjson: o.format() == "ocsf", secret: []byte(secret), client: client, log: log, now: time.Now}, nil
}

func (s *webhookSink) frame(dst []byte, _ *risk.Finding, body []byte, _ *agent.Result) []byte {
	return append(dst, body...)
}

// Sign returns the X-Reachaudit-Signature value for body sent at timestamp.
func Sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func (s *webhookSink) send(ctx context.Context, batch [][]byte) (int, error) {
	var body []byte
	contentType := "application/json"
	if s.ndjson {
		contentType = "application/x-ndjson"
		for _, m := range batch {
			body = append(append(body, m...), '\n')
		}
	} else {
		body = append(body, '[')
		for i, m := range batch {
			if i > 0 {
				body = append(body, ',')
			}
			body = append(body, m...)
		}
		body = append(body, ']')
	}
	err := postWithRetry(ctx, s.client, s.log, func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, s.url, readerOf(body))
		if err != nil {
			return nil, err
		}
		ts := strconv.FormatInt(s.now().Unix(), 10)
		req.Header.Set("Content-Type", contentType)
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, Sign(s.secret, ts, body))
		return req, nil
	}, func(status int, b []byte) error {
		if status < 200 || status > 299 {
			return fmt.Errorf("webhook answered %d", status)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("webhook: %w", err)
	}
	return len(batch), nil
}

func (s *webhookSink) close() error {
	s.client.CloseIdleConnections()
	return nil
}
