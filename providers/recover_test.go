package providers

import (
	"strings"
	"testing"
)

func TestRecoverDescribeKeepsTheRecord(t *testing.T) {
	describe := func() (b Bucket) {
		b = NewBucket("x", "acct", "b1", "x://b1")
		defer RecoverDescribe(&b, nil)
		var m map[string]int
		m["boom"]++ // a nil map write panics
		return b
	}
	b := describe()
	if b.Name != "b1" || !b.IsUnknown(FieldRecord) || !strings.Contains(b.Unknowns[0].Error, "internal error") {
		t.Fatalf("record after a panic: %+v", b)
	}
}
