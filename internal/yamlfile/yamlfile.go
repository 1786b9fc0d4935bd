// Package yamlfile decodes the project's YAML inputs (config, policy, estate)
// strictly: unknown fields and bad values are refused with the file, line and
// field, never silently ignored. It must not know what the documents mean;
// callers validate their own values and report them through Check.
//
// It is the one door for YAML from outside, so it also holds the limits that
// keep a hostile file from costing more than a bad one: a size cap, a nesting
// cap checked before the (quadratic) parser runs, an alias-expansion cap, no
// tags, and a decoder panic turned into an error. See limits.go.
package yamlfile

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// Error is a problem in a YAML input, located to the line and field.
type Error struct {
	File  string // the file name as the user gave it
	Line  int    // 1-based; 0 when the position is not known
	Field string // a path such as aws.accounts[0].buckets[2].region
	Msg   string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(Printable(e.File))
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ": %s", Printable(e.Field))
	}
	fmt.Fprintf(&b, ": %s", Printable(e.Msg))
	return b.String()
}

// Validator is implemented by documents that check their own values after
// decoding. Each problem names its field as a path from the document root
// (for example "aws.accounts[0].id"); Decode turns the path into a line.
type Validator interface {
	Validate(c *Check)
}

// Check collects validation problems by field path.
type Check struct {
	problems []problem
}

type problem struct{ path, msg string }

// Errorf records a problem with the field at path.
func (c *Check) Errorf(path, format string, args ...any) {
	c.problems = append(c.problems, problem{path, fmt.Sprintf(format, args...)})
}

// OneOf records a problem unless v is empty or one of allowed.
func (c *Check) OneOf(path, v string, allowed ...string) {
	if v == "" {
		return
	}
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	c.Errorf(path, "%q is not one of %s", v, strings.Join(allowed, ", "))
}

// Required records a problem when v is empty.
func (c *Check) Required(path, v string) {
	if v == "" {
		c.Errorf(path, "is required")
	}
}

// ReadFile reads name and decodes it into v; see Read and Decode.
func ReadFile(name string, v any) error {
	data, err := Read(name)
	if err != nil {
		return err
	}
	return Decode(name, data, v)
}

// Decode decodes data (from the file called name) into v, refusing unknown
// fields, then runs v's Validate if it has one. Only the first problem is
// returned, located to its line.
func Decode(name string, data []byte, v any) (err error) {
	defer recovered(name, &err)
	data = stripBOM(data)
	f, err := parse(name, data)
	if err != nil {
		return err
	}
	for _, doc := range f.Docs {
		if err := wholeNumbers(name, doc.Body, reflect.TypeOf(v)); err != nil {
			return err
		}
	}
	if err := yaml.UnmarshalWithOptions(data, v, yaml.Strict()); err != nil {
		return explain(name, err, data, nil, reflect.TypeOf(v))
	}
	return validate(name, data, "", v)
}

// DecodeNode decodes one node of a parsed file strictly (for documents whose
// sections are decoded by different packages) and validates it. root is the
// path of node from the document root, used to name fields in errors. The
// node must come from Sections or MappingSections, which checked the limits.
func DecodeNode(name string, data []byte, node ast.Node, root string, v any) (err error) {
	defer recovered(name, &err)
	data = stripBOM(data)
	if err := wholeNumbers(name, node, reflect.TypeOf(v)); err != nil {
		return err
	}
	if err := yaml.NodeToValue(node, v, yaml.Strict()); err != nil {
		return explain(name, err, data, node, reflect.TypeOf(v))
	}
	return validate(name, data, root, v)
}

// validate runs v's Validate, if it has one, and locates its first problem;
// the problem's path is relative to root.
func validate(name string, data []byte, root string, v any) error {
	val, ok := v.(Validator)
	if !ok {
		return nil
	}
	var c Check
	val.Validate(&c)
	if len(c.problems) == 0 {
		return nil
	}
	p := c.problems[0]
	path := p.path
	switch {
	case root == "":
	case p.path == "":
		path = root
	case strings.HasPrefix(p.path, "["):
		path = root + p.path
	default:
		path = root + "." + p.path
	}
	return &Error{File: name, Line: LineOf(data, path), Field: path, Msg: p.msg}
}

