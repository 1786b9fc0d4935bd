package spool

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

const (
	segSuffix  = ".seg"
	cursorFile = "cursor"
	headerLen  = 8 // uint32 length + uint32 CRC-32C
	// maxRecord bounds one message, so a corrupt length cannot make Open
	// allocate without limit.
	maxRecord = 16 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Spool is safe for concurrent use.
type Spool struct {
	dir      string
	maxBytes int64
	segSize  int64
	log      *slog.Logger

	mu     sync.Mutex
	segs   []segment // ordered by seq; the last one takes appends
	head   Cursor    // the next message to deliver
	count  int       // messages after head
	tail   *os.File  // open for append, or nil
	onDisk int64     // bytes of all segments
	lock   *os.File  // held while open
}

type segment struct {
	seq  uint64
	size int64
}

// Cursor is a position in the spool: a segment and a byte offset in it.
type Cursor struct {
	Seg uint64 `json:"segment"`
	Off int64  `json:"offset"`
}

// Open opens (creating if needed) the spool in dir, bounded to maxBytes on
// disk, and resumes where the last process left off.
func Open(dir string, maxBytes int64, log *slog.Logger) (*Spool, error) {
	if maxBytes <= 0 {
		return nil, fmt.Errorf("spool %s: max bytes must be positive", dir)
	}
	if log == nil {
		log = slog.Default()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool %s: %w", dir, err)
	}
	s := &Spool{dir: dir, maxBytes: maxBytes, segSize: max(min(maxBytes/8, 8<<20), 64<<10), log: log, lock: lock}
	if err := s.load(); err != nil {
		lock.Close()
		return nil, fmt.Errorf("spool %s: %w", dir, err)
	}
	return s, nil
}

func (s *Spool) segPath(seq uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d%s", seq, segSuffix))
}

func (s *Spool) load() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, segSuffix) {
			continue
		}
		seq, err := strconv.ParseUint(strings.TrimSuffix(name, segSuffix), 10, 64)
		if err != nil {
			continue
		}
		s.segs = append(s.segs, segment{seq: seq})
	}
	slices.SortFunc(s.segs, func(a, b segment) int { return cmpUint(a.seq, b.seq) })

	if data, err := os.ReadFile(filepath.Join(s.dir, cursorFile)); err == nil {
		if err := json.Unmarshal(data, &s.head); err != nil {
			return fmt.Errorf("cursor: %w", err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}

	// Drop segments the cursor has passed (a crash between commit and
	// removal leaves them), then validate the rest, cutting torn tails.
	kept := s.segs[:0]
	for _, sg := range s.segs {
		if sg.seq < s.head.Seg {
			if err := os.Remove(s.segPath(sg.seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			continue
		}
		n, valid, err := scan(s.segPath(sg.seq))
		if err != nil {
			return err
		}
		fi, err := os.Stat(s.segPath(sg.seq))
		if err != nil {
			return err
		}
		if valid < fi.Size() {
			s.log.Warn("spool: cut a torn or corrupt tail", "segment", s.segPath(sg.seq), "bytes", fi.Size()-valid)
			if err := os.Truncate(s.segPath(sg.seq), valid); err != nil {
				return err
			}
		}
		sg.size = valid
		s.onDisk += valid
		if sg.seq == s.head.Seg {
			// Messages before the cursor in its segment were delivered.
			before, _, err := scanUpTo(s.segPath(sg.seq), s.head.Off)
			if err != nil {
				return err
			}
			n -= before
		}
		s.count += n
		kept = append(kept, sg)
	}
	s.segs = kept
	if len(s.segs) > 0 && s.head.Seg < s.segs[0].seq {
		s.head = Cursor{Seg: s.segs[0].seq}
	}
	return nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// scan counts the valid messages of a segment and the length of its valid prefix.
func scan(path string) (n int, valid int64, err error) {
	return scanUpTo(path, -1)
}

// scanUpTo is scan stopping at byte offset limit (-1: no limit).
func scanUpTo(path string, limit int64) (n int, valid int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 256<<10)
	var hdr [headerLen]byte
	var buf []byte
	for limit < 0 || valid < limit {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return n, valid, nil
		}
		size := binary.BigEndian.Uint32(hdr[:4])
		if size > maxRecord {
			return n, valid, nil
		}
		buf = slices.Grow(buf[:0], int(size))[:size]
		if _, err := io.ReadFull(r, buf); err != nil {
			return n, valid, nil
		}
		if crc32.Checksum(buf, crcTable) != binary.BigEndian.Uint32(hdr[4:]) {
			return n, valid, nil
		}
		n++
		valid += headerLen + int64(size)
	}
	return n, valid, nil
}

// Append adds msgs in order and syncs them to disk. Messages that would
// take the spool past its bound are refused: the count of refused messages
// is returned (they are the last ones of msgs, so order is kept).
func (s *Spool) Append(msgs [][]byte) (dropped int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var w *bufio.Writer
	before := s.count
	// lost is what an error leaves undelivered: the messages of this call
	// that are not on disk (after a failed write the state is re-read).
	lost := func() int { return len(msgs) - max(0, s.count-before) }
	for i, m := range msgs {
		need := int64(headerLen + len(m))
		if len(m) > maxRecord || s.onDisk+need > s.maxBytes {
			dropped = len(msgs) - i
			break
		}
		if s.tail == nil || s.segs[len(s.segs)-1].size >= s.segSize {
			if w != nil {
				if err := s.syncTail(w); err != nil {
					return lost(), err
				}
			}
			if err := s.rotate(); err != nil {
				return lost(), err
			}
			w = bufio.NewWriterSize(s.tail, 64<<10)
		}
		if w == nil {
			w = bufio.NewWriterSize(s.tail, 64<<10)
		}
		var hdr [headerLen]byte
		binary.BigEndian.PutUint32(hdr[:4], uint32(len(m)))
		binary.BigEndian.PutUint32(hdr[4:], crc32.Checksum(m, crcTable))
		w.Write(hdr[:])
		w.Write(m)
		s.segs[len(s.segs)-1].size += need
		s.onDisk += need
		s.count++
	}
	if w != nil {
		if err := s.syncTail(w); err != nil {
			return lost(), err
		}
	}
	return dropped, nil
}

func (s *Spool) syncTail(w *bufio.Writer) error {
	err := w.Flush()
	if err == nil {
		err = s.tail.Sync()
	}
	if err == nil {
		return nil
	}
	// The counts ran ahead of what reached the disk (a full disk, an I/O
	// error): read the state back from the files, cutting what is torn.
	s.tail.Close()
	s.tail = nil
	s.segs, s.count, s.onDisk = nil, 0, 0
	if lerr := s.load(); lerr != nil {
		return fmt.Errorf("spool write: %w (and reloading: %w)", err, lerr)
	}
	return fmt.Errorf("spool write: %w", err)
}

// rotate starts a new tail segment.
func (s *Spool) rotate() error {
	if s.tail != nil {
		if err := s.tail.Close(); err != nil {
			return err
		}
		s.tail = nil
	}
	seq := s.head.Seg
	if len(s.segs) > 0 {
		seq = s.segs[len(s.segs)-1].seq + 1
	}
	// Reopening an existing last segment (after a restart) appends to it.
	if len(s.segs) > 0 && s.segs[len(s.segs)-1].size < s.segSize {
		seq = s.segs[len(s.segs)-1].seq
	}
	f, err := os.OpenFile(s.segPath(seq), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	s.tail = f
	if len(s.segs) == 0 || s.segs[len(s.segs)-1].seq != seq {
		s.segs = append(s.segs, segment{seq: seq})
		if err := syncDir(s.dir); err != nil {
			return err
		}
	}
	return nil
}

// Peek returns up to max messages from the head, oldest first, with the
// cursor to Commit once they are delivered. It does not consume them.
func (s *Spool) Peek(max int) ([][]byte, Cursor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]byte
	cur := s.head
	for _, sg := range s.segs {
		if sg.seq < cur.Seg || len(out) >= max {
			continue
		}
		if sg.seq > cur.Seg {
			cur = Cursor{Seg: sg.seq}
		}
		if cur.Off >= sg.size {
			continue
		}
		msgs, end, err := readFrom(s.segPath(sg.seq), cur.Off, sg.size, max-len(out))
		if err != nil {
			return nil, s.head, err
		}
		out = append(out, msgs...)
		cur.Off = end
	}
	return out, cur, nil
}

func readFrom(path string, off, size int64, max int) ([][]byte, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, off, fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(io.NewSectionReader(f, off, size-off), 64<<10)
	var out [][]byte
	var hdr [headerLen]byte
	for len(out) < max && off < size {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return nil, off, fmt.Errorf("spool %s at %d: %w", path, off, err)
		}
		n := binary.BigEndian.Uint32(hdr[:4])
		if n > maxRecord {
			return nil, off, fmt.Errorf("spool %s at %d: bad length", path, off)
		}
		m := make([]byte, n)
		if _, err := io.ReadFull(r, m); err != nil {
			return nil, off, fmt.Errorf("spool %s at %d: %w", path, off, err)
		}
		if crc32.Checksum(m, crcTable) != binary.BigEndian.Uint32(hdr[4:]) {
			return nil, off, fmt.Errorf("spool %s at %d: checksum mismatch", path, off)
		}
		out = append(out, m)
		off += headerLen + int64(n)
	}
	return out, off, nil
}

// Commit records that every message before c was delivered: the cursor is
// replaced atomically and segments wholly behind it are removed. n is the
// number of messages c moves past.
func (s *Spool) Commit(c Cursor, n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.head = c
	s.count -= n
	if s.count <= 0 {
		s.count = 0
	}
	// Everything delivered: start afresh in a new segment so the disk is
	// freed now rather than when the tail fills.
	if s.count == 0 && len(s.segs) > 0 {
		last := s.segs[len(s.segs)-1]
		if c.Seg == last.seq && c.Off >= last.size {
			if s.tail != nil {
				s.tail.Close()
				s.tail = nil
			}
			s.head = Cursor{Seg: last.seq + 1}
		}
	}
	if err := s.writeCursor(); err != nil {
		return err
	}
	kept := s.segs[:0]
	for _, sg := range s.segs {
		if sg.seq < s.head.Seg {
			if err := os.Remove(s.segPath(sg.seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("spool: %w", err)
			}
			s.onDisk -= sg.size
			continue
		}
		kept = append(kept, sg)
	}
	s.segs = kept
	return nil
}

func (s *Spool) writeCursor() error {
	data, _ := json.Marshal(s.head)
	tmp := filepath.Join(s.dir, cursorFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("spool cursor: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("spool cursor: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("spool cursor: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("spool cursor: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, cursorFile)); err != nil {
		return fmt.Errorf("spool cursor: %w", err)
	}
	return syncDir(s.dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("spool sync dir: %w", err)
	}
	return nil
}

// Len is the number of messages waiting.
func (s *Spool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// MaxBytes is the spool's bound on disk.
func (s *Spool) MaxBytes() int64 { return s.maxBytes }

// Bytes is the spool's size on disk.
func (s *Spool) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.onDisk
}

// Close releases the tail segment and the lock. The spool stays on disk.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var err error
	if s.tail != nil {
		err = s.tail.Close()
		s.tail = nil
	}
	if s.lock != nil {
		s.lock.Close()
		s.lock = nil
	}
	return err
}
