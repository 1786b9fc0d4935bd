package yamlfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// The limits on one input. They are generous for any real config, policy or
// estate (the largest estate in the tests is a few kilobytes) and small next
// to what the parser and the decoder can be made to spend on a hostile file.
const (
	// MaxSize is the largest input read: bigger files, and endless ones such
	// as /dev/zero, are refused after reading this much.
	MaxSize = 8 << 20
	// maxFlowDepth caps [ { nesting, and maxIndent the column of a block
	// node: both are checked on the raw bytes before the parser runs, since
	// its cost grows with the square of the depth.
	maxFlowDepth = 64
	maxIndent    = 256
	// maxAliasNodes caps the nodes that aliases add when expanded: a
	// thousand aliases of a thousand-item list would decode a million values
	// from a few kilobytes.
	maxAliasNodes = 100_000
	// maxTreeDepth caps the parsed tree (two levels per mapping entry).
	maxTreeDepth = 4 * maxFlowDepth
)

var bom = []byte("\xef\xbb\xbf")

// Read reads the file called name, refusing more than MaxSize bytes.
func Read(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, &Error{File: name, Msg: err.Error()}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, &Error{File: name, Msg: err.Error()}
	}
	if len(data) > MaxSize {
		return nil, tooLarge(name)
	}
	return data, nil
}

func tooLarge(name string) error {
	return &Error{File: name, Msg: fmt.Sprintf("larger than the %d MiB limit for a YAML input", MaxSize>>20)}
}

// stripBOM drops a leading UTF-8 byte order mark, which editors on some
// systems write and which would otherwise become part of the first key.
func stripBOM(data []byte) []byte { return bytes.TrimPrefix(data, bom) }

// parse checks the raw limits, parses data and checks the parsed tree.
func parse(name string, data []byte) (*ast.File, error) {
	if len(data) > MaxSize {
		return nil, tooLarge(name)
	}
	if line := scanDepth(data); line > 0 {
		return nil, &Error{File: name, Line: line, Msg: fmt.Sprintf("nested too deeply (more than %d levels)", maxFlowDepth)}
	}
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return nil, fromYAML(name, err)
	}
	t := treeCheck{anchors: map[string]int{}}
	for _, doc := range f.Docs {
		if _, err := t.size(doc, 0); err != nil {
			return nil, &Error{File: name, Line: t.line, Msg: err.Error()}
		}
	}
	return f, nil
}

// recovered turns a panic in the parser or the decoder into an error, so a
// file that trips a decoder bug is refused like any other bad file instead
// of ending the process (a running agent reloading it included).
func recovered(name string, err *error) {
	r := recover()
	if r == nil {
		return
	}
	*err = &Error{File: name, Msg: fmt.Sprintf("the YAML decoder failed on this input (%v)", r)}
}

// treeCheck walks a parsed document, refusing tags (no document of ours
// needs one, and the decoder crashes on some) and counting what aliases
// would expand to.
type treeCheck struct {
	anchors map[string]int // anchor name → expanded size; -1 while being sized
	aliased int            // nodes added by aliases so far
	line    int            // the line of the node that broke a limit
}

var errTooDeep = fmt.Errorf("nested too deeply (more than %d levels)", maxFlowDepth)

func (t *treeCheck) fail(n ast.Node, err error) (int, error) {
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		t.line = tk.Position.Line
	}
	return 0, err
}

func (t *treeCheck) size(n ast.Node, depth int) (int, error) {
	if n == nil {
		return 0, nil
	}
	if depth > maxTreeDepth {
		return t.fail(n, errTooDeep)
	}
	sum := func(children ...ast.Node) (int, error) {
		total := 1
		for _, c := range children {
			s, err := t.size(c, depth+1)
			if err != nil {
				return 0, err
			}
			total += s
		}
		return total, nil
	}
	switch n := n.(type) {
	case *ast.TagNode:
		return t.fail(n, fmt.Errorf("YAML tags such as %q are not accepted here", n.Start.Value))
	case *ast.DocumentNode:
		return sum(n.Body)
	case *ast.MappingNode:
		cs := make([]ast.Node, len(n.Values))
		for i, v := range n.Values {
			cs[i] = v
		}
		return sum(cs...)
	case *ast.MappingValueNode:
		return sum(n.Key, n.Value)
	case *ast.MappingKeyNode:
		return sum(n.Value)
	case *ast.SequenceNode:
		return sum(n.Values...)
	case *ast.AnchorNode:
		name := n.Name.String()
		t.anchors[name] = -1
		s, err := sum(n.Value)
		if err != nil {
			return 0, err
		}
		t.anchors[name] = s
		return s, nil
	case *ast.AliasNode:
		s, ok := t.anchors[n.Value.String()]
		if !ok {
			return 1, nil // the decoder reports an unknown alias, with its line
		}
		if s < 0 {
			return t.fail(n, errors.New("an alias refers to the anchor it is inside"))
		}
		t.aliased += s
		if t.aliased > maxAliasNodes {
			return t.fail(n, fmt.Errorf("aliases expand to more than %d values", maxAliasNodes))
		}
		return s, nil
	}
	return 1, nil
}

