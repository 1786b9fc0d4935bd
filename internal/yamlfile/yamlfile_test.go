package yamlfile

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

type doc struct {
	Name  string `yaml:"name"`
	Items []item `yaml:"items"`
}

type item struct {
	ID   string `yaml:"id"`
	Kind string `yaml:"kind"`
}

func (d *doc) Validate(c *Check) {
	for i, it := range d.Items {
		p := "items[" + itoa(i) + "]"
		c.Required(p+".id", it.ID)
		c.OneOf(p+".kind", it.Kind, "a", "b")
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestDecodeErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"unknown field", "name: x\nitems:\n  - id: a\n    colour: red\n", "f.yaml:4: items[0].colour: unknown key (want one of id, kind)"},
		{"typo is named", "name: x\nitems:\n  - id: a\n    knid: a\n", `f.yaml:4: items[0].knid: unknown key (want one of id, kind); did you mean "kind"?`},
		{"top-level key", "nmae: x\n", `f.yaml:1: nmae: unknown key (want one of items, name); did you mean "name"?`},
		{"scalar for a list", "items: a\n", `f.yaml:1: items: expected a list of mappings (key: value), got a string ("a") (a list of one is written [a])`},
		{"bad enum", "name: x\nitems:\n  - id: a\n    kind: a\n  - id: b\n    kind: zz\n", `f.yaml:6: items[1].kind: "zz" is not one of a, b`},
		{"missing required", "name: x\nitems:\n  - kind: a\n", "f.yaml:3: items[0].id: is required"},
		{"wrong type", "name: [1]\n", "f.yaml:1: name: expected a string, got a list"},
		{"number for a string in a list", "items:\n  - id: [x]\n", "f.yaml:2: items[0].id: expected a string, got a list"},
		{"syntax", "name: [x\n", "f.yaml:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d doc
			err := Decode("f.yaml", []byte(tt.in), &d)
			if err == nil {
				t.Fatal("no error")
			}
			t.Log(err)
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("got %q, want prefix %q", err, tt.want)
			}
		})
	}
}

func TestDecodeOK(t *testing.T) {
	var d doc
	if err := Decode("f.yaml", []byte("name: x\nitems: [{id: a, kind: b}]\n"), &d); err != nil {
		t.Fatal(err)
	}
	if d.Items[0].Kind != "b" {
		t.Fatalf("%+v", d)
	}
}

func TestSections(t *testing.T) {
	for _, in := range []string{"aws:\n  accounts: []\n", "aws: {a: 1}\ngcp: {}\n", "# only a comment\n", ""} {
		secs, err := Sections("f.yaml", []byte(in))
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if strings.Contains(in, "aws") && (len(secs) == 0 || secs[0].Key != "aws" || secs[0].Line != 1) {
			t.Fatalf("%q: %+v", in, secs)
		}
	}
	if _, err := Sections("f.yaml", []byte("- a\n- b\n")); err == nil {
		t.Fatal("a top-level sequence was accepted")
	}
}

type day struct{ s string }

func (d *day) UnmarshalText(b []byte) error {
	if string(b) != "monday" {
		return fmt.Errorf("%q is not a day", string(b))
	}
	d.s = string(b)
	return nil
}

func TestDecodeLocatesValueErrors(t *testing.T) {
	var v struct {
		Items []struct {
			When day `yaml:"when"`
		} `yaml:"items"`
	}
	err := Decode("f.yaml", []byte("items:\n  - when: monday\n  - when: soon\n"), &v)
	if err == nil || err.Error() != `f.yaml:3: items[1].when: "soon" is not a day` {
		t.Fatalf("got %v", err)
	}
}
