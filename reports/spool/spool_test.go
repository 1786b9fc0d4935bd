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

// findingLike is a message as the outputs spool them: a line of text.
func findingLike(from, to int) [][]byte {
	var out [][]byte
	for i := from; i < to; i++ {
		out = append(out, []byte(fmt.Sprintf(`<11>1 2026-11-30T02:00:42.000000Z host reachaudit 1 EXP-001 - {"id":"f%04d","rule":"EXP-001","title":"Concern-controlled provider can decrypt the data"}`, i)))
	}
	return out
}

func TestSpoolSkipsACorruptRecordAndCountsIt(t *testing.T) {
	for _, where := range []float64{0.0, 0.1, 0.5, 0.99} {
		t.Run(fmt.Sprintf("flip at %.0f%%", where*100), func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(dir, 1<<20, nil)
			if err != nil {
				t.Fatal(err)
			}
			all := findingLike(0, 73)
			if _, err := s.Append(all); err != nil {
				t.Fatal(err)
			}
			s.Close()
			segs, _ := filepath.Glob(filepath.Join(dir, "*"+segSuffix))
			data, _ := os.ReadFile(segs[0])
			at := int(float64(len(data)) * where)
			data[at] ^= 0x40
			os.WriteFile(segs[0], data, 0o600)

			s2, err := Open(dir, 1<<20, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			got := drain(t, s2, 10)
			if dropped := s2.TakeDropped(); dropped != 1 || len(got) != 72 {
				t.Fatalf("delivered %d, dropped %d; want 72 and 1", len(got), dropped)
			}
			// What arrives is the rest, in order: the one hit record is missing.
			j := 0
			for _, m := range all {
				if j < len(got) && string(got[j]) == string(m) {
					j++
				}
			}
			if j != len(got) {
				t.Errorf("messages out of order or altered")
			}
			if s2.Len() != 0 || s2.TakeDropped() != 0 {
				t.Errorf("after the drain: %d waiting; a dropped record counted twice", s2.Len())
			}
		})
	}
}

func TestSpoolValidatesTheCursor(t *testing.T) {
	cases := []struct {
		name, cursor string
		want         int // messages delivered after reopening
	}{
		{"negative offset", `{"segment":0,"offset":-5}`, 10},
		{"offset past the segment", `{"segment":0,"offset":99999}`, 10},
		{"offset inside a record", `{"segment":0,"offset":3}`, 10},
		{"a later segment", `{"segment":7,"offset":0}`, 10},
		{"not json", `{"segm`, 10},
		{"checksum does not match", `{"segment":0,"offset":0,"check":1}`, 10},
		{"a valid cursor from an older version", "", 6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(dir, 1<<20, nil)
			if err != nil {
				t.Fatal(err)
			}
			s.Append(msgs(0, 10))
			batch, cur, _ := s.Peek(4)
			s.Commit(cur, len(batch))
			s.Close()
			cursor := tc.cursor
			if cursor == "" {
				cursor = fmt.Sprintf(`{"segment":%d,"offset":%d}`, cur.Seg, cur.Off)
			}
			os.WriteFile(filepath.Join(dir, cursorFile), []byte(cursor), 0o600)
			s2, err := Open(dir, 1<<20, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			if s2.Len() != tc.want {
				t.Errorf("Len %d, want %d", s2.Len(), tc.want)
			}
			got := drain(t, s2, 3)
			if diff := cmp.Diff(msgs(10-tc.want, 10), got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			segs, _ := filepath.Glob(filepath.Join(dir, "*"+segSuffix))
			if s2.Len() != 0 || len(segs) > 1 {
				t.Errorf("after the drain: %d waiting, %d segments", s2.Len(), len(segs))
			}
		})
	}
}

func TestSpoolThatCannotBeReadIsAnError(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Append(msgs(0, 3))
	segs, _ := filepath.Glob(filepath.Join(dir, "*"+segSuffix))
	os.Rename(segs[0], segs[0]+".away")
	if _, _, err := s.Peek(10); err == nil || s.Err() == nil {
		t.Fatalf("Peek %v, Err %v: an unreadable spool read as empty", err, s.Err())
	}
	os.Rename(segs[0]+".away", segs[0])
	if got, _, err := s.Peek(10); err != nil || len(got) != 3 || s.Err() != nil {
		t.Fatalf("after it is back: %d messages, %v, Err %v", len(got), err, s.Err())
	}
}