// scanDepth looks at the raw bytes for nesting deeper than the limits and
// returns the line where it starts, or 0. It reads just enough of YAML to
// skip comments, quoted scalars and block scalars, where brackets and
// indentation mean nothing; it runs before the parser so that a deep file
// costs a linear scan, not the parser's quadratic time.
func scanDepth(data []byte) int {
	line, depth := 1, 0
	blockIndent := -1 // indentation of the line that opened a block scalar
	for i := 0; i < len(data); {
		// At the start of a line: measure the indentation.
		indent := 0
		for i+indent < len(data) && data[i+indent] == ' ' {
			indent++
		}
		end := bytes.IndexByte(data[i:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += i
		}
		text := data[i+indent : end]
		if blockIndent >= 0 {
			if len(bytes.TrimSpace(text)) == 0 || indent > blockIndent {
				i, line = end+1, line+1
				continue
			}
			blockIndent = -1
		}
		if depth == 0 {
			// A block node's column: the indentation plus any compact
			// sequence or complex-key indicators ("- - - x").
			col := indent
			for j := 0; j+1 < len(text) && (text[j] == '-' || text[j] == '?') && (text[j+1] == ' ' || text[j+1] == '\t'); {
				j += 2
				for j < len(text) && (text[j] == ' ' || text[j] == '\t') {
					j++
				}
				col = indent + j
			}
			if col > maxIndent {
				return line
			}
		}
		// Walk the line's content for flow brackets and quotes.
		prev := byte(' ') // the last significant byte: a quote opens only after an indicator or a space
		j := i + indent
		for j < end {
			c := data[j]
			switch {
			case c == '#' && (prev == ' ' || prev == '\t'):
				j = end
				continue
			case (c == '\'' || c == '"') && opensQuote(prev):
				k, nl := skipQuoted(data, j)
				line += nl
				j = k
				if j > end {
					// The quoted scalar ran over lines: go on from its end.
					end = bytes.IndexByte(data[j:], '\n')
					if end < 0 {
						end = len(data)
					} else {
						end += j
					}
				}
				prev = c
				continue
			case c == '[' || c == '{':
				depth++
				if depth > maxFlowDepth {
					return line
				}
			case c == ']' || c == '}':
				if depth > 0 {
					depth--
				}
			case (c == '|' || c == '>') && depth == 0 && (prev == ' ' || prev == '\t') && blockHeader(data[j+1:end]):
				blockIndent = indent
			}
			prev = c
			j++
		}
		i, line = end+1, line+1
	}
	return 0
}

func opensQuote(prev byte) bool {
	switch prev {
	case ' ', '\t', '[', '{', ',', ':', '-', '?':
		return true
	}
	return false
}

// skipQuoted returns the index just past the quoted scalar starting at i,
// and how many newlines it spans.
func skipQuoted(data []byte, i int) (int, int) {
	q := data[i]
	nl := 0
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\n':
			nl++
		case '\\':
			if q == '"' {
				j++
				if j < len(data) && data[j] == '\n' {
					nl++
				}
			}
		case q:
			if q == '\'' && j+1 < len(data) && data[j+1] == '\'' {
				j++
				continue
			}
			return j + 1, nl
		}
	}
	return len(data), nl
}

// blockHeader reports whether rest (what follows | or > on its line) is a
// block scalar header: chomping and indentation indicators, then nothing
// but a comment.
func blockHeader(rest []byte) bool {
	s := strings.TrimLeft(string(rest), "+-0123456789")
	s = strings.TrimLeft(s, " \t")
	return s == "" || s[0] == '#'
}

// Printable quotes the bytes of s that a terminal or a log reader would
// act on or hide (control bytes, invalid UTF-8, a BOM) and keeps the rest,
// so a message can echo a file's text safely.
func Printable(s string) string {
	clean := true
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) && r != ' ' {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsPrint(r) || r == ' ':
			b.WriteRune(r)
		default:
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += n
	}
	return b.String()
}

// wholeNumbers refuses a fractional number given for an integer field:
// the decoder truncates "concurrency: 1.5" to 1 without a word. It walks
// node along t, the type being decoded into.
func wholeNumbers(name string, node ast.Node, t reflect.Type) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || node == nil {
		return nil
	}
	switch n := node.(type) {
	case *ast.AnchorNode:
		return wholeNumbers(name, n.Value, t)
	case *ast.FloatNode:
		switch t.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
			reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if t.PkgPath() == "time" { // a Duration: the decoder refuses a bare number itself
				return nil
			}
			if n.Value != float64(int64(n.Value)) {
				return &Error{File: name, Line: n.GetToken().Position.Line, Field: strings.TrimPrefix(strings.TrimPrefix(n.GetPath(), "$"), "."),
					Msg: fmt.Sprintf("%v is not a whole number", n.Value)}
			}
		}
	case *ast.SequenceNode:
		if t.Kind() == reflect.Slice || t.Kind() == reflect.Array {
			for _, v := range n.Values {
				if err := wholeNumbers(name, v, t.Elem()); err != nil {
					return err
				}
			}
		}
	case *ast.MappingNode:
		for _, kv := range n.Values {
			if err := wholeNumbers(name, kv, t); err != nil {
				return err
			}
		}
	case *ast.MappingValueNode:
		switch t.Kind() {
		case reflect.Map:
			return wholeNumbers(name, n.Value, t.Elem())
		case reflect.Struct:
			if ft, ok := fieldType(t, n.Key.String()); ok {
				return wholeNumbers(name, n.Value, ft)
			}
		}
	}
	return nil
}

// fieldType finds the type of t's field decoded from key, by its yaml tag,
// through inlined structs.
func fieldType(t reflect.Type, key string) (reflect.Type, bool) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if strings.Contains(opts, "inline") || f.Anonymous && tag == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if got, ok := fieldType(ft, key); ok {
					return got, true
				}
			}
			continue
		}
		if tag == "" {
			tag = strings.ToLower(f.Name)
		}
		if tag == key {
			return f.Type, true
		}
	}
	return nil, false
}
