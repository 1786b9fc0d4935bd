package main

import (
	"archive/zip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// `--format dora-roi` writes the register's files into a directory, or a
// zip holding the same files.
func TestDemoDORARoIDirectoryAndZip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "roi") + "/"
	if code, stderr := run(t, "demo", "--format", "dora-roi", "--out", dir); code != 0 {
		t.Fatalf("demo exited %d: %s", code, stderr)
	}
	for _, name := range []string{"b_02.02.csv", "b_05.01.csv"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(data), "Alibaba Cloud US LLC") {
			t.Errorf("%s does not name Alibaba Cloud US LLC", name)
		}
	}
	zipFile := filepath.Join(t.TempDir(), "roi.zip")
	if code, stderr := run(t, "demo", "--format", "dora-roi", "--out", zipFile); code != 0 {
		t.Fatalf("demo exited %d: %s", code, stderr)
	}
	zr, err := zip.OpenReader(zipFile)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != "b_02.02.csv,b_05.01.csv" {
		t.Errorf("zip holds %v", names)
	}
}
