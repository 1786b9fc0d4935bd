package sandbox

import (
	"embed"
	"fmt"
	"sort"
	"strings"

	"github.com/reachaudit/reachaudit/internal/yamlfile"
	"github.com/reachaudit/reachaudit/providers"
)

// Estate is a parsed estate file: one section per emulator, plus the
// declarations a user would make in the scan config because no provider's
// API can show them (cross-provider copies, customer-held keys), so that an
// estate can rehearse them too.
type Estate struct {
	sections map[string]Section
	order    []string
	decl     Declarations
}

// Declarations are an estate's `copies:`, `customer_keys:` and
// `contracts:` sections, with the meaning the config file gives the same
// keys.
type Declarations struct {
	Copies       []DeclaredCopy      `yaml:"copies"`
	CustomerKeys []string            `yaml:"customer_keys"`
	Contracts    providers.Contracts `yaml:"contracts"`
}

// DeclaredCopy is a copy of one bucket in another, named by URI.
type DeclaredCopy struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

// Declarations returns the estate's declared copies and customer keys.
func (e *Estate) Declarations() Declarations { return e.decl }

// Section returns the decoded section for an emulator, if the estate has one.
func (e *Estate) Section(name string) (Section, bool) {
	s, ok := e.sections[name]
	return s, ok
}

// LoadEstateFile reads and parses an estate file.
func LoadEstateFile(name string) (*Estate, error) {
	data, err := yamlfile.Read(name)
	if err != nil {
		return nil, err
	}
	return ParseEstate(name, data)
}

// ParseEstate parses estate YAML from the file called name. Unknown
// sections and fields are errors located to their line.
func ParseEstate(name string, data []byte) (*Estate, error) {
	e := &Estate{sections: map[string]Section{}}
	if err := e.add(name, data); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Estate) add(name string, data []byte) error {
	secs, err := yamlfile.Sections(name, data)
	if err != nil {
		return err
	}
	for _, s := range secs {
		switch s.Key {
		case "copies":
			var cs []DeclaredCopy
			if err := yamlfile.DecodeNode(name, data, s.Node, s.Key, &cs); err != nil {
				return err
			}
			e.decl.Copies = append(e.decl.Copies, cs...)
			continue
		case "customer_keys":
			var ks []string
			if err := yamlfile.DecodeNode(name, data, s.Node, s.Key, &ks); err != nil {
				return err
			}
			e.decl.CustomerKeys = append(e.decl.CustomerKeys, ks...)
			continue
		case "contracts":
			var cs providers.Contracts
			if err := yamlfile.DecodeNode(name, data, s.Node, s.Key, &cs); err != nil {
				return err
			}
			e.decl.Contracts = e.decl.Contracts.Merge(cs)
			continue
		}
		em, ok := lookup(s.Key)
		if !ok {
			return &yamlfile.Error{File: name, Line: s.Line, Field: s.Key,
				Msg: fmt.Sprintf("unknown section (want one of %s, copies, customer_keys, contracts)", strings.Join(names(), ", "))}
		}
		if _, dup := e.sections[s.Key]; dup {
			return &yamlfile.Error{File: name, Line: s.Line, Field: s.Key, Msg: "section given twice"}
		}
		sec := em.NewSection()
		if err := yamlfile.DecodeNode(name, data, s.Node, s.Key, sec); err != nil {
			return err
		}
		e.sections[s.Key] = sec
		e.order = append(e.order, s.Key)
	}
	sort.Strings(e.order)
	return nil
}

//go:embed demo
var demoFS embed.FS

// Demo returns the built-in demo estate: a fictional US company with
// accounts at every provider, in which every rule fires at least once. Its
// files are demo/<provider>.yaml, one section each, and
// demo/declarations.yaml.
func Demo() (*Estate, error) {
	files, err := DemoFiles()
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	e := &Estate{sections: map[string]Section{}}
	for _, n := range names {
		if err := e.add("demo/"+n, files[n]); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// DemoFiles returns the demo estate's files by name, for people who want to
// start their own estate from it.
func DemoFiles() (map[string][]byte, error) {
	out := map[string][]byte{}
	entries, err := demoFS.ReadDir("demo")
	if err != nil {
		return nil, err
	}
	for _, ent := range entries {
		if !strings.HasSuffix(ent.Name(), ".yaml") {
			continue
		}
		data, err := demoFS.ReadFile("demo/" + ent.Name())
		if err != nil {
			return nil, err
		}
		out[ent.Name()] = data
	}
	return out, nil
}
