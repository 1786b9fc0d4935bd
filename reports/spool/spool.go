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

	// corrupt holds the corrupt regions already counted (by where they
	// start), so each is counted once; dropped is the count not yet taken
	// by TakeDropped.
	corrupt map[Cursor]bool
	dropped int
	// err is the last failure to read the spool, until a read succeeds.
	err error
}

type segment struct {
	seq  uint64
	size int64
	// starts and bad are the record and corrupt-region offsets found
	// while loading; kept only until the cursor is checked.
	starts, bad []int64
}

// Cursor is a position in the spool: a segment and a byte offset in it.
type Cursor struct {
	Seg uint64 `json:"segment"`
	Off int64  `json:"offset"`
}

// cursorRecord is the cursor file: the cursor and a checksum of it, so
// that a damaged file is told apart from a position.
type cursorRecord struct {
	Cursor
	Check *uint32 `json:"check,omitempty"`
}

func (c Cursor) check() uint32 {
	return crc32.Checksum(fmt.Appendf(nil, "%d:%d", c.Seg, c.Off), crcTable)
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
	s := &Spool{dir: dir, maxBytes: maxBytes, segSize: max(min(maxBytes/8, 8<<20), 64<<10), log: log, lock: lock,
		corrupt: map[Cursor]bool{}}
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

	cursorOK := true
	if data, err := os.ReadFile(filepath.Join(s.dir, cursorFile)); err == nil {
		var rec cursorRecord
		if err := json.Unmarshal(data, &rec); err != nil || (rec.Check != nil && *rec.Check != rec.Cursor.check()) {
			cursorOK = false
		}
		s.head = rec.Cursor
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}

	// Validate each segment: a torn tail (a crash mid-append) is cut; a
	// corrupt record with valid ones after it is skipped and counted.
	for i := range s.segs {
		sg := &s.segs[i]
		path := s.segPath(sg.seq)
		fi, err := os.Stat(path)
		if err != nil {
			return err
		}
		sg.size = fi.Size()
		w, err := walk(path, 0, sg.size, -1)
		if err != nil {
			return err
		}
		sg.starts = w.starts
		sg.bad = w.bad
		if w.end < sg.size {
			// A crash mid-append or a damaged last record: at least one
			// message is lost with it, and counted.
			s.log.Warn("spool: cut a torn or corrupt tail", "segment", path, "bytes", sg.size-w.end)
			if err := os.Truncate(path, w.end); err != nil {
				return err
			}
			sg.bad = append(sg.bad, w.end)
			sg.size = w.end
		}
	}
	if cursorOK {
		cursorOK = s.cursorValid()
	}
	if !cursorOK {
		// A cursor that points nowhere cannot say what was delivered:
		// deliver everything again (at least once) rather than lose it.
		s.log.Error("spool: the cursor file is damaged or points outside the spool; delivering the whole spool again (duplicates possible)",
			"dir", s.dir, "cursor", fmt.Sprintf("%d:%d", s.head.Seg, s.head.Off))
		s.head = Cursor{}
		if len(s.segs) > 0 {
			s.head.Seg = s.segs[0].seq
		}
	}

	// Drop segments the cursor has passed (a crash between commit and
	// removal leaves them), then count what waits after the cursor.
	kept := s.segs[:0]
	for _, sg := range s.segs {
		if sg.seq < s.head.Seg {
			if err := os.Remove(s.segPath(sg.seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
			continue
		}
		s.onDisk += sg.size
		for _, st := range sg.starts {
			if sg.seq > s.head.Seg || st >= s.head.Off {
				s.count++
			}
		}
		for _, b := range sg.bad {
			if sg.seq > s.head.Seg || b >= s.head.Off {
				s.noteCorrupt(Cursor{sg.seq, b})
			}
		}
		sg.starts, sg.bad = nil, nil
		kept = append(kept, sg)
	}
	s.segs = kept
	if len(s.segs) > 0 && s.head.Seg < s.segs[0].seq {
		s.head = Cursor{Seg: s.segs[0].seq}
	}
	if s.dropped > 0 {
		s.log.Error("spool: corrupt records skipped; their messages are lost", "dir", s.dir, "dropped", s.dropped)
	}
	return nil
}

// cursorValid reports whether the loaded cursor is a place in the spool:
// the start of a record of an existing segment, its end, or the start of
// the segment after the last (everything delivered). Segments before the
// cursor are those a crash left behind after a commit.
func (s *Spool) cursorValid() bool {
	h := s.head
	if h.Off < 0 {
		return false
	}
	if len(s.segs) == 0 {
		return true
	}
	last := s.segs[len(s.segs)-1]
	if h.Seg == last.seq+1 && h.Off == 0 {
		return true
	}
	if h.Seg < s.segs[0].seq {
		return true // its segment is gone, delivered: start at the first one
	}
	for _, sg := range s.segs {
		if sg.seq != h.Seg {
			continue
		}
		return h.Off == sg.size || slices.Contains(sg.starts, h.Off) || slices.Contains(sg.bad, h.Off)
	}
	return false
}

// noteCorrupt counts the corrupt region starting at c, once.
func (s *Spool) noteCorrupt(c Cursor) {
	if s.corrupt[c] {
		return
	}
	s.corrupt[c] = true
	s.dropped++
}

// TakeDropped returns how many messages were lost to corrupt records since
// the last call (each corrupt region counts one: at least one message).
func (s *Spool) TakeDropped() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.dropped
	s.dropped = 0
	return n
}

// Err is the last failure to read the spool, nil once a read succeeds
// again: an unreadable spool is a fault to show, not an empty queue.
func (s *Spool) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
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

// walked is what walk found in a segment.
type walked struct {
	msgs   [][]byte // with keep: the messages read
	starts []int64  // where each valid record starts
	bad    []int64  // where each corrupt region starts
	end    int64    // the end of the last valid record: a torn tail follows
	next   int64    // where reading stopped (after max messages)
}

// walk reads the records of the segment at path from off to size. A record
// whose length or checksum is wrong starts a corrupt region, skipped to the
// next valid record; when no valid record follows, the rest is a torn tail
// (end says where it starts). max > 0 stops after that many messages and
// keeps them.
func walk(path string, off, size int64, max int) (walked, error) {
	w := walked{end: off, next: off}
	f, err := os.Open(path)
	if err != nil {
		return w, fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	for off < size && (max <= 0 || len(w.msgs) < max) {
		m, next, ok, err := recordAt(f, off, size, max > 0)
		if err != nil {
			return w, fmt.Errorf("spool %s at %d: %w", path, off, err)
		}
		if !ok {
			resume, err := resync(f, off+1, size)
			if err != nil {
				return w, fmt.Errorf("spool %s at %d: %w", path, off, err)
			}
			if resume >= size {
				break // a torn tail
			}
			w.bad = append(w.bad, off)
			off = resume
			continue
		}
		w.starts = append(w.starts, off)
		if max > 0 {
			w.msgs = append(w.msgs, m)
		}
		off = next
		w.end = off
	}
	w.next = off
	return w, nil
}

// recordAt reads the record at off; ok is false when there is none (a bad
// length, a short read, a checksum that does not match).
func recordAt(f io.ReaderAt, off, size int64, keep bool) (msg []byte, next int64, ok bool, err error) {
	var hdr [headerLen]byte
	if size-off < headerLen {
		return nil, 0, false, nil
	}
	if _, err := f.ReadAt(hdr[:], off); err != nil {
		return nil, 0, false, ioErr(err)
	}
	n := int64(binary.BigEndian.Uint32(hdr[:4]))
	if n > maxRecord || n > size-off-headerLen {
		return nil, 0, false, nil
	}
	m := make([]byte, n)
	if _, err := f.ReadAt(m, off+headerLen); err != nil {
		return nil, 0, false, ioErr(err)
	}
	if crc32.Checksum(m, crcTable) != binary.BigEndian.Uint32(hdr[4:]) {
		return nil, 0, false, nil
	}
	if !keep {
		m = nil
	}
	return m, off + headerLen + n, true, nil
}

// ioErr keeps real read failures and drops io.EOF (a record cut short is
// "no record", not a fault).
func ioErr(err error) error {
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}

// resync finds the first offset from off on where a valid record starts,
// or size. Messages are text, so a candidate length (a small number, its
// high byte zero) is rare outside real headers and the search is quick.
func resync(f io.ReaderAt, off, size int64) (int64, error) {
	const window = 1 << 20
	buf := make([]byte, window+headerLen)
	for base := off; base < size; base += window {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), size-base)], base)
		if err != nil && !errors.Is(err, io.EOF) {
			return 0, err
		}
		for i := 0; i+4 <= n && i < window; i++ {
			if buf[i] != 0 { // lengths are below 16 MiB: the high byte is 0
				continue
			}
			if l := int64(binary.BigEndian.Uint32(buf[i : i+4])); l > maxRecord || l > size-(base+int64(i))-headerLen {
				continue
			}
			if _, _, ok, err := recordAt(f, base+int64(i), size, false); err != nil {
				return 0, err
			} else if ok {
				return base + int64(i), nil
			}
		}
	}
	return size, nil
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
// cursor to Commit once they are delivered. It does not consume them. A
// corrupt record is skipped (and counted, see TakeDropped); a segment that
// cannot be read is an error, kept for Err until a read succeeds.
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
		w, err := walk(s.segPath(sg.seq), cur.Off, sg.size, max-len(out))
		if err != nil {
			s.err = err
			return nil, s.head, err
		}
		for _, b := range w.bad {
			s.noteCorrupt(Cursor{sg.seq, b})
		}
		out = append(out, w.msgs...)
		cur.Off = w.next
		if len(out) < max && w.next < sg.size {
			// The rest of this segment is torn (written after load by
			// another hand, or damaged): nothing more can be read from it.
			s.noteCorrupt(Cursor{sg.seq, w.next})
			cur.Off = sg.size
		}
	}
	s.err = nil
	return out, cur, nil
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
	// Everything delivered (also when records skipped as corrupt had been
	// counted as waiting): start afresh in a new segment so the disk is
	// freed now rather than when the tail fills.
	if len(s.segs) > 0 {
		last := s.segs[len(s.segs)-1]
		if c.Seg == last.seq && c.Off >= last.size {
			s.count = 0
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
	check := s.head.check()
	data, _ := json.Marshal(cursorRecord{Cursor: s.head, Check: &check})
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
