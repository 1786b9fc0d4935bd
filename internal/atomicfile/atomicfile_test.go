//go:build unix

package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func text(s string) func(io.Writer) error {
	return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestNewFileModeMaskedByUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	p := filepath.Join(t.TempDir(), "report.json")
	if err := Write(p, text("{}")); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v under umask 077, want 0600", fi.Mode().Perm())
	}
	syscall.Umask(0o022)
	q := filepath.Join(t.TempDir(), "report.json")
	if err := Write(q, text("{}")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(q); fi.Mode().Perm() != 0o640 {
		t.Fatalf("mode %v under umask 022, want 0640", fi.Mode().Perm())
	}
}

func TestReplaceKeepsModeAndLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "r.csv")
	os.WriteFile(p, []byte("old"), 0o604)
	os.Chmod(p, 0o604)
	if err := Write(p, text("new")); err != nil {
		t.Fatal(err)
	}
	if got := read(t, p); got != "new" {
		t.Fatalf("content %q", got)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o604 {
		t.Fatalf("mode %v, want the file's own 0604", fi.Mode().Perm())
	}
	// A failed write keeps the old content and leaves no temporary file.
	if err := Write(p, func(w io.Writer) error { io.WriteString(w, "half"); return errors.New("encoder failed") }); err == nil {
		t.Fatal("no error")
	}
	if got := read(t, p); got != "new" {
		t.Fatalf("a failed write changed the file to %q", got)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("left behind: %v", ents)
	}
}

func TestSymlinkFollowedToTarget(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.json")
	os.WriteFile(target, []byte("old"), 0o640)
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink("real.json", link); err != nil {
		t.Fatal(err)
	}
	if err := Write(link, text("new")); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&os.ModeSymlink == 0 {
		t.Fatal("the symlink was replaced by a regular file")
	}
	if got := read(t, target); got != "new" {
		t.Fatalf("target holds %q", got)
	}
	// A dangling symlink: the file is created where it points.
	dangling := filepath.Join(dir, "d.json")
	os.Symlink("made.json", dangling)
	if err := Write(dangling, text("x")); err != nil {
		t.Fatal(err)
	}
	if got := read(t, filepath.Join(dir, "made.json")); got != "x" {
		t.Fatalf("made.json holds %q", got)
	}
	// A loop is an error, not a hang.
	os.Symlink("loop2", filepath.Join(dir, "loop1"))
	os.Symlink("loop1", filepath.Join(dir, "loop2"))
	if err := Write(filepath.Join(dir, "loop1"), text("x")); err == nil {
		t.Fatal("a symlink loop was written")
	}
}

func TestFIFOWrittenInto(t *testing.T) {
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	got := make(chan string, 1)
	go func() {
		f, err := os.Open(p)
		if err != nil {
			got <- err.Error()
			return
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- string(b)
	}()
	if err := Write(p, text("the report")); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != "the report" {
			t.Fatalf("the FIFO's reader got %q", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the FIFO's reader got nothing")
	}
	if fi, _ := os.Lstat(p); fi.Mode()&os.ModeNamedPipe == 0 {
		t.Fatal("the FIFO was replaced")
	}
}

func TestCharDeviceWrittenInto(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mknod needs root")
	}
	p := filepath.Join(t.TempDir(), "null")
	// 1,3 is the null device on Linux.
	if err := syscall.Mknod(p, syscall.S_IFCHR|0o666, 1<<8|3); err != nil {
		t.Skipf("mknod: %v", err)
	}
	if err := Write(p, text("discarded")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(p)
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("the device was replaced: %v %v", fi.Mode(), err)
	}
}

func TestDirectoryRefused(t *testing.T) {
	if err := Write(t.TempDir(), text("x")); err == nil {
		t.Fatal("a directory was written")
	}
}
