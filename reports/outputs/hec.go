package outputs

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
)

// hecSink posts batches of events to Splunk's HTTP Event Collector.
type hecSink struct {
	eventURL, ackURL string
	token            string
	channel          string
	ack              bool
	index, source    string
	sourcetype       string
	host             string
	client           *http.Client
	log              *slog.Logger
	ackPoll          time.Duration
}

func newHECSink(o *Output, log *slog.Logger) (*hecSink, error) {
	if err := o.checkClearText(); err != nil {
		return nil, err
	}
	token, err := readSecret("token", o.TokenEnv, o.TokenFile)
	if err != nil {
		return nil, err
	}
	client, err := newHTTPClient(o)
	if err != nil {
		return nil, err
	}
	base := strings.TrimRight(o.URL, "/")
	if i := strings.Index(base, "/services/collector"); i >= 0 {
		base = base[:i]
	}
	host, _ := os.Hostname()
	s := &hecSink{
		eventURL: base + "/services/collector/event", ackURL: base + "/services/collector/ack",
		token: token, channel: newChannel(), ack: o.Ack,
		index: o.Index, source: o.Source, sourcetype: o.Sourcetype, host: host,
		client: client, log: log, ackPoll: 250 * time.Millisecond,
	}
	if s.source == "" {
		s.source = "reachaudit"
	}
	if s.sourcetype == "" {
		s.sourcetype = "reachaudit:" + o.format()
	}
	return s, nil
}

// newChannel is a random UUID (version 4), as HEC wants for a channel.
func newChannel() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// hecMeta is an event envelope without its event; frame splices the
// event in, since it is JSON already.
type hecMeta struct {
	Time       json.Number `json:"time"`
	Host       string      `json:"host,omitempty"`
	Source     string      `json:"source,omitempty"`
	Sourcetype string      `json:"sourcetype,omitempty"`
	Index      string      `json:"index,omitempty"`
}

func (s *hecSink) frame(dst []byte, _ *risk.Finding, body []byte, r *agent.Result) []byte {
	ms := r.FinishedAt.UnixMilli()
	meta, _ := json.Marshal(hecMeta{
		Time: json.Number(fmt.Sprintf("%d.%03d", ms/1000, ms%1000)),
		Host: s.host, Source: s.source, Sourcetype: s.sourcetype, Index: s.index,
	})
	dst = append(dst, meta[:len(meta)-1]...)
	dst = append(dst, `,"event":`...)
	dst = append(dst, body...)
	return append(dst, '}')
}

type hecAnswer struct {
	Text  string `json:"text"`
	Code  *int   `json:"code"`
	AckID *int64 `json:"ackId"`
}

func (s *hecSink) send(ctx context.Context, batch [][]byte) (int, error) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	for i, m := range batch {
		if i > 0 {
			zw.Write([]byte{'\n'})
		}
		zw.Write(m)
	}
	if err := zw.Close(); err != nil {
		return 0, err
	}
	body := gz.Bytes()
	var answer hecAnswer
	err := postWithRetry(ctx, s.client, s.log, func() (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, s.eventURL, readerOf(body))
		if err != nil {
			return nil, err
		}
		s.headers(req)
		req.Header.Set("Content-Encoding", "gzip")
		return req, nil
	}, func(status int, b []byte) error {
		var err error
		answer, err = parseHECEvent(status, b)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("splunk-hec: %w", err)
	}
	if s.ack {
		if answer.AckID == nil {
			return 0, fmt.Errorf("splunk-hec: ack is on but HEC gave no ackId (is indexer acknowledgement enabled on the token?)")
		}
		if err := s.waitAck(ctx, *answer.AckID); err != nil {
			return 0, fmt.Errorf("splunk-hec: %w", err)
		}
	}
	return len(batch), nil
}

// parseHECEvent reads the event endpoint's answer. The answer's text comes
// from the server and is quoted, so a hostile one cannot write control
// bytes into the log.
func parseHECEvent(status int, b []byte) (hecAnswer, error) {
	// Only an answer that parses and says code 0 is a delivery: a proxy's
	// HTML page or an empty 200 proves nothing reached the indexers.
	var answer hecAnswer
	if err := json.Unmarshal(b, &answer); err != nil || answer.Code == nil {
		return hecAnswer{}, fmt.Errorf("HEC answered %d with no HEC answer (%d bytes that are not {\"code\": N}): not counted as delivered", status, len(b))
	}
	if status != http.StatusOK || *answer.Code != 0 {
		return answer, fmt.Errorf("HEC answered %d: %q (code %d)", status, answer.Text, *answer.Code)
	}
	return answer, nil
}

// parseHECAck reads the ack endpoint's answer: whether ackID is confirmed.
func parseHECAck(status int, b []byte, ackID int64) (bool, error) {
	if status != http.StatusOK {
		return false, fmt.Errorf("ack endpoint answered %d: %q", status, strings.TrimSpace(string(b)))
	}
	var a struct {
		Acks map[string]bool `json:"acks"`
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return false, fmt.Errorf("ack answer: %w", err)
	}
	return a.Acks[strconv.FormatInt(ackID, 10)], nil
}

func (s *hecSink) headers(req *http.Request) {
	req.Header.Set("Authorization", "Splunk "+s.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Splunk-Request-Channel", s.channel)
}

// waitAck polls the ack endpoint until the indexers confirm ackID or ctx
// ends; an unconfirmed batch counts as undelivered.
func (s *hecSink) waitAck(ctx context.Context, ackID int64) error {
	query, _ := json.Marshal(map[string][]int64{"acks": {ackID}})
	poll := s.ackPoll
	for {
		var acked bool
		err := postWithRetry(ctx, s.client, s.log, func() (*http.Request, error) {
			req, err := http.NewRequest(http.MethodPost, s.ackURL+"?channel="+s.channel, readerOf(query))
			if err != nil {
				return nil, err
			}
			s.headers(req)
			return req, nil
		}, func(status int, b []byte) error {
			var err error
			acked, err = parseHECAck(status, b, ackID)
			return err
		})
		if err != nil {
			return err
		}
		if acked {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("ack %d not confirmed: %w", ackID, ctx.Err())
		case <-time.After(poll):
		}
		poll = min(poll*2, 5*time.Second)
	}
}

func (s *hecSink) close() error {
	s.client.CloseIdleConnections()
	return nil
}
