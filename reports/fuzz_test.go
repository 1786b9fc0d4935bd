package reports

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"

	"github.com/reachaudit/reachaudit/reports/internal/cefparse"
)

// FuzzEncoders: whatever text a bucket name, a tag or a finding carries
// (a cloud API or an estate put it there), every format encodes without
// panicking and its output still parses: JSON, each JSON line, CSV and CEF
// read back with strict readers, and per-finding messages too.
func FuzzEncoders(f *testing.F) {
	f.Add("acme-orders", "owner", "=cmd|' /C calc'!A0", "Bucket is reachable")
	f.Add("a\x00b", "k\nv", "\u2028\ufeff", "<script>alert(1)</script>")
	f.Add("x|y\\z", "=", "\\\\|", "a=b c=d")
	f.Add("\xff\xfe", "\r\n", "\x1b[2J", "")
	f.Fuzz(func(t *testing.T, name, tagKey, tagValue, title string) {
		r := testResult()
		r.Buckets[0].Name = name
		r.Buckets[0].Tags = map[string]string{tagKey: tagValue}
		for i := range r.Findings {
			r.Findings[i].Title = title
			r.Findings[i].Evidence = map[string]any{"text": tagValue}
		}
		r.Findings[0].Bucket = name
		for _, format := range Formats() {
			var buf bytes.Buffer
			if err := Encode(&buf, format, r, fixtureOpts); err != nil {
				t.Fatalf("%s: %v", format, err)
			}
			checkParses(t, format, buf.Bytes())
		}
		for _, format := range FindingFormats() {
			enc, err := NewFindingEncoder(format, r, fixtureOpts)
			if err != nil {
				t.Fatal(err)
			}
			for i := range r.Findings {
				msg, err := enc.AppendFinding(nil, &r.Findings[i])
				if err != nil {
					t.Fatalf("%s: %v", format, err)
				}
				if bytes.ContainsAny(msg, "\n\r") {
					t.Fatalf("%s: a per-finding message holds a line break: %q", format, msg)
				}
				checkParses(t, format, msg)
			}
		}
	})
}

func checkParses(t *testing.T, format string, out []byte) {
	t.Helper()
	switch format {
	case "json":
		if !json.Valid(out) {
			t.Fatalf("%s: not valid JSON: %.200q", format, out)
		}
	case "jsonl", "ocsf": // one JSON object a line
		sc := bufio.NewScanner(bytes.NewReader(out))
		sc.Buffer(nil, 1<<24)
		for sc.Scan() {
			if !json.Valid(sc.Bytes()) {
				t.Fatalf("%s: a line is not valid JSON: %.200q", format, sc.Bytes())
			}
		}
	case "csv":
		if _, err := csv.NewReader(bytes.NewReader(out)).ReadAll(); err != nil {
			t.Fatalf("csv: %v", err)
		}
	case "cef":
		for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
			if line == "" {
				continue
			}
			if _, err := cefparse.Parse(line); err != nil {
				t.Fatalf("cef: %v in %.200q", err, line)
			}
		}
	}
}
