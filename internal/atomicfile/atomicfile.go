// Package atomicfile writes a report or output file so that a reader sees
// either the old content or the new, never half of it, and so that the
// path's owner decides what it is: a symlink is followed to its target, and
// a FIFO, a character device or any other file that is not a regular file
// is written straight into (never replaced by a regular file — replacing
// /dev/null would break every later write to it on that machine).
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Mode is the permission of a new file before the umask: findings describe
// the estate's weak points, readable by the group, not by everyone. An
// existing regular file keeps its permissions.
const Mode fs.FileMode = 0o640

// maxLinks bounds how many symlinks are followed, as the kernel does.
const maxLinks = 40

// Write writes path with write's output. A regular (or absent) file is
// replaced atomically: a temporary file in the same directory, fsync,
// rename, fsync of the directory.
func Write(path string, write func(io.Writer) error) error {
	target, err := resolve(path)
	if err != nil {
		return err
	}
	fi, err := os.Stat(target)
	switch {
	case err == nil && fi.IsDir():
		return fmt.Errorf("%s is a directory", path)
	case err == nil && !fi.Mode().IsRegular():
		return writeInto(target, write)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return err
	}
	return replace(target, fi, write)
}

// resolve follows symlinks at path (a dangling one too: its target is
// where the file is created).
func resolve(path string) (string, error) {
	p := path
	for i := 0; ; i++ {
		fi, err := os.Lstat(p)
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return p, nil
		}
		if i == maxLinks {
			return "", fmt.Errorf("%s: too many levels of symbolic links", path)
		}
		link, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(link) {
			link = filepath.Join(filepath.Dir(p), link)
		}
		p = link
	}
}

// writeInto writes a FIFO or device in place: there is nothing to rename,
// and its reader wants the bytes.
func writeInto(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func replace(path string, old fs.FileInfo, write func(io.Writer) error) error {
	dir := filepath.Dir(path)
	// The kernel applies the umask to a file it creates, which is why the
	// temporary file is opened with Mode rather than chmod'ed afterwards.
	var tmp *os.File
	for tries := 0; ; tries++ {
		var b [6]byte
		rand.Read(b[:])
		name := filepath.Join(dir, "."+filepath.Base(path)+".tmp"+hex.EncodeToString(b[:]))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, Mode)
		if err == nil {
			tmp = f
			break
		}
		if !errors.Is(err, fs.ErrExist) || tries == 10 {
			return err
		}
	}
	defer os.Remove(tmp.Name()) // a no-op after the rename
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if old != nil {
		if err := tmp.Chmod(old.Mode().Perm()); err != nil {
			tmp.Close()
			return err
		}
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err // EINVAL: a file system that cannot sync a directory
	}
	return nil
}
