package reports

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"

	"github.com/reachaudit/reachaudit/agent"
)

var csvHeader = []string{
	"id", "rule", "risk", "severity", "status", "suppressed_reason",
	"provider", "account", "bucket", "region", "title",
	"jurisdictions", "legal_basis", "evidence", "remediation",
	"uri", "countries", "controller", "operator", "custody", "key_id", "key_state", "reachable",
}

// encodeCSV writes a header and one row per finding. List cells are joined
// with "; ", evidence is compact JSON.
func encodeCSV(w io.Writer, r *agent.Result, _ Options) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return err
	}
	idx := indexBuckets(r)
	row := make([]string, len(csvHeader))
	for i := range r.Findings {
		f := &r.Findings[i]
		evidence, err := json.Marshal(f.Evidence)
		if err != nil {
			return err
		}
		row = append(row[:0],
			f.ID, f.Rule, f.Risk, f.Severity.String(), f.Status, f.SuppressedReason,
			f.Provider, f.Account, f.Bucket, f.Region, f.Title,
			strings.Join(f.Jurisdictions, "; "), strings.Join(f.LegalBasis, "; "), string(evidence), f.Remediation)
		if b := idx.of(f); b != nil {
			keyID, keyState := "", ""
			if b.Key != nil {
				keyID, keyState = b.Key.ID, string(b.Key.State)
			}
			row = append(row, b.URI, strings.Join(b.Countries, "; "), b.Controller, b.Operator,
				string(b.Custody), keyID, keyState, strconv.FormatBool(b.Reachability.Reachable))
		} else {
			row = append(row, "", "", "", "", "", "", "", "")
		}
		for j, cell := range row {
			row[j] = csvSafe(cell)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe defuses a cell that a spreadsheet would read as a formula (OWASP
// CSV injection): a leading = + - @ tab or CR gets a single quote before it.
func csvSafe(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
