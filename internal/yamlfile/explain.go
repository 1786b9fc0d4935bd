package yamlfile

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// explain turns a decoder error into one a person can act on: the dotted
// path of the field, the keys that are allowed where an unknown one was
// given, and the expected type in plain words ("a list", "a whole
// number") instead of Go's. within is the node that was decoded into a
// value of type t (nil: the whole document).
func explain(name string, err error, data []byte, within ast.Node, t reflect.Type) error {
	var ye yaml.Error
	if !errors.As(err, &ye) || ye.GetToken() == nil {
		return locate(fromYAML(name, err), data, within)
	}
	tk := ye.GetToken()
	if within == nil {
		f, perr := parser.ParseBytes(stripBOM(data), 0)
		if perr != nil || len(f.Docs) == 0 || f.Docs[0].Body == nil {
			return locate(fromYAML(name, err), data, within)
		}
		within = f.Docs[0].Body
	}
	n := nodeAt(within, tk)
	if n == nil {
		return locate(fromYAML(name, err), data, within)
	}
	e := &Error{File: name, Line: tk.Position.Line, Field: dotted(n.GetPath()), Msg: ye.GetMessage()}
	rel := relative(n.GetPath(), within.GetPath())
	var (
		unknown *yaml.UnknownFieldError
		typ     *yaml.TypeError
		shape   *yaml.UnexpectedNodeTypeError
	)
	switch {
	case errors.As(err, &unknown):
		if keys := keysAt(t, parent(rel)); len(keys) > 0 {
			key := lastKey(rel)
			e.Msg = "unknown key (want one of " + strings.Join(keys, ", ") + ")"
			if near := nearest(key, keys); near != "" {
				e.Msg += fmt.Sprintf("; did you mean %q?", near)
			}
		}
	case errors.As(err, &typ):
		want := typeAt(t, rel)
		if want == nil {
			want = typ.DstType
		}
		e.Msg = "expected " + plainType(want) + ", got " + plainNode(n)
	case errors.As(err, &shape):
		want := typeAt(t, rel)
		e.Msg = "expected " + plainKind(shape.Expected)
		if want != nil {
			e.Msg = "expected " + plainType(want)
		}
		e.Msg += ", got " + plainNode(n)
		if shape.Expected == ast.SequenceType && isScalar(n) {
			e.Msg += fmt.Sprintf(" (a list of one is written [%s])", tk.Value)
		}
	}
	return e
}

// nodeAt finds the node the decoder's token belongs to. The decoder parses
// the file again, so its token is equal to ours by position, not identity.
func nodeAt(within ast.Node, tk *token.Token) ast.Node {
	var found ast.Node
	ast.Walk(visitFunc(func(n ast.Node) bool {
		if found != nil {
			return false
		}
		if nt := n.GetToken(); nt != nil && nt.Position.Line == tk.Position.Line && nt.Position.Column == tk.Position.Column {
			if _, kv := n.(*ast.MappingValueNode); !kv {
				found = n
				return false
			}
		}
		return true
	}), within)
	return found
}

// dotted is a node path without the decoder's "$." root.
func dotted(p string) string { return strings.TrimPrefix(strings.TrimPrefix(p, "$"), ".") }

// relative is path p below the decoded node's path.
func relative(p, root string) string {
	p, root = dotted(p), dotted(root)
	if root == "" {
		return p
	}
	return strings.TrimPrefix(strings.TrimPrefix(p, root), ".")
}

func lastKey(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return p
	}
	return p[i+1:]
}

