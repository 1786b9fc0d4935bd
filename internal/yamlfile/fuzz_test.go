package yamlfile

import (
	"strings"
	"testing"
	"unicode"
)

// FuzzDecode: no input panics the door every YAML file goes through, and
// no error message it gives carries a raw control byte.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("name: x\nitems: [{id: a, kind: b}]\n"))
	f.Add([]byte("name: x\nitems:\n  ! 0\n"))
	f.Add([]byte("a: &a [1, 2]\nb: [*a, *a]\n"))
	f.Add([]byte("\ufeffname: |\n  [[[\nitems: []\n"))
	f.Add([]byte("name: 'it''s'\nitems: [\"{\\\"\"]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var d doc
		for _, err := range []error{Decode("f.yaml", data, &d), func() error { _, err := Sections("f.yaml", data); return err }()} {
			if err != nil && strings.ContainsFunc(err.Error(), func(r rune) bool { return unicode.IsControl(r) }) {
				t.Fatalf("raw control byte in %q", err)
			}
		}
		_ = LineOf(data, "items[0].id")
	})
}
