package reports

import (
	"encoding/json"
	"io"

	"github.com/reachaudit/reachaudit/agent"
)

// encodeJSON writes the Result document itself, indented: the json format
// is the contract in DESIGN, so nothing is added or renamed here.
func encodeJSON(w io.Writer, r *agent.Result, _ Options) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
