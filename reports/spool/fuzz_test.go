package spool

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen: whatever a crash, a full disk or another program left in the
// spool's directory (a segment's bytes, the cursor's), Open and Peek never
// panic, and what Peek hands out is whole records from the segment.
func FuzzOpen(f *testing.F) {
	// A valid segment of two records and a valid cursor.
	dir := f.TempDir()
	s, err := Open(dir, 1<<20, nil)
	if err != nil {
		f.Fatal(err)
	}
	if _, err := s.Append(msgs(0, 2)); err != nil {
		f.Fatal(err)
	}
	s.Close()
	seg, _ := os.ReadFile(s.segPath(s.segs[len(s.segs)-1].seq))
	cur, _ := json.Marshal(Cursor{Seg: 1, Off: 0})
	f.Add(seg, cur)
	f.Add(seg[:len(seg)-3], []byte(`{"segment":1,"offset":9}`))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}, []byte(`{"segment":18446744073709551615,"offset":-1}`))
	f.Add([]byte{}, []byte(`not json`))
	f.Fuzz(func(t *testing.T, segment, cursor []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "00000000000000000001"+segSuffix), segment, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, cursorFile), cursor, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir, 1<<20, nil)
		if err != nil {
			return
		}
		defer s.Close()
		total := 0
		for i := 0; i < 100; i++ {
			batch, c, err := s.Peek(10)
			if err != nil || len(batch) == 0 {
				return
			}
			for _, m := range batch {
				total += len(m)
			}
			if total > len(segment) {
				t.Fatalf("Peek handed out %d bytes from a %d-byte segment", total, len(segment))
			}
			if err := s.Commit(c, len(batch)); err != nil {
				return
			}
		}
	})
}
