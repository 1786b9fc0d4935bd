package reports

import (
	"bytes"
	"encoding/csv"
	"testing"
)

func TestCSVSafe(t *testing.T) {
	cases := []struct{ name, in, want string }{
		{"empty", "", ""},
		{"plain", "acme-orders", "acme-orders"},
		{"formula", "=1+2", "'=1+2"},
		{"plus", "+1", "'+1"},
		{"minus", "-1", "'-1"},
		{"at", "@SUM(A1)", "'@SUM(A1)"},
		{"tab", "\t=1", "'\t=1"},
		{"carriage return", "\r=1", "'\r=1"},
		{"formula later in the cell", "a=1", "a=1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := csvSafe(tc.in); got != tc.want {
				t.Errorf("csvSafe(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCSVRowsAreSafeAndComplete(t *testing.T) {
	r := testResult()
	var buf bytes.Buffer
	if err := Encode(&buf, "csv", r, fixtureOpts); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(r.Findings)+1 {
		t.Fatalf("%d rows for %d findings plus a header", len(rows), len(r.Findings))
	}
	for i, row := range rows {
		if len(row) != len(csvHeader) {
			t.Errorf("row %d has %d cells, want %d", i, len(row), len(csvHeader))
		}
		for j, cell := range row {
			if cell != "" && bytes.ContainsAny([]byte{cell[0]}, "=+-@\t\r") {
				t.Errorf("row %d cell %s starts with %q: a spreadsheet would run it", i, csvHeader[j], cell[0])
			}
		}
	}
}
