package reports

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The column codes of the EBA taxonomy 4.0 templates, written out here
// rather than read from RoITemplates, so that the test checks the format
// against the taxonomy and not against itself.
var taxonomyColumns = map[string][]string{
	"B_02.02": {"c0010", "c0020", "c0030", "c0040", "c0050", "c0060", "c0070", "c0080", "c0090",
		"c0100", "c0110", "c0120", "c0130", "c0140", "c0150", "c0160", "c0170", "c0180"},
	"B_05.01": {"c0010", "c0020", "c0030", "c0040", "c0050", "c0060", "c0070", "c0080", "c0090",
		"c0100", "c0110", "c0120"},
}

// What each column the scan fills may hold: the taxonomy's value sets.
var (
	iso3166  = regexp.MustCompile(`^[A-Z]{2}$`)
	isoDate  = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	service  = regexp.MustCompile(`^S(0[1-9]|1[0-9])$`)
	boolean  = regexp.MustCompile(`^(true|false)$`)
	days     = regexp.MustCompile(`^\d+$`)
	anyText  = regexp.MustCompile(`^.+$`)
	sensible = regexp.MustCompile(`^(Low|Medium|High)$`)
	person   = regexp.MustCompile(`^(Legal person, excluding individual acting in a business capacity|Individual acting in a business capacity)$`)
)

var columnValues = map[string]map[string]*regexp.Regexp{
	"B_02.02": {"c0010": anyText, "c0060": service, "c0070": isoDate, "c0080": isoDate, "c0100": days,
		"c0120": iso3166, "c0130": iso3166, "c0140": boolean, "c0150": iso3166, "c0160": iso3166, "c0170": sensible},
	"B_05.01": {"c0050": anyText, "c0060": anyText, "c0070": person, "c0080": iso3166},
}

// mandatory are the columns the scan must fill in every row of the demo,
// where every account has a contract.
var mandatory = map[string][]string{
	"B_02.02": {"c0010", "c0060", "c0070", "c0080", "c0100", "c0120", "c0130", "c0140", "c0150", "c0160"},
	"B_05.01": {"c0050", "c0070", "c0080"},
}

