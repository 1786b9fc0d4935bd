package reports

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/reachaudit/reachaudit/agent"
	"github.com/reachaudit/reachaudit/providers/sandbox/sandboxtest"
)

// ocsfSchemaDir is where CI keeps the OCSF schema checkout: beside the
// repository, never copied into it.
func ocsfSchemaDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("REACHAUDIT_OCSF_SCHEMA")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "ocsf-schema-"+OCSFVersion)
	}
	_, err := os.Stat(filepath.Join(dir, "events", "findings", "compliance_finding.json"))
	sandboxtest.Require(t, "OCSF schema "+OCSFVersion+" at "+dir, err == nil)
	return dir
}

type schemaAttr struct {
	Type        string                     `json:"type"`
	IsArray     bool                       `json:"is_array"`
	Requirement string                     `json:"requirement"`
	Enum        map[string]json.RawMessage `json:"enum"`
	Sibling     string                     `json:"sibling"`
	profile     string                     // the profile that adds it, "" for the class itself
}

type schemaDoc struct {
	Name        string                     `json:"name"`
	UID         int                        `json:"uid"`
	Category    string                     `json:"category"`
	Extends     string                     `json:"extends"`
	Attributes  map[string]json.RawMessage `json:"attributes"`
	Constraints struct {
		AtLeastOne []string `json:"at_least_one"`
	} `json:"constraints"`
}

