package outputs

import (
	"strings"
	"testing"
	"unicode"
)

// FuzzHECAnswers: no answer from a HEC endpoint panics the sink, an answer
// is accepted only with status 200 and code 0, and the error a hostile
// answer makes carries no raw control bytes into the log.
func FuzzHECAnswers(f *testing.F) {
	f.Add(200, []byte(`{"text":"Success","code":0,"ackId":7}`), []byte(`{"acks":{"7":true}}`))
	f.Add(400, []byte(`{"text":"Invalid token\u001b[2J","code":4}`), []byte(`{"acks":{"7":false}}`))
	f.Add(503, []byte("<html>busy</html>"), []byte("\x00\x01"))
	f.Add(200, []byte(`{"code":"0"}`), []byte(`{"acks":[]}`))
	f.Fuzz(func(t *testing.T, status int, event, ack []byte) {
		a, err := parseHECEvent(status, event)
		if err == nil && (status != 200 || a.Code == nil || *a.Code != 0) {
			t.Fatalf("accepted status %d answer %+v", status, a)
		}
		if err != nil && strings.ContainsFunc(err.Error(), unicode.IsControl) {
			t.Fatalf("raw control bytes in %q", err)
		}
		acked, err := parseHECAck(status, ack, 7)
		if acked && status != 200 {
			t.Fatalf("acked on status %d", status)
		}
		if err != nil && strings.ContainsFunc(err.Error(), unicode.IsControl) {
			t.Fatalf("raw control bytes in %q", err)
		}
	})
}