func TestDORARoIDemoColumnByColumn(t *testing.T) {
	r, _ := loadDemo(t)
	files, err := DORARoI(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(RoITemplates) {
		t.Fatalf("%d files for %d templates", len(files), len(RoITemplates))
	}
	for i, tmpl := range RoITemplates {
		f := files[i]
		t.Run(tmpl.Code, func(t *testing.T) {
			if f.Name != "b_"+tmpl.Code[2:]+".csv" {
				t.Errorf("file %q for %s", f.Name, tmpl.Code)
			}
			rows, err := csv.NewReader(bytes.NewReader(f.Data)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) < 3 {
				t.Fatalf("%d rows: no data", len(rows))
			}
			if rows[0][0] != DORATaxonomy || rows[0][1] != tmpl.Code || rows[0][2] != tmpl.Title {
				t.Errorf("first row %q does not name the taxonomy and the template", rows[0][:3])
			}
			want := taxonomyColumns[tmpl.Code]
			codes := rows[1]
			if diff := cmp.Diff(want, codes[:min(len(want), len(codes))]); diff != "" {
				t.Fatalf("column codes differ from the taxonomy (-taxonomy +file):\n%s", diff)
			}
			for _, c := range codes[len(want):] {
				if !regexp.MustCompile(`^reachaudit_[a-z_]+$`).MatchString(c) {
					t.Errorf("extra column %q after the taxonomy's is not marked as reachaudit's own", c)
				}
			}
			byHand := map[string]bool{}
			for _, c := range tmpl.Columns {
				byHand[c.Code] = c.ByHand()
			}
			for n, row := range rows[2:] {
				if len(row) != len(codes) {
					t.Fatalf("row %d has %d cells for %d columns", n+3, len(row), len(codes))
				}
				for j, code := range want {
					v := row[j]
					switch {
					case byHand[code] && v != "":
						t.Errorf("row %d %s: %q in a column left to fill by hand", n+3, code, v)
					case v == "" && slices.Contains(mandatory[tmpl.Code], code):
						t.Errorf("row %d %s: empty, and the scan knows it", n+3, code)
					case v != "" && columnValues[tmpl.Code][code] != nil && !columnValues[tmpl.Code][code].MatchString(v):
						t.Errorf("row %d %s: %q is not a value the taxonomy takes there", n+3, code, v)
					case v != "" && columnValues[tmpl.Code][code] == nil:
						t.Errorf("row %d %s: %q in a column without a value check", n+3, code, v)
					}
				}
			}
		})
	}
}

// The register says what the scan saw: Northwind's Alibaba account, billed
// in the US, contracts with Alibaba Cloud US LLC under NW-ALI-2024-017, and
// its data sits in CN, HK, SG and US.
func TestDORARoIDemoFacts(t *testing.T) {
	r, _ := loadDemo(t)
	files, err := DORARoI(r)
	if err != nil {
		t.Fatal(err)
	}
	read := func(i int) []map[string]string {
		rows, err := csv.NewReader(bytes.NewReader(files[i].Data)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		var out []map[string]string
		for _, row := range rows[2:] {
			m := map[string]string{}
			for j, c := range rows[1] {
				m[c] = row[j]
			}
			out = append(out, m)
		}
		return out
	}
	var countries []string
	buckets := 0
	for _, m := range read(0) {
		if m["reachaudit_provider"] != "alibaba" {
			continue
		}
		if m["c0010"] != "NW-ALI-2024-017" || m["c0120"] != "US" || m["c0100"] != "90" || m["reachaudit_contracting_entity"] != "Alibaba Cloud US LLC" {
			t.Errorf("alibaba row %v", m)
		}
		countries = append(countries, m["c0150"])
		n, _ := strconv.Atoi(m["reachaudit_buckets"])
		buckets += n
	}
	if diff := cmp.Diff([]string{"CN", "HK", "SG", "US"}, countries); diff != "" {
		t.Errorf("alibaba countries (-want +got):\n%s", diff)
	}
	if buckets != r.Summary.BucketsByProvider["alibaba"] {
		t.Errorf("alibaba rows count %d buckets, the run %d", buckets, r.Summary.BucketsByProvider["alibaba"])
	}
	found := false
	for _, m := range read(1) {
		if m["c0050"] == "Alibaba Cloud US LLC" {
			found = true
			if m["c0080"] != "US" || m["reachaudit_ultimate_parent"] != "Alibaba Group Holding Ltd." || m["reachaudit_ultimate_parent_country"] != "CN" {
				t.Errorf("B_05.01 row %v", m)
			}
		}
		if m["c0050"] == "Beijing Sinnet Technology Co., Ltd." && m["reachaudit_ultimate_parent"] != "" {
			t.Errorf("Sinnet is outside Amazon's group, but its parent reads %q", m["reachaudit_ultimate_parent"])
		}
	}
	if !found {
		t.Error("B_05.01 has no row for Alibaba Cloud US LLC")
	}
}

// The zip holds the same files, and each is golden-filed as CSV so that a
// change to the register shows in review as text.
func TestDORARoIZipAndGolden(t *testing.T) {
	r, _ := loadDemo(t)
	files, err := DORARoI(r)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Encode(&buf, "dora-roi", r, fixtureOpts); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != len(files) {
		t.Fatalf("zip holds %d files, want %d", len(zr.File), len(files))
	}
	for i, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if zf.Name != files[i].Name || !bytes.Equal(data, files[i].Data) {
			t.Errorf("zip entry %s differs from %s", zf.Name, files[i].Name)
		}
		golden := filepath.Join("testdata", "demo.golden."+files[i].Name)
		if *update {
			if err := os.WriteFile(golden, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -update to create it)", err)
		}
		if diff := cmp.Diff(string(want), string(data)); diff != "" {
			t.Errorf("%s differs from %s (-want +got):\n%s", files[i].Name, golden, diff)
		}
	}
}
