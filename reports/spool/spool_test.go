package spool

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func msgs(from, to int) [][]byte {
	var out [][]byte
	for i := from; i < to; i++ {
		out = append(out, []byte(fmt.Sprintf("message %04d", i)))
	}
	return out
}

// drain reads everything in batches of n, committing each batch.
func drain(t *testing.T, s *Spool, n int) [][]byte {
	t.Helper()
	var got [][]byte
	for {
		batch, cur, err := s.Peek(n)
		if err != nil {
			t.Fatal(err)
		}
		if len(batch) == 0 {
			return got
		}
		got = append(got, batch...)
		if err := s.Commit(cur, len(batch)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSpoolKeepsOrderAcrossSegmentsAndRestarts(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.segSize = 200 // many small segments
	for i := 0; i < 10; i++ {
		if dropped, err := s.Append(msgs(i*10, i*10+10)); err != nil || dropped != 0 {
			t.Fatalf("append: dropped %d, %v", dropped, err)
		}
	}
	// Deliver a part, then "crash" without Close.
	batch, cur, err := s.Peek(25)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(cur, len(batch)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(msgs(0, 25), batch); diff != "" {
		t.Fatalf("first batch (-want +got):\n%s", diff)
	}
	crash(s)

	s2, err := Open(dir, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s2.Len() != 75 {
		t.Errorf("after restart Len = %d, want 75", s2.Len())
	}
	if _, err := s2.Append(msgs(100, 110)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(msgs(25, 110), drain(t, s2, 7)); diff != "" {
		t.Fatalf("resumed delivery (-want +got):\n%s", diff)
	}
	if s2.Len() != 0 || s2.Bytes() != 0 {
		t.Errorf("drained spool holds %d messages, %d bytes", s2.Len(), s2.Bytes())
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "*"+segSuffix))
	if len(segs) != 0 {
		t.Errorf("drained spool left segments %v", segs)
	}
	// And it keeps working after being emptied.
	if _, err := s2.Append(msgs(200, 203)); err != nil {
		t.Fatal(err)
	}
	s2.Close()
	s3, err := Open(dir, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(msgs(200, 203), drain(t, s3, 100)); diff != "" {
		t.Fatalf("after emptying (-want +got):\n%s", diff)
	}
}

func TestSpoolBoundDropsAndCounts(t *testing.T) {
	s, err := Open(t.TempDir(), 10*(headerLen+12), nil)
	if err != nil {
		t.Fatal(err)
	}
	dropped, err := s.Append(msgs(0, 15))
	if err != nil {
		t.Fatal(err)
	}
	if dropped != 5 || s.Len() != 10 {
		t.Fatalf("dropped %d, kept %d; want 5 and 10", dropped, s.Len())
	}
	if diff := cmp.Diff(msgs(0, 10), drain(t, s, 4)); diff != "" {
		t.Fatalf("kept messages (-want +got):\n%s", diff)
	}
	if dropped, _ := s.Append(msgs(15, 20)); dropped != 0 {
		t.Errorf("after draining, %d dropped", dropped)
	}
}

func TestSpoolCutsATornTail(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(msgs(0, 3)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	segs, _ := filepath.Glob(filepath.Join(dir, "*"+segSuffix))
	f, err := os.OpenFile(segs[len(segs)-1], os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0, 0, 0, 40, 1, 2, 3, 4, 'h', 'a'}) // a half-written message
	f.Close()

	s2, err := Open(dir, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Append(msgs(3, 5)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(msgs(0, 5), drain(t, s2, 10)); diff != "" {
		t.Fatalf("(-want +got):\n%s", diff)
	}
}

func TestSpoolRefusesASecondOpener(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, 1<<20, nil); err == nil {
		t.Fatal("a second Open of the same spool succeeded")
	}
	s.Close()
	s2, err := Open(dir, 1<<20, nil)
	if err != nil {
		t.Fatalf("after Close: %v", err)
	}
	s2.Close()
}

// crash drops a spool's files as a dying process would: nothing flushed or
// tidied beyond what Append and Commit already made durable.
func crash(s *Spool) {
	if s.tail != nil {
		s.tail.Close()
	}
	s.lock.Close()
}
