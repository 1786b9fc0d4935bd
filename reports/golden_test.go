package reports

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reachaudit/reachaudit/agent"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestEncodeGolden(t *testing.T) {
	cases := []struct {
		name, format string
		opts         Options
	}{
		{"table", "table", fixtureOpts},
		{"table-color", "table", Options{Color: true, Now: fixtureOpts.Now, Version: fixtureOpts.Version}},
		{"json", "json", fixtureOpts},
		{"jsonl", "jsonl", fixtureOpts},
		{"csv", "csv", fixtureOpts},
		{"ocsf", "ocsf", fixtureOpts},
		{"cef", "cef", fixtureOpts},
		{"html", "html", fixtureOpts},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Encode(&buf, tc.format, testResult(), tc.opts); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden."+tc.name)
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(buf.String(), "\n")); diff != "" {
				t.Errorf("%s differs from %s (-want +got):\n%s", tc.format, path, diff)
			}
		})
	}
}

func TestEncodeFormats(t *testing.T) {
	want := []string{"cef", "csv", "dora-roi", "html", "json", "jsonl", "ocsf", "table"}
	if diff := cmp.Diff(want, Formats()); diff != "" {
		t.Errorf("Formats() (-want +got):\n%s", diff)
	}
	if err := Encode(&bytes.Buffer{}, "xml", testResult(), fixtureOpts); err == nil {
		t.Error("Encode accepted an unknown format")
	}
}

func TestTableColorOnlyWhenAsked(t *testing.T) {
	var plain, color bytes.Buffer
	if err := Encode(&plain, "", testResult(), fixtureOpts); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain.String(), "\x1b[") {
		t.Error("table without Color holds ANSI escapes")
	}
	if err := Encode(&color, "table", testResult(), Options{Color: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(color.String(), "\x1b[1;31m") {
		t.Error("table with Color has no ANSI escapes")
	}
}

func TestEncodeEmptyAndPartialResults(t *testing.T) {
	empty := &agent.Result{Schema: agent.Schema, RunID: "run-empty", StartedAt: fixtureStart, FinishedAt: fixtureEnd}
	orphan := testResult()
	orphan.Buckets = orphan.Buckets[:1] // findings whose bucket record is missing
	orphan.Partial = true
	for _, tc := range []struct {
		name string
		r    *agent.Result
	}{{"empty", empty}, {"findings without their buckets", orphan}} {
		for _, format := range Formats() {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				var buf bytes.Buffer
				if err := Encode(&buf, format, tc.r, fixtureOpts); err != nil {
					t.Fatal(err)
				}
				if lines := strings.Count(buf.String(), "\n"); format != "html" && format != "json" && format != "table" && format != "csv" && format != "dora-roi" &&
					lines != len(tc.r.Findings) {
					t.Errorf("%d lines for %d findings", lines, len(tc.r.Findings))
				}
			})
		}
	}
}