type ocsfSchema struct {
	dir     string
	dict    map[string]schemaAttr
	types   map[string]schemaAttr
	objects map[string]map[string]schemaAttr
	atLeast map[string][]string
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func loadOCSFSchema(t *testing.T, dir string) *ocsfSchema {
	var dict struct {
		Attributes map[string]schemaAttr `json:"attributes"`
		Types      struct {
			Attributes map[string]schemaAttr `json:"attributes"`
		} `json:"types"`
	}
	readJSON(t, filepath.Join(dir, "dictionary.json"), &dict)
	return &ocsfSchema{dir: dir, dict: dict.Attributes, types: dict.Types.Attributes,
		objects: map[string]map[string]schemaAttr{}, atLeast: map[string][]string{}}
}

// mergeAttrs lays doc's attributes (and those of the profiles it includes)
// over into, field by field, as the schema compiler does.
func (s *ocsfSchema) mergeAttrs(t *testing.T, into map[string]schemaAttr, doc schemaDoc, profile string) {
	for name, raw := range doc.Attributes {
		if name == "$include" {
			var incs []string
			if err := json.Unmarshal(raw, &incs); err != nil {
				t.Fatal(err)
			}
			for _, inc := range incs {
				var p schemaDoc
				readJSON(t, filepath.Join(s.dir, inc), &p)
				s.mergeAttrs(t, into, p, p.Name)
			}
			continue
		}
		a, ok := into[name]
		if !ok {
			a = s.dict[name]
			a.profile = profile
		}
		var over schemaAttr
		if err := json.Unmarshal(raw, &over); err != nil {
			t.Fatalf("%s.%s: %v", doc.Name, name, err)
		}
		// A class or object enum extends the dictionary's (its captions
		// win); maps are copied so the dictionary is never changed.
		if len(over.Enum) > 0 {
			enum := maps.Clone(a.Enum)
			if enum == nil {
				enum = map[string]json.RawMessage{}
			}
			maps.Copy(enum, over.Enum)
			a.Enum = enum
		}
		if over.Type != "" {
			a.Type = over.Type
		}
		if over.Requirement != "" {
			a.Requirement = over.Requirement
		}
		if over.IsArray {
			a.IsArray = true
		}
		into[name] = a
	}
}

// class resolves an event class through its extends chain.
func (s *ocsfSchema) class(t *testing.T, files ...string) (map[string]schemaAttr, []schemaDoc) {
	attrs := map[string]schemaAttr{}
	var docs []schemaDoc
	for _, f := range files { // base first
		var d schemaDoc
		readJSON(t, filepath.Join(s.dir, f), &d)
		s.mergeAttrs(t, attrs, d, "")
		docs = append(docs, d)
	}
	return attrs, docs
}

// object resolves an object type through its extends chain.
func (s *ocsfSchema) object(t *testing.T, name string) map[string]schemaAttr {
	if a, ok := s.objects[name]; ok {
		return a
	}
	var chain []schemaDoc
	for n := name; n != "" && n != "object"; {
		var d schemaDoc
		readJSON(t, filepath.Join(s.dir, "objects", n+".json"), &d)
		chain = append(chain, d)
		if len(d.Constraints.AtLeastOne) > 0 && s.atLeast[name] == nil {
			s.atLeast[name] = d.Constraints.AtLeastOne
		}
		n = d.Extends
	}
	attrs := map[string]schemaAttr{}
	for i := len(chain) - 1; i >= 0; i-- {
		s.mergeAttrs(t, attrs, chain[i], "")
	}
	s.objects[name] = attrs
	return attrs
}

// baseType follows a dictionary type to its primitive (resource_uid_t → string_t).
func (s *ocsfSchema) baseType(typ string) string {
	for i := 0; i < 5; i++ {
		tt, ok := s.types[typ]
		if !ok || tt.Type == "" {
			return typ
		}
		typ = tt.Type
	}
	return typ
}

// check validates one JSON object against attrs and reports every problem.
func (s *ocsfSchema) check(t *testing.T, path string, v map[string]any, attrs map[string]schemaAttr, profiles []string, atLeast []string) []string {
	var problems []string
	for _, name := range slices.Sorted(maps.Keys(v)) {
		a, ok := attrs[name]
		p := path + name
		if !ok {
			problems = append(problems, p+": not an attribute here")
			continue
		}
		if a.profile != "" && !slices.Contains(profiles, a.profile) {
			problems = append(problems, fmt.Sprintf("%s: belongs to profile %q, not declared in metadata.profiles", p, a.profile))
		}
		problems = append(problems, s.checkValue(t, p, v[name], a, profiles)...)
	}
	for _, name := range slices.Sorted(maps.Keys(attrs)) {
		a := attrs[name]
		if a.Requirement != "required" || (a.profile != "" && !slices.Contains(profiles, a.profile)) {
			continue
		}
		if _, ok := v[name]; !ok {
			problems = append(problems, path+name+": required but missing")
		}
	}
	if len(atLeast) > 0 && !slices.ContainsFunc(atLeast, func(n string) bool { _, ok := v[n]; return ok }) {
		problems = append(problems, fmt.Sprintf("%s: needs at least one of %v", strings.TrimSuffix(path, "."), atLeast))
	}
	return problems
}

func (s *ocsfSchema) checkValue(t *testing.T, p string, val any, a schemaAttr, profiles []string) []string {
	if a.IsArray {
		arr, ok := val.([]any)
		if !ok {
			return []string{p + ": want an array"}
		}
		one := a
		one.IsArray = false
		var problems []string
		for i, el := range arr {
			problems = append(problems, s.checkValue(t, fmt.Sprintf("%s[%d]", p, i), el, one, profiles)...)
		}
		return problems
	}
	typ := s.baseType(a.Type)
	switch typ {
	case "string_t":
		if _, ok := val.(string); !ok {
			return []string{p + ": want a string"}
		}
	case "integer_t", "long_t", "timestamp_t":
		n, ok := val.(json.Number)
		if !ok {
			return []string{p + ": want a number"}
		}
		if _, err := n.Int64(); err != nil {
			return []string{p + ": want an integer"}
		}
		if len(a.Enum) > 0 && !placeholderEnum[p] {
			if _, ok := a.Enum[n.String()]; !ok {
				return []string{fmt.Sprintf("%s: %s is not in the enum %v", p, n, slices.Sorted(maps.Keys(a.Enum)))}
			}
		}
	case "boolean_t":
		if _, ok := val.(bool); !ok {
			return []string{p + ": want a boolean"}
		}
	case "json_t", "object":
		// Free-form by definition.
	default:
		obj, ok := val.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want a %s object", p, typ)}
		}
		return s.check(t, p+".", obj, s.object(t, typ), profiles, s.atLeast[typ])
	}
	return nil
}

// placeholderEnum names the base event's ids whose enums the schema fills per
// class; the test checks them against the category and class instead.
var placeholderEnum = map[string]bool{"category_uid": true, "class_uid": true, "type_uid": true}

func (s *ocsfSchema) enumCaption(a schemaAttr, id json.Number) string {
	var e struct {
		Caption string `json:"caption"`
	}
	_ = json.Unmarshal(a.Enum[id.String()], &e)
	return e.Caption
}

func TestOCSFConformsToSchema(t *testing.T) {
	dir := ocsfSchemaDir(t)
	s := loadOCSFSchema(t, dir)
	attrs, docs := s.class(t, "events/base_event.json", "events/findings/finding.json", "events/findings/compliance_finding.json")
	var cats struct {
		Attributes map[string]struct {
			UID int `json:"uid"`
		} `json:"attributes"`
	}
	readJSON(t, filepath.Join(dir, "categories.json"), &cats)
	var version struct {
		Version string `json:"version"`
	}
	readJSON(t, filepath.Join(dir, "version.json"), &version)
	wantCategory := cats.Attributes[docs[1].Category].UID
	wantClass := wantCategory*1000 + docs[2].UID

	demo, _ := loadDemo(t)
	for _, tc := range []struct {
		name string
		r    *agent.Result
	}{{"fixture", testResult()}, {"demo estate", demo}} {
		t.Run(tc.name, func(t *testing.T) {
			checkOCSFEvents(t, s, attrs, tc.r, version.Version, wantCategory, wantClass)
		})
	}
}