// Sections parses data and returns its top-level mapping as key → node, in
// file order, so that each section can be decoded by its owner.
func Sections(name string, data []byte) (_ []Section, err error) {
	defer recovered(name, &err)
	f, err := parse(name, stripBOM(data))
	if err != nil {
		return nil, err
	}
	var out []Section
	for _, doc := range f.Docs {
		if doc.Body == nil {
			continue
		}
		if _, null := doc.Body.(*ast.NullNode); null {
			continue
		}
		m, ok := doc.Body.(*ast.MappingNode)
		if !ok {
			return nil, &Error{File: name, Line: doc.Body.GetToken().Position.Line, Msg: "expected a mapping at the top level"}
		}
		subs, _ := MappingSections(name, m)
		out = append(out, subs...)
	}
	return out, nil
}

// MappingSections returns the keys of a mapping node (a section whose
// sub-keys are decoded by different owners, such as `providers:`).
func MappingSections(name string, node ast.Node) ([]Section, error) {
	m, ok := node.(*ast.MappingNode)
	if !ok {
		if _, null := node.(*ast.NullNode); null {
			return nil, nil
		}
		return nil, &Error{File: name, Line: node.GetToken().Position.Line, Msg: "expected a mapping"}
	}
	out := make([]Section, 0, len(m.Values))
	for _, kv := range m.Values {
		out = append(out, Section{Key: kv.Key.String(), Line: kv.Key.GetToken().Position.Line, Node: kv.Value})
	}
	return out, nil
}

// Section is one top-level key of a document.
type Section struct {
	Key  string
	Line int
	Node ast.Node
}

func fromYAML(name string, err error) error {
	var ye yaml.Error
	if errors.As(err, &ye) {
		e := &Error{File: name, Msg: ye.GetMessage()}
		if tk := ye.GetToken(); tk != nil {
			e.Line = tk.Position.Line
		}
		return e
	}
	return &Error{File: name, Msg: err.Error()}
}

// locate gives a position to an error that came without one: the decoder
// passes on errors from a value's own UnmarshalText (a bad date, say) as
// they are. Those errors quote the bad value, so the scalar whose quoted
// text appears in the message is the one to blame.
func locate(err error, data []byte, within ast.Node) error {
	e, ok := err.(*Error)
	if !ok || e.Line > 0 {
		return err
	}
	if within == nil {
		f, perr := parser.ParseBytes(stripBOM(data), 0)
		if perr != nil || len(f.Docs) == 0 {
			return err
		}
		within = f.Docs[0].Body
	}
	var found ast.Node
	ast.Walk(visitFunc(func(n ast.Node) bool {
		if found != nil {
			return false
		}
		if sc, ok := n.(ast.ScalarNode); ok {
			if v := fmt.Sprint(sc.GetValue()); v != "" && strings.Contains(e.Msg, strconv.Quote(v)) {
				found = n
				return false
			}
		}
		return true
	}), within)
	if found != nil {
		e.Line = found.GetToken().Position.Line
		e.Field = strings.TrimPrefix(strings.TrimPrefix(found.GetPath(), "$"), ".")
	}
	return e
}

type visitFunc func(ast.Node) bool

func (f visitFunc) Visit(n ast.Node) ast.Visitor {
	if f(n) {
		return f
	}
	return nil
}

// LineOf finds the line of the node at path ("a.b[0].c"), or of its nearest
// ancestor that exists (a missing required field is reported at its parent).
func LineOf(data []byte, path string) (line int) {
	defer func() {
		if recover() != nil {
			line = 0
		}
	}()
	if len(data) > MaxSize || scanDepth(data) > 0 {
		return 0
	}
	f, err := parser.ParseBytes(stripBOM(data), 0)
	if err != nil {
		return 0
	}
	for p := path; p != ""; p = parent(p) {
		yp, err := yaml.PathString("$." + p)
		if err != nil {
			continue
		}
		n, err := yp.FilterFile(f)
		if err == nil && n != nil {
			return n.GetToken().Position.Line
		}
	}
	return 0
}

func parent(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i <= 0 {
		return ""
	}
	return p[:i]
}
