//go:build unix

package main

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// --out decides nothing about what is at the path: a symlink's target is
// written, a FIFO's reader gets the report, a character device stays one.
func TestOutRespectsWhatIsAtThePath(t *testing.T) {
	dir := t.TempDir()

	target := filepath.Join(dir, "real.csv")
	link := filepath.Join(dir, "link.csv")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if code, stderr := run(t, "demo", "--format", "csv", "--out", link); code != 0 {
		t.Fatalf("demo --out symlink exited %d: %s", code, stderr)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the symlink was replaced: %v", err)
	}
	if b, err := os.ReadFile(target); err != nil || len(b) == 0 {
		t.Fatalf("the symlink's target holds %d bytes: %v", len(b), err)
	}

	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 1)
	go func() {
		f, err := os.Open(fifo)
		if err != nil {
			got <- -1
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- len(b)
	}()
	if code, stderr := run(t, "demo", "--format", "jsonl", "--out", fifo); code != 0 {
		t.Fatalf("demo --out fifo exited %d: %s", code, stderr)
	}
	select {
	case n := <-got:
		if n <= 0 {
			t.Fatalf("the FIFO's reader got %d bytes", n)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the FIFO's reader got nothing")
	}

	if os.Geteuid() == 0 {
		null := filepath.Join(dir, "null")
		if err := syscall.Mknod(null, syscall.S_IFCHR|0o666, 1<<8|3); err == nil {
			if code, stderr := run(t, "demo", "--format", "json", "--out", null); code != 0 {
				t.Fatalf("demo --out device exited %d: %s", code, stderr)
			}
			if fi, err := os.Lstat(null); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
				t.Fatalf("the character device was replaced by %v", fi.Mode())
			}
		}
	}
}
