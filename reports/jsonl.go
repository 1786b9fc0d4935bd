package reports

import (
	"bytes"
	"encoding/json"
	"io"
	"time"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/agent/risk"
	"github.com/reachaudit/reachaudit/providers"
)

// findingLine is one jsonl line: the finding's own fields plus the facts of
// its bucket that a SIEM rule needs without a join.
type findingLine struct {
	*risk.Finding
	RunID      string             `json:"run_id"`
	Time       time.Time          `json:"time"`
	URI        string             `json:"uri,omitempty"`
	Countries  []string           `json:"countries,omitempty"`
	Controller string             `json:"controller,omitempty"`
	Operator   string             `json:"operator,omitempty"`
	Custody    providers.Custody  `json:"custody,omitempty"`
	KeyID      string             `json:"key_id,omitempty"`
	KeyState   providers.KeyState `json:"key_state,omitempty"`
	// Reachable is absent when the finding's bucket is not in the result.
	Reachable *bool `json:"reachable,omitempty"`
}

type jsonlEncoder struct {
	r   *agent.Result
	idx bucketIndex
	buf bytes.Buffer
	enc *json.Encoder
}

func newJSONLEncoder(r *agent.Result) *jsonlEncoder {
	e := &jsonlEncoder{r: r, idx: indexBuckets(r)}
	e.enc = json.NewEncoder(&e.buf)
	e.enc.SetEscapeHTML(false)
	return e
}

func (e *jsonlEncoder) AppendFinding(dst []byte, f *risk.Finding) ([]byte, error) {
	line := findingLine{Finding: f, RunID: e.r.RunID, Time: e.r.FinishedAt.UTC()}
	if b := e.idx.of(f); b != nil {
		line.URI, line.Countries = b.URI, b.Countries
		line.Controller, line.Operator, line.Custody = b.Controller, b.Operator, b.Custody
		if b.Key != nil {
			line.KeyID, line.KeyState = b.Key.ID, b.Key.State
		}
		reachable := b.Reachability.Reachable
		line.Reachable = &reachable
	}
	e.buf.Reset()
	if err := e.enc.Encode(&line); err != nil {
		return dst, err
	}
	return append(dst, bytes.TrimSuffix(e.buf.Bytes(), []byte("\n"))...), nil
}

func encodeJSONL(w io.Writer, r *agent.Result, opts Options) error {
	return encodeLines(w, newJSONLEncoder(r), r)
}

// encodeLines writes one message per finding, each ending in a newline,
// reusing one buffer so memory stays flat in the number of findings.
func encodeLines(w io.Writer, enc FindingEncoder, r *agent.Result) error {
	var buf []byte
	for i := range r.Findings {
		var err error
		buf, err = enc.AppendFinding(buf[:0], &r.Findings[i])
		if err != nil {
			return err
		}
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}
