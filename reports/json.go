package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/reachaudit/reachaudit/agent"
)

// encodeJSON writes the Result document itself, indented: the json format
// is the contract in DESIGN, so nothing is added or renamed here.
//
// encoding/json would build the whole document in memory before writing
// it; for a large estate that doubles the footprint. So the document is
// written as a frame (the Result without its buckets and findings) with the
// two arrays streamed element by element into it. The bytes are the same
// as json.Encoder with the same indent would write.
func encodeJSON(w io.Writer, r *agent.Result, _ Options) error {
	frame := *r
	frame.Buckets, frame.Findings = nil, nil
	var fb bytes.Buffer
	enc := json.NewEncoder(&fb)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(&frame); err != nil {
		return err
	}
	doc := fb.Bytes()
	for _, arr := range []struct {
		key string
		n   int
		el  func(i int) any
	}{
		{"buckets", len(r.Buckets), func(i int) any { return &r.Buckets[i] }},
		{"findings", len(r.Findings), func(i int) any { return &r.Findings[i] }},
	} {
		// Top-level keys are the only ones indented by exactly two spaces.
		marker := []byte("\n  \"" + arr.key + "\": null")
		at := bytes.Index(doc, marker)
		if at < 0 {
			return fmt.Errorf("json: no top-level %q in the result document", arr.key)
		}
		head := at + len(marker) - len("null")
		if _, err := w.Write(doc[:head]); err != nil {
			return err
		}
		isNil := (arr.key == "buckets" && r.Buckets == nil) || (arr.key == "findings" && r.Findings == nil)
		if err := writeJSONArray(w, arr.n, isNil, arr.el); err != nil {
			return err
		}
		doc = doc[at+len(marker):]
	}
	_, err := w.Write(doc)
	return err
}

// writeJSONArray writes n elements as a top-level field's array value, at
// the indentation json.Encoder gives it.
func writeJSONArray(w io.Writer, n int, isNil bool, el func(i int) any) error {
	switch {
	case isNil:
		_, err := io.WriteString(w, "null")
		return err
	case n == 0:
		_, err := io.WriteString(w, "[]")
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("    ", "  ")
	enc.SetEscapeHTML(false)
	buf.WriteString("[\n")
	for i := 0; i < n; i++ {
		buf.WriteString("    ")
		if err := enc.Encode(el(i)); err != nil {
			return err
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
		if i < n-1 {
			buf.WriteByte(',')
		}
		buf.WriteByte('\n')
		if _, err := w.Write(buf.Bytes()); err != nil {
			return err
		}
		buf.Reset()
	}
	_, err := io.WriteString(w, "  ]")
	return err
}