// typeAt walks t along a path of keys and [index] steps.
func typeAt(t reflect.Type, p string) reflect.Type {
	for p != "" && t != nil {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		var step string
		if strings.HasPrefix(p, "[") {
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return nil
			}
			p = strings.TrimPrefix(p[end+1:], ".")
			if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
				return nil
			}
			t = t.Elem()
			continue
		}
		if i := strings.IndexAny(p, ".["); i >= 0 {
			step, p = p[:i], strings.TrimPrefix(p[i:], ".")
		} else {
			step, p = p, ""
		}
		switch t.Kind() {
		case reflect.Struct:
			ft, ok := fieldType(t, step)
			if !ok {
				return nil
			}
			t = ft
		case reflect.Map:
			t = t.Elem()
		default:
			return nil
		}
	}
	return t
}

// keysAt lists the keys a mapping at path p of t accepts, sorted; none
// when it is not a struct (a map takes any key).
func keysAt(t reflect.Type, p string) []string {
	t = typeAt(t, p)
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || t.Kind() != reflect.Struct {
		return nil
	}
	var keys []string
	structKeys(t, &keys)
	slices.Sort(keys)
	return slices.Compact(keys)
}

func structKeys(t reflect.Type, keys *[]string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "-" || !f.IsExported() {
			continue
		}
		if strings.Contains(opts, "inline") || f.Anonymous && tag == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				structKeys(ft, keys)
			}
			continue
		}
		if tag == "" {
			tag = strings.ToLower(f.Name)
		}
		*keys = append(*keys, tag)
	}
}

var (
	durationType  = reflect.TypeOf(time.Duration(0))
	timeType      = reflect.TypeOf(time.Time{})
	textUnmarshal = reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
)

// plainType names what a Go type takes in a YAML file.
func plainType(t reflect.Type) string {
	if t == nil {
		return "another kind of value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == durationType:
		return "a duration (such as 30s, 5m or 1h)"
	case t == timeType:
		return "a date and time (such as 2026-12-01T00:00:00Z)"
	case reflect.PointerTo(t).Implements(textUnmarshal) && t.Kind() != reflect.Slice:
		return "a string"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		e := t.Elem()
		for e.Kind() == reflect.Pointer {
			e = e.Elem()
		}
		switch e.Kind() {
		case reflect.Struct, reflect.Map:
			if e != timeType {
				return "a list of mappings (key: value)"
			}
		case reflect.Bool:
			return "a list of true or false values"
		}
		noun, detail, _ := strings.Cut(strings.TrimPrefix(plainType(e), "a "), " (")
		if detail != "" {
			detail = " (" + detail
		}
		return "a list of " + noun + "s" + detail
	case reflect.Map, reflect.Struct:
		return "a mapping (key: value)"
	}
	return "another kind of value"
}

// plainNode says what was given, with its text when it is short.
func plainNode(n ast.Node) string {
	what := plainKind(n.Type())
	if isScalar(n) {
		if v := n.GetToken().Value; v != "" && len(v) <= 40 {
			what += " (" + strconv.Quote(v) + ")"
		}
	}
	return what
}

func isScalar(n ast.Node) bool {
	_, ok := n.(ast.ScalarNode)
	return ok
}

func plainKind(k ast.NodeType) string {
	switch k {
	case ast.StringType, ast.LiteralType:
		return "a string"
	case ast.IntegerType:
		return "a whole number"
	case ast.FloatType, ast.InfinityType, ast.NanType:
		return "a number"
	case ast.BoolType:
		return "true or false"
	case ast.NullType:
		return "nothing (null)"
	case ast.MappingType, ast.MappingValueType:
		return "a mapping (key: value)"
	case ast.SequenceType:
		return "a list"
	}
	return "a value of another kind"
}

// nearest is the allowed key closest to a mistyped one, when it is close
// enough to be a typo: at most two edits, and fewer than half the key.
func nearest(key string, keys []string) string {
	if len(key) > 64 { // no key is that long; a hostile one costs no time
		return ""
	}
	best, bestD := "", 3
	for _, k := range keys {
		if d := editDistance(key, k); d < bestD && d*2 < len(k) {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance counts the insertions, deletions, substitutions and swaps
// of neighbours that turn a into b (a swap is the commonest typo).
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