func checkOCSFEvents(t *testing.T, s *ocsfSchema, attrs map[string]schemaAttr, r *agent.Result, version string, wantCategory, wantClass int) {
	var buf bytes.Buffer
	if err := Encode(&buf, "ocsf", r, fixtureOpts); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		n++
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.UseNumber()
		var ev map[string]any
		if err := dec.Decode(&ev); err != nil {
			t.Fatalf("event %d: %v", n, err)
		}
		var profiles []string
		if md, ok := ev["metadata"].(map[string]any); ok {
			for _, p := range md["profiles"].([]any) {
				profiles = append(profiles, p.(string))
			}
			if md["version"] != version {
				t.Errorf("event %d: metadata.version %v, schema is %s", n, md["version"], version)
			}
		}
		if !slices.Contains(profiles, "cloud") {
			t.Errorf("event %d: cloud profile not declared", n)
		}
		for _, p := range s.check(t, "", ev, attrs, profiles, nil) {
			t.Errorf("event %d: %s", n, p)
		}
		num := func(k string) int64 { v, _ := ev[k].(json.Number).Int64(); return v }
		if num("category_uid") != int64(wantCategory) || num("class_uid") != int64(wantClass) {
			t.Errorf("event %d: category_uid %d class_uid %d, schema says %d and %d", n, num("category_uid"), num("class_uid"), wantCategory, wantClass)
		}
		if num("type_uid") != num("class_uid")*100+num("activity_id") {
			t.Errorf("event %d: type_uid %d is not class_uid×100 + activity_id", n, num("type_uid"))
		}
		// Siblings carry the caption of their id.
		for id, sib := range map[string]string{"severity_id": "severity", "status_id": "status", "activity_id": "activity_name"} {
			if want := s.enumCaption(attrs[id], ev[id].(json.Number)); ev[sib] != want {
				t.Errorf("event %d: %s is %v, the caption of %s %v is %q", n, sib, ev[sib], id, ev[id], want)
			}
		}
	}
	if n != len(r.Findings) {
		t.Errorf("%d events for %d findings", n, len(r.Findings))
	}
}

// TestOCSFSchemaCheckerCatchesMistakes proves the checker above can fail.
func TestOCSFSchemaCheckerCatchesMistakes(t *testing.T) {
	dir := ocsfSchemaDir(t)
	s := loadOCSFSchema(t, dir)
	attrs, _ := s.class(t, "events/base_event.json", "events/findings/finding.json", "events/findings/compliance_finding.json")
	var buf bytes.Buffer
	if err := Encode(&buf, "ocsf", testResult(), fixtureOpts); err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(buf.String(), "\n")
	mutations := []struct {
		name string
		edit func(ev map[string]any)
		want string
	}{
		{"unknown attribute", func(ev map[string]any) { ev["bogus"] = "x" }, "bogus: not an attribute"},
		{"missing required", func(ev map[string]any) { delete(ev, "finding_info") }, "finding_info: required"},
		{"bad enum", func(ev map[string]any) { ev["status_id"] = json.Number("42") }, "status_id: 42 is not in the enum"},
		{"unknown object attribute", func(ev map[string]any) {
			ev["cloud"].(map[string]any)["planet"] = "earth"
		}, "cloud.planet: not an attribute"},
		{"undeclared profile", func(ev map[string]any) { ev["metadata"].(map[string]any)["profiles"] = []any{} }, "belongs to profile \"cloud\""},
	}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			dec := json.NewDecoder(strings.NewReader(line))
			dec.UseNumber()
			var ev map[string]any
			if err := dec.Decode(&ev); err != nil {
				t.Fatal(err)
			}
			m.edit(ev)
			var profiles []string
			for _, p := range ev["metadata"].(map[string]any)["profiles"].([]any) {
				profiles = append(profiles, p.(string))
			}
			problems := s.check(t, "", ev, attrs, profiles, nil)
			sort.Strings(problems)
			if !slices.ContainsFunc(problems, func(p string) bool { return strings.Contains(p, m.want) }) {
				t.Errorf("checker missed %q; it said %v", m.want, problems)
			}
		})
	}
}
