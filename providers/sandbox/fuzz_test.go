package sandbox_test

import (
	"testing"
	"time"

	"github.com/reachaudit/reachaudit/providers/sandbox"
	_ "github.com/reachaudit/reachaudit/providers/sandbox/alibabaemu"
	_ "github.com/reachaudit/reachaudit/providers/sandbox/gcpemu"
)

// FuzzParseEstate: no estate file panics or hangs the loader.
func FuzzParseEstate(f *testing.F) {
	f.Add([]byte("aws:\n  accounts:\n    - id: \"111122223333\"\n      buckets:\n        - {name: alpha, region: us-east-1, versioning: Enabled}\n"))
	f.Add([]byte("customer_keys: [\"s3://a-*\"]\ncopies:\n  - {from: \"s3://a\", to: \"gs://b\"}\n"))
	f.Add([]byte("customer_keys:\n  ! 0\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = sandbox.ParseEstate("e.yaml", data)
	})
}

// FuzzWhen: a time the estate accepts resolves without wrapping around,
// and writes back to a text that reads the same.
func FuzzWhen(f *testing.F) {
	for _, s := range []string{"+20d", "-3d", "+36h", "2026-01-02", "2026-01-02T03:04:05Z", "+106752d", "-9223372036854775808ns"} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		var w sandbox.When
		if err := w.UnmarshalText([]byte(s)); err != nil {
			return
		}
		at, ok := w.At(now)
		if !ok {
			return
		}
		text, err := w.MarshalText()
		if err != nil {
			t.Fatalf("%q: MarshalText: %v", s, err)
		}
		var again sandbox.When
		if err := again.UnmarshalText(text); err != nil {
			t.Fatalf("%q wrote %q, which does not read back: %v", s, text, err)
		}
		if at2, _ := again.At(now); !at2.Equal(at) {
			t.Fatalf("%q → %v, but %q → %v", s, at, text, at2)
		}
		if rel := s[0] == '+' || s[0] == '-'; rel && (s[0] == '+') != !at.Before(now) && !at.Equal(now) {
			t.Fatalf("%q resolved to %v, on the wrong side of %v", s, at, now)
		}
	})
}
